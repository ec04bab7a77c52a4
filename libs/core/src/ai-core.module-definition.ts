import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AiCoreModuleOptions } from './config/ai-core-options.interface';

/** @internal */
export const {
  ConfigurableModuleClass: AiCoreConfigurableModule,
  MODULE_OPTIONS_TOKEN: AI_CORE_MODULE_OPTIONS,
  OPTIONS_TYPE: AI_CORE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AI_CORE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AiCoreModuleOptions>({ moduleName: 'AiCore' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAiCoreOptions')
  .build();
