import {
  IndexGenerationService,
  loadGoldenQueries,
  parseGoldenQueries,
  type GenerationQualityReport,
  type GenerationSwitch,
  type GoldenQuery,
  type IndexGeneration,
} from '@ai-infrastructure/core';
import { AI_DATA_SOURCE, IndexGenerationMaintenance } from '@ai-infrastructure/core/internal';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { MigrationAuditAction } from '../audit/migration-audit-action.enum';
import { MigrationAuditEntry } from '../audit/migration-audit-entry.entity';
import { appendAuditEntry, type MigrationActionOptions } from '../audit/migration-audit.writer';
import type { MigrationJob } from '../job/migration-job.entity';
import { validateActor } from '../job/migration-request.validator';
import { MIGRATION_RESOLVED_OPTIONS } from '../migration.constants';
import { InvalidMigrationRequestError } from '../migration.errors';
import type { ResolvedMigrationOptions } from '../migration-options.resolver';
import { DataMigrationService } from '../service/data-migration.service';

/** What a validation request may bring; absent thresholds come from `MigrationModule` options. */
export interface GenerationValidationRequest {
  /** Golden queries; default: the `generations.goldenQueriesPath` file, or none (coverage only). */
  queries?: GoldenQuery[];
  k?: number;
  minRecall?: number;
  minOverlap?: number;
  maxMissing?: number;
  maxStale?: number;
}

/**
 * Index generations for operators, with the migration module's audit log: create and build a generation
 * for a changed configuration, validate it (the quality gate), cut over, roll back and retire. Each action
 * and its audit entry are one transaction. The REST endpoints under `/api/ai/migration/generations` call
 * this service.
 *
 * @example
 * ```ts
 * const { generation, job } = await generations.build('product');   // after changing the model
 * // … once the job completed and the generation is READY:
 * const report = await generations.validate(generation.id, { queries: [{ query: 'red shoes', expectedIds: [42] }] });
 * await generations.cutover('product', generation.id, { actor: 'alice' });
 * ```
 */
