/**
 * Each table has one owner (src/modules/ownership.ts): this test reads every SQL literal in the
 * source and fails when a module or adapter writes a table it does not own, or reads one outside
 * the written-down exceptions. The lint rule on imports cannot see SQL strings; this can.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXCEPTIONS, TABLE_OWNERS, type Exception } from '../../src/modules/ownership.ts';

const SRC = path.resolve(import.meta.dirname, '../../src');
const TABLES = new Set<string>(Object.values(TABLE_OWNERS).flat());
const OWNER_OF = new Map<string, string>(
  Object.entries(TABLE_OWNERS).flatMap(([owner, tables]) => tables.map((t) => [t, owner] as const)),
);

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** `modules/<name>` or `platform/<name>` for a file in such a folder; else the file's path under src/. */
function ownerOf(file: string): string {
  const rel = path.relative(SRC, file);
  const m = /^(modules|platform)\/([^/]+)\//.exec(rel);
  return m ? `${m[1]}/${m[2]}` : rel;
}

export interface Access {
  table: string;
  access: 'read' | 'write';
}

/** The tables a piece of SQL writes (INSERT, UPDATE, DELETE, COPY, TRUNCATE, row locks) and reads. */
export function accesses(sql: string): Access[] {
  // Names a WITH clause defines are not tables.
  const ctes = new Set(
    [...sql.matchAll(/\b(\w+)\s+AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(/gi)].map((m) => m[1]!),
  );
  const found: Access[] = [];
  const add = (name: string, access: Access['access']) => {
    const table = name.toLowerCase();
    if (TABLES.has(table) && !ctes.has(table)) found.push({ table, access });
  };
  for (const m of sql.matchAll(/\b(?:INSERT\s+INTO|DELETE\s+FROM|TRUNCATE|COPY)\s+(\w+)/gi))
    add(m[1]!, 'write');
  for (const m of sql.matchAll(/\bUPDATE\s+(?!SET\b)(\w+)/gi)) add(m[1]!, 'write');
  // A row lock (FOR UPDATE / FOR SHARE) is taken on what the statement reads: as good as a write.
  const locks = /\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b/i.test(sql);
  for (const m of sql.matchAll(/\b(?:FROM|JOIN)\s+(\w+)/gi)) add(m[1]!, locks ? 'write' : 'read');
  return found;
}

/** Every SQL-looking string literal of a file (template literals and quoted strings). */
function sqlLiterals(text: string): string[] {
  return [...text.matchAll(/`([^`]*)`|'((?:[^'\\\n]|\\.)*)'/g)]
    .map((m) => m[1] ?? m[2]!)
    .filter((s) => /\b(SELECT|INSERT|UPDATE|DELETE|COPY|TRUNCATE)\b/.test(s));
}

/** What each owner's SQL does to tables it does not own and that none of `allowances` allows. */
function trespasses(files: { file: string; text: string }[], allowances: Exception[] = EXCEPTIONS): string[] {
  const allowed = (who: string, a: Access) =>
    allowances.some(
      (e) => e.who === who && e.table === a.table && (e.access === 'write' || a.access === 'read'),
    );
  const out = new Set<string>();
  for (const { file, text } of files) {
    const who = ownerOf(file);
    for (const sql of sqlLiterals(text))
      for (const a of accesses(sql))
        if (OWNER_OF.get(a.table) !== who && !allowed(who, a))
          out.add(`${path.relative(SRC, file)} ${a.access}s ${a.table} (owned by ${OWNER_OF.get(a.table)})`);
  }
  return [...out].sort();
}

const files = () => sourceFiles().map((file) => ({ file, text: readFileSync(file, 'utf8') }));

describe('table ownership', () => {
  it('every table has one owner, and each owner exists', () => {
    const all = Object.values(TABLE_OWNERS).flat();
    expect(new Set(all).size).toBe(all.length);
    const owners = new Set(sourceFiles().map(ownerOf));
    for (const owner of Object.keys(TABLE_OWNERS)) expect(owners, owner).toContain(owner);
  });

  it('no module writes a table it does not own, or reads one outside the written-down exceptions', () => {
    expect(trespasses(files(), EXCEPTIONS)).toEqual([]);
  });

  it('knows every table and view the migrations create', () => {
    const dir = path.resolve(SRC, '../migrations');
    const created = new Set(
      readdirSync(dir)
        .filter((f) => /\.(sql|js)$/.test(f))
        .flatMap((f) => [
          ...readFileSync(path.join(dir, f), 'utf8').matchAll(
            /CREATE (?:MATERIALIZED VIEW|TABLE)(?: IF NOT EXISTS)? (\w+)/gi,
          ),
        ])
        .map((m) => m[1]!.toLowerCase()),
    );
    expect([...created].filter((t) => !TABLES.has(t)).sort()).toEqual([]);
  });

  it('catches a scratch write to another module’s table, and a read that no exception allows', () => {
    const scratch = path.join(SRC, 'modules/reviews/scratch.sql.ts');
    expect(
      trespasses([
        { file: scratch, text: "const x = `UPDATE orders SET status = 'cancelled' WHERE id = $1`;" },
        { file: scratch, text: "const y = 'SELECT email FROM customers WHERE id = $1';" },
        { file: scratch, text: 'const z = `SELECT 1 FROM orders WHERE id = $1 FOR UPDATE`;' },
      ]),
    ).toEqual([
      'modules/reviews/scratch.sql.ts reads customers (owned by modules/customers)',
      'modules/reviews/scratch.sql.ts writes orders (owned by modules/orders)',
    ]);
  });

  it('reads the SQL it is shown: writes, row locks, reads, not names a WITH clause defines', () => {
    expect(
      accesses(`WITH orders AS (SELECT 1) INSERT INTO carts (id) SELECT id FROM products p
                JOIN inventory i ON i.product_id = p.id`),
    ).toEqual([
      { table: 'carts', access: 'write' },
      { table: 'products', access: 'read' },
      { table: 'inventory', access: 'read' },
    ]);
    expect(accesses('SELECT 1 FROM orders WHERE id = $1 FOR NO KEY UPDATE')).toEqual([
      { table: 'orders', access: 'write' },
    ]);
    expect(
      accesses('INSERT INTO reviews (rating) VALUES ($1) ON CONFLICT (id) DO UPDATE SET rating = 1'),
    ).toEqual([{ table: 'reviews', access: 'write' }]);
  });
});
