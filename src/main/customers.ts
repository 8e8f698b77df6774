import type { AppConfig } from '../config.ts';
import { withApp } from './shared.ts';

/** `shopflow customers anonymize ID`: erases the customer's personal data; recorded in the audit log. */
export async function runAnonymize(config: AppConfig, id: string): Promise<void> {
  await withApp(config, async (app) => {
    const r = await app.services.privacy.anonymize(id, { name: 'cli' });
    process.stdout.write(
      `${r.alreadyAnonymized ? 'already anonymized' : 'anonymized'} ${r.customerId} at ${r.anonymizedAt}: ${JSON.stringify(r.counts)}\n`,
    );
  });
}

/** `shopflow customers export ID`: the customer's data as one JSON document on stdout. */
export async function runExport(config: AppConfig, id: string): Promise<void> {
  await withApp(config, async (app) => {
    for await (const part of app.services.privacy.export(id)) process.stdout.write(part);
    process.stdout.write('\n');
  });
}
