import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ADMIN_KEY_SCOPES, type AdminKeyScope } from '../../http/admin-scopes.ts';
import { IdParams } from '../../http/schemas.ts';
import type { AdminKeysService } from './admin-keys.service.ts';

const ScopeSchema = z.enum(ADMIN_KEY_SCOPES as [AdminKeyScope, ...AdminKeyScope[]]);

const AdminKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(ScopeSchema),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'AdminKey' });

export const adminKeysRoutes: FastifyPluginAsyncZod<{ service: AdminKeysService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { service }) => {
    app.get(
      '/admin/api-keys/me',
      {
        schema: {
          tags: ['admin'],
          summary: 'The key making the request: its name, scopes and expiry (any valid key)',
          response: { 200: AdminKeySchema },
        },
      },
      async (request) => service.get(request.adminKeyId!),
    );
    app.get(
      '/admin/api-keys',
      {
        schema: {
          tags: ['admin'],
          summary: 'List admin API keys (scope keys)',
          response: { 200: z.object({ items: z.array(AdminKeySchema) }) },
        },
      },
      async () => ({ items: await service.list() }),
    );
    app.post(
      '/admin/api-keys',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Create an admin API key, returned once (scope keys; only scopes the calling key holds can be granted)',
          body: z
            .object({
              name: z.string().trim().min(1).max(255),
              scopes: z.array(ScopeSchema).min(1).max(ADMIN_KEY_SCOPES.length),
              expiresAt: z.iso.datetime({ offset: true }).optional(),
            })
            .strict(),
          response: { 201: z.object({ key: z.string(), apiKey: AdminKeySchema }) },
        },
      },
      async (request, reply) => {
        const { name, scopes, expiresAt } = request.body;
        const { key, record } = await service.create(
          { name, scopes, expiresAt: expiresAt ? new Date(expiresAt) : null },
          request.adminScopes ?? [],
        );
        return reply.status(201).send({ key, apiKey: record });
      },
    );
    app.delete(
      '/admin/api-keys/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Revoke an admin API key (scope keys; only a key whose scopes the calling key holds)',
          params: IdParams,
        },
      },
      async (request, reply) => {
        await service.revoke(request.params.id, request.adminScopes ?? []);
        return reply.status(204).send();
      },
    );
  };
