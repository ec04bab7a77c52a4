import { Injectable } from '@nestjs/common';
import { WakeupSignal } from '../common/wakeup-signal';

/** Wakes this app's idle indexing workers when work is enqueued here, so it starts without a poll delay. */
@Injectable()
export class IndexingWakeup extends WakeupSignal {}
