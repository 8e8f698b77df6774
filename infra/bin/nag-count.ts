/**
 * How many cdk-nag findings `infra/lib/nag.ts` accepts: synthesises every stack of both
 * environments with no acknowledgment and counts the findings cdk-nag reports, by rule
 * (`npx tsx infra/bin/nag-count.ts`; `--list` prints each finding).
 * Offline, like `cdk synth`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStacks } from '../lib/app.ts';
import { type EnvironmentContext, environments } from '../lib/environments.ts';

interface Report {
  pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/** Every finding (`rule construct-path`) of the app built from `context`, none acknowledged. */
export function unacknowledgedFindings(context: EnvironmentContext): string[] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'shopflow-nag-'));
  const cdk = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  try {
    const app = new App({ outdir, context: cdk.context });
    buildStacks(app, environments(context), undefined, false);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
      return [];
    } catch {
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
      return report.pluginReports.flatMap((p) =>
        p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`)),
      );
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const findings = unacknowledgedFindings({
    account: '123456789012',
    imageTag: 'count',
    alarmEmail: 'oncall@example.com',
  });
  const byRule = new Map<string, number>();
  for (const f of findings) {
    const rule = f.split(' ')[0]!.replace(/\[.*$/, '');
    byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
  }
  for (const [rule, n] of [...byRule].sort()) console.log(`${rule.padEnd(50)} ${n}`);
  console.log(`${'total'.padEnd(50)} ${findings.length}`);
  if (process.argv.includes('--list')) for (const f of findings.sort()) console.log(f);
}
