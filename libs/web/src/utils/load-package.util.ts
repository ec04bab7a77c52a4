import { MissingPackageError } from './missing-package.error';

/** npm name of the optional peer that provides backfill jobs; the migration endpoints exist only when it is installed. */
export const MIGRATION_CORE_PACKAGE = '@ai-infrastructure/migration-core';

/**
 * Loads a package that the caller cannot work without, and turns "not installed" into a
 * {@link MissingPackageError} that says what to install and why. Any other failure (a package that is
 * installed but broken, or one of *its* dependencies missing) is rethrown unchanged, so it is not
 * mistaken for an absent package.
 *
 * @param packageName the npm name that must resolve.
 * @param neededFor the feature that needs it, for the error message.
 * @param loader what to load; defaults to `require(packageName)`. Pass a loader to require a module of this
 *   package that itself imports `packageName`.
 */
export function loadPackage<T = unknown>(packageName: string, neededFor: string, loader: () => T = () => require(packageName) as T): T {
  try {
    return loader();
  } catch (error) {
    if (isMissing(error, packageName)) throw new MissingPackageError(packageName, neededFor, { cause: error });
    throw error;
  }
}

/**
 * Loads an optional peer: its value, or `undefined` when `packageName` is not installed. Other failures
 * are rethrown (see {@link loadPackage}).
 */
export function loadOptionalPackage<T = unknown>(packageName: string, loader: () => T = () => require(packageName) as T): T | undefined {
  try {
    return loader();
  } catch (error) {
    if (isMissing(error, packageName)) return undefined;
    throw error;
  }
}

/**
 * True when `error` is the resolver's "Cannot find module '<packageName>'" for this very package. Only the
 * first line counts: Node appends the require stack, whose paths contain the name of the package that
 * failed to load one of its own dependencies.
 */
function isMissing(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'MODULE_NOT_FOUND' || typeof message !== 'string') return false;
  const firstLine = message.split('\n', 1)[0];
  return firstLine.includes(`'${packageName}'`);
}
