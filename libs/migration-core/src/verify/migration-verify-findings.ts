import { returnedRows } from '@ai-infrastructure/core/internal';
import type { EntityManager } from 'typeorm';
import type { VerifyFindingKind } from './migration-verify-finding.entity';

/**
 * Findings listed per kind and job: beyond it a verification only counts (its counters stay exact), so a
 * table restored from a month-old backup cannot fill `ai_migration_verify_findings` with millions of rows.
 */
export const MAX_FINDINGS_PER_KIND = 10_000;

/** The kinds of finding, in the order the lists are sorted. */
export const VERIFY_FINDING_KINDS: readonly VerifyFindingKind[] = ['MISSING', 'STALE', 'ORPHANED', 'FOREIGN'];

/** One finding as recorded and listed. */
export interface VerifyFindingItem {
  kind: VerifyFindingKind;
  entityId: string;
  /** The generation verified, or for FOREIGN the generation the vector is filed under. */
  generationId: number | null;
}

/**
 * Records findings of one kind in the caller's transaction, as many as the cap still allows:
 * `countedBefore` is the job's counter of that kind before these (the findings recorded so far are
 * min(counter, cap), since both are written in the same transactions). Returns how many were recorded.
 */
export async function recordFindings(
  manager: EntityManager,
  jobId: string,
  kind: VerifyFindingKind,
  items: Array<{ entityId: string; generationId: number | null }>,
  countedBefore: number,
): Promise<number> {
  const room = Math.max(0, MAX_FINDINGS_PER_KIND - countedBefore);
  const listed = items.slice(0, room);
  if (listed.length === 0) return 0;
  const inserted = await manager.query(
    `INSERT INTO ai_migration_verify_findings (job_id, kind, entity_id, generation_id)
     SELECT $1::uuid, $2, t.entity_id, t.generation_id FROM unnest($3::text[], $4::int[]) AS t(entity_id, generation_id)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [jobId, kind, listed.map((i) => i.entityId), listed.map((i) => i.generationId)],
  );
  return returnedRows(inserted).length;
}

/** A page of a job's findings (optionally of one kind), by kind then entity id, and how many there are. */
export async function listFindings(
  manager: EntityManager,
  jobId: string,
  query: { kind?: VerifyFindingKind; limit: number; offset: number },
): Promise<{ total: number; items: VerifyFindingItem[] }> {
  const kind = query.kind ?? null;
  const [{ n }]: Array<{ n: number }> = await manager.query(
    `SELECT count(*)::int AS n FROM ai_migration_verify_findings WHERE job_id = $1 AND ($2::text IS NULL OR kind = $2)`,
    [jobId, kind],
  );
  const rows: Array<{ kind: VerifyFindingKind; entity_id: string; generation_id: number | null }> =
    n <= query.offset
      ? []
      : await manager.query(
          `SELECT kind, entity_id, generation_id FROM ai_migration_verify_findings
            WHERE job_id = $1 AND ($2::text IS NULL OR kind = $2)
            ORDER BY array_position($5::text[], kind::text), entity_id
            LIMIT $3 OFFSET $4`,
          [jobId, kind, query.limit, query.offset, VERIFY_FINDING_KINDS],
        );
  return { total: n, items: rows.map((r) => ({ kind: r.kind, entityId: r.entity_id, generationId: r.generation_id })) };
}

/** Deletes the findings of these jobs (with the jobs, by the cleanup of old jobs). */
export async function deleteFindings(manager: EntityManager, jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await manager.query(`DELETE FROM ai_migration_verify_findings WHERE job_id = ANY($1::uuid[])`, [jobIds]);
}
