import { Injectable } from '@nestjs/common';
import type { EntitySnapshot } from './entity-snapshot.loader';

/** Most snapshots held; a backfill keeps at most a few pages per job in the queue, far fewer than this. */
const MAX_ENTRIES = 20_000;
/** Most text held (UTF-16 code units), so entities with long texts cannot make the cache large. */
const MAX_TEXT_CHARS = 16 * 1024 * 1024;

/**
 * Snapshots a backfill producer has just read, handed to this process's indexing workers so they need
 * not read the same rows again moments later (on the embedded database, that second read was about a
 * tenth of the pipeline's database time).
 *
 * A snapshot is only a hint: the worker still locks each row and compares its version (`xmin`) with the
 * snapshot's before writing its vector, and re-queues the item when the row changed, so a stale snapshot
 * can never be written. Entries are taken once; the oldest are dropped when the cache is full, and a
 * worker that finds none (another instance, an evicted entry) reads the row as it always did.
 * One instance per application (no static state), so two apps in one process never share entries.
 * @internal
 */
@Injectable()
export class EntitySnapshotCache {
  private readonly entries = new Map<string, EntitySnapshot>();
  private chars = 0;

  /** Keeps `snapshots` of `entityType` for the workers, replacing older entries of the same entities. */
  put(entityType: string, snapshots: Iterable<EntitySnapshot>): void {
    for (const snapshot of snapshots) {
      const key = keyOf(entityType, snapshot.entityId);
      this.remove(key);
      this.entries.set(key, snapshot);
      this.chars += snapshot.text.length;
    }
    // Map iteration is insertion order, so the first keys are the oldest entries.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES && this.chars <= MAX_TEXT_CHARS) break;
      this.remove(key);
    }
  }

  /** Removes and returns the snapshot of one entity, if held. */
  take(entityType: string, entityId: string): EntitySnapshot | undefined {
    const key = keyOf(entityType, entityId);
    const snapshot = this.entries.get(key);
    if (snapshot) this.remove(key);
    return snapshot;
  }

  /** Number of snapshots held. */
  get size(): number {
    return this.entries.size;
  }

  private remove(key: string): void {
    const snapshot = this.entries.get(key);
    if (!snapshot) return;
    this.entries.delete(key);
    this.chars -= snapshot.text.length;
  }
}

function keyOf(entityType: string, entityId: string): string {
  return `${entityType}\u0000${entityId}`;
}
