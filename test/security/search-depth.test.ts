/**
 * Attack: deep search pages. `page` up to 500 made the engine rank every match to reach the page
 * (and from + size past 10,000 is an error on OpenSearch, answered 500). Now page x size is at
 * most 10,000 with either engine (checked before the engine is asked): 400 search_page_too_deep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import type { Err } from '../helpers/api.ts';

describe('search page depth', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const search = (query: string) => t.server.inject({ url: `/store/search?${query}` });

  it('answers pages up to the 10,000th result and refuses deeper ones with a stable code', async () => {
    expect((await search('q=camiseta&page=100&size=100')).statusCode).toBe(200);
    expect((await search('q=camiseta&page=500&size=20')).statusCode).toBe(200);
    for (const q of ['q=camiseta&page=101&size=100', 'q=camiseta&page=401&size=25']) {
      const res = await search(q);
      expect(res.statusCode).toBe(400);
      expect(res.json<Err>().error.code).toBe('search_page_too_deep');
    }
  });
});
