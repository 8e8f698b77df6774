/**
 * Search by option values (issue 28): the GIN index of search_documents.option_values that an
 * `option=Cor:Azul` filter reads. Built concurrently: the search table is written by every catalog
 * change and read by every search. The rebuild of the index (`shopflow search reindex`) recreates it
 * under the same name (src/platform/search/postgres.search-engine.ts, INDEXES).
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_search_option_values');
  pgm.sql('CREATE INDEX CONCURRENTLY idx_search_option_values ON search_documents USING GIN (option_values)');
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_search_option_values');
};
