/** Injection token of the resolved MigrationModule options. */
export const MIGRATION_RESOLVED_OPTIONS = Symbol('MIGRATION_RESOLVED_OPTIONS');
