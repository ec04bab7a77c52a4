/**
 * An option of AiCoreModule is invalid. Thrown at startup; the message names the option key, the bad
 * value and what to use instead.
 */
export class AiCoreConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AiCoreConfigurationError';
  }
}
