/** Base class of the migration module's domain errors (the web layer maps them to HTTP statuses). */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An option of MigrationModule is invalid; the message names the key and the allowed values. */
export class MigrationOptionsError extends MigrationError {}

/** No job has this id (HTTP 404). */
export class MigrationJobNotFoundError extends MigrationError {
  constructor(readonly jobId: string) {
    super(`Migration job "${jobId}" does not exist. List jobs with getAllJobs() (GET /api/ai/migration/jobs) to find its id.`);
  }
}

/** The job is not in a state that allows the action (HTTP 409). */
export class InvalidMigrationStateError extends MigrationError {
  constructor(
    readonly jobId: string,
    readonly currentStatus: string,
    readonly action: string,
    allowedFrom: string[],
  ) {
    const possible = ACTIONS_BY_STATUS[currentStatus];
    super(
      `Cannot ${action} migration job "${jobId}": it is ${currentStatus}, and that is allowed only from ${allowedFrom.join(' or ')}. ` +
        (possible ? `A ${currentStatus} job can be: ${possible}.` : ''),
    );
  }
}

/** What an operator can still do with a job in each status (for the error messages). */
const ACTIONS_BY_STATUS: Record<string, string> = {
  PENDING: 'cancelled',
  RUNNING: 'paused, cancelled, rethrottled or have its failures retried',
  PAUSED: 'resumed, cancelled, rethrottled or have its failures retried',
  COMPLETED: 'inspected, or have its failures retried',
  FAILED: 'inspected only; start a new job',
  CANCELLED: 'inspected only; start a new job',
};

/** The entity type is not configured in this application (HTTP 400). */
export class UnknownEntityTypeError extends MigrationError {
  /** The request field that named the type. */
  readonly field: string;

  constructor(
    readonly entityType: string,
    readonly knownTypes: string[],
  ) {
    super(`Unknown entity type "${entityType}"; known types: ${knownTypes.join(', ') || '(none)'}.`);
    this.field = 'entityType';
  }
}

/** `maxConcurrentJobs` jobs are already active (HTTP 409/429). */
export class TooManyActiveMigrationsError extends MigrationError {
  constructor(
    readonly maxConcurrentJobs: number,
    readonly activeJobIds: string[],
  ) {
    super(
      `There are already ${activeJobIds.length} active migration jobs (maxConcurrentJobs is ${maxConcurrentJobs}): ${activeJobIds.join(', ')}. ` +
        'Wait for one to finish, cancel one, or raise maxConcurrentJobs.',
    );
  }
}

/** A job for the entity type is already active (HTTP 409). */
export class ActiveMigrationExistsError extends MigrationError {
  constructor(
    readonly entityType: string,
    readonly activeJobId: string,
  ) {
    super(
      `Migration job "${activeJobId}" for entity type "${entityType}" is still active; only one job per entity type may run. ` +
        'Follow, pause or cancel that job instead of starting another.',
    );
  }
}

/** A migration request is invalid (HTTP 400); the message names the field and the rule. */
export class InvalidMigrationRequestError extends MigrationError {
  /** The invalid field, as the message names it first (e.g. `filters.ids[2]`). */
  readonly field?: string;

  constructor(message: string, field?: string) {
    super(message);
    this.field = field ?? /^"([^"]+)"/.exec(message)?.[1];
  }
}
