/**
 * `ai-entity-config.yml` is invalid or disagrees with the `@AICapable` entities of the application.
 * The message names the file, the entity type and the field involved.
 */
export class AiEntityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AiEntityConfigError';
  }
}
