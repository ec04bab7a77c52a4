import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_DATA_SOURCE } from '../ai-core.constants';
import { returnedRows } from '../common/query-result';
import { EmbeddingProviderRegistry } from '../embedding/embedding-provider.registry';

/** An owner's provider batches, as {@link EmbeddingBatchService.summaryOf} counts them. */
export interface OwnerBatchSummary {
  /** Batches being submitted or running at the provider. */
  inFlight: number;
  /** Batches whose results were applied (completed, expired or cancelled at the provider). */
  applied: number;
  /** Batches that failed (rejected by the provider, or never submitted); their items were re-queued. */
  failed: number;
  /** Embedding inputs of the batches in flight. */
  inputsInFlight: number;
}

/**
 * The provider batches of `mode: 'batch'` backfills, for the library that owns the items (the migration
 * module): whether batches are possible, what an owner has in flight, and cancelling an owner's batches.
 *
 * @example
 * ```ts
 * if (!batches.supported()) throw new Error('Configure the OpenAI provider to use mode "batch".');
 * await batches.cancelOwner(jobId);
 * ```
 */
@Injectable()
export class EmbeddingBatchService {
  private readonly logger = new Logger('EmbeddingBatches');

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly providers: EmbeddingProviderRegistry,
  ) {}

  /** Whether the current embedding provider has a Batch API. */
  supported(): boolean {
    return this.providers.all()[0]?.provider.batches !== undefined;
  }

  /** Batch counts of each owner asked for (owners without batches get zeros). */
  async summaryOf(owners: string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, OwnerBatchSummary>> {
    const result = new Map<string, OwnerBatchSummary>(owners.map((o) => [o, { inFlight: 0, applied: 0, failed: 0, inputsInFlight: 0 }]));
    if (owners.length === 0) return result;
    const rows = returnedRows<{ owner: string; in_flight: number; applied: number; failed: number; inputs_in_flight: number }>(
      await manager.query(
        `SELECT o.owner,
                count(*) FILTER (WHERE b.status IN ('SUBMITTING', 'IN_FLIGHT'))::int AS in_flight,
                count(*) FILTER (WHERE b.status IN ('DONE', 'EXPIRED', 'CANCELLED'))::int AS applied,
                count(*) FILTER (WHERE b.status = 'FAILED')::int AS failed,
                coalesce(sum(b.inputs) FILTER (WHERE b.status IN ('SUBMITTING', 'IN_FLIGHT')), 0)::int AS inputs_in_flight
           FROM unnest($1::text[]) AS o(owner)
           JOIN ai_embedding_batches b ON o.owner = ANY(b.owners)
          GROUP BY o.owner`,
        [owners],
      ),
    );
    for (const r of rows) result.set(r.owner, { inFlight: r.in_flight, applied: r.applied, failed: r.failed, inputsInFlight: r.inputs_in_flight });
    return result;
  }

  /**
   * Cancels the owner's batches in flight at the provider (a cancelled job). Requests the provider already
   * ran are still applied when the batch ends; those it did not run are dropped, not re-queued. A batch
   * shared with another owner is cancelled too: the other owner's items that did not run go back to the
   * queue. Returns how many batches were asked to cancel.
   */
  async cancelOwner(owner: string): Promise<number> {
    const rows = returnedRows<{ id: string; model: string; dimensions: number; remote_id: string | null }>(
      await this.dataSource.query(
        `UPDATE ai_embedding_batches SET cancel_requested = true, next_check_at = now()
          WHERE $1 = ANY(owners) AND status IN ('SUBMITTING', 'IN_FLIGHT')
          RETURNING id::text AS id, model, dimensions, remote_id`,
        [owner],
      ),
    );
    for (const row of rows) {
      if (!row.remote_id) continue;
      const api = this.providers.forSpace({ model: row.model, dimensions: Number(row.dimensions) })?.provider.batches;
      // A failure here is retried by the batch worker, which cancels again at each check until the batch ends.
      await api?.cancel(row.remote_id).catch((error) => this.logger.warn(`Cancelling provider batch ${row.remote_id} failed: ${(error as Error).message}`));
    }
    return rows.length;
  }
}
