import type { Command } from 'commander';
import { decimal, given, integer, jsonFile } from './cli.arguments';
import { usageError } from './cli.errors';
import { ExitCode } from './cli.exit-codes';
import { count, generationsTable, generationText, jobText, qualityReportText } from './cli.format';
import type { CliAction } from './cli.program';
import type { ApiBuildResult, ApiGeneration, ApiQualityReport, ApiSwitch } from './migration-api.types';

const GENERATIONS = '/api/ai/migration/generations';
const generationId = integer(1, 2_147_483_647);

/** The entity's switch, as one sentence. */
function switchText(s: ApiSwitch): string {
  return `${s.entityType} is now served by generation ${s.serving.id} (${s.serving.model}, ${s.serving.dimensions} dimensions); generation ${s.previous.id} is ${s.previous.state} and kept current for a rollback.${s.forced ? ' Forced past the quality gate (audited).' : ''}`;
}

/** `generations`, `build`, `validate`, `cutover`, `rollback` and `retire`: index generations (blue/green re-embedding). */
export function registerGenerationCommands(program: Command, action: CliAction): void {
  program
    .command('generations')
    .summary('index generations, or one of them')
    .description('Lists the index generations (GET /api/ai/migration/generations), or shows one with its quality report.')
    .argument('[generation-id]', 'show this generation', generationId)
    .option('--entity-type <type>', 'only generations of this entity type')
    .addHelpText('after', '\nExamples:\n  $ ai-migrate generations --entity-type product\n  $ ai-migrate generations 3')
    .action(
      action(async (ctx, id: number | undefined, o: { entityType?: string }) => {
        if (id !== undefined) {
          ctx.print(await ctx.client.get<ApiGeneration>(`${GENERATIONS}/${id}`), generationText);
        } else {
          ctx.print(await ctx.client.get<ApiGeneration[]>(GENERATIONS, { entityType: o.entityType }), (g) => (g.length === 0 ? 'No generations.' : generationsTable(g)));
        }
        return ExitCode.OK;
      }),
    );

  program
    .command('build')
    .summary('build a generation for the configured model and fields')
    .description(
      "Records the entity type's configured model, dimensions and fields as a BUILDING generation and starts its backfill " +
        '(POST /api/ai/migration/generations). Search keeps using the serving generation until you cut over.',
    )
    .argument('<entity-type>')
    .option('--no-backfill', 'record the generation without starting its backfill job')
    .option('--batch-size <n>', 'rows per page of the backfill', integer(1))
    .option('--rate-limit <n>', 'provider requests per minute of the backfill', integer(1))
    .option('-w, --wait', 'follow the backfill until it ends; the exit status says how')
    .addHelpText('after', '\nExample:\n  $ ai-migrate build product --rate-limit 300 --wait && ai-migrate validate <generation-id>')
    .action(
      action(async (ctx, entityType: string, o: { backfill: boolean; batchSize?: number; rateLimit?: number; wait?: boolean }) => {
        const body = given({ entityType, startBackfill: o.backfill, batchSize: o.batchSize, rateLimit: o.rateLimit });
        const result = await ctx.client.post<ApiBuildResult>(GENERATIONS, body);
        ctx.print(result, (r) =>
          [`Generation ${r.generation.id} of ${r.generation.entityType} is ${r.generation.state}.`, r.job ? `Backfill job:\n${jobText(r.job)}` : 'No backfill job started.'].join('\n'),
        );
        if (o.wait && !result.job) throw usageError('--wait follows the backfill job, and none was started (--no-backfill).');
        return o.wait ? ctx.follow(result.job!.id) : ExitCode.OK;
      }),
    );

  program
    .command('validate')
    .summary("run a generation's quality gate")
    .description(
      'Checks coverage (every row has a current vector, no orphans) and, per golden query, recall@k and overlap@k with the serving ' +
        'generation (POST /api/ai/migration/generations/{id}/validate). Exits 1 when the gate does not pass.',
    )
    .argument('<generation-id>', undefined, generationId)
    .option('--queries <file>', 'golden queries: a JSON array of {"query", "expectedIds"?, "filter"?}')
    .option('--k <n>', 'results compared per query (1–100)', integer(1, 100))
    .option('--min-recall <x>', 'lowest recall@k that passes (0–1)', decimal(0))
    .option('--min-overlap <x>', 'lowest overlap@k with the serving generation that passes (0–1)', decimal(0))
    .option('--max-missing <n>', 'most rows without a vector that pass', integer(0))
    .option('--max-stale <n>', 'most stale vectors that pass', integer(0))
    .addHelpText('after', '\nExample:\n  $ ai-migrate validate 3 --queries golden.json --min-recall 0.9 && ai-migrate cutover 3')
    .action(
      action(async (ctx, id: number, o: { queries?: string; k?: number; minRecall?: number; minOverlap?: number; maxMissing?: number; maxStale?: number }) => {
        const queries = o.queries !== undefined ? jsonFile('--queries', o.queries) : undefined;
        if (queries !== undefined && !Array.isArray(queries)) throw usageError(`--queries ${o.queries} must hold a JSON array of {"query": "…", "expectedIds": […]} objects.`);
        const body = given({ queries, k: o.k, minRecall: o.minRecall, minOverlap: o.minOverlap, maxMissing: o.maxMissing, maxStale: o.maxStale });
        const report = await ctx.client.post<ApiQualityReport>(`${GENERATIONS}/${id}/validate`, body);
        ctx.print(report, (r) => `${qualityReportText(r)}\n${r.passed ? `Cut over with: ai-migrate cutover ${id}` : 'The gate did not pass; see above.'}`);
        return report.passed ? ExitCode.OK : ExitCode.JOB_FAILED;
      }),
    );

  program
    .command('cutover')
    .summary('make a READY generation serve its entity type')
    .description(
      'Atomically makes a READY generation serve from the next query on, on every instance; the one serving until now is kept ' +
        'current for a rollback (POST /api/ai/migration/generations/{id}/cutover). Refused unless its quality gate passed, or with --force (audited).',
    )
    .argument('<generation-id>', undefined, generationId)
    .option('--force', 'cut over although the quality gate did not pass or never ran')
    .addHelpText('after', '\nExample:\n  $ ai-migrate cutover 3')
    .action(
      action(async (ctx, id: number, o: { force?: boolean }) => {
        ctx.print(await ctx.client.post<ApiSwitch>(`${GENERATIONS}/${id}/cutover`, o.force ? { force: true } : {}), switchText);
        return ExitCode.OK;
      }),
    );

  program
    .command('rollback')
    .summary('serve the previous generation again')
    .description('The generation that served before the last cutover serves again from the next query on (POST /api/ai/migration/generations/rollback).')
    .argument('<entity-type>')
    .addHelpText('after', '\nExample:\n  $ ai-migrate rollback product')
    .action(
      action(async (ctx, entityType: string) => {
        ctx.print(await ctx.client.post<ApiSwitch>(`${GENERATIONS}/rollback`, { entityType }), switchText);
        return ExitCode.OK;
      }),
    );

  program
    .command('retire')
    .summary('end a generation that does not serve')
    .description(
      'RETIRED if it served before, DISCARDED if it never did; live writes stop reaching it and its vectors are deleted in the ' +
        'background. It can no longer be rolled back to (POST /api/ai/migration/generations/{id}/retire).',
    )
    .argument('<generation-id>', undefined, generationId)
    .addHelpText('after', '\nExample:\n  $ ai-migrate retire 2')
    .action(
      action(async (ctx, id: number) => {
        ctx.print(await ctx.client.post<ApiGeneration>(`${GENERATIONS}/${id}/retire`), (g) => `Generation ${g.id} of ${g.entityType} is ${g.state}; its vectors are being deleted in the background.`);
        return ExitCode.OK;
      }),
    );
}
