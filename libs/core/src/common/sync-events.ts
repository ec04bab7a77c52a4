import { Logger } from '@nestjs/common';

/**
 * Listeners of one kind of event, called synchronously on the emitter's path (so they must be cheap: count,
 * not await). A listener that throws is logged and skipped; it never fails what emitted the event.
 */
export class SyncEvents<T> {
  private readonly logger: Logger;
  private readonly listeners = new Set<(event: T) => void>();

  /**
   * @param context the logger context (the subclass's name)
   * @param what what the events are, for the warning ("embedding requests")
   */
  constructor(
    context: string,
    private readonly what: string,
  ) {
    this.logger = new Logger(context);
  }

  /** Adds a listener; returns a function that removes it. */
  on(listener: (event: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal Reports an event to every listener. */
  emit(event: T): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn(`A listener of ${this.what} failed: ${(error as Error).message}`);
      }
    }
  }
}
