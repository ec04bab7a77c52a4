import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import { IndexGenerationMaintenance } from './index-generation.maintenance';
import type { IndexGenerationService } from './index-generation.service';

describe('IndexGenerationMaintenance.kick', () => {
  const options = { generations: { sweepIntervalMs: 3_600_000 } } as ResolvedAiCoreOptions;

  /** A service whose rounds end when the test says so. */
  function controlledRounds() {
    const ends: Array<() => void> = [];
    const service = { runMaintenance: jest.fn(() => new Promise<void>((resolve) => ends.push(resolve))) };
    return { service, endRound: async (i: number) => { ends[i](); await new Promise((resolve) => setImmediate(resolve)); } };
  }

  it('runs another round after the current one when kicked meanwhile (the running round may have missed the change)', async () => {
    const { service, endRound } = controlledRounds();
    const maintenance = new IndexGenerationMaintenance(options, service as unknown as IndexGenerationService);
    maintenance.kick();
    maintenance.kick();
    maintenance.kick();
    expect(service.runMaintenance).toHaveBeenCalledTimes(1);
    await endRound(0);
    // The kicks during round 1 ask for one more round, not two.
    expect(service.runMaintenance).toHaveBeenCalledTimes(2);
    await endRound(1);
    expect(service.runMaintenance).toHaveBeenCalledTimes(2);
    await maintenance.settled();
  });

  it('settled() waits for the follow-up round too, and nothing starts after shutdown', async () => {
    const { service, endRound } = controlledRounds();
    const maintenance = new IndexGenerationMaintenance(options, service as unknown as IndexGenerationService);
    maintenance.kick();
    maintenance.kick();
    let settled = false;
    const waiting = maintenance.settled().then(() => (settled = true));
    await endRound(0);
    expect(settled).toBe(false);
    await endRound(1);
    await waiting;
    expect(settled).toBe(true);
    await maintenance.beforeApplicationShutdown();
    maintenance.kick();
    expect(service.runMaintenance).toHaveBeenCalledTimes(2);
  });
});
