/**
 * A fuzz pass over every operation in /docs/json: malformed bodies, wrong types, huge and negative
 * numbers, deep JSON, long strings and unicode edge cases, in bodies, query strings and path
 * parameters, with and without an admin key. Never a 5xx, never a stack trace, and a 4xx writes
 * nothing (the row counts of the main tables do not move). Bounded by default; FUZZ_RUNS=<n> for
 * a longer run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const deepText = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** Values that have broken parsers and validators elsewhere. */
const nasty = fc.constantFrom<unknown>(
  -1,
  0,
  -0.5,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 31,
  '',
  ' ',
  'a'.repeat(100_000),
  '\u0000',
  '\ud800',
  '💥'.repeat(1000),
  'Ω≈ç√∫˜µ≤≥÷',
  "'; DROP TABLE orders; --",
  '../../etc/passwd',
  '8f6f2a8e-3c1b-4d0a-9a57-2f1d8c7e6b5a',
  '2020-13-45 99:99:99+00',
  true,
  null,
  [],
  {},
  { __proto__: { admin: true } },
);
const value: fc.Arbitrary<unknown> = fc.oneof(nasty, fc.jsonValue({ maxDepth: 4 }));
const body = fc.oneof(
  fc.dictionary(
    fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        'items',
        'productId',
        'quantity',
        'name',
        'basePrice',
        'email',
        'password',
        'customization',
        'to',
        'availableQuantity',
        'paymentMethod',
        'rating',
      ),
    ),
    value,
    { maxKeys: 6 },
  ),
  value,
);
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('%00', '%ZZ', 'a'.repeat(5000), '-1', '1e999', '{"a":1}', '💥'),
);

interface Operation {
  method: string;
  path: string;
  query: string[];
}

describe('fuzzing every operation of the OpenAPI document', () => {
  let t: TestApp;
  let operations: Operation[];
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_ENABLED: 'false' });
    const doc = (await t.server.inject('/docs/json')).json<{
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    }>();
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      })),
    );
  });
  afterAll(async () => t?.close());

  const counts = async () =>
    (
      await t.db.pool.query<{ c: string }>(
        `SELECT concat_ws(',', (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM products),
           (SELECT COUNT(*) FROM categories), (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM carts),
           (SELECT COUNT(*) FROM cart_items), (SELECT COUNT(*) FROM reviews), (SELECT COUNT(*) FROM payment_attempts),
           (SELECT COUNT(*) FROM admin_api_keys), (SELECT COUNT(*) FROM idempotency_keys), (SELECT COUNT(*) FROM outbox)) AS c`,
      )
    ).rows[0]!.c;

  it('answers malformed input with a 4xx and no stack trace, writing nothing', async () => {
    expect(operations.length).toBeGreaterThan(40);
    const failures: string[] = [];
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(
          fc.array(text, { minLength: 3, maxLength: 3 }),
          fc.dictionary(fc.constantFrom(...(op.query.length ? op.query : ['x'])), text, { maxKeys: 3 }),
          fc.oneof(body, fc.constant(deepText(5000))),
          fc.boolean(),
          async (segments, query, payload, asAdmin) => {
            let i = 0;
            const path = op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(segments[i++ % 3]!));
            const qs = new URLSearchParams(query).toString();
            const before = await counts();
            const res = await t.server.inject({
              method: op.method as 'GET',
              url: qs ? `${path}?${qs}` : path,
              headers: {
                ...(asAdmin ? { authorization: `Bearer ${t.adminKey}` } : {}),
                'content-type': 'application/json',
              },
              ...(op.method === 'GET' || op.method === 'DELETE'
                ? {}
                : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
            });
            const where = `${op.method} ${op.path} -> ${res.statusCode}`;
            if (res.statusCode >= 500 && res.statusCode !== 503)
              failures.push(`${where}: ${res.body.slice(0, 200)}`);
            if (/\bat .+:\d+:\d+\)?/.test(res.body) || /node_modules|\/src\//.test(res.body))
              failures.push(`${where}: stack trace`);
            if (res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 402) {
              const after = await counts();
              if (after !== before) failures.push(`${where}: wrote rows (${before} -> ${after})`);
            }
          },
        ),
        { numRuns: RUNS },
      );
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
