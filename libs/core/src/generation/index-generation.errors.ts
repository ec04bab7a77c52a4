/** Base class of the index generations' errors; every message says what to do. */
export class IndexGenerationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The generation (or the entity type's serving generation) does not exist. */
export class GenerationNotFoundError extends IndexGenerationError {}

/** The generation is not in a state the operation accepts (e.g. a cutover to a BUILDING generation). */
export class GenerationStateError extends IndexGenerationError {}

/** The cutover was refused because the generation's quality gate did not pass (or never ran). */
export class GenerationGateError extends IndexGenerationError {
  constructor(
    message: string,
    /** The stored quality report, when the gate ran. */
    readonly report: unknown,
  ) {
    super(message);
  }
}

/** A generation's embedding space has no configured provider in this instance. */
export class GenerationProviderMissingError extends IndexGenerationError {}
