/**
 * Sizes a maintainer can read: no source file in src/ over 500 lines and no function over 120
 * (a route plugin, a service method, the composition root's builders). A file or function that
 * grows past them is split along its seams; the test names it. Test files are not counted.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 120;

const sources = execFileSync('git', ['ls-files', 'src/**/*.ts'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.endsWith('.test.ts'));

/** Every function-like node of a source text over `max` lines: "file:line (n lines)". */
export function longFunctions(file: string, text: string, max: number): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const from = src.getLineAndCharacterOfPosition(node.getStart()).line;
      const to = src.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (to - from + 1 > max) found.push(`${file}:${from + 1} (${to - from + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return found;
}

describe('sizes', () => {
  it(`keeps every source file under ${MAX_FILE_LINES} lines`, () => {
    expect(sources.length).toBeGreaterThan(100);
    const long = sources
      .map((f) => [f, readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > MAX_FILE_LINES)
      .map(([f, n]) => `${f} (${n} lines)`);
    expect(long).toEqual([]);
  });

  it(`keeps every function under ${MAX_FUNCTION_LINES} lines`, () => {
    const long = sources.flatMap((f) => longFunctions(f, readFileSync(f, 'utf8'), MAX_FUNCTION_LINES));
    expect(long).toEqual([]);
  });

  it('finds a long function when there is one', () => {
    const body = Array.from({ length: 130 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    expect(longFunctions('scratch.ts', `export function big() {\n${body}\n}\n`, MAX_FUNCTION_LINES)).toEqual([
      'scratch.ts:1 (132 lines)',
    ]);
  });
});
