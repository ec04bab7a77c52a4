import { HttpException, HttpStatus, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';

/** Open progress streams one caller (token name, or client IP with auth disabled) may hold at once. */
export const MAX_STREAMS_PER_CALLER = 10;

/**
 * @internal Bookkeeping of the open progress streams: at most {@link MAX_STREAMS_PER_CALLER} per caller
 * (each one reads the database every `events.intervalMs`, so streams are the one read that costs the
 * server something while it lasts), and all of them complete when the application starts shutting down —
 * a clean end of the response, rather than an error when the next poll meets the closing database.
 */
@Injectable()
export class MigrationEventStreams implements OnModuleDestroy {
  private readonly closing = new Subject<void>();
  private readonly open = new Map<string, number>();

  /** Emits once when the application starts shutting down. */
  get closing$(): Observable<void> {
    return this.closing.asObservable();
  }

  /**
   * Reserves a stream for `caller`; returns the function that gives it back (idempotent). Throws a 429
   * when the caller already holds the maximum.
   */
  acquire(caller: string): () => void {
    const held = this.open.get(caller) ?? 0;
    if (held >= MAX_STREAMS_PER_CALLER) {
      throw new HttpException(
        `"${caller}" already has ${held} open progress streams, the most one caller may hold. Close one, or poll GET /api/ai/migration/jobs/{id} instead.`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    this.open.set(caller, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.open.get(caller) ?? 1) - 1;
      if (now > 0) this.open.set(caller, now);
      else this.open.delete(caller);
    };
  }

  onModuleDestroy(): void {
    this.closing.next();
    this.closing.complete();
  }
}
