/** One golden query: a search whose good answers are known (`expectedIds`), or only compared between generations. */
export interface GoldenQuery {
  query: string;
  /** Ids that should be among the top `k`; recall@k is computed over queries that have them. */
  expectedIds?: Array<string | number>;
  /** Metadata filter, as in a search. */
  filter?: Record<string, unknown>;
}

/** Coverage of a generation: every source row has a current vector in it, and it has no others. */
export interface GenerationCoverage {
  sourceRows: number;
  vectors: number;
  /** Rows without a vector in the generation. */
  missing: number;
  /** Vectors whose content hash differs from the row's current one. */
  stale: number;
  /** Vectors whose row no longer exists. */
  orphaned: number;
}

/** Per-query figures of a quality report. */
export interface GoldenQueryResult {
  query: string;
  /** Share of the expected ids found in the candidate's top k; null without expected ids. */
  recall: number | null;
  /** Share of the serving generation's top k also in the candidate's top k; null when the candidate serves. */
  overlap: number | null;
}

/** The quality gate's report, stored with the generation. */
export interface GenerationQualityReport {
  generationId: number;
  /** The generation it was compared with (the serving one), or null. */
  comparedWith: number | null;
  k: number;
  coverage: GenerationCoverage;
  queries: GoldenQueryResult[];
  /** Mean recall@k over queries with expected ids; null when none has. */
  recallAtK: number | null;
  /** Mean overlap@k with the serving generation; null when there is nothing to compare with. */
  overlapAtK: number | null;
  thresholds: { minRecall: number; minOverlap: number; maxMissing: number; maxStale: number };
  passed: boolean;
  /** Why it failed, one sentence per reason. */
  failures: string[];
  validatedAt: string;
}
