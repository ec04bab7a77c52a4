import { Injectable } from '@nestjs/common';

/**
 * In-process signal from the queue to idle workers of the same app, so work enqueued here starts without
 * waiting for the next poll. Other instances find it on their poll.
 */
@Injectable()
export class IndexingWakeup {
  private waiters: Array<() => void> = [];

  /** Wakes every waiting worker loop. */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }

  /** Resolves after `ms` or on the next notify, whichever comes first. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      const waiters = this.waiters;
      function done() {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}
