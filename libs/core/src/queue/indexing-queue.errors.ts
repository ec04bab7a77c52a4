/** A request given to the indexing queue is invalid; the message names the request and the field. */
export class IndexingQueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexingQueueError';
  }
}
