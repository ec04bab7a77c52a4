import { Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityMetadata } from 'typeorm';

/** A TypeORM column's metadata (TypeORM does not export the class from its root). */
type ColumnMetadata = EntityMetadata['primaryColumns'][number];
import { getAICapableOptions, resolveMigrationRepository, type AICapableOptions } from './ai-capable.decorator';
import type { AiEntityConfig } from './ai-entity-config.interface';
import { AiEntityConfigError } from './entity-config.errors';
import { entityIdKindOf, type EntityIdKind } from './entity-id';

/** Everything the indexing pipeline knows about one AI-capable entity type of this application. */
export interface AiEntityDescriptor {
  entityType: string;
  /** The entity class. */
  target: Function;
  /** The `@AICapable` options of the class. */
  options: AICapableOptions;
  config: AiEntityConfig;
  metadata: EntityMetadata;
  /** The single primary-key column. */
  primaryColumn: ColumnMetadata;
  /** How ids of this entity are written as text (and validated at enqueue). */
  idKind: EntityIdKind;
  /** Property names read to build the text and the metadata (primary key included). */
  selectedProperties: string[];
}

/**
 * Per-application index of AI-capable entities: the `@AICapable` classes among this DataSource's entities,
 * matched one-to-one with the entity types of `ai-entity-config.yml`. Built once at startup; every mismatch
 * is a startup error naming the file, the entity type and the field.
 */
@Injectable()
export class AiEntityRegistry {
  private readonly logger = new Logger(AiEntityRegistry.name);
  private readonly byType = new Map<string, AiEntityDescriptor>();
  private readonly byTarget = new Map<Function, AiEntityDescriptor>();

  /** Builds the registry; called by the core module once the DataSource is initialised. */
  build(dataSource: DataSource, configs: Map<string, AiEntityConfig>, configFile: string): void {
    this.byType.clear();
    this.byTarget.clear();
    for (const metadata of dataSource.entityMetadatas) {
      const options = getAICapableOptions(metadata.target);
      if (!options) continue;
      const className = (metadata.target as Function).name;
      const existing = this.byType.get(options.entityType);
      if (existing) {
        throw new AiEntityConfigError(
          `Entity type "${options.entityType}" is declared by two @AICapable classes, ${existing.target.name} and ${className}. ` +
            `Give each class its own entityType.`,
        );
      }
      if (!resolveMigrationRepository(options)) {
        throw new AiEntityConfigError(
          `@AICapable class ${className} (entity type "${options.entityType}") has migrationRepository ${String(options.migrationRepository)}. ` +
            `This is usually a circular import between the entity and its repository file: write ` +
            `migrationRepository: forwardRef(() => YourRepository) (forwardRef from @nestjs/common).`,
        );
      }
      const config = configs.get(options.entityType);
      if (!config) {
        throw new AiEntityConfigError(
          `${configFile}: @AICapable class ${className} declares entity type "${options.entityType}", but the file has no ` +
            `"ai-entities.${options.entityType}" entry. Add one with its embeddable-fields.`,
        );
      }
      if (metadata.primaryColumns.length !== 1) {
        throw new AiEntityConfigError(
          `@AICapable class ${className} (entity type "${options.entityType}") has ${metadata.primaryColumns.length} primary-key columns; ` +
            `AI indexing needs exactly one (a uuid or numeric id).`,
        );
      }
      const known = new Set(metadata.columns.map((c) => c.propertyName));
      const check = (field: string, kind: string) => {
        if (!known.has(field)) {
          throw new AiEntityConfigError(
            `${configFile}: entity type "${options.entityType}" lists ${kind} field "${field}", which is not a column of ${className}. ` +
              `Known columns: ${[...known].join(', ')}.`,
          );
        }
      };
      config.embeddableFields.forEach((f) => check(f.name, 'embeddable'));
      config.metadataFields.forEach((f) => check(f, 'metadata'));
      const primaryColumn = metadata.primaryColumns[0];
      const descriptor: AiEntityDescriptor = {
        entityType: options.entityType,
        target: metadata.target as Function,
        options,
        config,
        metadata,
        primaryColumn,
        idKind: entityIdKindOf(String(dataSource.driver.normalizeType(primaryColumn))),
        selectedProperties: [
          ...new Set([primaryColumn.propertyName, ...config.embeddableFields.map((f) => f.name), ...config.metadataFields]),
        ],
      };
      this.byType.set(options.entityType, descriptor);
      this.byTarget.set(descriptor.target, descriptor);
    }
    for (const entityType of configs.keys()) {
      if (!this.byType.has(entityType)) {
        throw new AiEntityConfigError(
          `${configFile}: entity type "${entityType}" has no @AICapable entity in this application's DataSource. ` +
            `Decorate the entity class with @AICapable({ entityType: '${entityType}', migrationRepository: ... }) and list it in TypeORM's entities, or remove the entry.`,
        );
      }
    }
    this.logger.log(`AI-capable entity types: ${[...this.byType.keys()].join(', ') || '(none)'}`);
  }

  /** The descriptor of an entity type, or `undefined` when this application does not know it. */
  find(entityType: string): AiEntityDescriptor | undefined {
    return this.byType.get(entityType);
  }

  /** The descriptor of an entity class (or of a subclass instance's constructor), if AI-capable. */
  findByTarget(target: Function | string | undefined): AiEntityDescriptor | undefined {
    return typeof target === 'function' ? this.byTarget.get(target) : undefined;
  }

  /** All entity types known to this application. */
  entityTypes(): string[] {
    return [...this.byType.keys()];
  }

  /** All descriptors. */
  all(): AiEntityDescriptor[] {
    return [...this.byType.values()];
  }
}
