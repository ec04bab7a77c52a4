import {
  ActiveMigrationExistsError,
  InvalidMigrationRequestError,
  InvalidMigrationStateError,
  MigrationError,
  MigrationJobNotFoundError,
  TooManyActiveMigrationsError,
  UnknownEntityTypeError,
} from './migration.errors';
import { MigrationStatus } from './job/migration-status.enum';

const JOB = '3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10';

describe('migration errors', () => {
  it('an invalid transition says what was tried, the current state, the allowed ones and what is still possible', () => {
    const error = new InvalidMigrationStateError(JOB, MigrationStatus.COMPLETED, 'pause', [MigrationStatus.RUNNING]);
    expect(error.message).toBe(
      `Cannot pause migration job "${JOB}": it is COMPLETED, and that is allowed only from RUNNING. ` +
        'A COMPLETED job can be: inspected, or have its failures retried.',
    );
    expect(error).toMatchObject({ name: 'InvalidMigrationStateError', jobId: JOB, currentStatus: 'COMPLETED', action: 'pause' });
    expect(error).toBeInstanceOf(MigrationError);
  });

  it.each([
    [MigrationStatus.PENDING, 'cancelled'],
    [MigrationStatus.RUNNING, 'paused, cancelled, rethrottled or have its failures retried'],
    [MigrationStatus.PAUSED, 'resumed, cancelled, rethrottled or have its failures retried'],
    [MigrationStatus.FAILED, 'inspected only; start a new job'],
    [MigrationStatus.CANCELLED, 'inspected only; start a new job'],
  ])('a %s job lists what can still be done with it', (status, possible) => {
    const error = new InvalidMigrationStateError(JOB, status, 'resume', [MigrationStatus.PAUSED, MigrationStatus.COMPLETED]);
    expect(error.message).toContain(`it is ${status}, and that is allowed only from PAUSED or COMPLETED. A ${status} job can be: ${possible}.`);
  });

  it('a state the messages do not know still gets the first sentence', () => {
    expect(new InvalidMigrationStateError(JOB, 'ARCHIVED', 'cancel', ['RUNNING']).message).toBe(
      `Cannot cancel migration job "${JOB}": it is ARCHIVED, and that is allowed only from RUNNING. `,
    );
  });

  it('the others name the job, type or limit and the way out', () => {
    expect(new MigrationJobNotFoundError('nope').message).toBe(
      'Migration job "nope" does not exist. List jobs with getAllJobs() (GET /api/ai/migration/jobs) to find its id.',
    );
    expect(new UnknownEntityTypeError('prodct', ['product', 'tag'])).toMatchObject({
      field: 'entityType',
      message: 'Unknown entity type "prodct"; known types: product, tag.',
    });
    expect(new UnknownEntityTypeError('x', []).message).toBe('Unknown entity type "x"; known types: (none).');
    expect(new TooManyActiveMigrationsError(2, ['a', 'b']).message).toBe(
      'There are already 2 active migration jobs (maxConcurrentJobs is 2): a, b. Wait for one to finish, cancel one, or raise maxConcurrentJobs.',
    );
    expect(new ActiveMigrationExistsError('product', JOB).message).toBe(
      `Migration job "${JOB}" for entity type "product" is still active; only one job per entity type may run. ` +
        'Follow, pause or cancel that job instead of starting another.',
    );
  });

  it('a request error takes its field from the start of the message unless given', () => {
    expect(new InvalidMigrationRequestError('"filters.ids[3]" is "x"; ids are uuids.').field).toBe('filters.ids[3]');
    expect(new InvalidMigrationRequestError('No field here.').field).toBeUndefined();
    expect(new InvalidMigrationRequestError('"a" is wrong.', 'b').field).toBe('b');
  });
});
