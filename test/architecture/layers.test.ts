/**
 * The layering rules are lint rules (eslint.config.js): these tests feed the linter an import that
 * runs up a layer, as a file of each layer would, and expect it refused; and the allowed direction
 * accepted.
 */
import { ESLint, type Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import tseslint from 'typescript-eslint';
// @ts-expect-error -- the ESLint config is plain JavaScript, without a declaration file
import config from '../../eslint.config.js';

// Only the blocks that carry the boundary rules: no type information needed to check imports.
const boundaries = (config as Linter.Config[]).filter(
  (c) => c.rules?.['no-restricted-imports'] !== undefined,
);

async function violations(file: string, source: string): Promise<string[]> {
  const eslint = new ESLint({
    overrideConfigFile: true,
    overrideConfig: [{ languageOptions: { parser: tseslint.parser, sourceType: 'module' } }, ...boundaries],
  });
  const [result] = await eslint.lintText(source, { filePath: file });
  return result!.messages.map((m) => m.message);
}

describe('layer boundaries (npm run lint)', () => {
  it.each([
    ['src/platform/db/scratch.ts', "import { catalogModule } from '../../modules/catalog/index.ts';"],
    ['src/platform/db/scratch.ts', "import { createSessionHelpers } from '../../http/session.ts';"],
    ['src/platform/db/scratch.ts', "import { loadConfig } from '../../config.ts';"],
    ['src/http/scratch.ts', "import { CatalogService } from '../modules/catalog/catalog.service.ts';"],
    ['src/modules/orders/scratch.ts', "import { inventorySql } from '../inventory/inventory.sql.ts';"],
    ['src/modules/orders/scratch.ts', "import { loadConfig } from '../../config.ts';"],
    ['src/assembly/scratch.ts', "import { createApp } from '../app.ts';"],
    ['src/modules/orders/scratch.ts', "import { buildServices } from '../../composition/services.ts';"],
    ['src/composition/scratch.ts', "import { runJob } from '../main/jobs.ts';"],
  ])('%s may not: %s', async (file, source) => {
    expect(await violations(file, source)).toHaveLength(1);
  });

  it.each([
    ['src/http/scratch.ts', "import { AppError } from '../platform/errors.ts';"],
    ['src/modules/orders/scratch.ts', "import { ordersSql } from './orders.sql.ts';"],
    [
      'src/modules/orders/scratch.ts',
      "import { InventoryService } from '../inventory/inventory.service.ts';",
    ],
    ['src/modules/orders/scratch.ts', "import { IdParams } from '../../http/schemas.ts';"],
    ['src/assembly/scratch.ts', "import type { ShopFlowModule } from '../modules/module.ts';"],
    ['src/composition/scratch.ts', "import { CatalogService } from '../modules/catalog/catalog.service.ts';"],
  ])('%s may: %s', async (file, source) => {
    expect(await violations(file, source)).toEqual([]);
  });
});
