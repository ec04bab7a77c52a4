import type { ApiAuditEntry, ApiEstimate, ApiFailure, ApiGeneration, ApiJob, ApiProgress, ApiQualityReport, ApiVerifyReport } from './migration-api.types';

// Human-readable renderings of the API's answers. `--json` prints the answers themselves instead.

/** 12,345 (a count, grouped for reading). */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US');
}

/** $0.0123 (four decimals below a dollar: embedding spend is often cents). */
export function usd(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  return `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}

/** "1h 2m 3s" from seconds. */
export function seconds(total: number | null | undefined): string {
  if (total === null || total === undefined || !Number.isFinite(total)) return '-';
  let rest = Math.max(0, Math.round(total));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}s`);
  return parts.slice(0, 2).join(' ');
}

/** Seconds of an ISO 8601 duration as the API writes them (`PT1H2M3.5S`, `P1DT2H`); undefined for anything else. */
export function isoDurationSeconds(iso: string | null | undefined): number | undefined {
  const match = iso ? /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso) : null;
  if (!match) return undefined;
  const [, d, h, m, s] = match.map((part) => Number(part ?? 0));
  return d * 86_400 + h * 3_600 + m * 60 + s;
}

/** "1m 5s" from an ISO 8601 duration; "-" when there is none (no rate yet). */
export function duration(iso: string | null | undefined): string {
  return seconds(isoDurationSeconds(iso));
}

/** Seconds between two ISO timestamps (the end defaults to now). */
export function elapsed(from: string | null | undefined, to?: string | null): number | undefined {
  if (!from) return undefined;
  return ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000;
}

