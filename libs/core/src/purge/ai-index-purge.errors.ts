/** A purge request is invalid; the message names the field and the fix. */
export class AiIndexPurgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AiIndexPurgeError';
  }
}
