-- Up Migration
-- Search by option values and variant prices (issue 28, item 4): each search document carries its
-- live variants. `option_values`: the product's `Name:Value` pairs (GIN-indexed in 1765810000001,
-- built concurrently); `variants`: each live variant's price `p` and pairs `o`, which checks that
-- one and the same variant has every option asked for; `max_price`: the highest variant price
-- (`price` is the lowest). Constant defaults and a nullable column: nothing is rewritten. Documents
-- indexed before this get the new fields at their next sync, or all at once with
-- `shopflow search reindex`; until then they are found by their price as before.
SET lock_timeout = '3s';
ALTER TABLE search_documents
  ADD COLUMN max_price INTEGER,
  ADD COLUMN option_values TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN variants JSONB NOT NULL DEFAULT '[]'::jsonb;

-- Down Migration
SET lock_timeout = '3s';
-- The variant fields of the index are lost; a reindex of the previous release does not need them.
ALTER TABLE search_documents DROP COLUMN variants, DROP COLUMN option_values, DROP COLUMN max_price;
