/** One embeddable field of an entity type, as declared in `ai-entity-config.yml`. */
export interface EmbeddableField {
  /** Entity property name. */
  name: string;
  /** Integer emphasis 1..10: the field's line is repeated this many times in the embedded text. Default 1. */
  weight: number;
}

/** Configuration of one entity type from `ai-entity-config.yml`. */
export interface AiEntityConfig {
  entityType: string;
  embeddableFields: EmbeddableField[];
  /** Entity properties copied into the vector row's metadata, usable as search filters. */
  metadataFields: string[];
}
