/**
 * UTF-8 bytes assumed per token. Real BPE tokenizers average about 4 bytes per token on English prose but
 * fewer on code, numbers and non-Latin scripts; 3 over-estimates on purpose, so texts cut to an estimated
 * limit stay under the provider's real limit and rate-limit budgets are not overspent.
 */
const BYTES_PER_TOKEN = 3;

/**
 * Conservative token count of `text` for providers without an exact tokenizer:
 * `ceil(utf8 bytes / 3)`, at least 1 for any non-empty text, 0 for the empty string.
 *
 * @example
 * ```ts
 * estimateTokens('hello world'); // 4 (11 bytes)
 * ```
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  return Math.max(1, Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN));
}

/**
 * Cuts `text` to the longest prefix whose {@link estimateTokens} is at most `maxTokens`.
 * Cuts only between code points, so a surrogate pair (emoji, rare CJK) is never split into invalid halves.
 * Returns `text` unchanged when it already fits, and `''` when `maxTokens` is below 1.
 *
 * @example
 * ```ts
 * truncateToTokens('a'.repeat(100), 10); // 'a'.repeat(30)
 * ```
 */
export function truncateToTokens(text: string, maxTokens: number): string {
  if (estimateTokens(text) <= maxTokens) return text;
  if (!(maxTokens >= 1)) return '';
  const maxBytes = Math.floor(maxTokens) * BYTES_PER_TOKEN;
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const code = text.codePointAt(end)!;
    const units = code > 0xffff ? 2 : 1;
    // Lone surrogates count 3 bytes: Buffer encodes them as U+FFFD, which is what the estimate measured.
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code <= 0xffff ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += units;
  }
  return text.slice(0, end);
}
