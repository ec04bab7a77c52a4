import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE } from '../ai-core.constants';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import { EmbeddingProviderRegistry } from '../embedding/embedding-provider.registry';
import { AiEntityRegistry } from '../entity/ai-entity-registry.service';
import { EntityPageReader } from '../entity/entity-page.reader';
import { AiSearchService } from '../search/ai-search.service';
import { generationIndexName, PgVectorStore } from '../vector-store/pgvector.store';
import { SEARCHABLE_ENTITY_HNSW_INDEX } from '../vector-store/searchable-entity.entity';
import { definitionHash, describeDefinition, textDefinitionOf, type GenerationDefinition } from './generation-definition';
import type { GenerationCoverage, GenerationQualityReport, GoldenQuery } from './generation-quality.interface';
import { IndexAlias } from './index-alias.entity';
import { IndexGenerationCatalog } from './index-generation.catalog';
import { IndexGeneration } from './index-generation.entity';
import { GenerationGateError, GenerationNotFoundError, GenerationProviderMissingError, GenerationStateError } from './index-generation.errors';
import { IndexGenerationState, MAINTAINED_GENERATION_STATES } from './index-generation-state.enum';

/** Rows per page of a coverage scan. */
const COVERAGE_PAGE = 5_000;

/** Thresholds of the quality gate; see {@link IndexGenerationService.validate}. */
export interface GenerationGateOptions {
  /** Hits compared per query. Default 10. */
  k?: number;
  /** Least mean recall@k over the queries with expected ids. Default 0.8. */
  minRecall?: number;
  /** Least mean overlap@k with the serving generation. Default 0 (reported, not enforced). */
  minOverlap?: number;
  /** Most source rows without a vector. Default 0. */
  maxMissing?: number;
  /** Most vectors whose content hash is not the row's current one. Default 0. */
  maxStale?: number;
}

/** A cutover's or rollback's result. */
export interface GenerationSwitch {
  entityType: string;
  /** The generation serving from now on. */
  serving: IndexGeneration;
  /** The generation that served before (kept current for rollback until it is retired). */
  previous: IndexGeneration;
  /** The cutover skipped a gate that had not passed. */
  forced: boolean;
}

/**
 * Index generations of the entity types: a change of model, dimensions or embeddable fields is built as a
 * new generation beside the serving one, validated, and cut over atomically; the previous one stays current
 * for rollback until it is retired. Every state change is one transaction; those that take a `manager` run
 * in the caller's (the migration module writes its audit entry in the same one).
 *
 * @example
 * ```ts
 * const report = await generations.validate(building.id, { queries: [{ query: 'red shoes', expectedIds: [42] }] });
 * if (report.passed) await generations.cutover('product', building.id);
 * ```
 */
