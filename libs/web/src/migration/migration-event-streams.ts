import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';

/**
 * @internal Completes every open progress stream when the application starts shutting down. A stream
 * stays open until its job ends; without this it would end only when its next poll failed against the
 * closing database, i.e. by an error racing the shutdown instead of a clean end of the response.
 */
@Injectable()
export class MigrationEventStreams implements OnModuleDestroy {
  private readonly closing = new Subject<void>();

  /** Emits once when the application starts shutting down. */
  get closing$(): Observable<void> {
    return this.closing.asObservable();
  }

  onModuleDestroy(): void {
    this.closing.next();
    this.closing.complete();
  }
}
