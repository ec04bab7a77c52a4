import { ForbiddenException } from '@nestjs/common';
import type { AiPrincipal } from '../auth/ai-principal';

/**
 * @internal Applies a token's search scope (AiApiToken `search`) before the query runs: an entity type
 * outside `entityTypes`, or a filter on a field outside `fields[entityType]`, is refused (403) naming what
 * the token may use. Returns the metadata fields the results may show (undefined: all).
 */
export function authorizeSearch(principal: AiPrincipal | undefined, entityType: string, filter: Record<string, unknown> | undefined): ReadonlySet<string> | undefined {
  const scope = principal?.search;
  if (!scope) return undefined;
  if (scope.entityTypes && !scope.entityTypes.includes(entityType)) {
    throw new ForbiddenException(
      `The token "${principal!.name}" may not search the entity type "${entityType}"; it may search: ${scope.entityTypes.join(', ') || 'nothing'} (AiWebModule auth.tokens[].search.entityTypes).`,
    );
  }
  const fields = scope.fields?.[entityType];
  if (!fields) return undefined;
  const refused = Object.keys(filter ?? {}).filter((field) => !fields.includes(field));
  if (refused.length > 0) {
    throw new ForbiddenException(
      `The token "${principal!.name}" may not filter ${entityType} on ${refused.map((f) => `"${f}"`).join(', ')}; it may use: ${fields.join(', ') || 'no field'} (AiWebModule auth.tokens[].search.fields).`,
    );
  }
  return new Set(fields);
}

/** The metadata a scoped token may see: only the `visible` fields. */
export function visibleMetadata(metadata: Record<string, unknown>, visible: ReadonlySet<string> | undefined): Record<string, unknown> {
  if (!visible) return metadata;
  return Object.fromEntries(Object.entries(metadata).filter(([field]) => visible.has(field)));
}
