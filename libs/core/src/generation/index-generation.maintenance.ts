import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AI_CORE_RESOLVED_OPTIONS } from '../ai-core.constants';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import { IndexGenerationService } from './index-generation.service';

/** How long shutdown waits for a maintenance round (an index build) before it lets the connections close. */
const SHUTDOWN_WAIT_MS = 5_000;

/**
 * Runs {@link IndexGenerationService.runMaintenance} in the background: once after startup (never blocking
 * it) and every `generations.sweepIntervalMs`, in every instance (the builds themselves take a lock).
 * An index build cut short by shutdown leaves an invalid index, which the next round builds again.
 * @internal
 */
@Injectable()
export class IndexGenerationMaintenance implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('IndexGenerations');
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  /** A kick arrived while a round ran: that round may have read the generations before the change, so run another. */
  private again = false;
  private stopped = false;

  constructor(
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly options: ResolvedAiCoreOptions,
    private readonly generations: IndexGenerationService,
  ) {}

  onApplicationBootstrap(): void {
    this.kick();
    this.timer = setInterval(() => this.kick(), this.options.generations.sweepIntervalMs);
    this.timer.unref();
  }

  /**
   * Starts a round now (e.g. after a generation's backfill completed, or a retirement); when one runs, another
   * follows it, since the running one may have read the generations before the change that asked for it.
   */
  kick(): void {
    if (this.stopped) return;
    if (this.current) {
      this.again = true;
      return;
    }
    this.current = this.generations
      .runMaintenance()
      .catch((error) => this.logger.error(`Index generation maintenance failed: ${(error as Error).message}`))
      .finally(() => {
        this.current = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no round runs (tests wait for the startup round before they change tables under it). */
  async settled(): Promise<void> {
    while (this.current) await this.current;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.current) await Promise.race([this.current, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref())]);
  }
}
