import { Injectable } from '@nestjs/common';
import { WakeupSignal } from '../common/wakeup-signal';

/**
 * Wakes this app's idle indexing workers when work is enqueued here, so it starts without a poll delay.
 * The loops reserved for live items also wait on {@link live}: a committed live write wakes only them
 * when there are any, so the backfill loops' claims do not queue ahead of the live item's statements.
 */
@Injectable()
export class IndexingWakeup extends WakeupSignal {
  /** The live loops' signal; {@link notify} wakes it too. */
  readonly live = new WakeupSignal();

  /** Wakes every waiting loop, live ones included. */
  override notify(): void {
    super.notify();
    this.live.notify();
  }

  /** Wakes the live loops when any is waiting, else every loop. */
  notifyLive(): void {
    if (this.live.waiting > 0) this.live.notify();
    else this.notify();
  }
}
