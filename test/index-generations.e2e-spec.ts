import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AiSearchService,
  GenerationProviderMissingError,
  GenerationStateError,
  IndexGenerationService,
  IndexGenerationState,
  type AiCoreModuleOptions,
  type IndexGeneration,
} from '@ai-infrastructure/core';
import { DataMigrationService, MigrationAuditAction, MigrationGenerationService, MigrationStatus, type MigrationJob } from '@ai-infrastructure/migration-core';
import { Product } from '../apps/sample/src/products/product.entity';
import {
  bootIndexingApp,
  countOf,
  insertProducts,
  SAMPLE_ENTITY_CONFIG,
  waitForQueueSettled,
  waitUntil,
  type IndexingApp,
  type IndexingAppOptions,
} from './fixtures/indexing-app.fixture';
import { codeword, codewordProducts, expectConsistentGenerations, generationHash, generationText, storedHashes } from './fixtures/generations.fixture';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

/** Products served by generation A before the model changes. */
const N = 5_000;
/** Products created, updated and deleted through TypeORM while generation B builds (each). */
const CHANGES = 60;
/** Codeword products the search loop asks for. */
const PROBES = 40;

/** One answer of the search loop. */
interface LoopAnswer {
  probe: string;
  expected: string;
  ids: string[];
}

/**
 * Index generations end to end (issue 13, section 4): a model change under load — generation A serves
 * while B (another provider and dimension) builds beside it with live writes reaching both — then the
 * quality gate, cutover, rollback and retirement; and a change of the embeddable fields through the same
 * path.
 */
