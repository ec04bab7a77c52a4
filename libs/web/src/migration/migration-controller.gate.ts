// A static import is safe here: this file is reached only through MigrationWebModule, which AiWebModule
// loads only when @ai-infrastructure/migration-core is installed.
import { DataMigrationService, MigrationAuditService, MigrationGenerationService } from '@ai-infrastructure/migration-core';
import { Logger } from '@nestjs/common';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import { MigrationGenerationsController } from './generations/migration-generations.controller';
import { AuditController } from './audit/audit.controller';
import { MigrationDashboardController } from './dashboard/migration-dashboard.controller';
import { MigrationController } from './migration.controller';
import { MigrationVerifyController } from './verify/migration-verify.controller';

/** @internal Token of the gate provider. */
export const MIGRATION_CONTROLLER_GATE = Symbol('MIGRATION_CONTROLLER_GATE');

/** @internal What the gate decided for this application. */
export interface MigrationControllerGateResult {
  /** `/api/ai/migration` (the job routes) exists. */
  registered: boolean;
  /** `/api/ai/migration/generations` exists. */
  generations: boolean;
}

/**
 * @internal Decides, per application, whether `/api/ai/migration` exists. Nest instantiates providers
 * after it has scanned every module of the app (so import order does not matter) and before it builds the
 * module's controllers and registers routes; when no `DataMigrationService` provider is in this app, the
 * gate removes MigrationController from its own module, so the routes and their OpenAPI entries never
 * exist. MigrationGenerationsController and AuditController are kept only when `MigrationGenerationService`
 * and `MigrationAuditService` are providers too (MigrationModule provides all three). The decision reads only this app's container, so two apps in one
 * process cannot see each other.
 */
export function decideMigrationController(
  discovery: DiscoveryService,
  modules: ModulesContainer,
  ownModule: Function,
): MigrationControllerGateResult {
  const tokens = new Set(discovery.getProviders().map((wrapper) => wrapper.token));
  const present = tokens.has(DataMigrationService);
  const generations = present && tokens.has(MigrationGenerationService);
  const audit = present && tokens.has(MigrationAuditService);
  const removed = [
    ...(present ? [] : [MigrationController, MigrationVerifyController, MigrationDashboardController]),
    ...(generations ? [] : [MigrationGenerationsController]),
    ...(audit ? [] : [AuditController]),
  ];
  for (const moduleRef of modules.values()) {
    if (moduleRef.metatype !== ownModule) continue;
    for (const controller of removed) moduleRef.controllers.delete(controller);
  }
  if (!present) return { registered: false, generations: false };
  new Logger('AiWebModule').log('MigrationModule found: /api/ai/migration is registered.');
  return { registered: true, generations };
}
