import { Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ModulesContainer } from '@nestjs/core';
import { decideMigrationController, MIGRATION_CONTROLLER_GATE } from './migration-controller.gate';
import { AuditController } from './audit/audit.controller';
import { MigrationDashboardController } from './dashboard/migration-dashboard.controller';
import { MigrationGenerationsController } from './generations/migration-generations.controller';
import { MigrationVerifyController } from './verify/migration-verify.controller';
import { MigrationEventStreams } from './migration-event-streams';
import { MigrationMetrics } from './migration.metrics';
import { MigrationController } from './migration.controller';

/**
 * @internal Holds MigrationController, MigrationGenerationsController and the gate that removes them when
 * the application has no MigrationModule. AiWebModule requires this file on demand, and only when
 * `@ai-infrastructure/migration-core` is installed (everything in this folder imports it); its dependencies
 * (options, throttler storage) come from AiWebModule.
 */
@Module({
  imports: [DiscoveryModule],
  // Both have a literal first path segment (`jobs/…`, `start`, `estimate` vs `generations/…`), so their
  // order does not decide which one answers a request.
  controllers: [MigrationController, MigrationGenerationsController, MigrationVerifyController, MigrationDashboardController, AuditController],
  providers: [
    MigrationEventStreams,
    MigrationMetrics,
    {
      provide: MIGRATION_CONTROLLER_GATE,
      useFactory: (discovery: DiscoveryService, modules: ModulesContainer) => decideMigrationController(discovery, modules, MigrationWebModule),
      inject: [DiscoveryService, ModulesContainer],
    },
  ],
})
export class MigrationWebModule {}
