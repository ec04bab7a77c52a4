import { EntitySnapshotCache } from './entity-snapshot.cache';
import type { EntitySnapshot } from './entity-snapshot.loader';

function snapshot(entityId: string, text = `text of ${entityId}`): EntitySnapshot {
  return { entityId, generationId: 1, text, hash: `h-${entityId}`, metadata: {}, version: '1', storedHash: null, storedMetadata: null };
}

describe('EntitySnapshotCache', () => {
  it('hands a snapshot out once, by entity type and id', () => {
    const cache = new EntitySnapshotCache();
    cache.put('product', [snapshot('1'), snapshot('2')]);
    cache.put('ticket', [snapshot('1', 'a ticket')]);

    expect(cache.take('product', '1')?.text).toBe('text of 1');
    expect(cache.take('product', '1')).toBeUndefined();
    expect(cache.take('ticket', '1')?.text).toBe('a ticket');
    expect(cache.take('ticket', '2')).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('keeps the newest snapshot of an entity read twice', () => {
    const cache = new EntitySnapshotCache();
    cache.put('product', [snapshot('1', 'old')]);
    cache.put('product', [snapshot('1', 'new')]);
    expect(cache.size).toBe(1);
    expect(cache.take('product', '1')?.text).toBe('new');
  });

  it('drops the oldest entries beyond 20,000 snapshots', () => {
    const cache = new EntitySnapshotCache();
    cache.put('product', Array.from({ length: 20_005 }, (_, i) => snapshot(String(i))));
    expect(cache.size).toBe(20_000);
    expect(cache.take('product', '0')).toBeUndefined();
    expect(cache.take('product', '4')).toBeUndefined();
    expect(cache.take('product', '5')).toBeDefined();
    expect(cache.take('product', '20004')).toBeDefined();
  });

  it('drops the oldest entries when their texts pass 16 Mi characters, however few they are', () => {
    const cache = new EntitySnapshotCache();
    const long = 'z'.repeat(4 * 1024 * 1024);
    cache.put('doc', ['a', 'b', 'c', 'd', 'e'].map((id) => snapshot(id, long)));
    expect(cache.size).toBe(4);
    expect(cache.take('doc', 'a')).toBeUndefined();
    expect(cache.take('doc', 'e')?.text.length).toBe(long.length);
  });
});
