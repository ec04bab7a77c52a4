/** Options of {@link AiWebModule}. */
export interface AiWebModuleOptions {
  health?: {
    /** The queue check is down when the oldest runnable item is older than this. Default 900 s. */
    maxQueueAgeSeconds?: number;
  };
}
