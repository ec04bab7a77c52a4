/**
 * Life of an index generation:
 * `BUILDING` (backfill running, then its vector index being built) → `READY` (complete, can serve)
 * → `SERVING` (answers search) → `READY` again when another generation takes over (kept current for
 * rollback) → `RETIRED` (rows and index deleted). `FAILED` (cannot be kept current here, e.g. its provider
 * is no longer configured) and `DISCARDED` (given up before it served) are ends too.
 *
 * Live writes are applied to every generation in a maintained state (BUILDING, READY, SERVING).
 */
export enum IndexGenerationState {
  BUILDING = 'BUILDING',
  READY = 'READY',
  SERVING = 'SERVING',
  RETIRED = 'RETIRED',
  FAILED = 'FAILED',
  DISCARDED = 'DISCARDED',
}

/** States whose generations live writes keep current. */
export const MAINTAINED_GENERATION_STATES: readonly IndexGenerationState[] = [
  IndexGenerationState.BUILDING,
  IndexGenerationState.READY,
  IndexGenerationState.SERVING,
];
