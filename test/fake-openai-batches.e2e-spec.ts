import OpenAI, { AuthenticationError, BadRequestError, ConflictError, NotFoundError, toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { FAKE_OPENAI_API_KEY, fakeEmbedding, fakeTokenCount, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';

const MODEL = 'text-embedding-3-small';
const DIMENSIONS = 32;
/** Small, so one line of the partial-errors test exceeds it. */
const MAX_TOKENS_PER_INPUT = 40;
const ENDED: readonly Batch['status'][] = ['completed', 'failed', 'expired', 'cancelled'];

/** One line of a batch input file for `/v1/embeddings`. */
interface RequestLine {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** One line of a batch output or error file, as OpenAI writes them. */
interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: any } | null;
  error: { code: string; message: string } | null;
}

function requestLine(customId: string, body: Record<string, unknown>): RequestLine {
  return { custom_id: customId, method: 'POST', url: '/v1/embeddings', body };
}

function jsonl(lines: unknown[]): string {
  return lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n';
}

function clientOf(server: FakeOpenAiServer, apiKey = FAKE_OPENAI_API_KEY): OpenAI {
  return new OpenAI({ apiKey, baseURL: server.url, maxRetries: 0 });
}

/** Uploads `lines` as a batch input file and creates a batch from it, the way the library does. */
async function submit(client: OpenAI, lines: unknown[], metadata?: Record<string, string>) {
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(lines)), 'requests.jsonl'), purpose: 'batch' });
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h', metadata });
  return { file, batch };
}

/** Polls `batches.retrieve` until `done`, returning the batch and every status seen on the way. */
async function waitForBatch(
  client: OpenAI,
  id: string,
  done: (batch: Batch) => boolean = (batch) => ENDED.includes(batch.status),
  timeoutMs = 15_000,
): Promise<{ batch: Batch; seen: Batch['status'][] }> {
  const seen: Batch['status'][] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (seen[seen.length - 1] !== batch.status) seen.push(batch.status);
    if (done(batch)) return { batch, seen };
    if (Date.now() > deadline) throw new Error(`Batch ${id} is still '${batch.status}' after ${timeoutMs} ms.`);
    await sleep(10);
  }
}

/** The parsed lines of an output or error file; none when the batch has no such file. */
async function download(client: OpenAI, fileId: string | null | undefined): Promise<OutputLine[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as OutputLine);
}

function byCustomId(lines: OutputLine[]): Map<string, OutputLine> {
  return new Map(lines.map((line) => [line.custom_id, line]));
}

