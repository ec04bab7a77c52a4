import { ACTIVE_MIGRATION_STATUSES, DataMigrationService, MigrationJobEvents, MigrationStatus, type MigrationProgress } from '@ai-infrastructure/migration-core';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Counter, Gauge } from 'prom-client';
import { AiMetricsRegistry } from '../metrics/ai-metrics.registry';
import { MIGRATION_CONTROLLER_GATE, type MigrationControllerGateResult } from './migration-controller.gate';

/** Seconds of an ISO-8601 duration as the progress writes it (`PT1H2M3.5S`); null when absent or unreadable. */
export function isoDurationSeconds(duration: string | null): number | null {
  const match = duration ? /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(duration) : null;
  if (!match) return null;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/**
 * @internal The migration jobs' metrics, registered only when MigrationModule is in the application (the
 * same gate as the routes). All read from the database at each scrape: jobs by status, and for active
 * jobs only (bounded cardinality: at most `maxConcurrentJobs` label sets) their entities, throughput and
 * ETA.
 */
@Injectable()
export class MigrationMetrics implements OnModuleInit, OnModuleDestroy {
  private stopListening?: () => void;

  constructor(
    private readonly metrics: AiMetricsRegistry,
    private readonly moduleRef: ModuleRef,
    @Inject(MIGRATION_CONTROLLER_GATE) private readonly gate: MigrationControllerGateResult,
  ) {}

  onModuleInit(): void {
    if (!this.gate.registered) return;
    const migrations = this.moduleRef.get(DataMigrationService, { strict: false });
    const registers = [this.metrics.registry];
    const changes = new Counter({
      name: 'ai_migration_job_status_changes_total',
      help: 'Status changes of migration jobs made by this instance (created, paused, resumed, completed, failed, cancelled, reopened), by the status reached.',
      labelNames: ['to'],
      registers,
    });
    this.stopListening = this.moduleRef.get(MigrationJobEvents, { strict: false }).on((change) => changes.inc({ to: change.to }));
    let active: Promise<Array<{ entityType: string; progress: MigrationProgress }>> | undefined;
    // One read of the active jobs per scrape serves the three per-job gauges.
    const readActive = () =>
      (active ??= (async () => {
        const jobs = (await Promise.all(ACTIVE_MIGRATION_STATUSES.map((status) => migrations.getAllJobs({ status, limit: 500 })))).flat();
        return Promise.all(jobs.map(async (job) => ({ entityType: job.entityType, progress: await migrations.getProgress(job.id) })));
      })().finally(() => setImmediate(() => (active = undefined))));
    const labels = (job: { entityType: string; progress: MigrationProgress }) => ({ job_id: job.progress.jobId, entity_type: job.entityType });
    new Gauge({
      name: 'ai_migration_jobs',
      help: 'Migration jobs by status. From the database.',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        for (const status of Object.values(MigrationStatus)) this.set({ status }, await migrations.countJobs({ status }));
      },
    });
    new Gauge({
      name: 'ai_migration_job_entities',
      help: 'Entities of each active job: total, processed, skipped and failed. Active jobs only. From the database.',
      labelNames: ['job_id', 'entity_type', 'kind'],
      registers,
      async collect() {
        this.reset();
        for (const job of await readActive()) {
          const { progress: p } = job;
          const counts = { total: p.progress.total, processed: p.progress.processed, skipped: p.skipped, failed: p.progress.failed };
          for (const [kind, value] of Object.entries(counts)) this.set({ ...labels(job), kind }, value);
        }
      },
    });
    new Gauge({
      name: 'ai_migration_job_throughput_entities_per_second',
      help: 'Entities per second of each active job since its start. Active jobs only.',
      labelNames: ['job_id', 'entity_type'],
      registers,
      async collect() {
        this.reset();
        for (const job of await readActive()) this.set(labels(job), job.progress.throughput);
      },
    });
    new Gauge({
      name: 'ai_migration_job_eta_seconds',
      help: 'Estimated seconds left of each running job at the binding limit or its measured rate; absent while unknown or paused. Active jobs only.',
      labelNames: ['job_id', 'entity_type'],
      registers,
      async collect() {
        this.reset();
        for (const job of await readActive()) {
          const seconds = isoDurationSeconds(job.progress.progress.estimatedTimeRemaining);
          if (seconds !== null) this.set(labels(job), seconds);
        }
      },
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }
}
