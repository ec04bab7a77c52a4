export { affectedCount, returnedRows } from './query-result';
export { isUuid } from './uuid';
export { WakeupSignal } from './wakeup-signal';
