/**
 * Search and suggest. The mix: 24 terms (some misspelt, some accented), every third query filtered
 * by a top category and a price band, pages 1 and 2: 96 distinct queries, so the results cache is
 * warm after the first round, as it is in a store where people search for the same things. Then
 * the same engine with every query new (cache misses only), and the engine's SQL run directly as
 * the baseline.
 */
import type autocannon from 'autocannon';
import { PostgresSearchEngine } from '../../src/platform/search/postgres.search-engine.ts';
import { load, pct, statusNote, type BenchContext, type Row } from '../lib/load.ts';
import { full, PRODUCTS } from '../lib/options.ts';

export async function search({ server, pool }: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const { rows: cats } = await pool.query<{ id: string }>(
    'SELECT id FROM categories WHERE parent_id IS NULL ORDER BY id',
  );
  const terms = [
    'camiseta',
    'camisetta azul',
    'tenis corrida',
    'tênis',
    'cafe especial',
    'café torrado',
    'notebok',
    'notebook gamer',
    'panela inox',
    'panela de pressao',
    'fone bluetooth',
    'fone de ouvido',
    'chocolate amargo',
    'chocolat',
    'mochila',
    'mochila escolar',
    'livro romance',
    'livro infantil',
    'cadeira escritorio',
    'cadeira gamer',
    'vestido',
    'vestdo longo',
    'sabonete',
    'smartphone',
  ];
  const searchPath = (i: number) => {
    const q = terms[i % terms.length]!;
    const filter = i % 3 === 0 ? `&categoryId=${cats[i % cats.length]!.id}&minPrice=2000&maxPrice=30000` : '';
    const page = Math.floor(i / terms.length) % 2 === 0 ? '' : '&page=2';
    return `/store/search?q=${encodeURIComponent(q)}${filter}${page}`;
  };
  let s = 0;
  const searchRun = await load({
    url: server.url,
    connections: 10,
    requests: [{ setupRequest: (req) => ({ ...req, path: searchPath(s++ % 96) }) }],
  });
  let u = 0;
  const newQueries = (): autocannon.Request[] => [
    {
      setupRequest: (req) => {
        // A minimum price of a few centavos: a new query every time that finds what the term finds.
        const i = u++;
        const q = encodeURIComponent(terms[i % terms.length]!);
        return { ...req, path: `/store/search?q=${q}&minPrice=${Math.floor(i / terms.length)}` };
      },
    },
  ];
  const searchMisses = await load({ url: server.url, connections: 10, requests: newQueries() });
  // On the million-product catalog (--full): one shopper at a time, what one uncached search costs.
  const alone = full ? await load({ url: server.url, connections: 1, requests: newQueries() }) : undefined;
  // Suggestions: prefixes of 3 to 6 letters of every word of the mix.
  const prefixes = [
    ...new Set(terms.flatMap((t) => t.split(' ').flatMap((w) => [3, 4, 5, 6].map((n) => w.slice(0, n))))),
  ];
  let g = 0;
  const suggestRun = await load({
    url: server.url,
    connections: 10,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          path: `/store/search/suggest?q=${encodeURIComponent(prefixes[g++ % prefixes.length]!)}`,
        }),
      },
    ],
  });
  const engine = new PostgresSearchEngine({ pool });
  const timed = async (op: (i: number) => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await op(i);
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[Math.floor(ms.length * 0.95)]!;
  };
  const directSearch = await timed((i) => engine.search({ q: terms[i % terms.length]!, page: 1, size: 20 }));
  const directSuggest = await timed((i) => engine.suggest(prefixes[i % prefixes.length]!, 5));
  rows.push({
    workload: `search (${PRODUCTS.toLocaleString('en-US')} products, 96-query mix)`,
    metric: 'req/s',
    value: searchRun.requests.average,
    baseline: { name: 'engine SQL p95 ms, direct, one at a time', value: directSearch },
    ...pct(searchRun),
    target: 'p95 < 20 ms',
    met: searchRun.latency.p97_5 < 20,
    note: statusNote(searchRun),
  });
  rows.push({
    workload: 'search, every query new (cache misses), 10 connections',
    metric: 'req/s',
    value: searchMisses.requests.average,
    baseline: { name: 'engine SQL p95 ms, direct, one at a time', value: directSearch },
    ...pct(searchMisses),
    ...(full ? {} : { target: 'p95 < 20 ms', met: searchMisses.latency.p97_5 < 20 }),
    note: statusNote(searchMisses),
  });
  if (alone) {
    rows.push({
      workload: 'search, every query new, 1,000,000 products, one at a time',
      metric: 'req/s',
      value: alone.requests.average,
      ...pct(alone),
      target: 'p95 < 50 ms',
      met: alone.latency.p97_5 < 50,
      note: statusNote(alone),
    });
  }
  rows.push({
    workload: `suggest (${prefixes.length} prefixes)`,
    metric: 'req/s',
    value: suggestRun.requests.average,
    baseline: { name: 'engine SQL p95 ms, direct, one at a time', value: directSuggest },
    ...pct(suggestRun),
    target: 'p95 < 5 ms',
    met: suggestRun.latency.p97_5 < 5,
    note: statusNote(suggestRun),
  });
  return rows;
}
