import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** What a verification found wrong with an entity's vector. */
export type VerifyFindingKind = 'MISSING' | 'STALE' | 'ORPHANED' | 'FOREIGN';

/**
 * One entity a verification job found inconsistent (`ai_migration_verify_findings`), listed up to
 * `MAX_FINDINGS_PER_KIND` per kind and job (the job's counters are exact). Deleted with the job.
 */
@Entity('ai_migration_verify_findings')
@Check('ai_migration_verify_findings_kind_ck', `"kind" IN ('MISSING', 'STALE', 'ORPHANED', 'FOREIGN')`)
export class MigrationVerifyFinding {
  @PrimaryColumn({ name: 'job_id', type: 'uuid' })
  jobId: string;

  /** MISSING: a row without a vector; STALE: a vector of other content; ORPHANED: a vector without a row; FOREIGN: a vector of a generation that is not maintained. */
  @PrimaryColumn({ type: 'varchar', length: 10 })
  kind: VerifyFindingKind;

  @PrimaryColumn({ name: 'entity_id', type: 'varchar', length: 255 })
  entityId: string;

  /** For FOREIGN findings, the generation the vector belongs to. */
  @Column({ name: 'generation_id', type: 'int', nullable: true })
  generationId: number | null;
}
