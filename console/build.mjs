/* global process, console, URL */
// Builds the console into console/dist: types from console/openapi.json, a type-check (an API
// change that breaks the console fails here), then Vite. Runs from `npm ci`/`npm install`
// (`prepare`) and `npm run build:console`. With `--if-tools` (prepare), an install without dev
// dependencies (`npm ci --omit=dev`, the image's runtime stage) skips it: the image builds the
// console in its own stage.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(import.meta.url);
const has = (name) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};

if (!has('vite') || !has('openapi-typescript')) {
  if (process.argv.includes('--if-tools')) {
    console.log('console: build tools not installed (production install): not built here');
    process.exit(0);
  }
  console.error('console: vite and openapi-typescript are missing: run `npm ci` first');
  process.exit(1);
}

const started = Date.now();
const { default: openapiTS, astToString } = await import('openapi-typescript');
const ast = await openapiTS(new URL('openapi.json', `file://${root}/`));
mkdirSync(path.join(root, 'src/api'), { recursive: true });
writeFileSync(path.join(root, 'src/api/schema.d.ts'), astToString(ast));

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], {
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  console.error('console: type errors against the API document (console/openapi.json)');
  process.exit(1);
}

const { build } = await import('vite');
await build({ configFile: path.join(root, 'vite.config.ts') });
console.log(`console: built into console/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
