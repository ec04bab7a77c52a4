import { execFile } from 'child_process';
import { join } from 'path';
import { ProviderRateLimiter } from './provider-rate-limiter';

/** Resolves with the elapsed ms of `promise`. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const start = Date.now();
  await promise;
  return Date.now() - start;
}

/** Spends a limiter's whole burst so the next caller must wait for refill. */
async function exhaustRequests(limiter: ProviderRateLimiter, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await limiter.acquire(1);
}

describe('ProviderRateLimiter', () => {
  it('serves interactive callers (searches, live indexing) ahead of every waiting bulk (backfill) caller', async () => {
    const limiter = new ProviderRateLimiter({ requestsPerMinute: 600 }); // 10 per second after the burst
    await exhaustRequests(limiter, 590);
    const order: string[] = [];
    const bulk = [1, 2, 3].map((i) => limiter.acquire(1, undefined, 'bulk').then(() => order.push(`bulk${i}`)));
    // Arrives after three bulk callers queued, and is still released first.
    const live = limiter.acquire(1, undefined, 'interactive').then(() => order.push('live'));
    await Promise.all([...bulk, live]);
    expect(order).toEqual(['live', 'bulk1', 'bulk2', 'bulk3']);
  });

  it('clearBackOff lifts a back-off at once for the callers already waiting', async () => {
    const limiter = new ProviderRateLimiter({});
    limiter.backOff(60_000);
    const waiting = timed(limiter.acquire(1));
    limiter.clearBackOff();
    expect(await waiting).toBeLessThan(500);
  });

  it('lets everything through at once when unlimited', async () => {
    const limiter = new ProviderRateLimiter({});
    const elapsed = await timed(Promise.all(Array.from({ length: 1000 }, () => limiter.acquire(100_000))));
    expect(elapsed).toBeLessThan(500);
  });

  it('paces requests at requestsPerMinute after a burst of one minute less the 1 s latency allowance', async () => {
    const start = Date.now();
    const limiter = new ProviderRateLimiter({ requestsPerMinute: 6000 }); // 100 per second, burst 5900
    expect(await timed(exhaustRequests(limiter, 5900))).toBeLessThan(2000);
    await exhaustRequests(limiter, 50);
    // However slow the loop was, 5950 requests need the 5900 burst plus 50 at 100 per second.
    const elapsed = Date.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(5000);
  });

  it('paces estimated tokens at tokensPerMinute', async () => {
    const limiter = new ProviderRateLimiter({ tokensPerMinute: 60_000 }); // 1000 tokens per second
    await limiter.acquire(60_000);
    const elapsed = await timed(limiter.acquire(300));
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });

  it('lets a request bigger than the token limit pass instead of waiting forever', async () => {
    const limiter = new ProviderRateLimiter({ tokensPerMinute: 1000 });
    expect(await timed(limiter.acquire(1_000_000))).toBeLessThan(500);
  });

  it('serves callers first come, first served, so a large request is not overtaken by small ones', async () => {
    const limiter = new ProviderRateLimiter({ tokensPerMinute: 60_000 });
    await limiter.acquire(60_000);
    const order: string[] = [];
    await Promise.all([
      limiter.acquire(200).then(() => order.push('big')),
      limiter.acquire(1).then(() => order.push('small-1')),
      limiter.acquire(1).then(() => order.push('small-2')),
    ]);
    expect(order).toEqual(['big', 'small-1', 'small-2']);
  });

  it('backOff makes waiting and later callers wait at least that long', async () => {
    const limiter = new ProviderRateLimiter({});
    limiter.backOff(300);
    const [first, second] = await Promise.all([timed(limiter.acquire(1)), timed(limiter.acquire(1))]);
    expect(first).toBeGreaterThanOrEqual(280);
    expect(second).toBeGreaterThanOrEqual(280);
    expect(Math.max(first, second)).toBeLessThan(3000);
    // The back-off is over: no more waiting.
    expect(await timed(limiter.acquire(1))).toBeLessThan(100);
  });

  it('extends a wait already in progress when backOff arrives later', async () => {
    const limiter = new ProviderRateLimiter({});
    limiter.backOff(100);
    const waiting = timed(limiter.acquire(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    limiter.backOff(300);
    expect(await waiting).toBeGreaterThanOrEqual(330);
  });

  it('rejects promptly with the signal reason when aborted, and the caller behind is not held up', async () => {
    const limiter = new ProviderRateLimiter({ tokensPerMinute: 60_000 });
    await limiter.acquire(60_000);
    const controller = new AbortController();
    const start = Date.now();
    const aborted = limiter.acquire(60_000, controller.signal); // would wait a full minute
    const behind = limiter.acquire(100); // about 100 ms once the head is gone
    setTimeout(() => controller.abort(), 30);
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - start).toBeLessThan(1000);
    await behind;
    expect(Date.now() - start).toBeLessThan(2000);
    expect(limiter.pending).toBe(0);
  });

  it('rejects a token count that is not a finite number instead of corrupting the buckets', async () => {
    const limiter = new ProviderRateLimiter({ tokensPerMinute: 1000 });
    await expect(limiter.acquire(Number.NaN)).rejects.toThrow(/tokens is NaN/);
    expect(await timed(limiter.acquire(10))).toBeLessThan(100);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const limiter = new ProviderRateLimiter({});
    const controller = new AbortController();
    controller.abort(new Error('Shutting down.'));
    await expect(limiter.acquire(1, controller.signal)).rejects.toThrow('Shutting down.');
  });

  it('observe: an exhausted window of an unlimited dimension blocks until the reported reset', async () => {
    const limiter = new ProviderRateLimiter({});
    limiter.observe({ remainingRequests: 0, resetRequestsMs: 300, remainingTokens: 5000, resetTokensMs: 10 });
    const elapsed = await timed(limiter.acquire(1));
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(3000);
  });

  it('observe: an exhausted window of a limited dimension empties the bucket, which then refills at its rate', async () => {
    const limiter = new ProviderRateLimiter({ tokensPerMinute: 600_000 }); // 10 tokens per ms, bucket full
    expect(await timed(limiter.acquire(1000))).toBeLessThan(100);
    limiter.observe({ remainingTokens: 0, resetTokensMs: 60_000 });
    const elapsed = await timed(limiter.acquire(3000)); // needs about 300 ms of refill, not the 60 s reset
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });

  it('observe ignores windows with capacity left', async () => {
    const limiter = new ProviderRateLimiter({});
    limiter.observe({ remainingRequests: 3, resetRequestsMs: 60_000, remainingTokens: 100, resetTokensMs: 60_000 });
    expect(await timed(limiter.acquire(1))).toBeLessThan(100);
  });

  it('updateLimits applies to callers already waiting', async () => {
    const limiter = new ProviderRateLimiter({ requestsPerMinute: 60 });
    await exhaustRequests(limiter, 59);
    const start = Date.now();
    const waiting = limiter.acquire(1); // would wait a second
    limiter.updateLimits({ requestsPerMinute: 0 });
    await waiting;
    expect(Date.now() - start).toBeLessThan(200);

    const limitedAgain = Date.now();
    limiter.updateLimits({ requestsPerMinute: 1200 }); // limited again: starts with a full burst of 1180
    await exhaustRequests(limiter, 1190);
    // 10 beyond the burst at 20 per second.
    expect(Date.now() - limitedAgain).toBeGreaterThanOrEqual(490);
  });

  it('does not keep the Node process alive while a caller waits', async () => {
    // A child process that waits on a ten-minute back-off must still exit on its own, at once.
    const script = `
      const { ProviderRateLimiter } = require(${JSON.stringify(join(__dirname, 'provider-rate-limiter.ts'))});
      const limiter = new ProviderRateLimiter({});
      limiter.backOff(600000);
      limiter.acquire(1).then(() => process.exit(3));
    `;
    const start = Date.now();
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', '-e', script],
        { cwd: join(__dirname, '../../../..'), timeout: 20_000 },
        (error) => {
          if (error && error.killed) reject(new Error('The child process was still running after 20 s.'));
          else resolve(error ? Number(error.code) : 0);
        },
      );
      child.stdin?.end();
    });
    expect(exitCode).toBe(0);
    expect(Date.now() - start).toBeLessThan(20_000);
  }, 30_000);
});
