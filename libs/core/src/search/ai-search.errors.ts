/** A search request is invalid; the message names the field and the fix. */
export class AiSearchRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AiSearchRequestError';
  }
}
