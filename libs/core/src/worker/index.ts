export { IndexingWorkerService } from './indexing-worker.service';
export { LiveWorkGate } from './live-work.gate';
