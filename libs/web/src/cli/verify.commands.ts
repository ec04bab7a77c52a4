import { Option, type Command } from 'commander';
import { given, integer } from './cli.arguments';
import { ExitCode } from './cli.exit-codes';
import { count, jobText, table, verifyReportText } from './cli.format';
import type { CliAction } from './cli.program';
import type { ApiFindingsPage, ApiJob, ApiVerifyReport } from './migration-api.types';

const VERIFY = '/api/ai/migration/verify';

/** Inconsistencies a report counts. */
const found = (r: ApiVerifyReport) => r.missing + r.stale + r.orphaned + r.foreign;

/** `verify` and `verify-report`: compare the entity table with its vectors, and fix what differs. */
export function registerVerifyCommands(program: Command, action: CliAction): void {
  program
    .command('verify')
    .summary('check that every entity has a current vector')
    .description(
      "Starts a verification job: reads the entity table and the generation's vectors by pages and counts missing, stale, orphaned " +
        'and foreign vectors (POST /api/ai/migration/verify). With --fix, missing and stale entities are re-queued and orphaned ' +
        'vectors deleted. With --wait, prints the report at the end and exits 1 when it found inconsistencies it did not fix.',
    )
    .argument('<entity-type>')
    .option('--generation <id>', 'the generation to check (default: the serving one)', integer(1, 2_147_483_647))
    .option('--fix', 're-queue missing and stale entities, delete orphaned vectors')
    .option('--batch-size <n>', 'rows per page', integer(1))
    .option('--rate-limit <n>', 'provider requests per minute for the re-queued entities', integer(1))
    .option('-w, --wait', 'follow the job, then print its report')
    .addHelpText('after', '\nExamples:\n  $ ai-migrate verify product --wait\n  $ ai-migrate verify product --fix --wait')
    .action(
      action(async (ctx, entityType: string, o: { generation?: number; fix?: boolean; batchSize?: number; rateLimit?: number; wait?: boolean }) => {
        const body = given({ entityType, generationId: o.generation, fix: o.fix, batchSize: o.batchSize, rateLimit: o.rateLimit });
        const job = await ctx.client.post<ApiJob>(VERIFY, body);
        if (!o.wait) {
          ctx.print(job, (j) => `Started verification job ${j.id}.\n${jobText(j)}\nIts report: ai-migrate verify-report ${j.id}`);
          return ExitCode.OK;
        }
        ctx.print(job, (j) => `Started verification job ${j.id} for ${j.entityType}.`);
        const outcome = await ctx.follow(job.id);
        const report = await ctx.client.get<ApiVerifyReport>(`${VERIFY}/${job.id}`);
        ctx.print(report, (r) => `${verifyReportText(r)}${found(r) > 0 && !r.fix ? `\nList them with: ai-migrate verify-report ${r.jobId} --findings; fix them with: ai-migrate verify ${entityType} --fix --wait` : ''}`);
        if (outcome !== ExitCode.OK) return outcome;
        return found(report) > 0 && !report.fix ? ExitCode.JOB_FAILED : ExitCode.OK;
      }),
    );

  program
    .command('verify-report')
    .summary("a verification job's report and findings")
    .description("Counts of a verification job (GET /api/ai/migration/verify/{id}) and, with --findings, the entities it found inconsistent.")
    .argument('<job-id>')
    .option('--findings', 'list the inconsistent entities')
    .addOption(new Option('--kind <kind>', 'only findings of this kind').choices(['MISSING', 'STALE', 'ORPHANED', 'FOREIGN']))
    .option('--limit <n>', 'at most this many findings', integer(1), 100)
    .option('--offset <n>', 'skip this many findings (paging)', integer(0), 0)
    .addHelpText('after', '\nExample:\n  $ ai-migrate verify-report 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10 --findings --kind MISSING')
    .action(
      action(async (ctx, jobId: string, o: { findings?: boolean; kind?: string; limit: number; offset: number }) => {
        const path = `${VERIFY}/${encodeURIComponent(jobId)}`;
        if (!o.findings) {
          ctx.print(await ctx.client.get<ApiVerifyReport>(path), verifyReportText);
          return ExitCode.OK;
        }
        const page = await ctx.client.get<ApiFindingsPage>(`${path}/findings`, { kind: o.kind, limit: o.limit, offset: o.offset });
        ctx.print(page, (p) =>
          p.items.length === 0
            ? `No findings (of ${count(p.total)}).`
            : `${table(['KIND', 'ENTITY ID', 'GENERATION'], p.items.map((f) => [f.kind, f.entityId, f.generationId]))}\nFindings ${count(p.offset + 1)}–${count(p.offset + p.items.length)} of ${count(p.total)}.`,
        );
        return ExitCode.OK;
      }),
    );
}
