/** The admin API's shapes of endpoints and deliveries (shared by the two route files). */
import { z } from 'zod';
import { SUBSCRIBABLE_TYPES } from './webhooks.catalogue.ts';

const EventTypeSchema = z.enum(SUBSCRIBABLE_TYPES);

export const EndpointSchema = z
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

export const DeliverySchema = z
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

export const Url = z.string().trim().min(1).max(2048);
export const Description = z.string().trim().max(500).nullable();
export const Events = z
  .array(EventTypeSchema)
  .min(1)
  .max(SUBSCRIBABLE_TYPES.length * 2);
export const DeliveryParams = z.object({
  id: z.string().min(1).max(200),
  deliveryId: z.string().min(1).max(200),
});