function tokensOf(inputs: string[]): number {
  return inputs.reduce((sum, text) => sum + fakeTokenCount(text), 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The fake server's Files and Batch APIs, driven only through the real `openai` SDK: the shapes the library
 * will parse, the accelerated batch clock, and the test controls (partial failures, expiry, hold, cancel).
 */
describe('Fake OpenAI server: Files and Batch APIs', () => {
  let server: FakeOpenAiServer;
  let client: OpenAI;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: DIMENSIONS, maxTokensPerInput: MAX_TOKENS_PER_INPUT });
    client = clientOf(server);
  });

  afterAll(async () => {
    await server?.close();
  });

  beforeEach(() => server.reset());

  it('runs an embeddings batch validating → in_progress → finalizing → completed, with the vectors and usage of /v1/embeddings', async () => {
    const bodies: Record<string, Record<string, unknown>> = {
      single: { model: MODEL, input: 'a lone sentence about pgvector' },
      many: { model: MODEL, input: ['first of three', 'second of three', 'third of three'] },
      sized: { model: MODEL, input: ['a shortened vector'], dimensions: 8 },
      packed: { model: MODEL, input: 'packed little-endian floats', encoding_format: 'base64' },
    };
    const lines = Object.entries(bodies).map(([id, body]) => requestLine(id, body));
    const allInputs = Object.values(bodies).flatMap((body) => (Array.isArray(body.input) ? (body.input as string[]) : [body.input as string]));
    const expectedTokens = tokensOf(allInputs);

    // A longer in_progress than the default, so the polls see it even on a loaded machine.
    server.setBatchTiming({ processMs: 600 });
    const { file, batch: created } = await submit(client, lines, { job: 'first', chunk: '7' });

    expect(file).toMatchObject({ object: 'file', purpose: 'batch', status: 'processed', filename: 'requests.jsonl', bytes: Buffer.byteLength(jsonl(lines)) });
    expect(file.id).toMatch(/^file-/);
    expect(created).toMatchObject({
      object: 'batch',
      endpoint: '/v1/embeddings',
      input_file_id: file.id,
      completion_window: '24h',
      status: 'validating',
      errors: null,
      output_file_id: null,
      error_file_id: null,
      in_progress_at: null,
      completed_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: { job: 'first', chunk: '7' },
    });
    expect(created.id).toMatch(/^batch_/);
    expect(created.expires_at).toBe(created.created_at + 86_400);
    expect(created.usage).toBeUndefined();

    const { batch, seen } = await waitForBatch(client, created.id);
    expect(seen).toContain('in_progress');
    expect(seen[seen.length - 1]).toBe('completed');
    const order = ['validating', 'in_progress', 'finalizing', 'completed'];
    expect(seen.map((status) => order.indexOf(status))).toEqual([...seen.map((status) => order.indexOf(status))].sort((a, b) => a - b));
    expect(batch).toMatchObject({
      status: 'completed',
      model: MODEL,
      errors: null,
      error_file_id: null,
      failed_at: null,
      expired_at: null,
      cancelled_at: null,
      request_counts: { total: 4, completed: 4, failed: 0 },
      usage: {
        input_tokens: expectedTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 0,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: expectedTokens,
      },
    });
    expect(batch.created_at).toBeLessThanOrEqual(batch.in_progress_at!);
    expect(batch.in_progress_at).toBeLessThanOrEqual(batch.finalizing_at!);
    expect(batch.finalizing_at).toBeLessThanOrEqual(batch.completed_at!);

    const outputFile = await client.files.retrieve(batch.output_file_id!);
    expect(outputFile).toMatchObject({ object: 'file', purpose: 'batch_output', filename: `${batch.id}_output.jsonl`, status: 'processed' });
    const output = await download(client, batch.output_file_id);
    expect(outputFile.bytes).toBe(Buffer.byteLength(output.map((line) => JSON.stringify(line)).join('\n') + '\n'));
    expect(output.map((line) => line.custom_id).sort()).toEqual(Object.keys(bodies).sort());
    const results = byCustomId(output);
    for (const [customId, body] of Object.entries(bodies)) {
      const line = results.get(customId)!;
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.error).toBeNull();
      expect(line.response!.status_code).toBe(200);
      expect(line.response!.request_id).toMatch(/^req_/);
      // The synchronous endpoint, asked through the SDK without its base64 decoding, answers the same JSON.
      const direct = await client.post('/embeddings', { body });
      expect(line.response!.body).toEqual(direct);
    }
    expect(results.get('single')!.response!.body.data[0].embedding).toEqual(Array.from(fakeEmbedding('a lone sentence about pgvector', DIMENSIONS)));
    expect(results.get('sized')!.response!.body.data[0].embedding).toHaveLength(8);
    expect(results.get('many')!.response!.body.usage).toEqual({
      prompt_tokens: tokensOf(bodies.many.input as string[]),
      total_tokens: tokensOf(bodies.many.input as string[]),
    });
    const packed = new Uint8Array(Buffer.from(results.get('packed')!.response!.body.data[0].embedding as string, 'base64'));
    expect(new Float32Array(packed.buffer)).toEqual(fakeEmbedding('packed little-endian floats', DIMENSIONS));

    // Batch lines are recorded apart from the HTTP requests: only the four direct calls are embeddings requests.
    expect(server.embeddingRequests).toHaveLength(4);
    expect(server.batchLines.map((line) => [line.batchId, line.customId, line.status])).toEqual(
      Object.keys(bodies).map((customId) => [batch.id, customId, 200]),
    );
    expect(server.batchLines.reduce((sum, line) => sum + line.tokens, 0)).toBe(expectedTokens);
    expect(server.batchStats()).toEqual({
      filesUploaded: 1,
      batchesCreated: 1,
      batchesCancelled: 0,
      linesExecuted: 4,
      inputsEmbedded: allInputs.length,
      tokensBilled: expectedTokens,
    });
    expect(server.batches.get(batch.id)!.status).toBe('completed');
    expect(server.files.get(file.id)!.content.toString('utf8')).toBe(jsonl(lines));
  });

  it('puts partial failures in the error file under their custom_id, ignores the synchronous rate limits and bills only the successes', async () => {
    const longText = 'word '.repeat(MAX_TOKENS_PER_INPUT * 2);
    const lines = [
      requestLine('ok-1', { model: MODEL, input: 'first good line' }),
      requestLine('poisoned', { model: MODEL, input: 'this line is refused by the predicate' }),
      requestLine('too-long', { model: MODEL, input: longText }),
      requestLine('no-input', { model: MODEL }),
      requestLine('ok-2', { model: MODEL, input: 'second good line' }),
    ];
    const asked: [string, unknown][] = [];
    server.failBatchRequests((customId, body) => {
      asked.push([customId, body.input]);
      return customId === 'poisoned' ? { status: 500, message: 'The fake model crashed on this input.' } : undefined;
    });
    // One request per minute: five lines would be throttled on /v1/embeddings, but a batch has its own limits.
    server.enforce({ rpm: 1 });

    const { batch: created } = await submit(client, lines);
    const { batch } = await waitForBatch(client, created.id);

    expect(asked).toEqual(lines.map((line) => [line.custom_id, line.body.input]));
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 5, completed: 2, failed: 3 });
    const goodTokens = tokensOf(['first good line', 'second good line']);
    expect(batch.usage).toMatchObject({ input_tokens: goodTokens, total_tokens: goodTokens });

    const output = byCustomId(await download(client, batch.output_file_id));
    expect([...output.keys()]).toEqual(['ok-1', 'ok-2']);
    const errors = byCustomId(await download(client, batch.error_file_id));
    expect([...errors.keys()].sort()).toEqual(['no-input', 'poisoned', 'too-long']);
    expect(errors.get('poisoned')).toMatchObject({
      error: null,
      response: { status_code: 500, body: { error: { message: 'The fake model crashed on this input.', type: 'server_error', code: null } } },
    });
    expect(errors.get('too-long')!.response!.status_code).toBe(400);
    expect(errors.get('too-long')!.response!.body.error.message).toContain(`maximum context length is ${MAX_TOKENS_PER_INPUT} tokens`);
    expect(errors.get('no-input')!.response).toMatchObject({ status_code: 400, body: { error: { param: 'input', type: 'invalid_request_error' } } });
    const errorFile = await client.files.retrieve(batch.error_file_id!);
    expect(errorFile).toMatchObject({ purpose: 'batch_output', filename: `${batch.id}_error.jsonl` });

    expect(server.batchStats()).toMatchObject({ linesExecuted: 5, inputsEmbedded: 2, tokensBilled: goodTokens });
    expect(server.batchLines.map((line) => line.status)).toEqual([200, 500, 400, 400, 200]);
    expect(server.embeddingRequests).toHaveLength(0);
  });

  it('fails validation with errors.data for bad lines, and rejects bad uploads and batch parameters with 400', async () => {
    const lines = [
      requestLine('a', { model: MODEL, input: 'fine' }),
      '{"custom_id": "b", "method": "POST"',
      requestLine('a', { model: MODEL, input: 'same custom_id again' }),
      { ...requestLine('c', { model: MODEL, input: 'wrong url' }), url: '/v1/chat/completions' },
      { ...requestLine('d', { model: MODEL, input: 'wrong method' }), method: 'GET' },
      requestLine('e', { model: 'text-embedding-3-large', input: 'another model' }),
    ];
    const { batch: created } = await submit(client, lines);
    const { batch } = await waitForBatch(client, created.id);

    expect(batch).toMatchObject({ status: 'failed', in_progress_at: null, output_file_id: null, error_file_id: null, request_counts: { total: 0, completed: 0, failed: 0 } });
    expect(batch.failed_at).toBeGreaterThanOrEqual(batch.created_at);
    expect(batch.errors!.object).toBe('list');
    expect(batch.errors!.data!.map((e) => [e.code, e.param, e.line])).toEqual([
      ['invalid_json_line', null, 2],
      ['duplicate_custom_id', 'custom_id', 3],
      ['invalid_url', 'url', 4],
      ['invalid_method', 'method', 5],
      ['mismatched_model', 'body.model', 6],
    ]);
    expect(batch.errors!.data![1].message).toContain("The custom_id 'a' on line 3 is a duplicate");
    expect(server.batchStats().linesExecuted).toBe(0);

    // Limits of a server started with small ones: upload size, lines per file, inputs per batch.
    const bad = (error: unknown) => [(error as BadRequestError).status, (error as BadRequestError).param];
    const limited = await startFakeOpenAiServer({ batchLimits: { maxFileBytes: 1_000, maxRequestsPerFile: 3, maxInputsPerBatch: 5 } });
    try {
      const limitedClient = clientOf(limited);
      const tooBig = limitedClient.files.create({ file: await toFile(Buffer.alloc(1_001, 0x20), 'big.jsonl'), purpose: 'batch' });
      await expect(tooBig).rejects.toBeInstanceOf(BadRequestError);
      expect(await tooBig.catch(bad)).toEqual([400, 'file']);
      expect(limited.files.size).toBe(0);

      const tooManyLines = await submit(limitedClient, ['a', 'b', 'c', 'd'].map((id) => requestLine(id, { model: MODEL, input: id })));
      const tooManyInputs = await submit(limitedClient, [
        requestLine('x', { model: MODEL, input: ['1', '2', '3'] }),
        requestLine('y', { model: MODEL, input: ['4', '5', '6'] }),
      ]);
      const failedLines = (await waitForBatch(limitedClient, tooManyLines.batch.id)).batch;
      const failedInputs = (await waitForBatch(limitedClient, tooManyInputs.batch.id)).batch;
      expect(failedLines.status).toBe('failed');
      expect(failedLines.errors!.data).toEqual([
        { code: 'too_many_requests', message: 'The input file has 4 requests, and a batch may hold at most 3.', param: null, line: null },
      ]);
      expect(failedInputs.status).toBe('failed');
      expect(failedInputs.errors!.data).toEqual([
        {
          code: 'too_many_inputs',
          message: 'The batch has 6 embedding inputs, and a /v1/embeddings batch may hold at most 5.',
          param: null,
          line: null,
        },
      ]);
      expect(limited.batchStats()).toMatchObject({ filesUploaded: 2, batchesCreated: 2, linesExecuted: 0 });
    } finally {
      await limited.close();
    }
    // A purpose other than batch, a name without the .jsonl the Batch API requires, bad batch parameters.
    expect(await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'x.jsonl'), purpose: 'assistants' }).catch(bad)).toEqual([400, 'purpose']);
    expect(await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'x.csv'), purpose: 'batch' }).catch(bad)).toEqual([400, 'file']);
    const { file } = await submit(client, [requestLine('z', { model: MODEL, input: 'z' })]);
    const create = (params: Record<string, unknown>) =>
      client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h', ...params } as never).catch(bad);
    expect(await create({ endpoint: '/v1/chat/completions' })).toEqual([400, 'endpoint']);
    expect(await create({ completion_window: '48h' })).toEqual([400, 'completion_window']);
    expect(await create({ input_file_id: 'file-unknown' })).toEqual([400, 'input_file_id']);
    expect(await create({ metadata: { n: 1 } })).toEqual([400, 'metadata']);
  });

  it('expires a batch after part of its lines: the rest are batch_expired lines in the error file, and only what ran is billed', async () => {
    const lines = ['l0', 'l1', 'l2', 'l3', 'l4'].map((id) => requestLine(id, { model: MODEL, input: `text of ${id}` }));
    server.expireNextBatch(2, (batch) => batch.metadata?.run === 'expiring');

    const { batch: untouched } = await submit(client, lines, { run: 'normal' });
    const { batch: created } = await submit(client, lines, { run: 'expiring' });
    const { batch } = await waitForBatch(client, created.id);
    expect((await waitForBatch(client, untouched.id)).batch.status).toBe('completed');

    expect(batch).toMatchObject({ status: 'expired', completed_at: null, finalizing_at: null, request_counts: { total: 5, completed: 2, failed: 0 } });
    expect(batch.expired_at).toBeGreaterThanOrEqual(batch.in_progress_at!);
    expect(batch.usage).toMatchObject({ input_tokens: tokensOf(['text of l0', 'text of l1']) });
    const output = await download(client, batch.output_file_id);
    expect(output.map((line) => [line.custom_id, line.response!.status_code])).toEqual([
      ['l0', 200],
      ['l1', 200],
    ]);
    const errors = await download(client, batch.error_file_id);
    expect(errors.map((line) => line.custom_id)).toEqual(['l2', 'l3', 'l4']);
    for (const line of errors) {
      expect(line.id).toMatch(/^batch_req_/);
      expect(line.response).toBeNull();
      expect(line.error).toEqual({ code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' });
    }
    expect(server.batchStats()).toMatchObject({ batchesCreated: 2, linesExecuted: 7 });

    // expireBatches() on a held batch: nothing ran, so there is no output file and every line expired.
    server.holdBatches(true);
    const { batch: held } = await submit(client, lines);
    await waitForBatch(client, held.id, (b) => b.status === 'in_progress');
    server.expireBatches([held.id]);
    const { batch: expired } = await waitForBatch(client, held.id);
    expect(expired).toMatchObject({ status: 'expired', output_file_id: null, request_counts: { total: 5, completed: 0, failed: 0 } });
    expect((await download(client, expired.error_file_id)).map((line) => [line.custom_id, line.error!.code])).toEqual(
      lines.map((line) => [line.custom_id, 'batch_expired']),
    );
    expect(server.batchStats().linesExecuted).toBe(7);
  });

  it('cancels a batch: cancelling at once, cancelled shortly after, with the lines already run in the output file', async () => {
    server.setBatchTiming({ processMs: 2_000, finalizeMs: 300 });
    const lines = Array.from({ length: 10 }, (_, i) => requestLine(`c${i}`, { model: MODEL, input: `cancellable line ${i}` }));
    const { batch: created } = await submit(client, lines);
    await waitForBatch(client, created.id, (b) => (b.request_counts?.completed ?? 0) >= 2);

    const cancelling = await client.batches.cancel(created.id);
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toBeGreaterThanOrEqual(cancelling.created_at);
    expect(cancelling.cancelled_at).toBeNull();
    expect((await client.batches.cancel(created.id)).status).toBe('cancelling');

    const { batch, seen } = await waitForBatch(client, created.id);
    expect(seen).toEqual(['cancelling', 'cancelled']);
    expect(batch.cancelled_at).toBeGreaterThanOrEqual(batch.cancelling_at!);
    const ran = batch.request_counts!.completed;
    expect(ran).toBeGreaterThanOrEqual(2);
    expect(ran).toBeLessThan(10);
    expect(batch.request_counts).toEqual({ total: 10, completed: ran, failed: 0 });
    const output = await download(client, batch.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(lines.slice(0, ran).map((line) => line.custom_id));
    const errors = await download(client, batch.error_file_id);
    expect(errors.map((line) => [line.custom_id, line.response, line.error!.code])).toEqual(
      lines.slice(ran).map((line) => [line.custom_id, null, 'batch_cancelled']),
    );
    expect(server.batchStats()).toMatchObject({ batchesCancelled: 1, linesExecuted: ran });
    await sleep(300);
    expect(server.batchStats().linesExecuted).toBe(ran);

    // Cancelling again is harmless; a finished batch cannot be cancelled.
    expect((await client.batches.cancel(created.id)).status).toBe('cancelled');
    server.setBatchTiming({ processMs: 0 });
    const { batch: other } = await submit(client, lines.slice(0, 1));
    await waitForBatch(client, other.id);
    await expect(client.batches.cancel(other.id)).rejects.toBeInstanceOf(ConflictError);

    // With cancelledBatchLines 'omit', a cancelled batch that never ran has neither file.
    const omitting = await startFakeOpenAiServer({ cancelledBatchLines: 'omit' });
    try {
      const omittingClient = clientOf(omitting);
      omitting.holdBatches(true);
      const { batch: held } = await submit(omittingClient, lines);
      await waitForBatch(omittingClient, held.id, (b) => b.status === 'in_progress');
      await omittingClient.batches.cancel(held.id);
      const { batch: cancelled } = await waitForBatch(omittingClient, held.id);
      expect(cancelled).toMatchObject({ status: 'cancelled', output_file_id: null, error_file_id: null, request_counts: { total: 10, completed: 0, failed: 0 } });
      expect(omitting.batchStats()).toMatchObject({ batchesCancelled: 1, linesExecuted: 0 });
    } finally {
      await omitting.close();
    }
  });

  it('lists batches newest first with cursor pages, so a client finds its batch by metadata', async () => {
    const line = [requestLine('only', { model: MODEL, input: 'listed' })];
    const ids: string[] = [];
    for (const n of ['0', '1', '2']) ids.push((await submit(client, line, { job: 'list-test', n })).batch.id);

    const raw = (await client.get('/batches', { query: { limit: 2 } })) as { object: string; data: Batch[]; first_id: string; last_id: string; has_more: boolean };
    expect(raw).toMatchObject({ object: 'list', first_id: ids[2], last_id: ids[1], has_more: true });
    const page = await client.batches.list({ limit: 2 });
    expect(page.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(page.hasNextPage()).toBe(true);
    const next = await page.getNextPage();
    expect(next.data.map((b) => b.id)).toEqual([ids[0]]);
    expect(next.hasNextPage()).toBe(false);

    let found: string | undefined;
    for await (const batch of client.batches.list({ limit: 1 })) {
      if (batch.metadata?.job === 'list-test' && batch.metadata?.n === '1') {
        found = batch.id;
        break;
      }
    }
    expect(found).toBe(ids[1]);
    await expect(client.batches.list({ limit: 101 })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('holds batches in_progress until released, so a restarted client can pick its batch up and see it complete', async () => {
    server.holdBatches(true);
    const lines = ['h0', 'h1', 'h2'].map((id) => requestLine(id, { model: MODEL, input: `held ${id}` }));
    const { batch: created } = await submit(client, lines, { owner: 'restart-test' });
    await waitForBatch(client, created.id, (b) => b.status === 'in_progress');
    await sleep(600);

    // A new client (the application after a restart) finds the batch by its metadata.
    const restarted = clientOf(server);
    let found: Batch | undefined;
    for await (const batch of restarted.batches.list({ limit: 100 })) if (batch.metadata?.owner === 'restart-test') found = batch;
    expect(found).toMatchObject({ id: created.id, status: 'in_progress', request_counts: { total: 3, completed: 0, failed: 0 } });
    expect(server.batchStats().linesExecuted).toBe(0);

    server.holdBatches(false);
    const { batch } = await waitForBatch(restarted, created.id);
    expect(batch).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 3, failed: 0 } });
    expect((await download(restarted, batch.output_file_id)).map((line) => line.custom_id)).toEqual(['h0', 'h1', 'h2']);
  });

  it('serves, lists and deletes files, answers 404 for unknown ids and 401 without the key', async () => {
    const content = jsonl([requestLine('f', { model: MODEL, input: 'stored' })]);
    const file = await client.files.create({ file: await toFile(Buffer.from(content), 'stored.jsonl'), purpose: 'batch' });

    expect(await client.files.retrieve(file.id)).toEqual(file);
    expect(file.expires_at).toBe(file.created_at + 30 * 86_400);
    expect(await (await client.files.content(file.id)).text()).toBe(content);
    expect((await client.files.list()).data.map((f) => f.id)).toEqual([file.id]);

    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.files.content(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.files.delete(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.batches.retrieve('batch_unknown')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.batches.cancel('batch_unknown')).rejects.toBeInstanceOf(NotFoundError);

    const stranger = clientOf(server, 'sk-wrong-key');
    await expect(stranger.files.list()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(stranger.batches.list()).rejects.toBeInstanceOf(AuthenticationError);
    expect(server.requests.filter((r) => r.status === 401).map((r) => r.path)).toEqual(['/v1/files', '/v1/batches']);
  });

  it('reset() drops files and batches, stops running batches and restores the batch controls', async () => {
    server.holdBatches(true);
    server.reverseBatchOutput = true;
    server.failBatchRequests(() => ({ status: 500, message: 'Always failing.' }));
    const { file, batch } = await submit(client, [requestLine('r', { model: MODEL, input: 'reset me' })]);
    await waitForBatch(client, batch.id, (b) => b.status === 'in_progress');

    server.reset();
    expect(server.files.size).toBe(0);
    expect(server.batches.size).toBe(0);
    expect(server.batchLines).toEqual([]);
    expect(server.batchStats()).toEqual({ filesUploaded: 0, batchesCreated: 0, batchesCancelled: 0, linesExecuted: 0, inputsEmbedded: 0, tokensBilled: 0 });
    await expect(client.batches.retrieve(batch.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);

    // Hold, failures and reversed output are gone: a new batch completes with its lines in input order.
    const lines = ['n0', 'n1', 'n2'].map((id) => requestLine(id, { model: MODEL, input: `after reset ${id}` }));
    const { batch: fresh } = await submit(client, lines);
    const { batch: done } = await waitForBatch(client, fresh.id);
    expect(done.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect((await download(client, done.output_file_id)).map((line) => line.custom_id)).toEqual(['n0', 'n1', 'n2']);
    expect(server.batchStats().linesExecuted).toBe(3);
  });

  it('writes output lines in reverse order when asked, so clients must match by custom_id', async () => {
    server.reverseBatchOutput = true;
    const lines = ['v0', 'v1', 'v2'].map((id) => requestLine(id, { model: MODEL, input: `reversed ${id}` }));
    const { batch: created } = await submit(client, lines);
    const { batch } = await waitForBatch(client, created.id);
    const output = await download(client, batch.output_file_id);
    expect(output.map((line) => line.custom_id)).toEqual(['v2', 'v1', 'v0']);
    expect(output[0].response!.body.data[0].embedding).toEqual(Array.from(fakeEmbedding('reversed v2', DIMENSIONS)));
  });

  it('runs a 5,000-line batch progressively, in slices, while the shared event loop keeps ticking', async () => {
    fakeTokenCount('warm the tokenizer up before measuring');
    server.setBatchTiming({ processMs: 1_000 });
    const count = 5_000;
    const lines = Array.from({ length: count }, (_, i) => requestLine(`big-${i}`, { model: MODEL, input: `line number ${i} of a big file` }));
    let last = Date.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = Date.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    try {
      const { batch: created } = await submit(client, lines);
      const progress = new Set<number>();
      const { batch } = await waitForBatch(
        client,
        created.id,
        (b) => {
          progress.add(b.request_counts!.completed);
          return ENDED.includes(b.status);
        },
        60_000,
      );
      expect(batch.status).toBe('completed');
      // Lines run in steps over processMs, so polls see counts between none and all.
      expect([...progress].some((completed) => completed > 0 && completed < count)).toBe(true);
      expect(batch.request_counts).toEqual({ total: count, completed: count, failed: 0 });
      const output = await download(client, batch.output_file_id);
      expect(output).toHaveLength(count);
      expect(new Set(output.map((line) => line.custom_id)).size).toBe(count);
      expect(server.batchStats().inputsEmbedded).toBe(count);
    } finally {
      clearInterval(ticker);
    }
    // A wall-clock bound, so generous enough for a loaded machine where the OS deschedules the process; it
    // catches a server that blocks the loop for a long stretch, not a single slice.
    expect(longestGap).toBeLessThan(1_000);
  });
});
