/** Injection token of the resolved (validated, defaulted) AiWebModule options. */
export const AI_WEB_OPTIONS = Symbol('AI_WEB_OPTIONS');

/** @internal Throttler storage of the migration endpoints (kept apart from any ThrottlerModule of the app). */
export const AI_WEB_THROTTLER_STORAGE = Symbol('AI_WEB_THROTTLER_STORAGE');

/** @internal Throttler options of the migration endpoints. */
export const AI_WEB_THROTTLER_OPTIONS = Symbol('AI_WEB_THROTTLER_OPTIONS');

/** @internal Throttler options of `GET /api/ai/search` (per caller). */
export const AI_WEB_SEARCH_THROTTLER_OPTIONS = Symbol('AI_WEB_SEARCH_THROTTLER_OPTIONS');
