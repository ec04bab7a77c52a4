import type { Tiktoken, TiktokenBPE } from 'js-tiktoken';

/**
 * How the OpenAI provider counts tokens: a BPE encoding of `js-tiktoken` (`cl100k_base` is what OpenAI's
 * embedding models use), or `estimate` (`ceil(utf8 bytes / 3)`, deliberately high) for models whose
 * tokenizer is unknown, such as a local server's.
 */
export type OpenAiTokenizer = 'cl100k_base' | 'o200k_base' | 'estimate';

/** The tokenizers {@link OpenAiTokenizer} may name, for validation messages. */
export const OPENAI_TOKENIZERS: readonly OpenAiTokenizer[] = ['cl100k_base', 'o200k_base', 'estimate'];

/**
 * Encodings are large (a 100K-entry rank table that takes about a second to parse): each is loaded once per
 * process, on first use, through js-tiktoken's `lite` entry and the one rank file needed — its main entry
 * would load every encoding's table when the library is imported, for applications that never use one.
 */
const encodings = new Map<Exclude<OpenAiTokenizer, 'estimate'>, Tiktoken>();

/**
 * The tokenizer for `model` when none is configured: OpenAI's embedding models (`text-embedding-3-small`,
 * `-3-large`, `text-embedding-ada-002`) count in `cl100k_base`; anything else is estimated, because a
 * wrong BPE count would be no better than the estimate and not conservative.
 */
export function defaultTokenizerFor(model: string): OpenAiTokenizer {
  return /^text-embedding-(3-(small|large)|ada-002)$/.test(model) ? 'cl100k_base' : 'estimate';
}

/**
 * A function counting the tokens of a text with `tokenizer`, or undefined for `estimate` (the embedding
 * service then uses its byte estimate). Special-token strings such as `<|endoftext|>` are counted as
 * ordinary text, which is what the embeddings endpoint does with user input.
 *
 * @example
 * ```ts
 * const count = tokenCounterFor('cl100k_base')!;
 * count('red running shoes'); // 3
 * ```
 */
export function tokenCounterFor(tokenizer: OpenAiTokenizer): ((text: string) => number) | undefined {
  if (tokenizer === 'estimate') return undefined;
  return (text: string) => encoding(tokenizer).encode(text, [], []).length;
}

function encoding(name: Exclude<OpenAiTokenizer, 'estimate'>): Tiktoken {
  let found = encodings.get(name);
  if (!found) {
    // Subpath entries of the package's exports map, loaded only here (see `encodings`).
    const { Tiktoken: Encoder } = require('js-tiktoken/lite') as { Tiktoken: new (ranks: TiktokenBPE) => Tiktoken };
    // The CommonJS rank files export the table itself (their ESM twins as `default`).
    const ranks = (name === 'cl100k_base' ? require('js-tiktoken/ranks/cl100k_base') : require('js-tiktoken/ranks/o200k_base')) as TiktokenBPE & { default?: TiktokenBPE };
    found = new Encoder(ranks.default ?? ranks);
    encodings.set(name, found);
  }
  return found;
}
