import OpenAI, { toFile } from 'openai';
import type { EmbeddingBatchApi, EmbeddingBatchRequest, EmbeddingBatchResult, EmbeddingBatchStatus } from './embedding-provider.interface';
import type { OpenAiEmbeddingProvider, RawEmbedding } from './openai-embedding.provider';

/** How many of the most recent batches {@link OpenAiEmbeddingBatches.find} looks through. */
const FIND_SCAN_LIMIT = 500;

/** One line of a batch's output or error file. */
interface BatchFileLine {
  custom_id?: string;
  response?: { status_code?: number; body?: { data?: RawEmbedding[]; usage?: { total_tokens?: number; prompt_tokens?: number }; error?: { message?: string } } } | null;
  error?: { code?: string; message?: string } | null;
}

/**
 * OpenAI's Batch API for embeddings: the requests go up as a JSONL file (Files API, purpose `batch`), a
 * batch runs them within 24 hours at half the synchronous price, and the results come back as an output
 * file (successes) and an error file (failures, and requests an expired batch never ran).
 *
 * Each line's body is exactly what `embed()` sends, so a batch's vectors are the synchronous path's.
 * @internal
 */
export class OpenAiEmbeddingBatches implements EmbeddingBatchApi {
  constructor(
    private readonly client: OpenAI,
    private readonly provider: OpenAiEmbeddingProvider,
  ) {}

  async submit(requests: EmbeddingBatchRequest[], metadata: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const lines = requests.map((r) =>
      JSON.stringify({ custom_id: r.customId, method: 'POST', url: '/v1/embeddings', body: this.provider.requestBody(r.texts) }),
    );
    return this.call(async () => {
      const file = await this.client.files.create(
        { file: await toFile(Buffer.from(lines.join('\n') + '\n'), `embeddings-${metadata.ai_batch ?? 'batch'}.jsonl`), purpose: 'batch' },
        { signal },
      );
      const batch = await this.client.batches.create(
        { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h', metadata },
        { signal },
      );
      return batch.id;
    }, signal);
  }

  async find(metadata: Record<string, string>): Promise<string | undefined> {
    return this.call(async () => {
      let seen = 0;
      for await (const batch of this.client.batches.list({ limit: 100 })) {
        const stored = batch.metadata ?? {};
        if (Object.entries(metadata).every(([key, value]) => stored[key] === value)) return batch.id;
        if (++seen >= FIND_SCAN_LIMIT) break;
      }
      return undefined;
    });
  }

  async status(batchId: string): Promise<EmbeddingBatchStatus> {
    const batch = await this.call(() => this.client.batches.retrieve(batchId));
    const state =
      batch.status === 'completed' || batch.status === 'expired' || batch.status === 'cancelled' || batch.status === 'failed' ? batch.status : 'pending';
    const errors = batch.errors?.data?.map((e) => `${e.message ?? e.code}${e.line != null ? ` (line ${e.line})` : ''}`) ?? [];
    return {
      id: batch.id,
      state,
      providerStatus: batch.status,
      error: errors.length > 0 ? errors.slice(0, 3).join('; ') : undefined,
      outputFileId: batch.output_file_id ?? null,
      errorFileId: batch.error_file_id ?? null,
      completedRequests: batch.request_counts?.completed,
      failedRequests: batch.request_counts?.failed,
    };
  }

  async results(status: EmbeddingBatchStatus, inputs: Map<string, number>): Promise<Map<string, EmbeddingBatchResult>> {
    const results = new Map<string, EmbeddingBatchResult>();
    for (const fileId of [status.outputFileId, status.errorFileId]) {
      if (!fileId) continue;
      const text = await this.call(async () => (await this.client.files.content(fileId)).text());
      for (const raw of text.split('\n')) {
        if (raw.trim() === '') continue;
        const line = JSON.parse(raw) as BatchFileLine;
        const expected = line.custom_id === undefined ? undefined : inputs.get(line.custom_id);
        if (expected === undefined) continue;
        results.set(line.custom_id!, this.lineResult(line, expected));
      }
    }
    const why =
      status.state === 'failed'
        ? `The provider rejected batch ${status.id}: ${status.error ?? 'no reason given'}.`
        : `Batch ${status.id} ended (${status.providerStatus}) before this request ran.`;
    for (const customId of inputs.keys()) {
      if (!results.has(customId)) results.set(customId, { error: why, retryable: status.state === 'failed', notRun: status.state !== 'failed' });
    }
    return results;
  }

  async cancel(batchId: string): Promise<void> {
    await this.call(() => this.client.batches.cancel(batchId));
  }

  private lineResult(line: BatchFileLine, expected: number): EmbeddingBatchResult {
    const statusCode = line.response?.status_code;
    if (line.response && statusCode === 200) {
      try {
        const body = line.response.body ?? {};
        return { vectors: this.provider.vectorsInInputOrder(body.data, expected), tokens: body.usage?.total_tokens ?? body.usage?.prompt_tokens };
      } catch (error) {
        return { error: (error as Error).message, retryable: false, notRun: false };
      }
    }
    if (line.error) {
      // `batch_expired` and the like: the request never ran.
      return { error: this.provider.redact(`${line.error.message ?? line.error.code}`), retryable: true, notRun: true };
    }
    const message = this.provider.redact(line.response?.body?.error?.message ?? 'no message');
    const retryable = statusCode === undefined || statusCode >= 500 || statusCode === 429 || statusCode === 408 || statusCode === 409;
    return { error: `The provider answered HTTP ${statusCode ?? '?'} to this request of the batch: ${message}.`, retryable, notRun: false };
  }

  /** Runs an API call with the synchronous path's error mapping (retryable flag, API key scrubbed). */
  private async call<T>(run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      throw this.provider.toEmbeddingError(error, false);
    }
  }
}
