import { setMaxListeners } from 'node:events';

/**
 * An AbortController for a worker's shutdown. Every provider request in flight (the `openai` SDK adds a
 * few listeners per request) and every wait listens on the one signal, so a worker with several loops and
 * batches in flight passes Node's default of 10 listeners without leaking any; the warning it would print
 * is switched off for this signal only.
 * @internal
 */
export function shutdownController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
