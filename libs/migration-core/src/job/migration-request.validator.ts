import { findUnstorableText, unstorableTextMessage } from '@ai-infrastructure/core';
import { describeEntityIdKind, normalizeEntityId, type EntityIdKind } from '@ai-infrastructure/core/internal';
import { InvalidMigrationRequestError, UnknownEntityTypeError } from '../migration.errors';
import { isIsoDate } from './iso-date';
import { MIGRATION_MODES, type MigrationBudgetUpdate, type MigrationFilters, type MigrationJobQuery, type MigrationMode, type MigrationRequest } from './migration-request.interface';
import { MIGRATION_REQUEST_LIMITS as LIMITS } from './migration-request.limits';
import { MigrationStatus } from './migration-status.enum';

/** What request validation needs to know about the application's entity types. */
export interface MigrationRequestContext {
  /** Entity types that can be migrated. */
  entityTypes(): string[];
  /** How the entity type's primary key is written as text; undefined when unknown (then any text). */
  idKind(entityType: string): EntityIdKind | undefined;
  /** Whether the entity type has a `@CreateDateColumn` (needed by the date filters). */
  hasCreatedDate(entityType: string): boolean;
  /** The embedding provider's name when it has a Batch API (for `mode: 'batch'`), else undefined. */
  batchProvider?(): { name: string; supported: boolean };
}

/** A migration request with every default filled in and every id in its canonical form. */
export interface ValidatedMigrationRequest {
  entityType: string;
  batchSize: number;
  rateLimit: number;
  reindexExisting: boolean;
  /** Only the known filter keys; undefined when the request had none. */
  filters: MigrationFilters | undefined;
  /** The generation asked for; undefined for the serving one. */
  generationId: number | undefined;
  /** Budgets given (null: none given; the module's defaults are applied by the service). */
  maxTokens: number | null;
  maxCost: number | null;
  mode: MigrationMode;
}

const FILTER_KEYS: ReadonlyArray<keyof MigrationFilters> = ['createdBefore', 'createdAfter', 'ids'];

/**
 * Checks a start (or estimate) request and fills in the module's defaults. Every problem is an
 * {@link InvalidMigrationRequestError} (or {@link UnknownEntityTypeError}) naming the field and the fix,
 * raised before anything reaches the database.
 */
export function validateMigrationRequest(
  request: MigrationRequest,
  defaults: { batchSize: number; rateLimit: number },
  context: MigrationRequestContext,
): ValidatedMigrationRequest {
  if (!request || typeof request !== 'object' || typeof request.entityType !== 'string') {
    throw new InvalidMigrationRequestError('"entityType" is required: the entity type to migrate, e.g. "product".');
  }
  const entityType = request.entityType;
  const known = context.entityTypes();
  if (!known.includes(entityType)) throw new UnknownEntityTypeError(entityType, known);
  const batchSize = request.batchSize ?? defaults.batchSize;
  if (!inRange(batchSize, LIMITS.batchSize)) {
    throw new InvalidMigrationRequestError(
      `"batchSize" is ${shown(request.batchSize)}; use an integer from ${LIMITS.batchSize.min} to ${LIMITS.batchSize.max}.`,
    );
  }
  const rateLimit = validateRateLimit(request.rateLimit ?? defaults.rateLimit, request.rateLimit);
  if (request.reindexExisting !== undefined && typeof request.reindexExisting !== 'boolean') {
    throw new InvalidMigrationRequestError(`"reindexExisting" is ${JSON.stringify(request.reindexExisting)}; use true or false.`);
  }
  const generationId = request.generationId;
  if (generationId !== undefined && generationId !== null && !(Number.isInteger(generationId) && generationId >= 1 && generationId <= 2_147_483_647)) {
    throw new InvalidMigrationRequestError(
      `"generationId" is ${shown(generationId)}; use the id of an index generation (GET /api/ai/migration/generations), or leave it out for the serving one.`,
      'generationId',
    );
  }
  const mode = validateMode(request, context);
  return {
    entityType,
    batchSize,
    rateLimit,
    mode,
    generationId: generationId ?? undefined,
    maxTokens: validateMaxTokens(request.maxTokens) ?? null,
    maxCost: validateMaxCost(request.maxCost) ?? null,
    reindexExisting: request.reindexExisting ?? false,
    filters: request.filters === undefined || request.filters === null ? undefined : nonEmpty(validateFilters(request.filters, entityType, context)),
  };
}

