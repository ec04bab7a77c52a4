import { WakeupSignal } from '@ai-infrastructure/core/internal';
import { Injectable } from '@nestjs/common';

/** Wakes this app's migration runner when a job starts, resumes or makes progress, so it reacts without a poll delay. */
@Injectable()
export class MigrationWakeup extends WakeupSignal {}
