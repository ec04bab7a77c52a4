import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_DATA_SOURCE } from '../ai-core.constants';
import { AiEntityRegistry } from '../entity/ai-entity-registry.service';
import { textDefinitionOf, type GenerationTextDefinition } from './generation-definition';
import { IndexGeneration } from './index-generation.entity';
import { IndexGenerationState, MAINTAINED_GENERATION_STATES } from './index-generation-state.enum';

/** What the indexing pipeline needs of a generation it writes or searches. */
export interface GenerationTarget {
  id: number;
  entityType: string;
  state: IndexGenerationState;
  model: string;
  dimensions: number;
  textDefinition: GenerationTextDefinition;
}

/**
 * Reads of `ai_index_generations` and `ai_index_aliases` for the pipeline. Nothing is cached: the workers
 * read the maintained generations once per batch and search reads the serving one per query, so a
 * generation created or cut over by another instance takes effect here at the next batch or query.
 * @internal
 */
@Injectable()
export class IndexGenerationCatalog {
  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: AiEntityRegistry,
  ) {}

  /** The maintained (BUILDING, READY, SERVING) generations of these entity types, by entity type. */
  async maintained(entityTypes: string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, GenerationTarget[]>> {
    const result = new Map<string, GenerationTarget[]>(entityTypes.map((t) => [t, []]));
    if (entityTypes.length === 0) return result;
    const rows = await manager
      .createQueryBuilder(IndexGeneration, 'g')
      .where('g.entityType = ANY(:types)', { types: entityTypes })
      .andWhere('g.state IN (:...states)', { states: MAINTAINED_GENERATION_STATES })
      .orderBy('g.id', 'ASC')
      .getMany();
    for (const row of rows) result.get(row.entityType)?.push(this.toTarget(row));
    return result;
  }

  /** The generation serving search for the entity type, or undefined before the first startup created one. */
  async serving(entityType: string, manager: EntityManager = this.dataSource.manager): Promise<GenerationTarget | undefined> {
    const row = await manager
      .createQueryBuilder(IndexGeneration, 'g')
      .innerJoin('ai_index_aliases', 'a', 'a.serving_generation_id = g.id')
      .where('a.entity_type = :entityType', { entityType })
      .getOne();
    return row ? this.toTarget(row) : undefined;
  }

  /** One generation, or undefined. */
  async find(id: number, manager: EntityManager = this.dataSource.manager): Promise<IndexGeneration | undefined> {
    return (await manager.findOne(IndexGeneration, { where: { id } })) ?? undefined;
  }

  /** The pipeline's view of a generation row (an adopted one without a recorded definition uses the configuration's). */
  toTarget(row: IndexGeneration): GenerationTarget {
    const config = this.registry.find(row.entityType)?.config;
    return {
      id: row.id,
      entityType: row.entityType,
      state: row.state,
      model: row.model,
      dimensions: row.dimensions,
      textDefinition: row.textDefinition ?? textDefinitionOf(config ?? { embeddableFields: [] }),
    };
  }
}
