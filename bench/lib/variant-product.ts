/**
 * The camiseta of issue #28: one product in 3 sizes x 4 colours (12 variants, each with its SKU,
 * price, weight, dimensions and stock), created through the admin API of the server under test
 * with an admin key made by `shopflow admin create-key` (the way an operator makes one).
 */
import { spawnSync } from 'node:child_process';
import { dbUrl } from './database.ts';
import { ROOT } from './options.ts';

const SIZES = ['P', 'M', 'G'];
const COLOURS = ['Azul', 'Preto', 'Branco', 'Verde'];

/** An admin key with the catalog scope for an hour (its hash stays in the bench's database). */
function adminKey(): string {
  const made = spawnSync(
    process.execPath,
    [
      'bin/shopflow.js',
      'admin',
      'create-key',
      '--name',
      `bench-${Date.now()}`,
      '--scopes',
      'catalog',
      '--expires-in',
      '1h',
    ],
    { cwd: ROOT, env: { ...process.env, DATABASE_URL: dbUrl, LOG_LEVEL: 'warn' }, encoding: 'utf8' },
  );
  const key = made.stdout.trim().split('\n').at(-1);
  if (made.status !== 0 || !key) throw new Error(`admin create-key failed: ${made.stderr}`);
  return key;
}

/** Creates the 12-variant product on `serverUrl`; its id. */
export async function createVariantProduct(serverUrl: string): Promise<string> {
  const variants = SIZES.flatMap((size, s) =>
    COLOURS.map((colour) => ({
      sku: `BENCH-CAM-${size}-${colour.toUpperCase()}`,
      options: { Tamanho: size, Cor: colour },
      price: 4990 + s * 500,
      weightGrams: 180 + s * 20,
      dimensionsCm: { length: 30, width: 22, height: 2 },
      availableQuantity: 100,
    })),
  );
  const res = await fetch(`${serverUrl}/admin/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Camiseta Básica Algodão Bench',
      description: 'Camiseta básica de algodão, três tamanhos e quatro cores.',
      basePrice: 4990,
      tags: ['camisetas', 'bench'],
      options: [
        { name: 'Tamanho', values: SIZES },
        { name: 'Cor', values: COLOURS },
      ],
      variants,
    }),
  });
  const body = (await res.json()) as { id?: string; variants?: unknown[] };
  if (res.status !== 201 || !body.id || body.variants?.length !== 12)
    throw new Error(`creating the 12-variant product: ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
  return body.id;
}
