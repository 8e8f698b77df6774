-- Up Migration
-- Outbox lanes: events of one aggregate always fall in the same lane (hash of its id), and a lane
-- is relayed by one worker at a time (an advisory lock), in id order. Several workers share the
-- lanes, yet no aggregate's events are ever published out of order.
ALTER TABLE outbox ADD COLUMN lane SMALLINT GENERATED ALWAYS AS ((abs(hashtext(aggregate_id)) % 8)::smallint) STORED;
CREATE INDEX idx_outbox_lane_unpublished ON outbox(lane, id) WHERE published_at IS NULL;

-- Search (the PostgreSQL engine): Portuguese stemming with accents folded.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TEXT SEARCH CONFIGURATION shopflow_pt (COPY = portuguese);
ALTER TEXT SEARCH CONFIGURATION shopflow_pt
  ALTER MAPPING FOR hword, hword_part, word WITH unaccent, portuguese_stem;

-- unaccent() is only STABLE; an immutable wrapper (fixed dictionary) lets it feed indexes.
CREATE FUNCTION shopflow_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- array_to_string is only STABLE (element output functions); for text[] it is immutable.
CREATE FUNCTION shopflow_join_words(text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT array_to_string($1, ' ') $$;

-- One row per searchable (live) product, kept in step by the indexer from events.
CREATE TABLE search_documents (
  product_id UUID PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT,
  tags TEXT[] NOT NULL DEFAULT '{}',
  category_id UUID,
  -- The category and its ancestors: a filter on a category matches its sub-categories.
  category_path UUID[] NOT NULL DEFAULT '{}',
  price INTEGER NOT NULL,
  popularity REAL NOT NULL DEFAULT 0,
  -- The product's updated_at when indexed: drift repair compares it with the catalog.
  source_updated_at TIMESTAMPTZ NOT NULL,
  name_folded TEXT GENERATED ALWAYS AS (lower(shopflow_unaccent(name))) STORED,
  tsv TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('shopflow_pt', coalesce(name, '')), 'A') ||
    setweight(to_tsvector('shopflow_pt', coalesce(shopflow_join_words(tags), '')), 'B') ||
    setweight(to_tsvector('shopflow_pt', coalesce(description, '')), 'C')
  ) STORED
);
CREATE INDEX idx_search_tsv ON search_documents USING GIN (tsv);
CREATE INDEX idx_search_name_trgm ON search_documents USING GIN (name_folded gin_trgm_ops);
CREATE INDEX idx_search_category_path ON search_documents USING GIN (category_path);
CREATE INDEX idx_search_tags ON search_documents USING GIN (tags);
CREATE INDEX idx_search_price ON search_documents (price);
CREATE INDEX idx_search_popularity ON search_documents (popularity DESC, product_id);

-- The vocabulary of product names and tags (accents folded), for typo correction and
-- autocomplete: small even for a million products, so trigram lookups on it are fast.
CREATE TABLE search_words (
  word TEXT PRIMARY KEY
);
CREATE INDEX idx_search_words_trgm ON search_words USING GIN (word gin_trgm_ops);

-- Down Migration
DROP TABLE search_words;
DROP TABLE search_documents;
DROP FUNCTION shopflow_join_words(text[]);
DROP FUNCTION shopflow_unaccent(text);
-- The extensions stay: other objects may use them, and they hold no data.
DROP TEXT SEARCH CONFIGURATION shopflow_pt;
DROP INDEX idx_outbox_lane_unpublished;
ALTER TABLE outbox DROP COLUMN lane;
