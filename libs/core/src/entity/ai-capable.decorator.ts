import type { ForwardReference, Type } from '@nestjs/common';
import type { ObjectLiteral, Repository } from 'typeorm';

/** Reflect-metadata key under which {@link AICapable} stores its options. */
export const AI_CAPABLE_METADATA = 'ai-infrastructure:ai-capable';

/**
 * Options of {@link AICapable}.
 *
 * `migrationRepository` is required by the type: an entity that cannot be read in bulk cannot be
 * backfilled, so forgetting it is a compile error rather than a surprise in production.
 */
export interface AICapableOptions {
  /** Entity type identifier used in `ai-entity-config.yml`, the queue and the vector store (e.g. `product`). */
  entityType: string;
  /**
   * The repository the migration module reads this entity through, in bulk:
   * - `Repository` (TypeORM's class itself): the entity's standard repository from the application's
   *   DataSource — the one `TypeOrmModule.forFeature([Book])` + `@InjectRepository(Book)` gives you;
   * - or the class token of a Nest provider that is a TypeORM `Repository` of this entity (a custom
   *   repository class registered in your module's `providers`), resolved from the app's container.
   *   When the entity and repository files import each other, write `forwardRef(() => ProductRepository)`:
   *   the decorator runs while the import cycle is still half-loaded and would otherwise record `undefined`.
   *
   * Required either way, so an entity that cannot be backfilled does not compile.
   */
  migrationRepository: Type<Repository<ObjectLiteral>> | ForwardReference<() => Type<Repository<ObjectLiteral>>>;
}

/**
 * The repository class named by `migrationRepository`, following a `forwardRef`; `undefined` when the
 * decorator recorded nothing usable (typically a circular import).
 */
export function resolveMigrationRepository(options: AICapableOptions): Type<Repository<ObjectLiteral>> | undefined {
  const value = options.migrationRepository as unknown;
  if (value && typeof value === 'object' && typeof (value as ForwardReference).forwardRef === 'function') {
    const resolved = (value as ForwardReference<() => Type<Repository<ObjectLiteral>>>).forwardRef();
    return typeof resolved === 'function' ? resolved : undefined;
  }
  return typeof value === 'function' ? (value as Type<Repository<ObjectLiteral>>) : undefined;
}

/**
 * Marks a TypeORM entity as AI-searchable. The decorator only records metadata; each application discovers
 * its own decorated entities from its TypeORM DataSource at startup, so nothing leaks between two apps.
 *
 * @example
 * ```ts
 * // A custom repository class (registered in the module's providers):
 * @Entity('products')
 * @AICapable({ entityType: 'product', migrationRepository: ProductRepository })
 * export class Product { @PrimaryGeneratedColumn('uuid') id: string; @Column() name: string; }
 *
 * // The standard TypeORM repository (TypeOrmModule.forFeature([Book]) + @InjectRepository(Book)):
 * @Entity('books')
 * @AICapable({ entityType: 'book', migrationRepository: Repository }) // Repository from 'typeorm'
 * export class Book { @PrimaryGeneratedColumn('uuid') id: string; @Column() title: string; }
 * ```
 */
export function AICapable(options: AICapableOptions): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(AI_CAPABLE_METADATA, { ...options }, target);
  };
}

/** Reads the {@link AICapable} options of a class, or `undefined` when it is not decorated. */
export function getAICapableOptions(target: unknown): AICapableOptions | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getMetadata(AI_CAPABLE_METADATA, target) as AICapableOptions | undefined;
}
