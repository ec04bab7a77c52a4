import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AiWebModuleOptions } from './ai-web.options';

/** @internal */
export const {
  ConfigurableModuleClass: AiWebConfigurableModule,
  MODULE_OPTIONS_TOKEN: AI_WEB_MODULE_OPTIONS,
  OPTIONS_TYPE: AI_WEB_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AI_WEB_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AiWebModuleOptions>({ moduleName: 'AiWeb' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAiWebOptions')
  .build();
