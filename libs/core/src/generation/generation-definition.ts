import { createHash } from 'node:crypto';
import type { AiEntityConfig, EmbeddableField } from '../entity/ai-entity-config.interface';

/** What a generation's texts are built from: the embeddable fields, in order, with their weights. */
export interface GenerationTextDefinition {
  embeddableFields: EmbeddableField[];
}

/** The embedding space of a generation: which provider configuration embeds its texts and queries. */
export interface GenerationSpace {
  providerName: string;
  model: string;
  dimensions: number;
}

/** A generation's complete definition: space and text. */
export interface GenerationDefinition extends GenerationSpace {
  textDefinition: GenerationTextDefinition;
}

/**
 * Key of an embedding space among the configured providers: model and dimensions (the provider's name is
 * not part of it: the same model behind another endpoint gives the same vectors).
 */
export function spaceKey(space: { model: string; dimensions: number }): string {
  return `${space.model}\u0000${space.dimensions}`;
}

/** The text definition of an entity configuration. */
export function textDefinitionOf(config: Pick<AiEntityConfig, 'embeddableFields'>): GenerationTextDefinition {
  return { embeddableFields: config.embeddableFields.map((f) => ({ name: f.name, weight: f.weight })) };
}

/** Hash of a definition: equal hashes, same vectors for the same rows. */
export function definitionHash(definition: Omit<GenerationDefinition, 'providerName'>): string {
  const fields = definition.textDefinition.embeddableFields.map((f) => `${f.name}*${f.weight}`).join(',');
  return createHash('sha256').update(`${definition.model}\u0000${definition.dimensions}\u0000${fields}`).digest('hex');
}

/** "model/dimensions, fields a*2, b" for messages and logs. */
export function describeDefinition(definition: { model: string; dimensions: number; textDefinition: GenerationTextDefinition | null }): string {
  const fields = definition.textDefinition
    ? definition.textDefinition.embeddableFields.map((f) => (f.weight > 1 ? `${f.name}×${f.weight}` : f.name)).join(', ')
    : '(not recorded)';
  return `${definition.model} (${definition.dimensions} dimensions), fields ${fields}`;
}
