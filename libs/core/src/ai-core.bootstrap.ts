import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE, EMBEDDING_PROVIDER } from './ai-core.constants';
import type { ResolvedAiCoreOptions } from './config/ai-core-options.resolver';
import { AiCoreConfigurationError } from './config/ai-core.errors';
import { quoteTablePath } from './common/table-path';
import { AI_CORE_ENTITIES } from './database/ai-core.schema';
import type { EmbeddingProvider } from './embedding/embedding-provider.interface';
import { loadAiEntityConfig } from './entity/ai-entity-config.loader';
import { AiEntityRegistry } from './entity/ai-entity-registry.service';
import { LiveIndexingSubscriber } from './live/live-indexing.subscriber';
import { IndexingQueueService } from './queue/indexing-queue.service';
import { PgVectorStore } from './vector-store/pgvector.store';
import { IndexGenerationCatalog } from './generation/index-generation.catalog';
import { IndexGenerationService } from './generation/index-generation.service';

/**
 * Startup of the core, once the DataSource is initialised and before workers start: loads and validates
 * the entity configuration against this app's entities, reconciles the index generations with it (see
 * IndexGenerationService.reconcileAtStartup) and attaches live indexing to the DataSource.
 * @internal
 */
@Injectable()
export class AiCoreBootstrap implements OnModuleInit {
  private readonly logger = new Logger('AiCore');

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly options: ResolvedAiCoreOptions,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    private readonly registry: AiEntityRegistry,
    private readonly vectorStore: PgVectorStore,
    private readonly queue: IndexingQueueService,
    private readonly generations: IndexGenerationService,
    private readonly catalog: IndexGenerationCatalog,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.assertSchema();
    const configs = loadAiEntityConfig(this.options.entityConfigPath);
    this.registry.build(this.dataSource, configs, this.options.entityConfigPath);
    await this.assertEntityTables();
    await this.vectorStore.detectEngine();
    // Records generations and compares the configuration with the serving ones; builds no index (that
    // happens in the background, see IndexGenerationMaintenance), so a model change starts as fast as a restart.
    await this.generations.reconcileAtStartup();
    // A BPE tokenizer parses its rank table on first use (about a second, blocking the event loop): done
    // here, before traffic, instead of during the first live write or search.
    this.provider.countTokens?.('warm-up');
    if (this.options.liveIndexing) {
      const subscriber = new LiveIndexingSubscriber(this.registry, this.queue, this.vectorStore, this.catalog);
      this.dataSource.subscribers.push(subscriber);
    }
    this.logger.log(
      `Embedding provider "${this.provider.name}" (${this.provider.model}, ${this.provider.dimensions} dimensions); live indexing ${this.options.liveIndexing ? 'on' : 'off'}.`,
    );
  }

  /**
   * Each AI-capable entity's table and the columns the indexing reads must exist: without them a backfill's
   * first page fails (a 500 from POST /start, the reason only in the log) and live writes fail to enqueue.
   * Reported for every entity at once, with the fix.
   */
  private async assertEntityTables(): Promise<void> {
    const problems: string[] = [];
    for (const descriptor of this.registry.all()) {
      const { metadata } = descriptor;
      const table = metadata.tablePath;
      const rows: Array<{ exists: boolean; column: string | null }> = await this.dataSource.query(
        `SELECT to_regclass($1) IS NOT NULL AS exists, a.attname AS column
           FROM (SELECT 1) one
           LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
        [quoteTablePath(table)],
      );
      const entity = `@AICapable class ${descriptor.target.name} (entity type "${descriptor.entityType}")`;
      if (!rows[0]?.exists) {
        problems.push(`the table "${table}" of ${entity} does not exist`);
        continue;
      }
      const present = new Set(rows.map((r) => r.column));
      const missing = descriptor.selectedProperties
        .map((property) => metadata.findColumnWithPropertyName(property)?.databaseName ?? property)
        .filter((column) => !present.has(column));
      if (missing.length > 0) {
        problems.push(`the table "${table}" of ${entity} has no column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}`);
      }
    }
    if (problems.length > 0) {
      throw new AiCoreConfigurationError(
        `AI indexing cannot start: ${problems.join('; ')}. Create or update the table with a migration listed in your ` +
          `DataSource's migrations and run it (migrationsRun: true, or your migration command), then start the application again.`,
      );
    }
  }

  /**
   * The core's entities must be in the DataSource (the snapshot reader joins the vector table through its
   * metadata) and its tables must exist (they come from migrations); without either, every later step fails
   * with a bare TypeORM or SQL error.
   */
  private async assertSchema(): Promise<void> {
    const unlisted = AI_CORE_ENTITIES.filter((entity) => !this.dataSource.hasMetadata(entity)).map((entity) => entity.name);
    if (unlisted.length > 0) {
      throw new AiCoreConfigurationError(
        `The AI core entities (${unlisted.join(', ')}) are not in your DataSource's entities. Add AI_CORE_ENTITIES from ` +
          `@ai-infrastructure/core to them: entities: [YourEntity, ...AI_CORE_ENTITIES].`,
      );
    }
    const [row] = await this.dataSource.query(
      `SELECT to_regclass('ai_indexing_queue') IS NOT NULL AND to_regclass('ai_searchable_entities') IS NOT NULL
              AND to_regclass('ai_index_generations') IS NOT NULL AND to_regclass('ai_index_aliases') IS NOT NULL AS ready`,
    );
    if (!row?.ready) {
      throw new AiCoreConfigurationError(
        'The AI core tables (ai_indexing_queue, ai_searchable_entities, ai_index_generations, ai_index_aliases) do not exist in this database. Add AI_CORE_MIGRATIONS ' +
          "to your DataSource's migrations and run them (migrationsRun: true, or your migration command, e.g. npm run db:migrate).",
      );
    }
    await this.assertSharedCapacityTable();
  }

  /**
   * In cluster scope with a limit set, every provider request leases from `ai_provider_capacity`; without
   * the table each lease would fail and requests would wait for ever, so startup says so instead.
   */
  private async assertSharedCapacityTable(): Promise<void> {
    const { scope, requestsPerMinute, tokensPerMinute } = this.options.rateLimit;
    if (scope !== 'cluster' || (requestsPerMinute === 0 && tokensPerMinute === 0)) return;
    const [row] = await this.dataSource.query(`SELECT to_regclass('ai_provider_capacity') IS NOT NULL AS ready`);
    if (row?.ready) return;
    throw new AiCoreConfigurationError(
      'AiCoreModule option "rateLimit.scope" is "cluster" (the default), which shares the provider limits through the table ' +
        'ai_provider_capacity, but that table does not exist in this database. Run the AI_CORE_MIGRATIONS (AiProviderCapacity1732100000980 ' +
        'creates it; migrationsRun: true, or npm run db:migrate), or set rateLimit.scope to "instance" to limit each process on its own.',
    );
  }
}

