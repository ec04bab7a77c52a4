/**
 * The type of js-tiktoken's rank files for this repository's `moduleResolution: node`, which does not read a
 * package's `exports` map: the package declares them only there (`dist/ranks/*.d.ts`), so `tsc` could not
 * type `import cl100kRanks from 'js-tiktoken/ranks/cl100k_base'` in fake-openai-server.ts. At run time Node
 * resolves the import through `exports` as before.
 */
declare module 'js-tiktoken/ranks/cl100k_base' {
  import type { TiktokenBPE } from 'js-tiktoken/lite';
  const ranks: TiktokenBPE;
  export default ranks;
}
