export { WakeupSignal } from './wakeup-signal';
