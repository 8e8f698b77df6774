import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import type { AdminKeysService } from './admin-keys.service.ts';

const AdminKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'AdminKey' });

export const adminKeysRoutes: FastifyPluginAsyncZod<{ service: AdminKeysService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { service }) => {
    app.get(
      '/admin/api-keys',
      {
        schema: {
          tags: ['admin'],
          summary: 'List admin API keys',
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
          summary: 'Create an admin API key (returned once)',
          body: z.object({ name: z.string().trim().min(1).max(255) }).strict(),
          response: { 201: z.object({ key: z.string(), apiKey: AdminKeySchema }) },
        },
      },
      async (request, reply) => {
        const { key, record } = await service.create(request.body.name);
        return reply.status(201).send({ key, apiKey: record });
      },
    );
    app.delete(
      '/admin/api-keys/:id',
      { schema: { tags: ['admin'], summary: 'Revoke an admin API key', params: IdParams } },
      async (request, reply) => {
        await service.revoke(request.params.id);
        return reply.status(204).send();
      },
    );
  };
