import { Option, type Command } from 'commander';
import { decimal, entityIds, given, integer, noneToNull, orNone } from './cli.arguments';
import { outcomeText, type CliContext } from './cli.context';
import { usageError } from './cli.errors';
import { ExitCode } from './cli.exit-codes';
import { auditTable, count, estimateText, failuresTable, jobsTable, jobText, progressText } from './cli.format';
import type { CliAction } from './cli.program';
import type { ApiAuditEntry, ApiAuditPage, ApiEstimate, ApiFailure, ApiJob, ApiJobList, ApiProgress, ApiRetryResult } from './migration-api.types';

const STATUSES = ['PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'];
const ACTIVE = ['RUNNING', 'PAUSED', 'PENDING'];
const jobPath = (id: string) => `/api/ai/migration/jobs/${encodeURIComponent(id)}`;

interface AuditOptions {
  generation?: number;
  actor?: string;
  action?: string;
  entityType?: string;
  since?: string;
  until?: string;
  limit: number;
  offset: number;
}

interface StartOptions {
  batchSize?: number;
  rateLimit?: number;
  reindexExisting?: boolean;
  createdAfter?: string;
  createdBefore?: string;
  ids?: string[];
  idsFile?: string;
  maxTokens?: number;
  maxCost?: number;
  mode?: string;
  dryRun?: boolean;
  wait?: boolean;
}

/** The body of POST /start and /estimate from the flags (undefined ones left out, so the server's defaults apply). */
function startBody(entityType: string, o: StartOptions): Record<string, unknown> {
  const ids = entityIds(o.ids, o.idsFile);
  const filters = given({ createdAfter: o.createdAfter, createdBefore: o.createdBefore, ids });
  return given({
    entityType,
    batchSize: o.batchSize,
    rateLimit: o.rateLimit,
    reindexExisting: o.reindexExisting,
    filters: Object.keys(filters).length > 0 ? filters : undefined,
    maxTokens: o.maxTokens,
    maxCost: o.maxCost,
    mode: o.mode,
  });
}

/** Prints a job that just started or changed, then follows it with `--wait`. */
async function startedJob(ctx: CliContext, job: ApiJob, verb: string, wait: boolean | undefined) {
  if (wait) {
    ctx.print(job, (j) => `${verb} job ${j.id} for ${j.entityType} (${count(j.totalEntities)} entities).`);
    return ctx.follow(job.id);
  }
  ctx.print(job, (j) => `${verb} job ${j.id}.\n${jobText(j)}\nWatch it with: ai-migrate status ${j.id} --watch`);
  return ExitCode.OK;
}

