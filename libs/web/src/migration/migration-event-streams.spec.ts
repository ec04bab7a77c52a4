import { HttpException } from '@nestjs/common';
import { MAX_STREAMS_PER_CALLER, MigrationEventStreams } from './migration-event-streams';

describe('MigrationEventStreams', () => {
  it('lets a caller hold at most MAX_STREAMS_PER_CALLER streams, per caller, and frees a slot once per release', () => {
    const streams = new MigrationEventStreams();
    const releases = Array.from({ length: MAX_STREAMS_PER_CALLER }, () => streams.acquire('grafana'));
    expect(() => streams.acquire('grafana')).toThrow(HttpException);
    expect(() => streams.acquire('grafana')).toThrow(/"grafana" already has 10 open progress streams/);
    expect(() => streams.acquire('ops')).not.toThrow();
    releases[0]();
    releases[0]();
    const again = streams.acquire('grafana');
    expect(() => streams.acquire('grafana')).toThrow(HttpException);
    again();
  });

  it('signals shutdown once', () => {
    const streams = new MigrationEventStreams();
    const seen: string[] = [];
    streams.closing$.subscribe({ next: () => seen.push('closing'), complete: () => seen.push('complete') });
    streams.onModuleDestroy();
    expect(seen).toEqual(['closing', 'complete']);
  });
});