/**
 * `mode` is `sync` or `batch`; `batch` needs a provider with a Batch API and takes no `rateLimit` (the
 * provider's batch queue paces it, not requests per minute).
 */
function validateMode(request: MigrationRequest, context: MigrationRequestContext): MigrationMode {
  const mode = request.mode ?? 'sync';
  if (!MIGRATION_MODES.includes(mode)) {
    throw new InvalidMigrationRequestError(`"mode" is ${shown(request.mode)}; use ${MIGRATION_MODES.map((m) => `"${m}"`).join(' or ')}.`, 'mode');
  }
  if (mode !== 'batch') return mode;
  const provider = context.batchProvider?.();
  if (provider && !provider.supported) {
    throw new InvalidMigrationRequestError(
      `"mode" is "batch", but the embedding provider "${provider.name}" has no Batch API; use mode "sync", or configure the OpenAI provider (embedding.provider: 'openai').`,
      'mode',
    );
  }
  if (request.rateLimit !== undefined && request.rateLimit !== null) {
    throw new InvalidMigrationRequestError(
      `"rateLimit" does not apply to mode "batch" (the provider runs a batch at its own pace, within 24 hours); leave rateLimit out, or use mode "sync".`,
      'rateLimit',
    );
  }
  return mode;
}

/** No filter keys means the whole table (`filters: {}`), stored as no filters, so the job counts as covering it all. */
function nonEmpty(filters: MigrationFilters): MigrationFilters | undefined {
  return Object.keys(filters).length > 0 ? filters : undefined;
}

function validateFilters(raw: unknown, entityType: string, context: MigrationRequestContext): MigrationFilters {
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidMigrationRequestError(`"filters" is ${JSON.stringify(raw)}; use an object with createdBefore, createdAfter and/or ids.`);
  }
  const given = raw as Record<string, unknown>;
  const unknown = Object.keys(given).find((key) => !(FILTER_KEYS as string[]).includes(key));
  if (unknown !== undefined) {
    throw new InvalidMigrationRequestError(
      `"filters.${printable(unknown)}" is not a filter; use ${FILTER_KEYS.join(', ')}.`,
      `filters.${printable(unknown)}`,
    );
  }
  const filters: MigrationFilters = {};
  for (const key of ['createdBefore', 'createdAfter'] as const) {
    if (given[key] === undefined) continue;
    if (!isIsoDate(given[key])) {
      throw new InvalidMigrationRequestError(`"filters.${key}" is ${JSON.stringify(given[key])}; use an ISO-8601 date such as "2024-01-01".`);
    }
    filters[key] = given[key] as string;
  }
  if (given.ids !== undefined) {
    if (!Array.isArray(given.ids) || given.ids.length < LIMITS.entityIds.minItems || given.ids.length > LIMITS.entityIds.maxItems) {
      throw new InvalidMigrationRequestError(`"filters.ids" must be a list of ${LIMITS.entityIds.minItems} to ${LIMITS.entityIds.maxItems} entity ids.`);
    }
    filters.ids = normalizeEntityIds(given.ids, 'filters.ids', entityType, context.idKind(entityType));
  }
  if ((filters.createdBefore || filters.createdAfter) && !context.hasCreatedDate(entityType)) {
    throw new InvalidMigrationRequestError(
      `"filters.createdBefore/createdAfter" need a @CreateDateColumn on the entity of "${entityType}"; filter by ids instead.`,
    );
  }
  return filters;
}