/** `start`, `status`, `list`, `pause`, `resume`, `cancel`, `rethrottle`, `failures`, `retry-failed` and `audit`. */
export function registerJobCommands(program: Command, action: CliAction): void {
  program
    .command('start')
    .summary('start a backfill or re-embed job (--dry-run: estimate it)')
    .description(
      'Starts a job that embeds the entities of a type in the background (POST /api/ai/migration/start). Entities whose vectors are ' +
        'up to date are skipped unless --reindex-existing. With --dry-run nothing starts: the estimate shows how many rows match, how ' +
        'many would be skipped, and the tokens, cost and duration (POST /api/ai/migration/estimate).',
    )
    .argument('<entity-type>', 'the entity type, as configured (e.g. product)')
    .option('--batch-size <n>', "rows per page (default: the server's)", integer(1))
    .option('--rate-limit <n>', 'provider requests per minute for this job', integer(1))
    .option('--reindex-existing', 're-embed entities whose vectors are already up to date')
    .option('--created-after <date>', 'only entities created after this ISO 8601 date')
    .option('--created-before <date>', 'only entities created before this ISO 8601 date')
    .option('--ids <id...>', 'only these entity ids')
    .option('--ids-file <path>', 'only the entity ids in this file, one per line')
    .option('--max-tokens <n>', 'budget: pause the job (BUDGET_EXCEEDED) before it would use more tokens', integer(1))
    .option('--max-cost <usd>', 'budget: pause the job before it would cost more (USD, at the configured price)', decimal(0))
    .addOption(new Option('--mode <mode>', "sync: embed as it goes; batch: the provider's Batch API, half price, results within 24 h").choices(['sync', 'batch']))
    .option('--dry-run', 'estimate only; starts nothing')
    .option('-w, --wait', 'follow the job until it ends; the exit status says how')
    .addHelpText(
      'after',
      `
Examples:
  $ ai-migrate start product --dry-run
  $ ai-migrate start product --rate-limit 300 --max-cost 25 --wait
  $ ai-migrate start product --created-after 2026-01-01 --reindex-existing
  $ ai-migrate start ticket --ids-file ids.txt --wait --json | tail -n 1`,
    )
    .action(
      action(async (ctx, entityType: string, o: StartOptions) => {
        const body = startBody(entityType, o);
        if (o.dryRun) {
          if (o.wait) throw usageError('--dry-run starts nothing to wait for; leave out --wait.');
          ctx.print(await ctx.client.post<ApiEstimate>('/api/ai/migration/estimate', body), estimateText);
          return ExitCode.OK;
        }
        return startedJob(ctx, await ctx.client.post<ApiJob>('/api/ai/migration/start', body), 'Started', o.wait);
      }),
    );

  program
    .command('status')
    .summary("a job's progress, or the active jobs")
    .description(
      "Shows a job's progress: processed, skipped and failed of total, throughput, ETA and spend (GET /api/ai/migration/jobs/{id}). " +
        'Without an id, lists the active jobs (RUNNING, PAUSED, PENDING). With --watch, follows the job live until it is COMPLETED, ' +
        'FAILED, CANCELLED or PAUSED: a progress bar on a terminal, timestamped lines otherwise, JSON lines with --json.',
    )
    .argument('[job-id]', 'the job (default: the only active job, with --watch)')
    .option('-w, --watch', 'follow the job until it ends or pauses; the exit status says how')
    .addHelpText(
      'after',
      `
Examples:
  $ ai-migrate status
  $ ai-migrate status 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --watch
  $ ai-migrate status --watch          # the only active job`,
    )
    .action(
      action(async (ctx, jobId: string | undefined, o: { watch?: boolean }) => {
        if (jobId) {
          if (o.watch) return ctx.follow(jobId);
          ctx.print(await ctx.client.get<ApiProgress>(jobPath(jobId)), progressText);
          return ExitCode.OK;
        }
        const pages = await Promise.all(ACTIVE.map((status) => ctx.client.get<ApiJobList>('/api/ai/migration/jobs', { status, limit: 100 })));
        const active = pages.flatMap((page) => page.items);
        if (!o.watch) {
          ctx.print(active, (jobs) => (jobs.length > 0 ? jobsTable(jobs) : 'No active jobs. List past ones with: ai-migrate list'));
          return ExitCode.OK;
        }
        if (active.length === 0) throw usageError('No active job to watch; give a job id (ai-migrate list shows them).');
        if (active.length > 1) throw usageError(`${active.length} jobs are active (${active.map((j) => `${j.id} ${j.entityType}`).join(', ')}); give the id of the one to watch.`);
        return ctx.follow(active[0].id);
      }),
    );

  program
    .command('list')
    .summary('jobs, newest first')
    .description('Lists jobs newest first, optionally of one status or entity type (GET /api/ai/migration/jobs).')
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(STATUSES))
    .option('--entity-type <type>', 'only jobs of this entity type')
    .option('--limit <n>', 'at most this many', integer(1), 20)
    .option('--offset <n>', 'skip this many (paging)', integer(0), 0)
    .addHelpText('after', '\nExamples:\n  $ ai-migrate list --status FAILED\n  $ ai-migrate list --entity-type product --limit 5 --json')
    .action(
      action(async (ctx, o: { status?: string; entityType?: string; limit: number; offset: number }) => {
        const page = await ctx.client.get<ApiJobList>('/api/ai/migration/jobs', { status: o.status, entityType: o.entityType, limit: o.limit, offset: o.offset });
        ctx.print(page, (p) =>
          p.items.length === 0 ? `No jobs (of ${count(p.total)}).` : `${jobsTable(p.items)}\nJobs ${count(p.offset + 1)}–${count(p.offset + p.items.length)} of ${count(p.total)}.`,
        );
        return ExitCode.OK;
      }),
    );

  program
    .command('pause')
    .summary('pause a running job')
    .description('Pauses a RUNNING job: no new provider requests; requests in flight finish (POST /api/ai/migration/jobs/{id}/pause).')
    .argument('<job-id>')
    .option('--reason <text>', 'why, for the audit log')
    .addHelpText('after', '\nExample:\n  $ ai-migrate pause 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --reason "peak hours"')
    .action(
      action(async (ctx, jobId: string, o: { reason?: string }) => {
        const job = await ctx.client.post<ApiJob>(`${jobPath(jobId)}/pause`, o.reason !== undefined ? { reason: o.reason } : undefined);
        ctx.print(job, (j) => `Paused job ${j.id}.\n${jobText(j)}\nResume it with: ai-migrate resume ${j.id}`);
        return ExitCode.OK;
      }),
    );

  program
    .command('resume')
    .summary('resume a paused job')
    .description('Resumes a PAUSED job from its checkpoint (POST /api/ai/migration/jobs/{id}/resume).')
    .argument('<job-id>')
    .option('-w, --wait', 'then follow the job until it ends; the exit status says how')
    .addHelpText('after', '\nExample:\n  $ ai-migrate resume 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --wait')
    .action(action(async (ctx, jobId: string, o: { wait?: boolean }) => startedJob(ctx, await ctx.client.post<ApiJob>(`${jobPath(jobId)}/resume`), 'Resumed', o.wait)));

  program
    .command('cancel')
    .summary('cancel a job')
    .description('Cancels a job that has not ended: pending items are removed; vectors already written stay (DELETE /api/ai/migration/jobs/{id}).')
    .argument('<job-id>')
    .addHelpText('after', '\nExample:\n  $ ai-migrate cancel 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10')
    .action(
      action(async (ctx, jobId: string) => {
        await ctx.client.delete(jobPath(jobId));
        ctx.print(await ctx.client.get<ApiProgress>(jobPath(jobId)), outcomeText);
        return ExitCode.OK;
      }),
    );

  program
    .command('rethrottle')
    .summary("change a job's rate limit or budget")
    .description(
      "Changes a RUNNING or PAUSED job's rate limit (from its next provider request) and/or budget (PATCH /api/ai/migration/jobs/{id}). " +
        'A job paused with BUDGET_EXCEEDED stays paused until resumed.',
    )
    .argument('<job-id>')
    .option('--rate-limit <n>', 'provider requests per minute', integer(1))
    .option('--max-tokens <n|none>', 'token budget; none removes it', orNone(integer(1)))
    .option('--max-cost <usd|none>', 'budget in USD; none removes it', orNone(decimal(0)))
    .addHelpText('after', '\nExamples:\n  $ ai-migrate rethrottle 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --rate-limit 120\n  $ ai-migrate rethrottle 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --max-cost 50 --max-tokens none')
    .action(
      action(async (ctx, jobId: string, o: { rateLimit?: number; maxTokens?: number | 'none'; maxCost?: number | 'none' }) => {
        if (o.rateLimit === undefined && o.maxTokens === undefined && o.maxCost === undefined) {
          throw usageError('Give --rate-limit, --max-tokens and/or --max-cost (none removes a budget limit).');
        }
        const body = given({ rateLimit: o.rateLimit, maxTokens: noneToNull(o.maxTokens), maxCost: noneToNull(o.maxCost) });
        ctx.print(await ctx.client.patch<ApiJob>(jobPath(jobId), body), (j) => `Changed job ${j.id}.\n${jobText(j)}`);
        return ExitCode.OK;
      }),
    );

  program
    .command('failures')
    .summary("a job's failed entities")
    .description('Lists the entities a job could not embed: id, attempts, last attempt and error (GET /api/ai/migration/jobs/{id}/failures).')
    .argument('<job-id>')
    .addHelpText('after', '\nExample:\n  $ ai-migrate failures 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --json | jq -r .[].entityId')
    .action(
      action(async (ctx, jobId: string) => {
        ctx.print(await ctx.client.get<ApiFailure[]>(`${jobPath(jobId)}/failures`), (f) =>
          f.length === 0 ? `Job ${jobId} has no failed entities.` : `${failuresTable(f)}\nRetry them with: ai-migrate retry-failed ${jobId} --wait`,
        );
        return ExitCode.OK;
      }),
    );

  program
    .command('retry-failed')
    .summary("retry a job's failed entities")
    .description(
      "Re-queues a job's failed entities, all or the listed ones; a COMPLETED job runs again until they are done " +
        '(POST /api/ai/migration/jobs/{id}/retry-failed).',
    )
    .argument('<job-id>')
    .option('--ids <id...>', 'only these entity ids')
    .option('--ids-file <path>', 'only the entity ids in this file, one per line')
    .option('-w, --wait', 'then follow the job until it ends; the exit status says how')
    .addHelpText('after', '\nExample:\n  $ ai-migrate retry-failed 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --wait')
    .action(
      action(async (ctx, jobId: string, o: { ids?: string[]; idsFile?: string; wait?: boolean }) => {
        const ids = entityIds(o.ids, o.idsFile);
        const result = await ctx.client.post<ApiRetryResult>(`${jobPath(jobId)}/retry-failed`, ids ? { entityIds: ids } : undefined);
        ctx.print(result, (r) => `Re-queued ${count(r.retried)} failed entities of job ${r.job.id}.`);
        return o.wait ? ctx.follow(result.job.id) : ExitCode.OK;
      }),
    );

  program
    .command('audit')
    .summary('who did what: the audit log')
    .description(
      'The audit log across jobs and generations, newest first, filtered by --actor, --action, --entity-type, --since and --until ' +
        '(GET /api/ai/audit/entries). With a job id, that job\'s entries (GET /api/ai/migration/jobs/{id}/audit); with --generation, ' +
        "that generation's; oldest first.",
    )
    .argument('[job-id]', "only this job's entries")
    .option('--generation <id>', "only this generation's entries", integer(1, 2_147_483_647))
    .option('--actor <name>', 'only entries of this actor (a token name)')
    .option('--action <action>', 'only entries of this action (start, pause, resume, cancel, rethrottle, budget, retry-failed, verify, generation-cutover, …)')
    .option('--entity-type <type>', 'only entries about this entity type')
    .option('--since <date>', 'entries at or after this ISO 8601 date-time')
    .option('--until <date>', 'entries before this ISO 8601 date-time')
    .option('--limit <n>', 'at most this many entries', integer(1), 50)
    .option('--offset <n>', 'skip this many (paging)', integer(0), 0)
    .addHelpText(
      'after',
      '\nExamples:\n  $ ai-migrate audit --actor ci-pipeline --since 2026-12-01T00:00:00Z\n  $ ai-migrate audit --action cancel --entity-type product\n' +
        '  $ ai-migrate audit 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10\n  $ ai-migrate audit --generation 2',
    )
    .action(
      action(async (ctx, jobId: string | undefined, o: AuditOptions) => {
        if (jobId !== undefined && o.generation !== undefined) throw usageError('Give a job id or --generation <id>, not both.');
        if (jobId !== undefined || o.generation !== undefined) {
          const path = o.generation !== undefined ? `/api/ai/migration/generations/${o.generation}/audit` : `${jobPath(jobId!)}/audit`;
          ctx.print(await ctx.client.get<ApiAuditEntry[]>(path), (entries) => (entries.length === 0 ? 'No audit entries.' : auditTable(entries)));
          return ExitCode.OK;
        }
        const page = await ctx.client.get<ApiAuditPage>('/api/ai/audit/entries', {
          actor: o.actor,
          action: o.action,
          entityType: o.entityType,
          from: o.since,
          to: o.until,
          limit: o.limit,
          offset: o.offset,
        });
        ctx.print(page, (p) =>
          p.items.length === 0 ? `No audit entries (of ${count(p.total)}).` : `${auditTable(p.items)}\nEntries ${count(p.offset + 1)}–${count(p.offset + p.items.length)} of ${count(p.total)}, newest first.`,
        );
        return ExitCode.OK;
      }),
    );
}
