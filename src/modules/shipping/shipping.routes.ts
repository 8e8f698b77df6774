import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import { clientAddress } from '../../http/client-address.ts';
import { AppError } from '../../platform/errors.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { CepSchema, UFS } from '../customers/brazil.schemas.ts';
import { findCep, type CepLookup } from './cep-lookup.ts';
import type { ShippingService } from './shipping.service.ts';

const CepAnswer = z
  .object({ cep: z.string(), street: z.string(), district: z.string(), city: z.string(), state: z.string() })
  .meta({ id: 'CepAddress' });

/** `GET /store/cep/:cep`: the address of a CEP, rate limited per client address. */
export const cepRoutes: FastifyPluginAsyncZod<{ lookup: CepLookup; limiter: RateLimiter }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { lookup, limiter }) => {
    app.get(
      '/store/cep/:cep',
      {
        schema: {
          tags: ['store'],
          summary: 'The address of a CEP (cached lookup; 404 cep_not_found; 503 when the lookup is down)',
          params: z.object({ cep: CepSchema }),
          response: { 200: CepAnswer },
        },
      },
      async (request) => {
        const d = await limiter.consume(`ip:${clientAddress(request)}`);
        if (!d.allowed)
          throw new AppError('rate_limited', 'rate_limited', 'Too many CEP lookups: try again later', {
            retryAfter: d.resetSeconds,
          });
        return findCep(lookup, request.params.cep);
      },
    );
  };

const Cep8 = z.string().regex(/^\d{8}$/, 'a CEP of 8 digits');
/** A zone's fields, none defaulted: what a PATCH names (and only that) changes. */
const ZoneFields = z
  .object({
    name: z.string().trim().min(1).max(120),
    carrier: z.string().trim().min(1).max(60),
    service: z.string().trim().min(1).max(60),
    states: z.array(z.enum(UFS)).max(27),
    cepRanges: z.array(z.object({ from: Cep8, to: Cep8 }).strict()).max(200),
    brackets: z
      .array(
        z
          .object({
            maxGrams: z.number().int().min(1).max(1_000_000),
            price: z.number().int().min(0).max(10_000_000),
            minDays: z.number().int().min(0).max(365),
            maxDays: z.number().int().min(0).max(365),
          })
          .strict(),
      )
      .min(1)
      .max(50),
    freeAbove: z.number().int().min(0).max(1_000_000_000).nullable(),
    active: z.boolean(),
  })
  .strict();

/** A new zone: no UF list or CEP ranges is an empty one, no threshold is none, active unless said. */
const ZoneBody = ZoneFields.extend({
  states: ZoneFields.shape.states.default([]),
  cepRanges: ZoneFields.shape.cepRanges.default([]),
  freeAbove: ZoneFields.shape.freeAbove.default(null),
  active: ZoneFields.shape.active.default(true),
}).strict();

const ZoneSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    carrier: z.string(),
    service: z.string(),
    states: z.array(z.string()),
    cepRanges: z.array(z.object({ from: z.string(), to: z.string() })),
    brackets: z.array(
      z.object({
        maxGrams: z.number().int(),
        price: z.number().int(),
        minDays: z.number().int(),
        maxDays: z.number().int(),
      }),
    ),
    freeAbove: z.number().int().nullable(),
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ShippingZone' });

/** The table engine's zones: `GET|POST /admin/shipping/zones`, `GET|PATCH|DELETE .../:id`. */
export const shippingAdminRoutes: FastifyPluginAsyncZod<{ shipping: ShippingService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { shipping }) => {
    app.get(
      '/admin/shipping/zones',
      {
        schema: {
          tags: ['admin'],
          summary: 'Freight zones of the table engine',
          response: { 200: z.object({ items: z.array(ZoneSchema) }) },
        },
      },
      async () => ({ items: await shipping.listZones() }),
    );
    app.post(
      '/admin/shipping/zones',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Add a freight zone: UFs and/or CEP ranges, weight brackets, free shipping above an amount',
          body: ZoneBody,
          response: { 201: ZoneSchema },
        },
      },
      async (request, reply) => reply.status(201).send(await shipping.createZone(request.body)),
    );
    app.get(
      '/admin/shipping/zones/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'One freight zone',
          params: IdParams,
          response: { 200: ZoneSchema },
        },
      },
      async (request) => shipping.getZone(request.params.id),
    );
    app.patch(
      '/admin/shipping/zones/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Change a freight zone',
          params: IdParams,
          // No defaults here (zod 4 applies a default inside .partial()): only what the body names changes.
          body: ZoneFields.partial().strict(),
          response: { 200: ZoneSchema },
        },
      },
      async (request) => shipping.updateZone(request.params.id, request.body),
    );
    app.delete(
      '/admin/shipping/zones/:id',
      { schema: { tags: ['admin'], summary: 'Delete a freight zone', params: IdParams } },
      async (request, reply) => {
        await shipping.deleteZone(request.params.id);
        return reply.status(204).send();
      },
    );
  };