/** Checks a token budget: absent/null (no limit) or a whole number of tokens within the limits. */
export function validateMaxTokens(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < LIMITS.maxTokens.min || value > LIMITS.maxTokens.max) {
    throw new InvalidMigrationRequestError(
      `"maxTokens" is ${shown(value)}; use a whole number of tokens from ${LIMITS.maxTokens.min} to ${LIMITS.maxTokens.max}, or null for no limit.`,
      'maxTokens',
    );
  }
  return value;
}

/** Checks a budget in USD: absent/null (no limit) or an amount above 0 within the limit. */
export function validateMaxCost(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > LIMITS.maxCost.max) {
    throw new InvalidMigrationRequestError(
      `"maxCost" is ${shown(value)}; use an amount in USD above 0 and at most ${LIMITS.maxCost.max}, or null for no limit.`,
      'maxCost',
    );
  }
  return value;
}

/** Checks a budget change: an object with maxTokens and/or maxCost (each a limit or null). */
export function validateBudgetUpdate(update: unknown): MigrationBudgetUpdate {
  if (!update || typeof update !== 'object' || Array.isArray(update)) {
    throw new InvalidMigrationRequestError('The budget change must be an object with "maxTokens" and/or "maxCost" (null removes a limit).');
  }
  const given = update as MigrationBudgetUpdate;
  if (given.maxTokens === undefined && given.maxCost === undefined) {
    throw new InvalidMigrationRequestError('Give "maxTokens" and/or "maxCost" to change the budget (null removes a limit).');
  }
  return { maxTokens: validateMaxTokens(given.maxTokens), maxCost: validateMaxCost(given.maxCost) };
}

/**
 * Checks the list of ids of a retry (`entityIds`): absent, or 1 to {@link MIGRATION_REQUEST_LIMITS}
 * `entityIds.maxItems` entries. The ids themselves are checked by {@link normalizeEntityIds} once the job's
 * entity type is known.
 */
export function validateEntityIdList(entityIds: unknown): asserts entityIds is unknown[] | undefined {
  if (entityIds === undefined) return;
  if (!Array.isArray(entityIds) || entityIds.length < LIMITS.entityIds.minItems || entityIds.length > LIMITS.entityIds.maxItems) {
    throw new InvalidMigrationRequestError(
      `"entityIds" must be a list of ${LIMITS.entityIds.minItems} to ${LIMITS.entityIds.maxItems} entity ids, or left out to retry every failure.`,
    );
  }
}

/**
 * Ids in the primary key's canonical text form (lower-case uuid, integer without leading zeros), so a
 * value that is not a valid key is a request error naming `field[index]`, not a SQL error.
 */
export function normalizeEntityIds(ids: unknown[], field: string, entityType: string, idKind: EntityIdKind | undefined): string[] {
  const kind = idKind ?? 'text';
  return ids.map((raw, index) => {
    const id = typeof raw === 'string' || typeof raw === 'number' ? normalizeEntityId({ idKind: kind }, String(raw)) : undefined;
    if (id === undefined || id.length === 0 || id.length > LIMITS.entityIds.maxLength) {
      throw new InvalidMigrationRequestError(
        `"${field}[${index}]" is ${JSON.stringify(raw)?.slice(0, 100)}; ids of "${entityType}" are ${describeEntityIdKind(kind)} ` +
          `of at most ${LIMITS.entityIds.maxLength} characters (the entity's primary key).`,
      );
    }
    assertStorable(id, `${field}[${index}]`);
    return id;
  });
}

/** A rate limit in provider requests per minute; `given` is what the caller sent (for the message). */
export function validateRateLimit(rateLimit: unknown, given: unknown = rateLimit): number {
  if (!inRange(rateLimit, LIMITS.rateLimit)) {
    throw new InvalidMigrationRequestError(
      `"rateLimit" is ${shown(given)}; use an integer number of requests per minute from ${LIMITS.rateLimit.min} to ${LIMITS.rateLimit.max}.`,
    );
  }
  return rateLimit as number;
}

