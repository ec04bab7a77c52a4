import { AI_DATA_SOURCE, AiEntityRegistry, resolveMigrationRepository } from '@ai-infrastructure/core/internal';
import { Inject, Injectable, Logger, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource, Repository, type ObjectLiteral } from 'typeorm';
import { MigrationOptionsError, UnknownEntityTypeError } from '../migration.errors';

/** An entity type with the repository its `@AICapable.migrationRepository` names. */
export interface EntityRegistration {
  entityType: string;
  entityClass: Function;
  repository: Repository<ObjectLiteral>;
}

/**
 * Per-application map from entity type to its `@AICapable` class and migration repository, resolved from
 * this app's container (no static state: two apps in one process each see their own). Built at startup;
 * every problem is a sentence naming the class and the fix.
 */
@Injectable()
export class EntityRepositoryRegistry {
  private readonly logger = new Logger(EntityRepositoryRegistry.name);
  private readonly registrations = new Map<string, EntityRegistration>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly entities: AiEntityRegistry,
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /** Resolves every configured entity type's repository; called once at application bootstrap. */
  build(): void {
    this.registrations.clear();
    for (const descriptor of this.entities.all()) {
      const className = descriptor.target.name;
      const repositoryClass = resolveMigrationRepository(descriptor.options) as Type<Repository<ObjectLiteral>>;
      if (repositoryClass === Repository) {
        // `migrationRepository: Repository`: the entity's standard repository, the one
        // TypeOrmModule.forFeature([Entity]) + @InjectRepository(Entity) gives the application.
        const repository = this.dataSource.getRepository(descriptor.target);
        this.registrations.set(descriptor.entityType, { entityType: descriptor.entityType, entityClass: descriptor.target, repository });
        continue;
      }
      let repository: unknown;
      try {
        repository = this.moduleRef.get(repositoryClass, { strict: false });
      } catch {
        throw new MigrationOptionsError(
          `The migration repository ${repositoryClass.name} of @AICapable class ${className} (entity type "${descriptor.entityType}") ` +
            `is not registered as a provider in this application. Add ${repositoryClass.name} to the providers of the module that owns ${className}.`,
        );
      }
      if (!(repository instanceof Repository)) {
        throw new MigrationOptionsError(
          `The migration repository ${repositoryClass.name} of @AICapable class ${className} is not a TypeORM Repository; ` +
            `make it extend Repository<${className}>.`,
        );
      }
      if (repository.metadata.target !== descriptor.target) {
        const other = typeof repository.metadata.target === 'function' ? repository.metadata.target.name : String(repository.metadata.target);
        throw new MigrationOptionsError(
          `The migration repository ${repositoryClass.name} of @AICapable class ${className} is a repository of ${other}, not of ${className}; ` +
            `point migrationRepository at a repository of ${className}.`,
        );
      }
      this.registrations.set(descriptor.entityType, { entityType: descriptor.entityType, entityClass: descriptor.target, repository });
    }
    this.logger.log(`Migration repositories: ${[...this.registrations.keys()].join(', ') || '(none)'}`);
  }

  /** The registration of an entity type; throws {@link UnknownEntityTypeError} listing the known ones. */
  getRegistration(entityType: string): EntityRegistration {
    const registration = this.registrations.get(entityType);
    if (!registration) throw new UnknownEntityTypeError(entityType, this.entityTypes());
    return registration;
  }

  /** Entity types that can be migrated. */
  entityTypes(): string[] {
    return [...this.registrations.keys()];
  }
}
