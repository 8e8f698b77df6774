/** The search engine port: PostgreSQL (default) or OpenSearch/Elasticsearch. */

export interface SearchDocument {
  productId: string;
  name: string;
  description: string | null;
  tags: string[];
  categoryId: string | null;
  /** The category and its ancestors (a category filter includes sub-categories). */
  categoryPath: string[];
  price: number;
  popularity: number;
  /** The product's updated_at: drift repair compares it with the catalog. */
  updatedAt: string;
}

export interface SearchQuery {
  q: string;
  categoryId?: string;
  minPrice?: number;
  maxPrice?: number;
  tags?: string[];
  /** 1-based. */
  page: number;
  size: number;
}

export interface SearchResult {
  productIds: string[];
  total: number;
  /** False when `total` is a lower bound (more matches than the engine counts exactly). */
  totalIsExact: boolean;
}

export interface Suggestion {
  text: string;
  productId: string;
}

/** A rebuild in progress: documents go to a new index; `finish` swaps it in at once. */
export interface Rebuild {
  write(docs: SearchDocument[]): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export interface SearchEngine {
  readonly name: string;
  search(query: SearchQuery): Promise<SearchResult>;
  suggest(prefix: string, size: number): Promise<Suggestion[]>;
  upsert(docs: SearchDocument[]): Promise<void>;
  remove(productIds: string[]): Promise<void>;
  /** Indexed (productId, updatedAt) pairs after `afterId`, in id order: for drift repair. */
  versions(afterId: string | null, limit: number): Promise<{ productId: string; updatedAt: string }[]>;
  setPopularity(scores: { productId: string; popularity: number }[]): Promise<void>;
  beginRebuild(): Promise<Rebuild>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Lower-case, accents removed, split into words of letters and digits. */
export function searchWords(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}
