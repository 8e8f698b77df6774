import { InvalidArgumentError } from 'commander';
import type { AppConfig } from '../config.ts';
import { ADMIN_KEY_SCOPES, type AdminKeyScope } from '../http/admin-scopes.ts';
import { withApp } from './shared.ts';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `90d`, `12h`, `30m` -> milliseconds (at most ten years). */
export function parseExpiresIn(value: string): number {
  const match = /^(\d{1,6})([dhm])$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : 0;
  if (ms <= 0 || ms > 3650 * UNIT_MS.d)
    throw new InvalidArgumentError('use a positive number of days, hours or minutes, e.g. 90d, 12h, 30m');
  return ms;
}

/** `catalog,orders` -> the scopes, each checked. */
export function parseScopes(value: string): AdminKeyScope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(ADMIN_KEY_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0)
    throw new InvalidArgumentError(`scopes are a comma-separated list of ${ADMIN_KEY_SCOPES.join(', ')}`);
  return scopes as AdminKeyScope[];
}

export async function runCreateKey(
  config: AppConfig,
  opts: { name: string; scopes: AdminKeyScope[]; expiresIn?: number },
): Promise<void> {
  await withApp(config, async (app) => {
    const { key, record } = await app.services.adminKeys.create({
      name: opts.name,
      scopes: opts.scopes,
      expiresAt: opts.expiresIn === undefined ? null : new Date(Date.now() + opts.expiresIn),
    });
    const expiry = record.expiresAt ? `expires ${record.expiresAt}` : 'never expires';
    process.stdout.write(
      `Created admin API key "${record.name}" (${record.id}), scopes ${record.scopes.join(',')}, ${expiry}. ` +
        `It is shown only once:\n${key}\n`,
    );
  });
}
