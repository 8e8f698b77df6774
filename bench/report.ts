/**
 * The run's table: printed, and for a whole run kept in bench/results/<time>.{json,md} and put
 * into the README's performance section. A partial run (--only) prints its table and keeps nothing.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import type { Row } from './lib/load.ts';
import { log, mode, only, PRODUCTS, ROOT } from './lib/options.ts';

const fmt = (n: number | undefined, d = 0) =>
  n === undefined || Number.isNaN(n)
    ? ''
    : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function table(rows: Row[]): string {
  return [
    '| workload | result | baseline | ratio | target | met | p50 / p95 / p99 ms | note |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${fmt(r.value)} ${r.metric} | ${r.baseline ? `${fmt(r.baseline.value, 1)} (${r.baseline.name})` : ''} | ${r.ratio === undefined ? '' : fmt(r.ratio, 2)} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} | ${r.p50 === undefined ? '' : `${r.p50} / ${r.p95} / ${r.p99}`} | ${r.note ?? ''} |`,
    ),
  ].join('\n');
}

export async function report(rows: Row[], started: number): Promise<void> {
  const text = table(rows);
  log('\n' + text);
  const took = `${((Date.now() - started) / 1000).toFixed(0)} s in all`;
  if (only) {
    log(`\n${took} (--only: nothing written)`);
    return;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const json = { date: new Date().toISOString(), mode, products: PRODUCTS, machine, rows };
  writeFileSync(path.join(ROOT, `bench/results/${stamp}.json`), JSON.stringify(json, null, 2) + '\n');
  // Formatted as the repository formats Markdown, so the README stays lint-clean.
  const md = await prettier.format(
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine} (${mode} run, ${PRODUCTS.toLocaleString('en-US')} products).\n\n${text}\n`,
    { ...(await prettier.resolveConfig(path.join(ROOT, 'README.md'))), parser: 'markdown' },
  );
  writeFileSync(path.join(ROOT, `bench/results/${stamp}.md`), md);
  // The newest table goes into the README's performance section.
  const readme = path.join(ROOT, 'README.md');
  const current = readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (current.includes(start) && current.includes(end)) {
    writeFileSync(
      readme,
      `${current.slice(0, current.indexOf(start) + start.length)}\n\n${md}\n${current.slice(current.indexOf(end))}`,
    );
  }
  log(`\nresults in bench/results/${stamp}.{json,md}; ${took}`);
}
