import { Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ModulesContainer } from '@nestjs/core';
import { AI_WEB_OPTIONS } from '../ai-web.constants';
import type { ResolvedAiWebOptions } from '../ai-web-options.resolver';
import { decideMigrationController, MIGRATION_CONTROLLER_GATE } from './migration-controller.gate';
import { MigrationEventStreams } from './migration-event-streams';
import { MigrationController } from './migration.controller';

/**
 * @internal Holds MigrationController and the gate that removes it when the application has no
 * MigrationModule. AiWebModule requires this file on demand, and only when `@ai-infrastructure/migration-core`
 * is installed (everything in this folder imports it); its dependencies (options, throttler storage) come
 * from AiWebModule.
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [MigrationController],
  providers: [
    MigrationEventStreams,
    {
      provide: MIGRATION_CONTROLLER_GATE,
      useFactory: (discovery: DiscoveryService, modules: ModulesContainer, options: ResolvedAiWebOptions) =>
        decideMigrationController(discovery, modules, options, MigrationWebModule),
      inject: [DiscoveryService, ModulesContainer, AI_WEB_OPTIONS],
    },
  ],
})
export class MigrationWebModule {}
