export { loadOptionalPackage, loadPackage, MIGRATION_CORE_PACKAGE } from './load-package.util';
export { MissingPackageError } from './missing-package.error';
