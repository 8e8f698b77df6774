import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { routes, type ShopFlowModule } from '../module.ts';
import type { BackupService } from './backup.service.ts';

const BackupSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  finishedAt: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  schemaVersion: z.string().nullable(),
  counts: z.record(z.string(), z.number().int()),
  verified: z
    .object({ at: z.string(), ok: z.boolean(), restoreMs: z.number() })
    .nullable()
    .describe(
      'The last `backup verify` of this backup: restored and compared, and how long the restore took',
    ),
});

const backupRoutes: FastifyPluginAsyncZod<{ backup: BackupService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { backup }) => {
    app.get(
      '/admin/backups',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Logical backups, newest first (at most 100), with their last verification; create, verify and prune run as jobs',
          response: { 200: z.object({ items: z.array(BackupSchema) }) },
        },
      },
      async () => ({
        items: (await backup.list()).slice(0, 100).map((b) => ({
          id: b.id,
          createdAt: b.createdAt,
          finishedAt: b.finishedAt,
          sizeBytes: b.sizeBytes,
          sha256: b.sha256,
          schemaVersion: b.schemaVersion,
          counts: b.counts,
          verified: b.verified,
        })),
      }),
    );
  };

/** Logical backups: scheduled create, verify and prune (the commands are in the CLI), and their list. */
export function backupModule(deps: { backup: BackupService }): ShopFlowModule {
  return {
    name: 'backup',
    jobs: deps.backup.jobs(),
    routes: [routes('admin', backupRoutes, { backup: deps.backup })],
  };
}
