/**
 * A search client in its own process for `bench:migration --rebuild`: it boots an API-only instance of the
 * application (no workers, no migration module) and runs a fixed set of queries through
 * `AiSearchService.search` at a steady pace, so the latency of the serving generation can be compared while
 * the database is idle and while another instance rebuilds or re-embeds. Its own process keeps the
 * indexing instance's CPU work (embedding in the main thread) out of the measured latencies, as it would be
 * in a deployment with separate API instances.
 *
 * The parent names the current window (`probe.window('idle')`); every query is counted in the window that
 * was current when it started.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { AiCoreModule, AiSearchService, createAiDataSource } from '@ai-infrastructure/core';
import { AI_DATA_SOURCE } from '@ai-infrastructure/core/internal';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { generateProducts } from '../apps/sample/src/cli/product-generator';
import { ProductsModule } from '../apps/sample/src/products/products.module';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { arg, positiveInt } from './bench-support';

/** Queries of each kind in the fixed set. */
const PER_KIND = 20;

/** Latencies of one window, in ms, in the order they were measured. */
export interface ProbeWindow {
  latencies: number[];
  /** Searches that returned no hit (the serving generation should always answer). */
  empty: number;
}

/** What the probe measured, by window name. */
export interface ProbeReport {
  windows: Record<string, ProbeWindow>;
  /** Searches the store repeated as an exact scan (a low best score or fewer hits than the limit). */
  exactRepeats: number;
  queries: number;
}

@Module({})
class SearchProbeModule {
  static with(env: NodeJS.ProcessEnv, entityConfigPath: string): DynamicModule {
    return {
      module: SearchProbeModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), poolSize: 2 }),
          dataSourceFactory: (options) => createAiDataSource(options!, env),
        }),
        // An API instance: no workers; its maintenance round runs once at startup (nothing is due then) and
        // not again, so index builds stay with the indexing instance and its settings.
        AiCoreModule.forRoot({
          entityConfigPath,
          embedding: { provider: 'hashing' },
          liveIndexing: false,
          worker: { enabled: false },
          generations: { sweepIntervalMs: 3_600_000 },
        }),
        ProductsModule,
      ],
    };
  }
}

/**
 * The fixed query set: whole product names spread over the catalogue of `rows` products (seed 7) and
 * product descriptions generated with another seed (99). Both reach scores the index path answers (a
 * one-word query would be repeated as an exact scan with the hashing provider).
 */
export function probeQueries(rows: number): string[] {
  const names = Array.from({ length: PER_KIND }, (_, i) => generateProducts(7, Math.floor((i * rows) / PER_KIND), 1).next().value!.name);
  const phrases = [...generateProducts(99, 0, PER_KIND)].map((p) => p.description);
  return [...names, ...phrases];
}

/** The parent's handle on a running probe. */
export class SearchProbe {
  private constructor(
    private readonly child: ChildProcess,
    private readonly ended: Promise<ProbeReport>,
  ) {}

  /**
   * Forks the probe on the database of `env`, waits until it has run every query once (untimed: plans,
   * caches, JIT) and then starts measuring in the window `initial`.
   */
  static async start(env: NodeJS.ProcessEnv, options: { rows: number; qps: number; entityConfigPath: string; initial: string }): Promise<SearchProbe> {
    const child = fork(__filename, ['--probe-rows', String(options.rows), '--probe-qps', String(options.qps), '--probe-config', options.entityConfigPath, '--probe-window', options.initial], {
      execArgv: process.execArgv,
      env: { ...process.env, ...env },
    });
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const started = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
    const ended = new Promise<ProbeReport>((resolve, reject) => {
      let report: ProbeReport | undefined;
      child.on('message', (message: { ready?: true; report?: ProbeReport; error?: string }) => {
        if (message.ready) ready();
        else if (message.report) report = message.report;
        else if (message.error) {
          const error = new Error(`The search probe failed: ${message.error}`);
          failed(error);
          reject(error);
        }
      });
      child.on('exit', (code) => {
        const error = new Error(`The search probe exited with code ${code} before it reported.`);
        failed(error);
        if (report) resolve(report);
        else reject(error);
      });
    });
    ended.catch(() => undefined); // observed by stop()
    await started;
    return new SearchProbe(child, ended);
  }

  /** Queries started from now on count in window `name`. */
  window(name: string): void {
    this.child.send({ window: name });
  }

  /** Stops the loop after the query in flight and returns everything measured. */
  async stop(): Promise<ProbeReport> {
    this.child.send({ stop: true });
    return this.ended;
  }
}

/** Child process: boot, warm up, then search at the pace asked until told to stop. */
async function probeMain() {
  const rows = positiveInt('probe-rows', 100_000);
  const qps = positiveInt('probe-qps', 10);
  const entityConfigPath = arg('probe-config', '');
  let current = arg('probe-window', 'idle');
  let stopping = false;
  process.on('message', (message: { window?: string; stop?: true }) => {
    if (message.window) current = message.window;
    if (message.stop) stopping = true;
  });
  const env = { DATABASE_URL: process.env.DATABASE_URL };
  const app = await NestFactory.createApplicationContext(SearchProbeModule.with(env, entityConfigPath), { logger: ['error', 'warn'] });
  try {
    // Counts the searches the store repeated as an exact scan (its exact variant orders by the score).
    const dataSource = app.get<DataSource>(AI_DATA_SOURCE);
    let exactRepeats = 0;
    const query = dataSource.query.bind(dataSource);
    dataSource.query = ((sql: string, ...rest: unknown[]) => {
      if (sql.includes('ORDER BY score DESC')) exactRepeats++;
      return (query as (...args: unknown[]) => Promise<unknown>)(sql, ...rest);
    }) as DataSource['query'];
    const search = app.get(AiSearchService);
    const queries = probeQueries(rows);
    for (const text of queries) await search.search({ entityType: 'product', query: text, limit: 10 });
    exactRepeats = 0;
    await sendToParent({ ready: true });

    const windows: Record<string, ProbeWindow> = {};
    const interval = 1000 / qps;
    let next = performance.now();
    let sent = 0;
    while (!stopping) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (stopping) break;
      const window = current;
      const text = queries[sent++ % queries.length];
      const started = performance.now();
      const hits = await search.search({ entityType: 'product', query: text, limit: 10 });
      const ms = performance.now() - started;
      const w = (windows[window] ??= { latencies: [], empty: 0 });
      w.latencies.push(ms);
      if (hits.length === 0) w.empty++;
      // A slow query delays the next one instead of causing a burst: the pace never exceeds `qps`.
      next = Math.max(next + interval, performance.now());
    }
    const report: ProbeReport = { windows, exactRepeats, queries: queries.length };
    await sendToParent({ report });
  } finally {
    await app.close();
  }
}

/** Sends a message to the parent and resolves once it is written. */
function sendToParent(message: unknown): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

if (require.main === module) {
  probeMain()
    .catch(async (error) => {
      process.exitCode = 1;
      await sendToParent({ error: (error as Error).stack ?? String(error) });
    })
    // The message listener keeps the IPC channel, and so this process, alive.
    .finally(() => {
      process.removeAllListeners('message');
      process.disconnect?.();
    });
}
