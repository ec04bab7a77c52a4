import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MigrationModuleOptions } from './migration-options.interface';

/** @internal */
export const {
  ConfigurableModuleClass: MigrationConfigurableModule,
  MODULE_OPTIONS_TOKEN: MIGRATION_MODULE_OPTIONS,
  OPTIONS_TYPE: MIGRATION_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MIGRATION_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MigrationModuleOptions>({ moduleName: 'Migration' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMigrationOptions')
  .build();