/** The actor to record (`actor`, or `createdBy` at a start); bounded so it fits the audit and job columns. */
export function validateActor(actor: unknown, field = 'actor'): string | undefined {
  if (actor === undefined || actor === null) return undefined;
  if (typeof actor !== 'string' || actor.length < LIMITS.actor.minLength || actor.length > LIMITS.actor.maxLength) {
    throw new InvalidMigrationRequestError(
      `"${field}" is ${JSON.stringify(actor)}; use a name of ${LIMITS.actor.minLength} to ${LIMITS.actor.maxLength} characters.`,
    );
  }
  assertStorable(actor, field);
  return actor;
}

/** The reason of a pause; an empty text is no reason. */
export function validatePauseReason(reason: unknown): string | undefined {
  if (reason === undefined || reason === null || reason === '') return undefined;
  if (typeof reason !== 'string' || reason.length > LIMITS.pauseReason.maxLength) {
    throw new InvalidMigrationRequestError(
      `"reason" is ${JSON.stringify(reason)?.slice(0, 100)}; use a text of ${LIMITS.pauseReason.minLength} to ${LIMITS.pauseReason.maxLength} characters.`,
    );
  }
  assertStorable(reason, 'reason');
  return reason;
}

/** A job status filter: one of {@link MigrationStatus}, or absent. */
export function validateStatus(status: unknown): MigrationStatus | undefined {
  if (status === undefined) return undefined;
  if (!Object.values(MigrationStatus).includes(status as MigrationStatus)) {
    throw new InvalidMigrationRequestError(`"status" is ${JSON.stringify(status)}; use one of ${Object.values(MigrationStatus).join(', ')}.`);
  }
  return status as MigrationStatus;
}

/** A job list query with its defaults: newest first, `limit` 1..500 (default 50), `offset` from 0. */
export function validateJobQuery(query: MigrationJobQuery): Required<Pick<MigrationJobQuery, 'limit' | 'offset'>> & Pick<MigrationJobQuery, 'status' | 'entityType'> {
  const limit = query.limit ?? LIMITS.jobList.defaultLimit;
  const offset = query.offset ?? 0;
  if (!inRange(limit, { min: 1, max: LIMITS.jobList.maxLimit })) {
    throw new InvalidMigrationRequestError(`"limit" is ${shown(limit)}; use an integer from 1 to ${LIMITS.jobList.maxLimit}.`);
  }
  if (!inRange(offset, { min: 0, max: LIMITS.jobList.maxOffset })) {
    throw new InvalidMigrationRequestError(`"offset" is ${shown(offset)}; use an integer from 0 to ${LIMITS.jobList.maxOffset}.`);
  }
  return { limit, offset, ...validateJobFilter(query) };
}

/** The status and entity type filters of a job list or count. */
export function validateJobFilter(query: Pick<MigrationJobQuery, 'status' | 'entityType'>): Pick<MigrationJobQuery, 'status' | 'entityType'> {
  const status = validateStatus(query.status);
  if (query.entityType !== undefined && typeof query.entityType !== 'string') {
    throw new InvalidMigrationRequestError(`"entityType" is ${JSON.stringify(query.entityType)}; use an entity type name.`);
  }
  if (query.entityType !== undefined) assertStorable(query.entityType, 'entityType');
  return { status, entityType: query.entityType };
}

/** A value as the caller wrote it: JSON, except numbers JSON cannot write (NaN, Infinity). */
function shown(value: unknown): string {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : String(JSON.stringify(value));
}

function inRange(value: unknown, range: { min: number; max: number }): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= range.min && value <= range.max;
}

/** PostgreSQL cannot store NUL or a lone surrogate; say so naming the field instead of failing in SQL. */
function assertStorable(text: string, field: string): void {
  const finding = findUnstorableText(text);
  if (finding) throw new InvalidMigrationRequestError(`${unstorableTextMessage(field, finding, { quote: true })}.`, field);
}

/** A key as it can be shown in a message (JSON-escaped when it holds control or unpaired characters). */
function printable(key: string): string {
  return JSON.stringify(key).slice(1, -1);
}
