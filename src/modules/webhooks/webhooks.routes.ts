import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import { EVENT_CATALOGUE, EVENT_TYPES, WebhookBodySchema } from './webhooks.catalogue.ts';
import { Description, EndpointSchema, Events, Url } from './webhooks.schemas.ts';
import type { WebhooksService } from './webhooks.service.ts';

/** The event catalogue with the JSON schema of each type. */
export const webhookEventTypesRoutes: FastifyPluginAsyncZod =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app) => {
    app.get(
      '/admin/webhooks/event-types',
      {
        schema: {
          tags: ['admin'],
          summary:
            'The event catalogue: each type an endpoint may subscribe to, with the JSON schema of its body',
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  type: z.string(),
                  description: z.string(),
                  schema: z.record(z.string(), z.unknown()),
                }),
              ),
              body: WebhookBodySchema.optional().describe(
                'the schema of every delivery body (never returned: documentation)',
              ),
            }),
          },
        },
      },
      () => ({
        items: EVENT_TYPES.map((type) => ({
          type,
          description: EVENT_CATALOGUE[type].description,
          schema: z.toJSONSchema(EVENT_CATALOGUE[type].data, {
            io: 'output',
            unrepresentable: 'any',
          }),
        })),
      }),
    );
  };

/** The endpoints: create, list, show, change, delete, rotate the secret. */
export const webhooksRoutes: FastifyPluginAsyncZod<{ service: WebhooksService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { service }) => {
    app.get(
      '/admin/webhooks',
      {
        schema: {
          tags: ['admin'],
          summary: 'List webhook endpoints (scope webhooks)',
          response: { 200: z.object({ items: z.array(EndpointSchema) }) },
        },
      },
      async () => ({ items: await service.list() }),
    );
    app.post(
      '/admin/webhooks',
      {
        schema: {
          tags: ['admin'],
          summary: 'Create a webhook endpoint; the answer carries its signing secret, shown this once',
          body: z
            .object({
              url: Url,
              events: Events,
              description: Description.optional(),
              enabled: z.boolean().optional(),
            })
            .strict(),
          response: { 201: EndpointSchema.extend({ secret: z.string() }) },
        },
      },
      async (request, reply) => {
        const { endpoint, secret } = await service.create(request.body);
        return reply.status(201).send({ ...endpoint, secret });
      },
    );
    app.get(
      '/admin/webhooks/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'A webhook endpoint',
          params: IdParams,
          response: { 200: EndpointSchema },
        },
      },
      async (request) => service.get(request.params.id),
    );
    app.patch(
      '/admin/webhooks/:id',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Change a webhook endpoint; enabled: false disables it, true enables it again (and clears a failure streak)',
          params: IdParams,
          body: z
            .object({ url: Url, events: Events, description: Description, enabled: z.boolean() })
            .partial()
            .strict(),
          response: { 200: EndpointSchema },
        },
      },
      async (request) => service.update(request.params.id, request.body),
    );
    app.delete(
      '/admin/webhooks/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Delete a webhook endpoint and its deliveries',
          params: IdParams,
        },
      },
      async (request, reply) => {
        await service.remove(request.params.id);
        return reply.status(204).send();
      },
    );
    app.post(
      '/admin/webhooks/:id/rotate-secret',
      {
        schema: {
          tags: ['admin'],
          summary: 'A new signing secret, shown once; the previous one keeps signing beside it for 24 h',
          params: IdParams,
          response: { 200: z.object({ secret: z.string(), previousSecretExpiresAt: z.string() }) },
        },
      },
      async (request) => service.rotateSecret(request.params.id),
    );
  };
