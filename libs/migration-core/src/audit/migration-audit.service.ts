import { AI_DATA_SOURCE } from '@ai-infrastructure/core/internal';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InvalidMigrationRequestError } from '../migration.errors';
import { MigrationAuditAction } from './migration-audit-action.enum';
import type { MigrationAuditPage, MigrationAuditQuery, MigrationAuditRecord } from './migration-audit-query.interface';

/** Most entries one page returns. */
export const MAX_AUDIT_PAGE = 500;

const ACTIONS = new Set<string>(Object.values(MigrationAuditAction));

/**
 * Reads the audit log across jobs and index generations: who did what, when, filtered by actor, action,
 * job, generation, entity type and time range, newest first. (DataMigrationService.getAuditLog and
 * MigrationGenerationService.getAuditLog give one job's or one generation's entries, oldest first.)
 *
 * @example
 * ```ts
 * const { items, total } = await audit.query({ actor: 'ci-pipeline', from: new Date(Date.now() - 86_400_000) });
 * ```
 */
@Injectable()
export class MigrationAuditService {
  constructor(@Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async query(query: MigrationAuditQuery = {}): Promise<MigrationAuditPage> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
      throw new InvalidMigrationRequestError(`limit must be a whole number from 1 to ${MAX_AUDIT_PAGE}; got ${limit}.`, 'limit');
    }
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidMigrationRequestError(`offset must be a whole number of at least 0; got ${offset}.`, 'offset');
    if (query.action !== undefined && !ACTIONS.has(query.action)) {
      throw new InvalidMigrationRequestError(`action must be one of ${[...ACTIONS].join(', ')}; got "${query.action}".`, 'action');
    }
    for (const key of ['from', 'to'] as const) {
      const value = query[key];
      if (value !== undefined && Number.isNaN(value.getTime())) throw new InvalidMigrationRequestError(`${key} must be a valid date.`, key);
    }
    // The entity type is the acted-on job's or generation's (core's table is only read here).
    const where = `
      FROM ai_migration_audit_log a
      LEFT JOIN ai_migration_jobs j ON j.id = a.job_id
      LEFT JOIN ai_index_generations g ON g.id = a.generation_id
     WHERE ($1::text IS NULL OR a.actor = $1)
       AND ($2::text IS NULL OR a.action = $2)
       AND ($3::uuid IS NULL OR a.job_id = $3)
       AND ($4::int IS NULL OR a.generation_id = $4)
       AND ($5::text IS NULL OR coalesce(j.entity_type, g.entity_type) = $5)
       AND ($6::timestamptz IS NULL OR a.created_at >= $6)
       AND ($7::timestamptz IS NULL OR a.created_at < $7)`;
    const params = [
      query.actor ?? null,
      query.action ?? null,
      query.jobId ?? null,
      query.generationId ?? null,
      query.entityType ?? null,
      query.from?.toISOString() ?? null,
      query.to?.toISOString() ?? null,
    ];
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT a.id::text AS id, a.job_id, a.generation_id, a.action, a.actor, a.from_status, a.to_status, a.details, a.created_at,
                coalesce(j.entity_type, g.entity_type) AS entity_type
         ${where}
         ORDER BY a.id DESC
         LIMIT $8 OFFSET $9`,
        [...params, limit, offset],
      ),
      this.dataSource.query(`SELECT count(*)::int AS total ${where}`, params),
    ]);
    const items = (rows as Array<Record<string, unknown>>).map(
      (r): MigrationAuditRecord => ({
        id: r.id as string,
        jobId: r.job_id as string | null,
        generationId: r.generation_id === null ? null : Number(r.generation_id),
        action: r.action as MigrationAuditAction,
        actor: r.actor as string,
        fromStatus: r.from_status as string | null,
        toStatus: r.to_status as string,
        details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown> | null,
        createdAt: new Date(r.created_at as string),
        entityType: r.entity_type as string | null,
      }),
    );
    return { items, total: Number(total), limit, offset };
  }
}
