/**
 * Thrown when a feature of `@ai-infrastructure/web` needs a package that is not installed. The message names
 * the package, the command that installs it and the feature that needs it (the `@nestjs/terminus` style).
 */
export class MissingPackageError extends Error {
  constructor(
    /** npm name of the missing package. */
    readonly packageName: string,
    /** What needs it, e.g. "the @ai-infrastructure/web/migration entry point". */
    readonly neededFor: string,
    options?: ErrorOptions,
  ) {
    super(
      `The "${packageName}" package is not installed, but it is required by ${neededFor}. ` +
        `Install it in your application: npm install ${packageName}`,
      options,
    );
    this.name = new.target.name;
  }
}
