import type { EmbeddingProvider } from './embedding-provider.interface';
import { EmbeddingProviderError, EmbeddingQuotaExceededError, EmbeddingRateLimitError } from './embedding.errors';
import type { ProviderRateLimiter } from './provider-rate-limiter';
import { estimateTokens, truncateToTokens } from './token-estimate';

/** One input's result from {@link EmbeddingService.embedTexts}: its vector, or why it cannot be embedded. */
export type EmbedOutcome = { vector: Float32Array } | { error: string };

/** Options of {@link EmbeddingService}. */
export interface EmbeddingServiceOptions {
  /** What to do with an input over the provider's per-input token limit: cut it, or report it as failed. */
  overlongInput: 'truncate' | 'fail';
  /** How long every caller waits after an exhausted quota. Default {@link DEFAULT_QUOTA_BACKOFF_MS}. */
  quotaBackoffMs?: number;
}

/** An input that will be sent, with its position in the caller's array. */
interface PreparedInput {
  index: number;
  text: string;
  tokens: number;
}

/** Default of how long every caller waits after the provider reports an exhausted quota. */
export const DEFAULT_QUOTA_BACKOFF_MS = 60_000;

/** Attempts to shrink a truncated text whose exact count still exceeds the limit before giving up. */
const MAX_TRUNCATION_ROUNDS = 8;

/**
 * Turns texts into vectors through the configured provider while respecting its limits: per-input token
 * limit (truncate or fail), inputs and tokens per request (splits into as few requests as those allow,
 * keeping input order), and the shared {@link ProviderRateLimiter} (every request waits for capacity and
 * feeds the provider's rate-limit hints back).
 *
 * Problems with a single input (empty, too long with `overlongInput: 'fail'`) become that input's
 * `{ error }` and are never sent. Provider failures reject the whole call: after a 429 the limiter is told
 * to back off and the error is rethrown, so the caller reschedules the batch.
 *
 * @example
 * ```ts
 * const service = new EmbeddingService(provider, limiter, { overlongInput: 'truncate' });
 * const outcomes = await service.embedTexts(['red shoes', 'blue hat']);
 * ```
 */
export class EmbeddingService {
  constructor(
    private readonly embeddingProvider: EmbeddingProvider,
    private readonly limiter: ProviderRateLimiter,
    private readonly options: EmbeddingServiceOptions,
  ) {}

  /** How long work waits after the provider reports an exhausted quota. */
  get quotaBackoffMs(): number {
    return this.options.quotaBackoffMs ?? DEFAULT_QUOTA_BACKOFF_MS;
  }

  /** The provider behind this service (its model and dimensions identify the vectors it produces). */
  get provider(): EmbeddingProvider {
    return this.embeddingProvider;
  }

  /**
   * Embeds `texts` and returns one outcome per text, in input order. Rejects with the provider's error
   * (after {@link ProviderRateLimiter.backOff} for an {@link EmbeddingRateLimitError}) or with
   * `signal.reason` when aborted.
   */
  async embedTexts(texts: string[], signal?: AbortSignal): Promise<EmbedOutcome[]> {
    const outcomes = new Array<EmbedOutcome>(texts.length);
    const prepared: PreparedInput[] = [];
    texts.forEach((text, index) => {
      const input = this.prepare(text, index);
      if ('error' in input) outcomes[index] = input;
      else prepared.push(input);
    });

    for (const request of this.split(prepared)) {
      await this.sendIsolating(request, outcomes, signal);
    }
    return outcomes;
  }

