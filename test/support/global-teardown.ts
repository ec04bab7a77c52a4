import { rmSync } from 'node:fs';
import { GlobalWithTestRun, TEST_RUN_HANDLE } from './global-setup';

/** Jest global teardown: stops the cluster global-setup.ts started, if any, and removes the run's scratch directory. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as GlobalWithTestRun;
  const resources = holder[TEST_RUN_HANDLE];
  delete holder[TEST_RUN_HANDLE];
  if (!resources) return;
  try {
    await resources.server?.stop();
  } finally {
    rmSync(resources.runDir, { recursive: true, force: true });
  }
}
