/**
 * An in-process signal that wakes idle polling loops early: `wait(ms)` resolves after `ms` or on the next
 * `notify()`, whichever comes first. Other instances are not reached; they find the work on their next poll.
 */
export class WakeupSignal {
  private waiters: Array<() => void> = [];

  /** Loops waiting right now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Wakes every waiting loop. */
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
