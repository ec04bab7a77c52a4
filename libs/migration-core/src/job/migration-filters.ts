import type { EntityPageFilters } from '@ai-infrastructure/core/internal';
import type { MigrationFilters } from './migration-request.interface';

/** A job's stored filters (ISO-8601 texts) as the page reader's filters (instants). */
export function toPageFilters(filters: MigrationFilters | null | undefined): EntityPageFilters | undefined {
  if (!filters) return undefined;
  return {
    createdBefore: filters.createdBefore ? new Date(filters.createdBefore) : undefined,
    createdAfter: filters.createdAfter ? new Date(filters.createdAfter) : undefined,
    ids: filters.ids,
  };
}
