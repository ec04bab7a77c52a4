/** Requests a calibration looks back over: enough to smooth one odd request out, few enough to follow a change of texts. */
const WINDOW = 64;
/** Counted tokens needed before the ratio is used (a few requests' worth, not one short search query). */
const MIN_COUNTED = 2_000;
/** Bounds of the ratio: a provider reporting far outside them is reporting something else (or nothing useful). */
const MIN_RATIO = 0.2;
const MAX_RATIO = 5;

/**
 * How the provider's reported token counts compare with this instance's own count of the same requests,
 * learned from every answered request that reported usage: the sum of reported tokens over the sum of
 * counted tokens across the last {@link WINDOW} such requests.
 *
 * With an exact tokenizer (OpenAI's models) the ratio stays at 1. With the byte estimate
 * (`ceil(utf8 bytes / 3)`, for models whose tokenizer is unknown) it is typically 0.7–0.8 on English text:
 * applying it to the estimate lets the rate limiter use the provider's token limit fully instead of
 * reserving a third more than each request costs, and lets estimates of a backfill's tokens and cost match
 * what the provider will report. Truncation to the per-input limit and the per-request splitting keep the
 * uncorrected (deliberately high) count, so a request is never cut to more than the provider accepts.
 * @internal
 */
export class TokenCalibration {
  private readonly samples: Array<{ counted: number; reported: number }> = [];
  private counted = 0;
  private reported = 0;

  /** Records one answered request: the tokens counted for its inputs and the tokens the provider reported. */
  observe(counted: number, reported: number): void {
    if (!(counted > 0) || !(reported > 0) || !Number.isFinite(reported)) return;
    this.samples.push({ counted, reported });
    this.counted += counted;
    this.reported += reported;
    if (this.samples.length > WINDOW) {
      const old = this.samples.shift()!;
      this.counted -= old.counted;
      this.reported -= old.reported;
    }
  }

  /** Reported over counted tokens, or undefined until enough has been seen. */
  get ratio(): number | undefined {
    if (this.counted < MIN_COUNTED) return undefined;
    return Math.min(MAX_RATIO, Math.max(MIN_RATIO, this.reported / this.counted));
  }

  /** `counted` tokens as the provider will probably report them (unchanged until calibrated; not rounded). */
  apply(counted: number): number {
    return counted * (this.ratio ?? 1);
  }
}
