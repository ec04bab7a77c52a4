export { IndexingWorkerService } from './indexing-worker.service';