describeEachEngine('Index generations: model and field changes', ({ getUrl }) => {
  let server: FakeOpenAiServer;
  let ctx: IndexingApp | undefined;
  let dir: string;
  let generationA: IndexGeneration;
  let generationB: IndexGeneration;
  /** Codeword products the search loop asks for (never changed by the test). */
  let probes: Array<{ word: string; id: string }>;

  const boot = async (options: Partial<IndexingAppOptions> & { core?: AiCoreModuleOptions }) => {
    await ctx?.close();
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, ...options });
    return ctx;
  };
  const app = () => ctx!;
  const generations = () => app().app.get(IndexGenerationService);
  const operator = () => app().app.get(MigrationGenerationService);
  const search = (query: string, generationId?: number) =>
    app().app.get(AiSearchService).search({ entityType: 'product', query, limit: 10, generationId });
  const products = async () => app().dataSource.getRepository(Product).find();
  const jobOf = async (generationId: number): Promise<MigrationJob | undefined> =>
    (await app().app.get(DataMigrationService).getAllJobs({ entityType: 'product' })).find((j) => j.generationId === generationId);
  const waitForJob = async (generationId: number, timeoutMs = 120_000): Promise<MigrationJob> => {
    await waitUntil(`the job of generation ${generationId} completed`, async () => (await jobOf(generationId))?.status === MigrationStatus.COMPLETED, timeoutMs, 50);
    return (await jobOf(generationId))!;
  };
  const waitForState = async (generationId: number, state: IndexGenerationState, timeoutMs = 120_000): Promise<IndexGeneration> => {
    await waitUntil(`generation ${generationId} is ${state}`, async () => (await generations().get(generationId)).state === state, timeoutMs, 50);
    return generations().get(generationId);
  };
  /** Every row of the table has exactly the vector the generation must hold for it, and the generation holds no other. */
  const expectCurrent = async (generation: IndexGeneration) => {
    const rows = await products();
    const stored = await storedHashes(app().dataSource, generation.id);
    const wrong = rows.filter((row) => stored.get(row.id) !== generationHash(row, generation)).map((row) => row.id);
    expect({ generation: generation.id, wrong: wrong.slice(0, 5), wrongCount: wrong.length }).toEqual({ generation: generation.id, wrong: [], wrongCount: 0 });
    expect(stored.size).toBe(rows.length);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-generations-'));
    server = await startFakeOpenAiServer();
    // Generation A: the default test configuration (hashing, 384 dimensions), filled by an ordinary backfill.
    await boot({ core: { liveIndexing: false, worker: { batchSize: 500 } } });
    const ids = await insertProducts(app().dataSource, codewordProducts(N));
    const migrations = app().app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('product');
    await waitUntil('the backfill of generation A completed', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 180_000, 50);
    generationA = await generations().serving('product');
    // Probes: codeword products that generation A finds first by their codeword (a lexical provider can tie
    // on rare hash collisions; those are not probes). Chosen from the whole table, before B exists.
    probes = [];
    for (let i = 7; probes.length < PROBES && i < N; i += 97) {
      const word = codeword(i);
      const hits = await search(word);
      if (hits[0]?.entityId === ids[i] && hits[0].score > hits[1].score) probes.push({ word, id: ids[i] });
    }
    expect(probes).toHaveLength(PROBES);
  }, 300_000);

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('model change under load: B builds beside A, every search answers from A in full, live writes reach both', async () => {
    server.reset();
    // Slow enough that the build of B takes several seconds, so the writes and searches below overlap it.
    server.delayPerInputMs = 4;
    await boot({
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 256, sendDimensions: true },
        retainedEmbeddings: [{ provider: 'hashing' }],
        worker: { batchSize: 100 },
      },
    });
    // Startup recorded B as BUILDING (onConfigChange 'build', the default) and built no index; A still serves.
    const [newest] = await generations().list('product');
    expect(newest).toMatchObject({ state: IndexGenerationState.BUILDING, model: 'text-embedding-3-small', dimensions: 256, providerName: 'openai', loadedAt: null });
    generationB = newest;
    expect((await generations().serving('product')).id).toBe(generationA.id);

    // The search loop: a probe's codeword must find its product first, with a full page, every time.
    const answers: LoopAnswer[] = [];
    const failures: string[] = [];
    let stop = false;
    const loop = (async () => {
      for (let i = 0; !stop; i++) {
        const probe = probes[i % probes.length];
        try {
          const hits = await search(probe.word);
          answers.push({ probe: probe.word, expected: probe.id, ids: hits.map((h) => h.entityId) });
        } catch (error) {
          failures.push((error as Error).message);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    // Meanwhile, through TypeORM (live indexing): create, update and delete products that are not probes.
    const repository = app().products!;
    const probeIds = new Set(probes.map((p) => p.id));
    const candidates = (await repository.find({ order: { id: 'ASC' } })).filter((p) => !probeIds.has(p.id));
    const toUpdate = candidates.slice(0, CHANGES);
    const toDelete = candidates.slice(CHANGES, 2 * CHANGES);
    const created: string[] = [];
    const statesDuringWrites = new Set<string>();
    const fresh = codewordProducts(2 * CHANGES, N);
    for (let k = 0; k < CHANGES; k++) {
      created.push((await repository.save(repository.create(fresh[k]))).id);
      await repository.save({ ...toUpdate[k], name: fresh[CHANGES + k].name, description: `Renamed while generation B was building (${k}).` });
      await repository.remove(toDelete[k]);
      if (k % 10 === 0) statesDuringWrites.add((await generations().get(generationB.id)).state);
    }
    expect(statesDuringWrites.has(IndexGenerationState.BUILDING)).toBe(true);

    // autoBuild started B's backfill; it completes, then B is READY (on PostgreSQL after its index is built).
    const job = await waitForJob(generationB.id);
    expect(job).toMatchObject({ kind: 'BACKFILL', generationId: generationB.id, createdBy: 'system' });
    generationB = await waitForState(generationB.id, IndexGenerationState.READY);
    expect(generationB.loadedAt).not.toBeNull();
    await waitForQueueSettled(app().dataSource, 60_000);
    stop = true;
    await loop;

    expect(failures).toEqual([]);
    expect(answers.length).toBeGreaterThan(PROBES);
    const wrong = answers.filter((a) => a.ids.length !== 10 || a.ids[0] !== a.expected);
    expect(wrong.slice(0, 3)).toEqual([]);
    // No query reached B's provider: the fake server embedded documents only, never a codeword alone.
    const words = new Set(probes.map((p) => p.word));
    expect(server.embeddingRequests.flatMap((r) => r.inputs ?? []).filter((text) => words.has(text))).toEqual([]);
    server.delayPerInputMs = 0;

    // Both generations are current: every row (created, updated) has its generation's hash, deleted ones have none.
    await expectCurrent(generationA);
    await expectCurrent(generationB);
    const deleted = toDelete.map((p) => p.id);
    expect(await countOf(app().dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_id = ANY($1)`, [deleted])).toBe(0);

    // The gate: golden queries whose text is exactly a row's embedded text in B (the fake server's vectors are
    // random per text, so only the same text finds a row), probes and changed rows alike.
    const byId = new Map((await products()).map((p) => [p.id, p]));
    const golden = [...probes.slice(0, 10).map((p) => p.id), ...toUpdate.slice(0, 5).map((p) => p.id), ...created.slice(0, 5)].map((id) => ({
      query: generationText(byId.get(id)!, generationB),
      expectedIds: [id],
    }));
    const report = await operator().validate(generationB.id, { queries: golden }, { actor: 'alice' });
    expect(report).toMatchObject({
      generationId: generationB.id,
      comparedWith: generationA.id,
      passed: true,
      recallAtK: 1,
      failures: [],
      coverage: { sourceRows: N, vectors: N, missing: 0, stale: 0, orphaned: 0 },
    });

    // Cutover: search answers from B from the next query on, embedding the query with B's provider.
    const switched = await operator().cutover('product', generationB.id, { actor: 'alice' });
    expect(switched).toMatchObject({ forced: false, serving: { id: generationB.id, state: 'SERVING' }, previous: { id: generationA.id, state: 'READY' } });
    const renamed = byId.get(toUpdate[0].id)!;
    const before = server.embeddingRequests.length;
    const [hit] = await search(generationText(renamed, generationB));
    expect(hit).toMatchObject({ entityId: renamed.id });
    expect(hit.score).toBeCloseTo(1, 5);
    expect(server.embeddingRequests.length).toBe(before + 1);
    await expectConsistentGenerations(app().dataSource);

    // A write while B serves reaches A too (dual-write until A is retired).
    await app().products!.save({ ...renamed, name: `${codeword(N + 3 * CHANGES)} lamp` });
    await waitForQueueSettled(app().dataSource, 60_000);
    await expectCurrent(generationB);

    // Rollback: A serves again at once, and it is current, including that write.
    const back = await operator().rollback('product', { actor: 'alice' });
    expect(back).toMatchObject({ serving: { id: generationA.id }, previous: { id: generationB.id, state: 'READY' } });
    await expectCurrent(generationA);
    const [again] = await search(codeword(N + 3 * CHANGES));
    expect(again.entityId).toBe(renamed.id);
    expect((await search(probes[0].word))[0].entityId).toBe(probes[0].id);

    // Retire B: RETIRED (it served), its rows deleted; rollback has nothing to go back to.
    const retired = await operator().retire(generationB.id, { actor: 'alice' });
    expect(retired.state).toBe(IndexGenerationState.RETIRED);
    await waitUntil('the rows of B are deleted', async () => (await app().vectorStore.count('product', generationB.id)) === 0, 30_000);
    await waitUntil('B is marked cleaned up', async () => (await generations().get(generationB.id)).retiredAt !== null, 30_000);
    await expect(operator().rollback('product')).rejects.toThrow(GenerationStateError);
    const tables = await expectConsistentGenerations(app().dataSource);
    expect(tables.alias).toEqual({ serving: generationA.id, previous: null });
    expect((await operator().getAuditLog(generationB.id)).map((e) => [e.action, e.actor])).toEqual([
      [MigrationAuditAction.GENERATION_VALIDATE, 'alice'],
      [MigrationAuditAction.GENERATION_CUTOVER, 'alice'],
      [MigrationAuditAction.GENERATION_RETIRE, 'alice'],
    ]);
    // Live writes no longer reach a retired generation.
    await app().products!.save(app().products!.create(codewordProducts(1, N + 3 * CHANGES + 1)[0]));
    await waitForQueueSettled(app().dataSource, 60_000);
    expect(await app().vectorStore.count('product', generationB.id)).toBe(0);
    await expectCurrent(generationA);
  }, 600_000);

  it('field change: an added embeddable field builds generation C through the same path (created by the operator, cutover, retire the old one)', async () => {
    const changed = join(dir, 'ai-entity-config-price.yml');
    writeFileSync(changed, readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8').replace('      - name: category\n', '      - name: category\n      - name: price\n'));
    // onConfigChange 'manual': startup records nothing; the operator creates and builds the generation (the other path).
    await boot({ core: { entityConfigPath: changed, worker: { batchSize: 500 }, generations: { onConfigChange: 'manual' } } });
    expect((await generations().list('product')).map((g) => g.state)).toEqual([IndexGenerationState.RETIRED, IndexGenerationState.SERVING]);

    const { generation, job } = await operator().build('product', { actor: 'bob' });
    expect(generation).toMatchObject({ state: IndexGenerationState.BUILDING, model: generationA.model, dimensions: generationA.dimensions });
    expect(generation.textDefinition!.embeddableFields.map((f) => f.name)).toEqual(['name', 'description', 'category', 'price']);
    expect(job).toMatchObject({ generationId: generation.id, createdBy: 'bob' });
    expect((await operator().getAuditLog(generation.id))[0]).toMatchObject({ action: MigrationAuditAction.GENERATION_CREATE, actor: 'bob', toStatus: 'BUILDING' });
    // Changes while C builds.
    const repository = app().products!;
    const [first, second] = await repository.find({ order: { id: 'DESC' }, take: 2 });
    await repository.save({ ...first, price: 999 });
    await repository.remove(second);
    await waitForJob(generation.id);
    const ready = await waitForState(generation.id, IndexGenerationState.READY);
    await waitForQueueSettled(app().dataSource, 60_000);
    await expectCurrent(ready);
    await expectCurrent(generationA);
    expect(generationText({ ...first, price: 999 }, ready)).toContain('price: 999');

    // Same provider, so the codewords still find their products in C.
    const report = await operator().validate(ready.id, { queries: probes.slice(0, 10).map((p) => ({ query: p.word, expectedIds: [p.id] })) }, { actor: 'bob' });
    expect(report).toMatchObject({ passed: true, recallAtK: 1, coverage: { missing: 0, stale: 0, orphaned: 0 } });
    await operator().cutover('product', ready.id, { actor: 'bob' });
    expect((await search(probes[1].word))[0].entityId).toBe(probes[1].id);
    await expectConsistentGenerations(app().dataSource);

    // Retire the previous generation (A): RETIRED, rows gone, no rollback left; C keeps serving.
    expect((await operator().retire(generationA.id, { actor: 'bob' })).state).toBe(IndexGenerationState.RETIRED);
    await waitUntil('the rows of A are deleted', async () => (await app().vectorStore.count('product', generationA.id)) === 0, 30_000);
    await expect(operator().rollback('product')).rejects.toThrow(/no previous generation/);
    await expect(operator().retire(ready.id)).rejects.toThrow(/serves "product" and cannot be retired/);
    const tables = await expectConsistentGenerations(app().dataSource);
    expect(tables.alias).toEqual({ serving: ready.id, previous: null });
    expect(tables.generations.map((g) => [g.id, g.state])).toEqual([
      [generationA.id, 'RETIRED'],
      [generationB.id, 'RETIRED'],
      [ready.id, 'SERVING'],
    ]);
    await expectCurrent(await generations().get(ready.id));
  }, 300_000);

  it('refuses to start, with the fix in the message, when no configured provider embeds for the serving generation', async () => {
    const before = (await generations().list('product')).map((g) => [g.id, g.state]);
    await ctx!.close();
    ctx = undefined;
    // The model changes to B's again, but the serving generation's provider (hashing) is not retained.
    const failure = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: false,
      core: {
        entityConfigPath: join(dir, 'ai-entity-config-price.yml'),
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 256, sendDimensions: true },
      },
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GenerationProviderMissingError);
    expect((failure as Error).message).toMatch(/embeds with feature-hashing-v1-384 \(384 dimensions\), but no configured provider has that model and dimensions/);
    expect((failure as Error).message).toMatch(/Keep its provider in "retainedEmbeddings" of AiCoreModule/);
    // Nothing was recorded by the failed start (the configuration C was built from starts as before).
    await boot({ core: { entityConfigPath: join(dir, 'ai-entity-config-price.yml') } });
    expect((await generations().list('product')).map((g) => [g.id, g.state])).toEqual(before);
  }, 120_000);
});
