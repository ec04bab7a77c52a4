import { Injectable } from '@nestjs/common';

/**
 * Gives live indexing the database first within this app instance. While a live batch is in one of its
 * database steps (claim and plan, then the completion transaction), backfill work (the worker loops'
 * backfill batches and the migration producer's pages) waits before starting its next statement.
 *
 * Why: every step of a live item otherwise queues behind whatever backfill statements were sent meanwhile.
 * On the embedded database (one session for every connection) that is a whole 1000-vector transaction per
 * step; on a server it is CPU time that HNSW inserts of the backfill take from the live write. Live steps
 * are short, so backfill throughput loses little; the embedding request of a live batch is outside the
 * gate, so a slow provider holds nothing back.
 *
 * Per app instance: other instances coordinate only through the database.
 *
 * @example
 * ```ts
 * const release = gate.enter(); // a live batch's claim and plan
 * try { await claimAndPlan(); } finally { release(); }
 *
 * await gate.backfillTurn(); // before each backfill statement or transaction
 * await dataSource.query(nextPageSql);
 * ```
 */
@Injectable()
export class LiveWorkGate {
  private active = 0;
  private waiters: Array<() => void> = [];

  /** Live work in a database step right now (for tests and metrics). */
  get liveSteps(): number {
    return this.active;
  }

  /**
   * Marks live work as being in a database step until the returned function is called (it may be called
   * more than once); backfill steps that have not started yet wait until then.
   */
  enter(): () => void {
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (this.active === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        waiters.forEach((resume) => resume());
      }
    };
  }

  /** Resolves at once when no live step is running, else when the running ones have ended. */
  backfillTurn(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