/** Aligned columns with a header row. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/** "Label   value" lines, labels aligned; entries with an undefined value are left out. */
export function fields(entries: Array<[string, string | number | null | undefined]>): string {
  const shown = entries.filter(([, value]) => value !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value === null ? '-' : value}`).join('\n');
}

function budget(usage: ApiJob['usage']): string {
  const limits = [usage.maxTokens !== null ? `${count(usage.maxTokens)} tokens` : '', usage.maxCost !== null ? usd(usage.maxCost) : ''].filter(Boolean);
  return limits.length > 0 ? limits.join(', ') : 'none';
}

function spend(usage: ApiJob['usage']): string {
  const projected = usage.projectedCost !== null ? ` (projected ${usd(usage.projectedCost)} for the job)` : '';
  return `${count(usage.tokensUsed)} tokens, ${usd(usage.estimatedCost)}${projected}, ${count(usage.requests)} requests (${count(usage.failedRequests)} failed)`;
}

/** A job as POST /start, PATCH and the other changing routes return it. */
export function jobText(job: ApiJob): string {
  return fields([
    ['Job', job.id],
    ['Entity type', job.entityType],
    ['Kind', job.generationId !== null ? `${job.kind} (generation ${job.generationId})` : job.kind],
    ['Status', job.pauseReason ? `${job.status} (${job.pauseReason})` : job.status],
    ['Mode', job.mode],
    ['Entities', `${count(job.processedEntities)} processed, ${count(job.skippedEntities)} skipped, ${count(job.failedEntities)} failed of ${count(job.totalEntities)}`],
    ['Batch size', job.batchSize],
    ['Rate limit', job.rateLimit !== null ? `${count(job.rateLimit)} requests/min` : 'the provider limit'],
    ['Budget', budget(job.usage)],
    ['Spend', spend(job.usage)],
    ['Created by', job.createdBy],
    ['Started', job.startedAt],
    ['Completed', job.completedAt ?? undefined],
    ['Error', job.errorMessage ?? undefined],
  ]);
}

/** A job's progress as GET /jobs/{id} returns it. */
export function progressText(p: ApiProgress): string {
  return fields([
    ['Job', p.jobId],
    ['Status', p.pauseReason ? `${p.status} (${p.pauseReason})` : p.status],
    ['Mode', p.mode],
    ['Progress', `${p.progress.percentComplete.toFixed(1)}%: ${count(p.progress.processed)} processed, ${count(p.skipped)} skipped, ${count(p.progress.failed)} failed of ${count(p.progress.total)}`],
    ['Throughput', `${p.throughput.toFixed(1)} entities/s`],
    ['ETA', p.progress.estimatedTimeRemaining ? `${duration(p.progress.estimatedTimeRemaining)} (${p.progress.estimatedTimeRemainingBasis})` : '-'],
    ['Batches', p.batches ? `${count(p.batches.inFlight)} in flight (${count(p.batches.inputsInFlight)} inputs), ${count(p.batches.applied)} applied, ${count(p.batches.failed)} failed` : undefined],
    ['Budget', budget(p.usage)],
    ['Spend', spend(p.usage)],
    ['Started', p.startedAt],
    ['Updated', p.lastUpdatedAt],
    ['Completed', p.completedAt ?? undefined],
    ['Error', p.errorMessage ?? undefined],
  ]);
}

/** Jobs as rows. */
export function jobsTable(jobs: ApiJob[]): string {
  return table(
    ['ID', 'ENTITY', 'KIND', 'STATUS', 'PROCESSED', 'SKIPPED', 'FAILED', 'TOTAL', 'COST', 'STARTED'],
    jobs.map((j) => [j.id, j.entityType, j.kind, j.pauseReason ? `${j.status}:${j.pauseReason}` : j.status, count(j.processedEntities), count(j.skippedEntities), count(j.failedEntities), count(j.totalEntities), usd(j.usage.estimatedCost), j.startedAt]),
  );
}

/** A dry run's answer. */
export function estimateText(e: ApiEstimate): string {
  const modes = e.byMode.map((m) => `${m.mode}: ${m.available ? `${usd(m.estimatedCostUsd)}, ${count(m.estimatedRequests)} requests, ${m.estimatedDuration ? duration(m.estimatedDuration) : '-'}` : 'not available'}`);
  return fields([
    ['Entity type', e.entityType],
    ['Matching', count(e.matching)],
    ['Would skip', `${count(e.wouldSkip)} (vectors up to date)`],
    ['Would embed', count(e.wouldEmbed)],
    ['Tokens', `${count(e.estimatedTokens)} (${e.tokenCountBasis})`],
    ['Cost', usd(e.estimatedCostUsd)],
    ['Requests', count(e.estimatedRequests)],
    ['Duration', e.estimatedDuration ? `${duration(e.estimatedDuration)} (${e.durationBasis})` : '-'],
    ['Mode', e.mode],
    ['By mode', modes.join('; ')],
  ]);
}

export function failuresTable(failures: ApiFailure[]): string {
  return table(['ENTITY ID', 'ATTEMPTS', 'LAST ATTEMPT', 'ERROR'], failures.map((f) => [f.entityId, f.attempts, f.lastAttemptAt, f.error]));
}

export function auditTable(entries: ApiAuditEntry[]): string {
  return table(
    ['AT', 'ACTOR', 'ACTION', 'FROM', 'TO', 'SUBJECT', 'DETAILS'],
    entries.map((e) => [e.at, e.actor, e.action, e.fromStatus, e.toStatus, e.jobId ? `job ${e.jobId}` : `generation ${e.generationId}`, e.details ? JSON.stringify(e.details) : '']),
  );
}

export function generationsTable(generations: ApiGeneration[]): string {
  return table(
    ['ID', 'ENTITY', 'STATE', 'PROVIDER', 'MODEL', 'DIMS', 'GATE', 'SERVING SINCE'],
    generations.map((g) => [g.id, g.entityType, g.state, g.providerName, g.model, g.dimensions, g.gatePassed === null ? 'not run' : g.gatePassed ? 'passed' : 'failed', g.servingSince]),
  );
}

export function generationText(g: ApiGeneration): string {
  return fields([
    ['Generation', g.id],
    ['Entity type', g.entityType],
    ['State', g.state],
    ['Model', `${g.providerName} ${g.model} (${g.dimensions} dimensions)`],
    ['Fields', g.textDefinition ? g.textDefinition.embeddableFields.map((f) => `${f.name}×${f.weight}`).join(', ') : undefined],
    ['Index', g.indexName],
    ['Quality gate', g.gatePassed === null ? 'not run' : g.gatePassed ? `passed (${g.validatedAt})` : `failed (${g.validatedAt})`],
    ['Created', g.createdAt],
    ['Ready', g.readyAt],
    ['Serving since', g.servingSince],
    ['Retired', g.retiredAt ?? undefined],
    ['Failure', g.failureReason ?? undefined],
  ]);
}

export function qualityReportText(r: ApiQualityReport): string {
  const c = r.coverage;
  const lines = [
    fields([
      ['Generation', r.comparedWith !== null ? `${r.generationId} (compared with ${r.comparedWith})` : r.generationId],
      ['Gate', r.passed ? 'PASSED' : 'FAILED'],
      ['Coverage', `${count(c.vectors)} vectors for ${count(c.sourceRows)} rows: ${count(c.missing)} missing, ${count(c.stale)} stale, ${count(c.orphaned)} orphaned`],
      [`Recall@${r.k}`, r.recallAtK === null ? '-' : r.recallAtK.toFixed(3)],
      [`Overlap@${r.k}`, r.overlapAtK === null ? '-' : r.overlapAtK.toFixed(3)],
      ['Thresholds', `recall ≥ ${r.thresholds.minRecall}, overlap ≥ ${r.thresholds.minOverlap}, missing ≤ ${r.thresholds.maxMissing}, stale ≤ ${r.thresholds.maxStale}`],
    ]),
  ];
  if (r.queries.length > 0) {
    lines.push('', table(['QUERY', 'RECALL', 'OVERLAP'], r.queries.map((q) => [q.query, q.recall?.toFixed(3), q.overlap?.toFixed(3)])));
  }
  for (const failure of r.failures) lines.push(`- ${failure}`);
  return lines.join('\n');
}

export function verifyReportText(r: ApiVerifyReport): string {
  return fields([
    ['Job', r.jobId],
    ['Status', r.status],
    ['Generation', r.generationId],
    ['Fix', r.fix ? 'yes' : 'no'],
    ['Rows', count(r.sourceRows)],
    ['Vectors', r.vectors === undefined ? undefined : count(r.vectors)],
    ['Missing', count(r.missing)],
    ['Stale', count(r.stale)],
    ['Orphaned', count(r.orphaned)],
    ['Foreign', count(r.foreign)],
    ['Done', r.done ? 'yes' : 'no'],
  ]);
}
