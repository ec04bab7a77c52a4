import { Injectable } from '@nestjs/common';

/** In-process signal from the service to the runner, so a new or resumed job starts without a poll delay. */
@Injectable()
export class MigrationWakeup {
  private waiters: Array<() => void> = [];

  /** Wakes the waiting runner. */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }

  /** Resolves after `ms` or on the next notify. */
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