  /**
   * Sends one request; when the provider rejects it as invalid input (400/413/422), splits it in halves
   * and retries them, so that only the offending input fails (as its own `{ error }`) instead of the
   * whole batch — at the cost of about log2(n) extra requests, and only when a rejection happens.
   */
  private async sendIsolating(request: PreparedInput[], outcomes: EmbedOutcome[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const tokens = request.reduce((sum, input) => sum + input.tokens, 0);
    await this.limiter.acquire(tokens, signal);
    try {
      const vectors = await this.send(request.map((input) => input.text), signal);
      request.forEach((input, i) => (outcomes[input.index] = { vector: vectors[i] }));
    } catch (error) {
      if (!isInputRejection(error)) throw error;
      if (request.length === 1) {
        outcomes[request[0].index] = { error: `The embedding provider rejected this input: ${error.message}` };
        return;
      }
      const middle = Math.ceil(request.length / 2);
      await this.sendIsolating(request.slice(0, middle), outcomes, signal);
      await this.sendIsolating(request.slice(middle), outcomes, signal);
    }
  }

  private async send(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const provider = this.embeddingProvider;
    let result;
    try {
      result = await provider.embed(texts, signal);
    } catch (error) {
      if (error instanceof EmbeddingRateLimitError) this.limiter.backOff(error.retryAfterMs);
      // Without quota every request fails: hold all callers back instead of burning through the queue.
      if (error instanceof EmbeddingQuotaExceededError) this.limiter.backOff(this.quotaBackoffMs);
      throw error;
    }
    if (result.rateLimit) this.limiter.observe(result.rateLimit);
    // Custom providers are checked here too: a missing or short vector would otherwise be stored silently.
    if (result.vectors.length !== texts.length) {
      throw new EmbeddingProviderError(
        provider.name,
        `Embedding provider "${provider.name}" (model "${provider.model}") returned ${result.vectors.length} vectors ` +
          `for ${texts.length} inputs. Fix the provider so embed() returns one vector per input, in order.`,
        false,
      );
    }
    const bad = result.vectors.findIndex((vector) => !vector || vector.length !== provider.dimensions);
    if (bad >= 0) {
      throw new EmbeddingProviderError(
        provider.name,
        `Embedding provider "${provider.name}" (model "${provider.model}") returned a vector of length ` +
          `${result.vectors[bad]?.length ?? 0} for input ${bad} of the request, but its dimensions are ` +
          `${provider.dimensions}. Fix the provider or its dimensions setting.`,
        false,
      );
    }
    return result.vectors;
  }

  private prepare(text: string, index: number): PreparedInput | { error: string } {
    const provider = this.embeddingProvider;
    if (typeof text !== 'string' || text.trim() === '') {
      return {
        error:
          `Input ${index} is empty or only whitespace, so there is nothing to embed; ` +
          'check the fields the entity configuration builds its text from.',
      };
    }
    // One input must also fit in one request on its own.
    const limit = Math.min(provider.maxTokensPerInput, provider.maxTokensPerRequest);
    const tokens = this.count(text);
    if (tokens <= limit) return { index, text, tokens };
    if (this.options.overlongInput === 'fail') {
      return {
        error:
          `Input ${index} has ${tokens} tokens, more than the ${limit}-token limit per input of embedding model ` +
          `"${provider.model}", so it was not sent. Shorten the text or set overlongInput to 'truncate'.`,
      };
    }
    const truncated = this.truncate(text, limit);
    if (truncated === undefined) {
      return {
        error:
          `Input ${index} has ${tokens} tokens, more than the ${limit}-token limit per input of embedding model ` +
          `"${provider.model}", and could not be truncated to fit. Shorten the text.`,
      };
    }
    return { index, text: truncated.text, tokens: truncated.tokens };
  }

  /**
   * Cuts `text` to `limit` tokens by the estimate, then keeps cutting while an exact tokenizer
   * (`provider.countTokens`) still counts more than the limit.
   */
  private truncate(text: string, limit: number): { text: string; tokens: number } | undefined {
    let candidate = truncateToTokens(text, limit);
    for (let round = 0; round < MAX_TRUNCATION_ROUNDS; round++) {
      const tokens = this.count(candidate);
      if (candidate.trim() === '') return undefined;
      if (tokens <= limit) return { text: candidate, tokens };
      const estimate = estimateTokens(candidate);
      const target = Math.min(estimate - 1, Math.floor((estimate * limit) / tokens));
      candidate = truncateToTokens(candidate, target);
    }
    return undefined;
  }

  private count(text: string): number {
    return this.embeddingProvider.countTokens ? this.embeddingProvider.countTokens(text) : estimateTokens(text);
  }

  /** Greedy packing in input order, which is the fewest requests for contiguous, order-keeping splits. */
  private split(inputs: PreparedInput[]): PreparedInput[][] {
    const { maxInputsPerRequest, maxTokensPerRequest } = this.embeddingProvider;
    const requests: PreparedInput[][] = [];
    let current: PreparedInput[] = [];
    let tokens = 0;
    for (const input of inputs) {
      if (current.length > 0 && (current.length >= maxInputsPerRequest || tokens + input.tokens > maxTokensPerRequest)) {
        requests.push(current);
        current = [];
        tokens = 0;
      }
      current.push(input);
      tokens += input.tokens;
    }
    if (current.length > 0) requests.push(current);
    return requests;
  }
}

/** A non-retryable answer that blames the request's content rather than the account or the endpoint. */
function isInputRejection(error: unknown): error is EmbeddingProviderError {
  return (
    error instanceof EmbeddingProviderError &&
    !error.retryable &&
    (error.status === 400 || error.status === 413 || error.status === 422)
  );
}