@Injectable()
export class IndexGenerationService {
  private readonly logger = new Logger('IndexGenerations');
  private building?: Promise<void>;

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly options: ResolvedAiCoreOptions,
    private readonly registry: AiEntityRegistry,
    private readonly providers: EmbeddingProviderRegistry,
    private readonly catalog: IndexGenerationCatalog,
    private readonly store: PgVectorStore,
    private readonly pages: EntityPageReader,
    private readonly search: AiSearchService,
  ) {}

  /** Generations, newest first, of one entity type when given. */
  async list(entityType?: string): Promise<IndexGeneration[]> {
    return this.dataSource.getRepository(IndexGeneration).find({
      where: entityType === undefined ? {} : { entityType },
      order: { id: 'DESC' },
    });
  }

  /** One generation; throws {@link GenerationNotFoundError}. */
  async get(id: number, manager: EntityManager = this.dataSource.manager): Promise<IndexGeneration> {
    const generation = Number.isInteger(id) && id > 0 && id <= 2_147_483_647 ? await this.catalog.find(id, manager) : undefined;
    if (!generation) {
      throw new GenerationNotFoundError(`Index generation ${JSON.stringify(id)} does not exist; list the generations with GET /api/ai/migration/generations.`);
    }
    return generation;
  }

  /** The generation serving an entity type; throws {@link GenerationNotFoundError}. */
  async serving(entityType: string, manager: EntityManager = this.dataSource.manager): Promise<IndexGeneration> {
    this.requireEntityType(entityType);
    const alias = await manager.findOne(IndexAlias, { where: { entityType } });
    if (!alias) throw new GenerationNotFoundError(`No index generation serves "${entityType}" yet; it is created when the application starts.`);
    return this.get(alias.servingGenerationId, manager);
  }

  /** The definition the configuration asks for: the `embedding` provider's space and the entity type's fields. */
  configuredDefinition(entityType: string): GenerationDefinition {
    const descriptor = this.requireEntityType(entityType);
    const provider = this.providers.current.provider;
    return { providerName: provider.name, model: provider.model, dimensions: provider.dimensions, textDefinition: textDefinitionOf(descriptor.config) };
  }

  /**
   * Startup, per entity type (under a lock, so instances starting together agree): creates the first
   * generation (serving at once), records the definition of one adopted from before generations, fails
   * when the serving generation's provider is not configured, marks FAILED the other maintained generations
   * whose provider is missing, and — when the configuration differs from the serving generation and
   * `generations.onConfigChange` is `build` — records a BUILDING generation for it. No index is built here.
   */
  async reconcileAtStartup(): Promise<void> {
    for (const descriptor of this.registry.all()) {
      const entityType = descriptor.entityType;
      await this.dataSource.transaction(async (manager) => {
        await this.lock(manager, entityType);
        const configured = this.configuredDefinition(entityType);
        const alias = await manager.findOne(IndexAlias, { where: { entityType } });
        if (!alias) {
          const first = await this.insert(manager, entityType, configured, IndexGenerationState.SERVING);
          await manager.insert(IndexAlias, { entityType, servingGenerationId: first.id, previousGenerationId: null });
          this.logger.log(`Index generation ${first.id} of "${entityType}" created: ${describeDefinition(first)}.`);
          return;
        }
        const serving = await this.get(alias.servingGenerationId, manager);
        if (!this.providers.forSpace(serving)) {
          throw new GenerationProviderMissingError(
            `The index generation serving "${entityType}" (${serving.id}) embeds with ${serving.model} (${serving.dimensions} dimensions), ` +
              `but no configured provider has that model and dimensions (configured: ${this.providers.describe()}). Search could not embed queries ` +
              `for it. Keep its provider in "retainedEmbeddings" of AiCoreModule until another generation serves, or restore "embedding".`,
          );
        }
        if (serving.textDefinition === null) {
          // Adopted from before generations: its vectors were built with the configuration of that time,
          // which is taken to be today's (rows whose text differs are re-embedded by a backfill, as before).
          const provider = this.providers.forSpace(serving)!.provider;
          const textDefinition = textDefinitionOf(descriptor.config);
          await manager.update(IndexGeneration, { id: serving.id }, {
            textDefinition,
            providerName: provider.name,
            definitionHash: definitionHash({ model: serving.model, dimensions: serving.dimensions, textDefinition }),
          });
          Object.assign(serving, { textDefinition, definitionHash: definitionHash({ model: serving.model, dimensions: serving.dimensions, textDefinition }) });
        }
        const others = await manager
          .createQueryBuilder(IndexGeneration, 'g')
          .where('g.entityType = :entityType AND g.state IN (:...states) AND g.id <> :serving', {
            entityType,
            states: MAINTAINED_GENERATION_STATES,
            serving: serving.id,
          })
          .getMany();
        // Not failed here: in a rolling deploy another instance may have its provider. This instance's workers
        // leave its items to such an instance; retire it if no instance will have the provider again.
        for (const other of others.filter((g) => !this.providers.forSpace(g))) {
          this.logger.warn(
            `Index generation ${other.id} of "${entityType}" (${other.state}) embeds with ${other.model} (${other.dimensions} dimensions), which this ` +
              `instance does not configure: its workers leave that generation's work to instances that do. Add the provider to "embedding" or ` +
              `"retainedEmbeddings", or retire the generation (POST /api/ai/migration/generations/${other.id}/retire).`,
          );
        }
        const hash = definitionHash(configured);
        if (serving.definitionHash === hash) return;
        const candidate = others.find((g) => g.definitionHash === hash && this.providers.forSpace(g));
        if (candidate) return;
        if (this.options.generations.onConfigChange === 'manual') {
          this.logger.warn(
            `The configuration of "${entityType}" (${describeDefinition(configured)}) differs from the generation serving it ` +
              `(${serving.id}: ${describeDefinition(serving)}). Search keeps using generation ${serving.id}; create the new one with ` +
              `POST /api/ai/migration/generations (or IndexGenerationService.create) when you want it built.`,
          );
          return;
        }
        const created = await this.createLocked(manager, entityType, configured);
        this.logger.log(
          `The configuration of "${entityType}" changed: index generation ${created.id} (${describeDefinition(created)}) is BUILDING beside ` +
            `generation ${serving.id}, which keeps serving search. Backfill it, validate it, then cut over.`,
        );
      });
    }
  }

  /**
   * Records the configured definition of an entity type as a BUILDING generation (the explicit path when
   * `generations.onConfigChange` is `manual`). A BUILDING generation of another definition is discarded;
   * one of this definition is returned as it is. Throws when the serving generation already has it.
   */
  async create(entityType: string, manager?: EntityManager): Promise<IndexGeneration> {
    const run = async (m: EntityManager) => {
      await this.lock(m, entityType);
      const configured = this.configuredDefinition(entityType);
      const serving = await this.serving(entityType, m);
      if (serving.definitionHash === definitionHash(configured)) {
        throw new GenerationStateError(
          `The generation serving "${entityType}" (${serving.id}) already has the configured definition (${describeDefinition(configured)}); ` +
            `change the model, dimensions or embeddable fields first, or start a backfill to refresh it.`,
        );
      }
      return this.createLocked(m, entityType, configured);
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }

  /**
   * Marks a BUILDING generation's backfill complete (its migration job finished): on PostgreSQL its HNSW
   * index is then built in the background with `CREATE INDEX CONCURRENTLY`, after which it is READY; on
   * the embedded database it is READY at once. Idempotent.
   */
  async markLoaded(generationId: number, manager?: EntityManager): Promise<void> {
    const run = async (m: EntityManager) => {
      await m.query(`UPDATE ai_index_generations SET loaded_at = coalesce(loaded_at, now()) WHERE id = $1 AND state = 'BUILDING'`, [generationId]);
      if (this.store.isEmbedded) {
        await m.query(`UPDATE ai_index_generations SET state = 'READY', ready_at = now() WHERE id = $1 AND state = 'BUILDING'`, [generationId]);
      }
    };
    if (manager) await run(manager);
    else await this.dataSource.transaction(run);
  }

  /**
   * Builds what is due, in the background of this instance (each build under a session advisory lock, so
   * one instance builds it): the HNSW index of each loaded BUILDING generation (then READY) and of serving
   * or READY generations without one (the first generation, an adopted one, an interrupted build); then
   * retires generations past their retention and finishes interrupted retirements. Returns when done.
   */
  runMaintenance(): Promise<void> {
    this.building ??= this.maintain().finally(() => (this.building = undefined));
    return this.building;
  }

  private async maintain(): Promise<void> {
    const generations = await this.dataSource.getRepository(IndexGeneration).find({ order: { id: 'ASC' } });
    for (const generation of generations) {
      const needsIndex =
        !this.store.isEmbedded &&
        ((generation.state === IndexGenerationState.BUILDING && generation.loadedAt !== null) ||
          ((generation.state === IndexGenerationState.SERVING || generation.state === IndexGenerationState.READY) && generation.indexName === null));
      if (needsIndex) await this.withBuildLock(generation.id, () => this.buildIndex(generation));
    }
    if (!this.store.isEmbedded) await this.dropLegacyIndex();
    const retention = this.options.generations.retentionMs;
    if (retention > 0) {
      const expired = generations.filter(
        (g) => g.state === IndexGenerationState.READY && g.supersededAt !== null && Date.now() - g.supersededAt.getTime() > retention,
      );
      for (const generation of expired) {
        await this.retire(generation.id).catch((error) => this.logger.warn(`Retirement of generation ${generation.id} failed: ${(error as Error).message}`));
      }
    }
    // FAILED generations keep their rows (an operator may want to look) until they are retired.
    const ended = generations.filter((g) => (g.state === IndexGenerationState.RETIRED || g.state === IndexGenerationState.DISCARDED) && g.retiredAt === null);
    for (const generation of ended) {
      await this.withBuildLock(generation.id, () => this.cleanUp(generation));
    }
  }

  private async buildIndex(generation: IndexGeneration): Promise<void> {
    const started = Date.now();
    const name = await this.store.ensureIndex(generation, { concurrently: true, session: this.options.generations.indexBuild });
    const ready = await this.dataSource.query(
      `UPDATE ai_index_generations
          SET index_name = $2,
              state = CASE WHEN state = 'BUILDING' AND loaded_at IS NOT NULL THEN 'READY' ELSE state END,
              ready_at = CASE WHEN state = 'BUILDING' AND loaded_at IS NOT NULL THEN now() ELSE ready_at END
        WHERE id = $1 AND state IN ('BUILDING', 'READY', 'SERVING') RETURNING state`,
      [generation.id, name],
    );
    this.logger.log(`HNSW index ${name} of generation ${generation.id} ("${generation.entityType}") built in ${((Date.now() - started) / 1000).toFixed(1)} s${ready.length ? '' : ' (the generation ended meanwhile)'}.`);
  }

  /** The index from before generations goes once every serving generation has its own. */
  private async dropLegacyIndex(): Promise<void> {
    const [row] = await this.dataSource.query(
      `SELECT to_regclass($1) IS NOT NULL AS present,
              NOT EXISTS (SELECT 1 FROM ai_index_generations WHERE state = 'SERVING' AND index_name IS NULL) AS replaced`,
      [SEARCHABLE_ENTITY_HNSW_INDEX],
    );
    if (row.present && row.replaced) {
      await this.store.dropIndex(SEARCHABLE_ENTITY_HNSW_INDEX, true);
      this.logger.log(`Dropped ${SEARCHABLE_ENTITY_HNSW_INDEX}, the index from before generations: every serving generation has its own.`);
    }
  }

  /**
   * Atomically makes a READY generation serve its entity type; the serving one becomes READY (kept current
   * for {@link rollback} until retired). Refused unless the generation's quality gate passed, or `force`
   * (the caller records that). Search uses it from the next query on every instance.
   */
  async cutover(entityType: string, generationId: number, options: { force?: boolean } = {}, manager?: EntityManager): Promise<GenerationSwitch> {
    const run = async (m: EntityManager) => {
      const alias = await this.lockAlias(m, entityType);
      const target = await this.get(generationId, m);
      if (target.entityType !== entityType) {
        throw new GenerationNotFoundError(`Index generation ${generationId} belongs to "${target.entityType}", not "${entityType}".`);
      }
      if (target.id === alias.servingGenerationId) {
        throw new GenerationStateError(`Index generation ${generationId} already serves "${entityType}"; nothing to cut over.`);
      }
      if (target.state !== IndexGenerationState.READY) {
        throw new GenerationStateError(
          `Index generation ${generationId} of "${entityType}" is ${target.state}; only a READY generation can serve ` +
            (target.state === IndexGenerationState.BUILDING
              ? `(finish its backfill${this.store.isEmbedded ? '' : ' and index build'} first).`
              : '(build a new one).'),
        );
      }
      if (!this.providers.forSpace(target)) {
        throw new GenerationProviderMissingError(
          `Index generation ${generationId} embeds with ${target.model} (${target.dimensions} dimensions), which no provider of this instance has; add it to "embedding" or "retainedEmbeddings" first.`,
        );
      }
      const forced = target.gatePassed !== true;
      if (forced && !options.force) {
        throw new GenerationGateError(
          target.gatePassed === null
            ? `Index generation ${generationId} of "${entityType}" has not been validated; run the quality gate (POST …/generations/${generationId}/validate) first, or cut over with force.`
            : `Index generation ${generationId} of "${entityType}" failed its quality gate: ${(target.qualityReport?.failures ?? []).join(' ')} Fix it and validate again, or cut over with force.`,
          target.qualityReport,
        );
      }
      return this.switchServing(m, alias, target, forced);
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }

  /** Serves the previous generation again at once (it was kept current); throws when there is none. */
  async rollback(entityType: string, manager?: EntityManager): Promise<GenerationSwitch> {
    const run = async (m: EntityManager) => {
      const alias = await this.lockAlias(m, entityType);
      const previous = alias.previousGenerationId === null ? undefined : await this.catalog.find(alias.previousGenerationId, m);
      if (!previous || previous.state !== IndexGenerationState.READY) {
        throw new GenerationStateError(
          `"${entityType}" has no previous generation to roll back to` +
            (previous ? ` (generation ${previous.id} is ${previous.state})` : '') +
            '; a rollback serves the generation that served before the last cutover, until it is retired.',
        );
      }
      return this.switchServing(m, alias, previous, false);
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }

  private async switchServing(m: EntityManager, alias: IndexAlias, target: IndexGeneration, forced: boolean): Promise<GenerationSwitch> {
    await m.query(`UPDATE ai_index_generations SET state = 'READY', superseded_at = now() WHERE id = $1`, [alias.servingGenerationId]);
    await m.query(`UPDATE ai_index_generations SET state = 'SERVING', serving_since = now(), superseded_at = NULL WHERE id = $1`, [target.id]);
    await m.query(
      `UPDATE ai_index_aliases SET serving_generation_id = $2, previous_generation_id = $3, updated_at = now() WHERE entity_type = $1`,
      [alias.entityType, target.id, alias.servingGenerationId],
    );
    return {
      entityType: alias.entityType,
      serving: await this.get(target.id, m),
      previous: await this.get(alias.servingGenerationId, m),
      forced,
    };
  }

  /**
   * Ends a generation that does not serve: RETIRED when it served before, DISCARDED when it never did. Live
   * writes stop reaching it at once; its index and rows are deleted after the state change commits (a
   * crash in between is finished by the next maintenance round). Never the serving generation.
   */
  async retire(generationId: number, manager?: EntityManager): Promise<IndexGeneration> {
    const run = async (m: EntityManager) => {
      const generation = await this.get(generationId, m);
      const alias = await this.lockAlias(m, generation.entityType);
      if (alias.servingGenerationId === generationId) {
        throw new GenerationStateError(
          `Index generation ${generationId} serves "${generation.entityType}" and cannot be retired; cut over to another generation (or roll back) first.`,
        );
      }
      if (isEnded(generation.state) && generation.state !== IndexGenerationState.FAILED) {
        throw new GenerationStateError(`Index generation ${generationId} is already ${generation.state}.`);
      }
      const state = generation.servingSince ? IndexGenerationState.RETIRED : IndexGenerationState.DISCARDED;
      await m.query(`UPDATE ai_index_generations SET state = $2 WHERE id = $1`, [generationId, state]);
      if (alias.previousGenerationId === generationId) {
        await m.query(`UPDATE ai_index_aliases SET previous_generation_id = NULL WHERE entity_type = $1`, [generation.entityType]);
      }
      return this.get(generationId, m);
    };
    const retired = manager ? await run(manager) : await this.dataSource.transaction(run);
    // Inside a caller's transaction the rows are deleted by the next maintenance round, after its commit.
    if (!manager) await this.withBuildLock(generationId, () => this.cleanUp(retired));
    return retired;
  }

  private async cleanUp(generation: IndexGeneration): Promise<void> {
    // By name, not by index_name: a build that finished after the retirement did not record it.
    await this.store.dropIndex(generation.indexName ?? generationIndexName(generation.id), true);
    const deleted = await this.store.deleteGeneration(generation.entityType, generation.id);
    await this.dataSource.query(`UPDATE ai_index_generations SET retired_at = now(), index_name = NULL WHERE id = $1`, [generation.id]);
    this.logger.log(`Index generation ${generation.id} of "${generation.entityType}" ${generation.state.toLowerCase()}: ${deleted} vector(s) deleted.`);
  }

  /**
   * Coverage of a generation against the entity table: keyset pages of the rows with the hash the
   * generation would store, compared with what it stores. Reads only.
   */
  async coverage(generationId: number): Promise<GenerationCoverage> {
    const generation = await this.get(generationId);
    const coverage: GenerationCoverage = { sourceRows: 0, vectors: await this.store.count(generation.entityType, generation.id), missing: 0, stale: 0, orphaned: 0 };
    let afterId: string | null = null;
    let matched = 0;
    for (;;) {
      const rows = await this.pages.readPage(generation.entityType, { afterId, limit: COVERAGE_PAGE, generationId });
      if (rows.length === 0) break;
      for (const row of rows) {
        coverage.sourceRows++;
        if (row.storedHash === null) coverage.missing++;
        else {
          matched++;
          if (row.storedHash !== row.hash) coverage.stale++;
        }
      }
      afterId = rows[rows.length - 1].entityId;
    }
    coverage.orphaned = Math.max(0, coverage.vectors - matched);
    return coverage;
  }

  /**
   * The quality gate: coverage (every row has a current vector; no orphans) and, for each golden query,
   * recall@k against its expected ids and overlap@k with the serving generation. Stores the report and
   * the verdict with the generation (a cutover requires it to have passed) and returns the report.
   */
  async validate(generationId: number, input: { queries?: GoldenQuery[] } & GenerationGateOptions = {}): Promise<GenerationQualityReport> {
    const generation = await this.get(generationId);
    if (!MAINTAINED_GENERATION_STATES.includes(generation.state)) {
      throw new GenerationStateError(`Index generation ${generationId} is ${generation.state}; only a BUILDING, READY or SERVING generation can be validated.`);
    }
    const thresholds = {
      minRecall: input.minRecall ?? 0.8,
      minOverlap: input.minOverlap ?? 0,
      maxMissing: input.maxMissing ?? 0,
      maxStale: input.maxStale ?? 0,
    };
    const k = input.k ?? 10;
    const serving = await this.serving(generation.entityType);
    const comparedWith = serving.id === generation.id ? null : serving.id;
    const coverage = await this.coverage(generationId);
    const queries = [];
    for (const golden of input.queries ?? []) {
      const request = { entityType: generation.entityType, query: golden.query, limit: k, filter: golden.filter };
      const hits = (await this.search.search({ ...request, generationId })).map((h) => h.entityId);
      const expected = (golden.expectedIds ?? []).map(String);
      const recall = expected.length === 0 ? null : expected.filter((id) => hits.includes(id)).length / Math.min(k, expected.length);
      let overlap: number | null = null;
      if (comparedWith !== null) {
        const reference = (await this.search.search({ ...request, generationId: comparedWith })).map((h) => h.entityId);
        overlap = reference.length === 0 ? 1 : reference.filter((id) => hits.includes(id)).length / reference.length;
      }
      queries.push({ query: golden.query, recall, overlap });
    }
    const mean = (values: Array<number | null>) => {
      const present = values.filter((v): v is number => v !== null);
      return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
    };
    const recallAtK = mean(queries.map((q) => q.recall));
    const overlapAtK = mean(queries.map((q) => q.overlap));
    const failures: string[] = [];
    if (coverage.missing > thresholds.maxMissing) failures.push(`${coverage.missing} of ${coverage.sourceRows} rows have no vector (at most ${thresholds.maxMissing} allowed).`);
    if (coverage.stale > thresholds.maxStale) failures.push(`${coverage.stale} vectors are stale (at most ${thresholds.maxStale} allowed).`);
    if (coverage.orphaned > 0) failures.push(`${coverage.orphaned} vectors belong to rows that no longer exist.`);
    if (recallAtK !== null && recallAtK < thresholds.minRecall) failures.push(`Recall@${k} is ${recallAtK.toFixed(3)}, below ${thresholds.minRecall}.`);
    if (overlapAtK !== null && overlapAtK < thresholds.minOverlap) failures.push(`Overlap@${k} with generation ${comparedWith} is ${overlapAtK.toFixed(3)}, below ${thresholds.minOverlap}.`);
    const report: GenerationQualityReport = {
      generationId,
      comparedWith,
      k,
      coverage,
      queries,
      recallAtK,
      overlapAtK,
      thresholds,
      passed: failures.length === 0,
      failures,
      validatedAt: new Date().toISOString(),
    };
    await this.dataSource.getRepository(IndexGeneration).update({ id: generationId }, { qualityReport: report, gatePassed: report.passed, validatedAt: new Date() });
    return report;
  }

  private async createLocked(manager: EntityManager, entityType: string, configured: GenerationDefinition): Promise<IndexGeneration> {
    const hash = definitionHash(configured);
    // A maintained generation that does not serve may have this definition already (being built, READY, or
    // kept for rollback): it is the one to use, not a second copy.
    const existing = await manager
      .createQueryBuilder(IndexGeneration, 'g')
      .where('g.entityType = :entityType AND g.definitionHash = :hash AND g.state IN (:...states)', {
        entityType,
        hash,
        states: [IndexGenerationState.BUILDING, IndexGenerationState.READY],
      })
      .orderBy('g.id', 'DESC')
      .getOne();
    if (existing) return existing;
    const building = await manager.findOne(IndexGeneration, { where: { entityType, state: IndexGenerationState.BUILDING } });
    if (building) {
      await manager.update(IndexGeneration, { id: building.id }, { state: IndexGenerationState.DISCARDED });
      this.logger.warn(`Index generation ${building.id} of "${entityType}" (${describeDefinition(building)}) was discarded: the configuration changed again.`);
    }
    return this.insert(manager, entityType, configured, IndexGenerationState.BUILDING);
  }

  private async insert(manager: EntityManager, entityType: string, definition: GenerationDefinition, state: IndexGenerationState): Promise<IndexGeneration> {
    const now = new Date();
    const serving = state === IndexGenerationState.SERVING;
    const result = await manager.insert(IndexGeneration, {
      entityType,
      state,
      providerName: definition.providerName,
      model: definition.model,
      dimensions: definition.dimensions,
      textDefinition: definition.textDefinition,
      definitionHash: definitionHash(definition),
      // The first generation starts empty and serves at once: its backfill is an ordinary one.
      loadedAt: serving ? now : null,
      readyAt: serving ? now : null,
      servingSince: serving ? now : null,
    });
    return this.get(result.identifiers[0].id as number, manager);
  }

  /** Serialises the startup reconciliation and creation of an entity type's generations across instances. */
  private async lock(manager: EntityManager, entityType: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ai_index_generations'), hashtext($1))`, [entityType]);
  }

  private async lockAlias(manager: EntityManager, entityType: string): Promise<IndexAlias> {
    this.requireEntityType(entityType);
    await this.lock(manager, entityType);
    const [alias] = await manager.query(
      `SELECT entity_type, serving_generation_id, previous_generation_id FROM ai_index_aliases WHERE entity_type = $1 FOR UPDATE`,
      [entityType],
    );
    if (!alias) throw new GenerationNotFoundError(`No index generation serves "${entityType}" yet; it is created when the application starts.`);
    return Object.assign(new IndexAlias(), {
      entityType: alias.entity_type,
      servingGenerationId: alias.serving_generation_id,
      previousGenerationId: alias.previous_generation_id,
    });
  }

  /** Runs `work` holding a session advisory lock on the generation, on one instance at a time; skips when another holds it. */
  private async withBuildLock(generationId: number, work: () => Promise<void>): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(hashtext('ai_index_generation_build'), $1) AS locked`, [generationId]);
      if (!locked) return;
      try {
        await work();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext('ai_index_generation_build'), $1)`, [generationId]);
      }
    } finally {
      await runner.release();
    }
  }

  private requireEntityType(entityType: string) {
    const descriptor = this.registry.find(entityType);
    if (!descriptor) {
      throw new GenerationNotFoundError(
        `Unknown entity type ${JSON.stringify(entityType)}; known types: ${this.registry.entityTypes().join(', ') || '(none)'}.`,
      );
    }
    return descriptor;
  }
}

function isEnded(state: IndexGenerationState): boolean {
  return state === IndexGenerationState.RETIRED || state === IndexGenerationState.DISCARDED || state === IndexGenerationState.FAILED;
}