@Injectable()
export class MigrationGenerationService {
  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(MIGRATION_RESOLVED_OPTIONS) private readonly options: ResolvedMigrationOptions,
    private readonly generations: IndexGenerationService,
    private readonly maintenance: IndexGenerationMaintenance,
    private readonly migrations: DataMigrationService,
  ) {}

  /** Generations, newest first, of one entity type when given. */
  list(entityType?: string): Promise<IndexGeneration[]> {
    return this.generations.list(entityType);
  }

  /** One generation; throws GenerationNotFoundError. */
  get(generationId: number): Promise<IndexGeneration> {
    return this.generations.get(generationId);
  }

  /**
   * Records the configured definition of the entity type as a BUILDING generation (or returns the one
   * being built) and, unless `startBackfill` is false, starts its backfill job.
   */
  async build(
    entityType: string,
    options: MigrationActionOptions & { startBackfill?: boolean; batchSize?: number; rateLimit?: number } = {},
  ): Promise<{ generation: IndexGeneration; job: MigrationJob | null }> {
    const actor = validateActor(options.actor);
    const generation = await this.dataSource.transaction(async (manager) => {
      const created = await this.generations.create(entityType, manager);
      await appendAuditEntry(manager, {
        jobId: null,
        generationId: created.id,
        action: MigrationAuditAction.GENERATION_CREATE,
        actor,
        fromStatus: null,
        toStatus: created.state,
        details: { model: created.model, dimensions: created.dimensions, textDefinition: created.textDefinition },
      });
      return created;
    });
    if (options.startBackfill === false) return { generation, job: null };
    // The generation is recorded either way: a start refused because another job of the type is active
    // (e.g. autoBuild started this one's) answers with that error, and the generation is listed.
    const job = await this.migrations.startMigration({
      entityType,
      generationId: generation.id,
      batchSize: options.batchSize,
      rateLimit: options.rateLimit,
      createdBy: actor,
    });
    return { generation, job };
  }

  /**
   * Runs the quality gate (coverage and golden queries) and stores its report with the generation. The
   * queries are the request's, else the configured file's.
   */
  async validate(generationId: number, request: GenerationValidationRequest = {}, options: MigrationActionOptions = {}): Promise<GenerationQualityReport> {
    const actor = validateActor(options.actor);
    const configured = this.options.generations;
    const queries =
      request.queries !== undefined
        ? parseGoldenQueries(request.queries, '"queries"')
        : configured.goldenQueriesPath
          ? loadGoldenQueries(configured.goldenQueriesPath)
          : [];
    const report = await this.generations.validate(generationId, {
      queries,
      k: checkedInteger('k', request.k, configured.k, 1, 100),
      minRecall: checkedRatio('minRecall', request.minRecall, configured.minRecall),
      minOverlap: checkedRatio('minOverlap', request.minOverlap, configured.minOverlap),
      maxMissing: checkedInteger('maxMissing', request.maxMissing, configured.maxMissing, 0, 2_147_483_647),
      maxStale: checkedInteger('maxStale', request.maxStale, configured.maxStale, 0, 2_147_483_647),
    });
    const generation = await this.generations.get(generationId);
    await this.dataSource.transaction((manager) =>
      appendAuditEntry(manager, {
        jobId: null,
        generationId,
        action: MigrationAuditAction.GENERATION_VALIDATE,
        actor,
        fromStatus: generation.state,
        toStatus: generation.state,
        details: { passed: report.passed, recallAtK: report.recallAtK, overlapAtK: report.overlapAtK, coverage: report.coverage, failures: report.failures },
      }),
    );
    return report;
  }

  /**
   * Makes a READY generation serve the entity type, atomically. Refused (GenerationGateError, with the
   * report) unless its gate passed; `force` cuts over anyway and is recorded in the audit log.
   */
  async cutover(entityType: string, generationId: number, options: MigrationActionOptions & { force?: boolean } = {}): Promise<GenerationSwitch> {
    const actor = validateActor(options.actor);
    if (options.force !== undefined && typeof options.force !== 'boolean') {
      throw new InvalidMigrationRequestError(`"force" is ${JSON.stringify(options.force)}; use true or false.`, 'force');
    }
    return this.dataSource.transaction(async (manager) => {
      const result = await this.generations.cutover(entityType, generationId, { force: options.force }, manager);
      await appendAuditEntry(manager, {
        jobId: null,
        generationId,
        action: MigrationAuditAction.GENERATION_CUTOVER,
        actor,
        fromStatus: 'READY',
        toStatus: result.serving.state,
        details: { entityType, previous: result.previous.id, forced: result.forced, gatePassed: result.serving.gatePassed },
      });
      return result;
    });
  }

  /** Serves the previous generation again (it was kept current); throws GenerationStateError when there is none. */
  async rollback(entityType: string, options: MigrationActionOptions = {}): Promise<GenerationSwitch> {
    const actor = validateActor(options.actor);
    return this.dataSource.transaction(async (manager) => {
      const result = await this.generations.rollback(entityType, manager);
      await appendAuditEntry(manager, {
        jobId: null,
        generationId: result.serving.id,
        action: MigrationAuditAction.GENERATION_ROLLBACK,
        actor,
        fromStatus: 'READY',
        toStatus: result.serving.state,
        details: { entityType, from: result.previous.id },
      });
      return result;
    });
  }

  /**
   * Retires (or, if it never served, discards) a generation that does not serve: live writes stop
   * reaching it at once, and its rows and index are deleted right after, in the background.
   */
  async retire(generationId: number, options: MigrationActionOptions = {}): Promise<IndexGeneration> {
    const actor = validateActor(options.actor);
    const retired = await this.dataSource.transaction(async (manager) => {
      const before = await this.generations.get(generationId, manager);
      const after = await this.generations.retire(generationId, manager);
      await appendAuditEntry(manager, {
        jobId: null,
        generationId,
        action: MigrationAuditAction.GENERATION_RETIRE,
        actor,
        fromStatus: before.state,
        toStatus: after.state,
        details: { entityType: after.entityType },
      });
      return after;
    });
    this.maintenance.kick();
    return retired;
  }

  /** The audit entries of a generation, oldest first. */
  async getAuditLog(generationId: number): Promise<MigrationAuditEntry[]> {
    await this.generations.get(generationId);
    return this.dataSource.getRepository(MigrationAuditEntry).find({ where: { generationId }, order: { id: 'ASC' } });
  }
}

function checkedInteger(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidMigrationRequestError(`"${key}" is ${JSON.stringify(value)}; use an integer from ${min} to ${max} (default ${fallback}).`, key);
  }
  return value;
}

function checkedRatio(key: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new InvalidMigrationRequestError(`"${key}" is ${JSON.stringify(value)}; use a number from 0 to 1 (default ${fallback}).`, key);
  }
  return value;
}
