import { IndexingPriority, IndexingQueueError, type IndexingInsertGate } from '@ai-infrastructure/core';
import { bootIndexingApp, generatedProducts, insertProducts, truncateTables, type IndexingApp } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

const JOB = 'job-a';
const OTHER = 'job-b';

/** A queue item as the tests look at it. */
interface OwnedItem {
  id: string;
  status: string;
  priority: number;
  force: boolean;
  maxRetries: number;
  secs: number | null;
}

/**
 * The owner-scoped operations of IndexingQueueService (issue 12: core owns its tables; the migration module
 * holds, releases, counts and removes a job's items only through these).
 */
describeEachEngine('IndexingQueueService, owner-scoped operations', ({ getUrl }) => {
  let ctx: IndexingApp;
  let ids: string[];

  /** The owner's items, in queue order, with their status and seconds from now until runnable (null when held). */
  const itemsOf = async (owner: string): Promise<OwnedItem[]> =>
    (
      await ctx.dataSource.query(
        `SELECT entity_id, status, priority, force, max_retries,
                CASE WHEN run_after = 'infinity' THEN NULL ELSE extract(epoch FROM run_after - now())::float8 END AS secs
           FROM ai_indexing_queue WHERE owner = $1 ORDER BY id`,
        [owner],
      )
    ).map((r: { entity_id: string; status: string; priority: number; force: boolean; max_retries: number; secs: number | null }) => ({
      id: r.entity_id,
      status: r.status,
      priority: r.priority,
      force: r.force,
      maxRetries: r.max_retries,
      secs: r.secs === null ? null : Number(r.secs),
    }));

  /** A gate that always admits, releasing the first group `delay` seconds from now and the next every `spacing` seconds. */
  const gate = (delay: number, spacing: number): IndexingInsertGate => ({
    sql: `SELECT now() + make_interval(secs => $1::float8) AS release_at, $2::float8 AS spacing_secs`,
    params: [delay, spacing],
  });

  /**
   * Runs `fn` with TypeORM's log of failed queries captured instead of printed: the unique violation it
   * provokes is the behaviour under test.
   */
  async function withQueryErrorsCaptured<T>(fn: () => Promise<T>): Promise<{ result: T; errors: string[] }> {
    const logger = ctx.dataSource.logger;
    const original = logger.logQueryError;
    const errors: string[] = [];
    logger.logQueryError = (error) => void errors.push(String(error));
    try {
      return { result: await fn(), errors };
    } finally {
      logger.logQueryError = original;
    }
  }

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, core: { worker: { enabled: false }, liveIndexing: false }, logger: false });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource);
    ids = await insertProducts(ctx.dataSource, generatedProducts(7, 'owned'));
  });

  it('enqueueNew inserts the items in one statement with the gate, spaced in groups from its release time', async () => {
    const result = await ctx.queue.enqueueNew(
      { entityType: 'product', entityIds: ids, owner: JOB, priority: IndexingPriority.LOW, force: true, maxRetries: 3, groupSize: 3 },
      gate(100, 10),
    );
    expect(result).toEqual({ status: 'queued', queued: 7 });
    const items = await itemsOf(JOB);
    expect(items.map((i) => i.id)).toEqual(ids);
    expect(items.every((i) => i.status === 'PENDING' && i.priority === IndexingPriority.LOW && i.force && i.maxRetries === 3)).toBe(true);
    // Groups of 3 at 100 s, 110 s and 120 s from now (the statement ran a moment ago).
    const groups = items.map((i) => Math.round(i.secs!) + 0);
    expect(groups).toEqual([100, 100, 100, 110, 110, 110, 120]);
  });

  it('enqueueNew writes nothing when the gate returns no row, and reports a pending twin as a conflict without writing', async () => {
    const refuse: IndexingInsertGate = { sql: `SELECT now() AS release_at, 0::float8 AS spacing_secs WHERE false`, params: [] };
    expect(await ctx.queue.enqueueNew({ entityType: 'product', entityIds: ids, owner: JOB, groupSize: 1 }, refuse)).toEqual({ status: 'refused' });
    expect(await itemsOf(JOB)).toEqual([]);

    await ctx.queue.enqueue({ entityType: 'product', entityId: ids[4], owner: JOB });
    const { result, errors } = await withQueryErrorsCaptured(() =>
      ctx.queue.enqueueNew({ entityType: 'product', entityIds: ids, owner: JOB, groupSize: 1 }, gate(0, 0)),
    );
    expect(result).toEqual({ status: 'conflict' });
    expect(errors.join('\n')).toMatch(/ai_indexing_queue_pending_uq/);
    expect((await itemsOf(JOB)).map((i) => i.id)).toEqual([ids[4]]);
    // Another owner's items are separate: no conflict.
    expect(await ctx.queue.enqueueNew({ entityType: 'product', entityIds: ids, owner: OTHER, groupSize: 1 }, gate(0, 0))).toEqual({
      status: 'queued',
      queued: 7,
    });
  });

  it('enqueueNew checks its input and names what is wrong', async () => {
    const call = (items: object) => ctx.queue.enqueueNew({ entityType: 'product', entityIds: ids, owner: JOB, groupSize: 1, ...items }, gate(0, 0));
    await expect(call({ entityType: 'order' })).rejects.toThrow(
      new IndexingQueueError('IndexingQueueService.enqueueNew has entityType "order", which this application does not know; known types: product.'),
    );
    await expect(call({ owner: '' })).rejects.toThrow(/has owner ""; give the owner tag/);
    await expect(call({ groupSize: 0 })).rejects.toThrow(/has groupSize 0; give the number of items released together/);
    await expect(call({ entityIds: ['ok', ''] })).rejects.toThrow(/has an invalid "entityIds"/);
    await expect(call({ priority: 1e6 })).rejects.toThrow(IndexingQueueError);
    expect(await itemsOf(JOB)).toEqual([]);
  });

  it('holds, releases in groups, counts and deletes only the pending items of one owner', async () => {
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId, owner: JOB })));
    await ctx.queue.enqueue(ids.slice(0, 2).map((entityId) => ({ entityType: 'product', entityId, owner: OTHER })));
    // One of the job's items is in flight: counted as waiting, never held, released or deleted.
    await ctx.dataSource.query(
      `UPDATE ai_indexing_queue SET status = 'ACTIVE', lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute' WHERE owner = $1 AND entity_id = $2`,
      [JOB, ids[0]],
    );

    expect(await ctx.queue.countWaiting([JOB, OTHER, 'nobody'])).toEqual(new Map([[JOB, 7], [OTHER, 2], ['nobody', 0]]));

    expect(await ctx.queue.holdPending(JOB)).toBe(6);
    expect(await ctx.queue.holdPending(JOB)).toBe(0);
    expect((await itemsOf(JOB)).filter((i) => i.status === 'PENDING').every((i) => i.secs === null)).toBe(true);
    expect((await itemsOf(OTHER)).every((i) => i.secs !== null)).toBe(true);
    // Held items are not claimed.
    expect(await ctx.worker.runOnce(10)).toBe(2);

    expect(await ctx.queue.releasePending(JOB, { groupSize: 4, spacingSeconds: 30 })).toBe(6);
    const released = (await itemsOf(JOB)).filter((i) => i.status === 'PENDING').map((i) => Math.round(i.secs!) + 0);
    expect(released).toEqual([0, 0, 0, 0, 30, 30]);

    expect(await ctx.queue.deletePending(JOB)).toBe(6);
    expect(await itemsOf(JOB)).toEqual([expect.objectContaining({ id: ids[0], status: 'ACTIVE' })]);
    expect(await ctx.queue.countWaiting([JOB])).toEqual(new Map([[JOB, 1]]));
  });

  it('lists, retries and deletes the dead letters of an owner', async () => {
    await ctx.queue.enqueue(ids.slice(0, 3).map((entityId) => ({ entityType: 'product', entityId, owner: JOB })));
    await ctx.queue.enqueue({ entityType: 'product', entityId: ids[3], owner: OTHER });
    await ctx.dataSource.query(`UPDATE ai_indexing_queue SET status = 'DEAD', last_error = 'gave up'`);

    expect((await ctx.queue.deadLetters({ owner: JOB })).map((d) => d.entityId).sort()).toEqual(ids.slice(0, 3).sort());
    expect(await ctx.queue.retryDeadLetters({ owner: JOB, entityIds: [ids[1]] })).toBe(1);
    expect((await itemsOf(JOB)).find((i) => i.id === ids[1])).toMatchObject({ status: 'PENDING' });

    expect(await ctx.queue.deleteDeadLetters([JOB])).toBe(2);
    expect(await ctx.queue.deleteDeadLetters([])).toBe(0);
    expect((await itemsOf(JOB)).map((i) => i.status)).toEqual(['PENDING']);
    expect(await ctx.queue.deadLetters({ owner: OTHER })).toHaveLength(1);
  });

  it('rejects a pacing that cannot be applied', async () => {
    await expect(ctx.queue.releasePending(JOB, { groupSize: 0, spacingSeconds: 1 })).rejects.toThrow(IndexingQueueError);
    await expect(ctx.queue.releasePending(JOB, { groupSize: 1, spacingSeconds: Number.NaN })).rejects.toThrow(
      'IndexingQueueService.releasePending has groupSize 1 and spacingSeconds NaN; give a positive integer groupSize and a finite spacingSeconds of 0 or more.',
    );
  });
});
