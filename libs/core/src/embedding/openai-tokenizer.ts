/**
 * How the OpenAI provider counts tokens: a BPE encoding (`cl100k_base` is what OpenAI's embedding models use),
 * counted with `gpt-tokenizer`, or `estimate` (`ceil(utf8 bytes / 3)`, deliberately high) for models whose
 * tokenizer is unknown, such as a local server's.
 */
export type OpenAiTokenizer = 'cl100k_base' | 'o200k_base' | 'estimate';

/** The tokenizers {@link OpenAiTokenizer} may name, for validation messages. */
export const OPENAI_TOKENIZERS: readonly OpenAiTokenizer[] = ['cl100k_base', 'o200k_base', 'estimate'];

/** The part of a `gpt-tokenizer` encoding module this file uses. */
interface Encoding {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

/**
 * Encodings are large (a rank table of 100K–200K entries that takes 0.2–0.3 s to load): each is loaded once
 * per process, on first use, from its own module — the package's main entry would load an encoding for
 * applications that never count a token. `gpt-tokenizer` rather than `js-tiktoken`: it counts the same
 * tokens about six times faster (see ADR 0007), and the count runs on the event loop that also serves
 * live requests.
 */
const encodings = new Map<Exclude<OpenAiTokenizer, 'estimate'>, Encoding>();

/** Special-token strings (`<|endoftext|>`) in user text are ordinary text to the embeddings endpoint. */
const NO_SPECIAL_TOKENS = { disallowedSpecial: new Set<string>() };

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
  return (text: string) => encoding(tokenizer).countTokens(text, NO_SPECIAL_TOKENS);
}

function encoding(name: Exclude<OpenAiTokenizer, 'estimate'>): Encoding {
  let found = encodings.get(name);
  if (!found) {
    // Subpath entries of the package's exports map, loaded only here (see `encodings`).
    found = (name === 'cl100k_base' ? require('gpt-tokenizer/cjs/encoding/cl100k_base') : require('gpt-tokenizer/cjs/encoding/o200k_base')) as Encoding;
    encodings.set(name, found);
  }
  return found;
}
