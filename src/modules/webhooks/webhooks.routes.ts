import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, IdParams, LimitSchema } from '../../http/schemas.ts';
import { EVENT_CATALOGUE, EVENT_TYPES, SUBSCRIBABLE_TYPES, WebhookBodySchema } from './webhooks.catalogue.ts';
import type { WebhooksService } from './webhooks.service.ts';

const EventTypeSchema = z.enum(SUBSCRIBABLE_TYPES);

const EndpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.enum(['manual', 'failing']).nullable(),
    disabledAt: z.string().nullable(),
    failingSince: z.string().nullable(),
    previousSecretExpiresAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

const AttemptSchema = z.object({
  attempt: z.number().int(),
  at: z.string(),
  statusCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  error: z.string().nullable(),
  response: z.string().nullable().describe('the first bytes of the answer'),
});

const DeliverySchema = z
  .object({
    id: z.uuid(),
    endpointId: z.uuid(),
    eventId: z.number().int().nullable(),
    webhookId: z.string().describe('the webhook-id header, the same on every attempt'),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    retrying: z.boolean(),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    responseStatus: z.number().int().nullable(),
    durationMs: z.number().int().nullable(),
    error: z.string().nullable(),
    response: z.string().nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    attemptLog: z.array(AttemptSchema),
  })
  .meta({ id: 'WebhookDelivery' });

const Url = z.string().trim().min(1).max(2048);
const Description = z.string().trim().max(500).nullable();
const Events = z
  .array(EventTypeSchema)
  .min(1)
  .max(SUBSCRIBABLE_TYPES.length * 2);
const DeliveryParams = z.object({ id: z.string().min(1).max(200), deliveryId: z.string().min(1).max(200) });

export const webhooksRoutes: FastifyPluginAsyncZod<{ service: WebhooksService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { service }) => {
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
    app.post(
      '/admin/webhooks/:id/test',
      {
        schema: {
          tags: ['admin'],
          summary: 'Queue a webhook.test delivery to the endpoint',
          params: IdParams,
          response: { 202: DeliverySchema },
        },
      },
      async (request, reply) => reply.status(202).send(await service.test(request.params.id)),
    );
    app.get(
      '/admin/webhooks/:id/deliveries',
      {
        schema: {
          tags: ['admin'],
          summary: 'Deliveries of an endpoint, newest first, with every attempt',
          params: IdParams,
          querystring: z
            .object({
              status: z.enum(['pending', 'delivered', 'failed']).optional(),
              limit: LimitSchema,
              cursor: CursorSchema,
            })
            .strict(),
          response: { 200: z.object({ items: z.array(DeliverySchema), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { status, limit, cursor } = request.query;
        return service.deliveries(request.params.id, {
          limit,
          ...(status ? { status } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );
    app.post(
      '/admin/webhooks/:id/deliveries/:deliveryId/retry',
      {
        schema: {
          tags: ['admin'],
          summary: 'Send a failed (or waiting) delivery again now',
          params: DeliveryParams,
          response: { 202: DeliverySchema },
        },
      },
      async (request, reply) =>
        reply.status(202).send(await service.retry(request.params.id, request.params.deliveryId)),
    );
  };
