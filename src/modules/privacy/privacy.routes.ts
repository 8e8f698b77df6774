import { streamParts } from '../../http/stream.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import type { CustomersService } from '../customers/customers.service.ts';
import { tooManyLogins } from '../customers/customers.routes.ts';
import { clientAddress } from '../../http/client-address.ts';
import type { LoginThrottle } from '../../platform/ratelimit/login-throttle.ts';
import { ERASED_CATEGORIES, type PrivacyService } from './privacy.service.ts';

const ErasureSchema = z.object({
  customerId: z.uuid(),
  anonymizedAt: z.string(),
  alreadyAnonymized: z.boolean(),
  counts: z.object({
    orders: z.number().int(),
    reviews: z.number().int(),
    carts: z.number().int(),
    customizations: z.number().int(),
    addresses: z.number().int(),
    idempotencyRecords: z.number().int(),
    sessions: z.number().int(),
    uploads: z.number().int(),
    invoices: z.number().int(),
  }),
});

const exportSummary =
  'All personal data held about the customer as one JSON document (profile, addresses, orders with items and payments, reviews, carts, uploads as signed links, sessions), streamed';

export const privacyAdminRoutes: FastifyPluginAsyncZod<{ privacy: PrivacyService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { privacy }) => {
    app.post(
      '/admin/customers/:id/anonymize',
      {
        schema: {
          tags: ['admin'],
          summary: `Erase a customer's personal data (GDPR/LGPD; idempotent): ${ERASED_CATEGORIES.join('; ')}`,
          params: IdParams,
          response: { 200: ErasureSchema },
        },
      },
      async (request) => {
        const result = await privacy.anonymize(request.params.id);
        request.auditDetails = {
          categories: [...ERASED_CATEGORIES],
          alreadyAnonymized: result.alreadyAnonymized,
        };
        return result;
      },
    );
    app.get(
      '/admin/customers/:id/export',
      { schema: { tags: ['admin'], summary: exportSummary, params: IdParams } },
      async (request, reply) =>
        reply.type('application/json').send(await streamParts(privacy.export(request.params.id))),
    );
  };

export const privacyStoreRoutes: FastifyPluginAsyncZod<{
  privacy: PrivacyService;
  customers: CustomersService;
  sessions: SessionHelpers;
  throttle: LoginThrottle;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { privacy, customers, sessions, throttle }) => {
    app.delete(
      '/store/customers/me',
      {
        schema: {
          tags: ['store'],
          summary: 'Erase my account and personal data (confirm with the password); orders stay, unlinked',
          body: z.object({ password: z.string().min(1).max(1024) }).strict(),
          response: { 200: ErasureSchema },
        },
      },
      async (request, reply) => {
        const me = await sessions.requireCustomer(request);
        // The password check is a login in disguise: the login throttle applies, so a stolen
        // session cannot be used to guess the password (nor to burn CPU on hashes).
        const { email } = await customers.get(me.customerId);
        const address = clientAddress(request);
        const wait = await throttle.retryAfter(address, email);
        if (wait > 0) throw tooManyLogins(wait);
        if (!(await customers.checkPassword(me.customerId, request.body.password))) {
          const now = await throttle.failed(address, email);
          if (now > 0) throw tooManyLogins(now);
          throw AppError.unauthorized('Wrong password');
        }
        await throttle.succeeded(address, email);
        const result = await privacy.anonymize(me.customerId, { name: 'customer (self-service)' });
        sessions.clearCookie(reply);
        return result;
      },
    );
    app.get(
      '/store/customers/me/export',
      { schema: { tags: ['store'], summary: `My data: ${exportSummary}` } },
      async (request, reply) => {
        const me = await sessions.requireCustomer(request);
        return reply.type('application/json').send(await streamParts(privacy.export(me.customerId)));
      },
    );
  };
