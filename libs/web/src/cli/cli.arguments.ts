import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { usageError } from './cli.errors';

// Argument parsers for commander options: a bad value fails before any request, naming the range.

/** An integer option from `min` to `max`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `Expected a whole number of at least ${min}.` : `Expected a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}.`,
      );
    }
    return n;
  };
}

/** A number option of at least `min`. */
export function decimal(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min) throw new InvalidArgumentError(`Expected a number of at least ${min}.`);
    return n;
  };
}

/**
 * A limit that `none` removes: the parsed value, or the string `none` (commander turns a parser's null into
 * an empty string, so {@link noneToNull} maps it for the request body).
 */
export function orNone<T>(parse: (value: string) => T): (value: string) => T | 'none' {
  return (value) => (value.trim().toLowerCase() === 'none' ? 'none' : parse(value));
}

/** `none` (from {@link orNone}) as the JSON null that removes a limit. */
export function noneToNull<T>(value: T | 'none' | undefined): T | null | undefined {
  return value === 'none' ? null : value;
}

/** Entity ids from `--ids` and `--ids-file` (one per line, blank lines and `#` comments skipped); undefined when neither is given. */
export function entityIds(ids: string[] | undefined, file: string | undefined): string[] | undefined {
  if (!ids && !file) return undefined;
  const all = [...(ids ?? [])];
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw usageError(`Cannot read --ids-file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
    }
    for (const line of text.split(/\r?\n/)) {
      const id = line.trim();
      if (id && !id.startsWith('#')) all.push(id);
    }
  }
  if (all.length === 0) throw usageError(`--ids-file ${file} holds no ids; write one entity id per line.`);
  return all;
}

/** A JSON file's content. */
export function jsonFile(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError(`Cannot read ${flag} ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError(`${flag} ${file} is not valid JSON (${(error as Error).message}).`);
  }
}

/** A request body of the flags given: undefined ones left out, so the server's defaults apply (null stays: it removes a limit). */
export function given(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
