import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import {
  AiSearchService,
  GenerationGateError,
  IndexGenerationService,
  IndexGenerationState,
  type EmbeddingProvider,
  type EmbeddingResult,
  type IndexGeneration,
} from '@ai-infrastructure/core';
import { DataMigrationService, MigrationAuditAction, MigrationGenerationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import { bootIndexingApp, insertProducts, waitForQueueSettled, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { codeword, codewordProducts, expectConsistentGenerations } from './fixtures/generations.fixture';
import { describeEachEngine } from './support/test-database';

const N = 600;

/** A deliberately bad model: a random unit vector for every text, so nothing it finds is related to the query. */
@Injectable()
class RandomEmbeddingProvider implements EmbeddingProvider {
  readonly name = 'random';
  readonly model = 'random-noise-v1';
  readonly dimensions = 384;
  readonly maxInputsPerRequest = 2048;
  readonly maxTokensPerRequest = 1_000_000;
  readonly maxTokensPerInput = 100_000;

  async embed(texts: string[]): Promise<EmbeddingResult> {
    return {
      vectors: texts.map(() => {
        const vector = Float32Array.from({ length: this.dimensions }, () => Math.random() - 0.5);
        const norm = Math.hypot(...vector);
        return vector.map((x) => x / norm);
      }),
    };
  }
}

/**
 * The quality gate (issue 13, section 4): a generation built with a provider that returns random vectors
 * is complete (coverage passes) but fails its golden queries; cutover is refused with the report, and
 * only `force` switches to it — recorded as forced in the audit log.
 */
describeEachEngine('Index generations: the quality gate refuses a bad generation', ({ getUrl }) => {
  let ctx: IndexingApp | undefined;
  let dir: string;
  let goldenPath: string;
  let generationA: IndexGeneration;
  let probes: Array<{ word: string; id: string }>;

  const generations = () => ctx!.app.get(IndexGenerationService);
  const operator = () => ctx!.app.get(MigrationGenerationService);
  const search = (query: string) => ctx!.app.get(AiSearchService).search({ entityType: 'product', query, limit: 10 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-generation-gate-'));
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, core: { liveIndexing: false, worker: { batchSize: 500 } } });
    const ids = await insertProducts(ctx.dataSource, codewordProducts(N));
    const migrations = ctx.app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('product');
    await waitUntil('the backfill of generation A completed', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 120_000, 50);
    generationA = await generations().serving('product');
    probes = [];
    for (let i = 3; probes.length < 20 && i < N; i += 29) {
      const hits = await search(codeword(i));
      if (hits[0]?.entityId === ids[i] && hits[0].score > hits[1].score) probes.push({ word: codeword(i), id: ids[i] });
    }
    expect(probes).toHaveLength(20);
    // The golden queries as an operator keeps them: a YAML file named in the MigrationModule options.
    goldenPath = join(dir, 'golden-queries.yml');
    writeFileSync(goldenPath, `queries:\n${probes.map((p) => `  - query: ${p.word}\n    expectedIds: ["${p.id}"]\n`).join('')}`);
    await ctx.close();
  }, 240_000);

  afterAll(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails the gate with a report, refuses the cutover with it, and cuts over only with force (audited as forced)', async () => {
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration: { generations: { goldenQueriesPath: goldenPath } },
      core: { embedding: { provider: 'custom', useClass: RandomEmbeddingProvider }, retainedEmbeddings: [{ provider: 'hashing' }] },
    });
    const [bad] = await generations().list('product');
    expect(bad).toMatchObject({ state: IndexGenerationState.BUILDING, model: 'random-noise-v1', providerName: 'random' });
    // autoBuild fills it; then it is READY (on PostgreSQL once its index is built).
    await waitUntil('the bad generation is READY', async () => (await generations().get(bad.id)).state === IndexGenerationState.READY, 120_000, 50);
    await waitForQueueSettled(ctx.dataSource, 60_000);

    // Not validated yet: refused, and nothing changes.
    await expect(operator().cutover('product', bad.id)).rejects.toThrow(/has not been validated/);

    // The gate, with the configured golden-query file: complete, but the queries find nothing they should.
    const report = await operator().validate(bad.id, {}, { actor: 'carol' });
    expect(report).toMatchObject({
      generationId: bad.id,
      comparedWith: generationA.id,
      passed: false,
      coverage: { sourceRows: N, vectors: N, missing: 0, stale: 0, orphaned: 0 },
    });
    expect(report.queries).toHaveLength(20);
    expect(report.recallAtK!).toBeLessThan(0.8);
    expect(report.overlapAtK!).toBeLessThan(0.8);
    expect(report.failures).toEqual([expect.stringMatching(/^Recall@10 is 0\.\d{3}, below 0\.8\.$/)]);
    expect(await generations().get(bad.id)).toMatchObject({ gatePassed: false, qualityReport: report });

    // Cutover refused with the stored report; A keeps serving.
    const refused = await operator().cutover('product', bad.id, { actor: 'carol' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GenerationGateError);
    expect((refused as GenerationGateError).message).toMatch(/failed its quality gate: Recall@10 is .* Fix it and validate again, or cut over with force\./);
    expect((refused as GenerationGateError).report).toEqual(report);
    expect((await generations().serving('product')).id).toBe(generationA.id);
    expect((await search(probes[0].word))[0].entityId).toBe(probes[0].id);
    await expect(operator().cutover('product', bad.id, { force: 'yes' as unknown as boolean })).rejects.toThrow(/"force" is "yes"; use true or false/);

    // Forced: it serves, and the audit log says so.
    const forced = await operator().cutover('product', bad.id, { actor: 'carol', force: true });
    expect(forced).toMatchObject({ forced: true, serving: { id: bad.id, state: 'SERVING', gatePassed: false }, previous: { id: generationA.id } });
    const audit = await operator().getAuditLog(bad.id);
    expect(audit.map((e) => e.action)).toEqual([MigrationAuditAction.GENERATION_VALIDATE, MigrationAuditAction.GENERATION_CUTOVER]);
    expect(audit[1]).toMatchObject({ actor: 'carol', fromStatus: 'READY', toStatus: 'SERVING', details: { forced: true, gatePassed: false, previous: generationA.id } });
    await expectConsistentGenerations(ctx.dataSource);

    // And back: the rollback serves A again, which still answers the golden queries.
    await operator().rollback('product', { actor: 'carol' });
    expect((await search(probes[1].word))[0].entityId).toBe(probes[1].id);
    expect((await operator().retire(bad.id, { actor: 'carol' })).state).toBe(IndexGenerationState.RETIRED);
    expect((await expectConsistentGenerations(ctx.dataSource)).alias).toEqual({ serving: generationA.id, previous: null });
  }, 300_000);
});
