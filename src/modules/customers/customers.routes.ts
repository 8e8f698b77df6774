import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SessionHelpers } from '../../http/session.ts';
import { CursorSchema, IdParams, LimitSchema } from '../../http/schemas.ts';
import { clientAddress } from '../../http/client-address.ts';
import { AppError } from '../../platform/errors.ts';
import type { LoginThrottle } from '../../platform/ratelimit/login-throttle.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import type { CustomersService } from './customers.service.ts';
import type { AddressesService } from './addresses.service.ts';
import { AddressInputSchema, DocumentInputSchema, DocumentSchema } from './brazil.schemas.ts';

export const tooManyLogins = (retryAfter: number) =>
  new AppError('rate_limited', 'too_many_login_attempts', 'Too many failed logins: try again later', {
    retryAfter,
  });

const CustomerSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    phone: z.string().nullable(),
    document: DocumentSchema.nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Customer' });

const AddressSchema = z
  .object({
    id: z.uuid(),
    label: z.string().nullable(),
    recipient: z.string(),
    cep: z.string(),
    street: z.string(),
    number: z.string(),
    complement: z.string().nullable(),
    district: z.string(),
    city: z.string(),
    state: z.string(),
    phone: z.string().nullable(),
    isDefault: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'CustomerAddress' });
const email = z.email().max(320);

export const customersRoutes: FastifyPluginAsyncZod<{
  customers: CustomersService;
  sessions: SessionHelpers;
  throttle: LoginThrottle;
  /** Registrations per client address: taken emails answer 409, so probing them is rationed. */
  registrations: RateLimiter;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { customers, sessions, throttle, registrations }) => {
    app.post(
      '/store/customers',
      {
        schema: {
          tags: ['store'],
          summary: 'Register a customer',
          body: z
            .object({
              email,
              password: z.string().min(8).max(200),
              name: z.string().trim().min(1).max(255),
              phone: z.string().trim().min(8).max(32).nullable().optional(),
            })
            .strict(),
          response: { 201: CustomerSchema },
        },
      },
      async (request, reply) => {
        const d = await registrations.consume(`ip:${clientAddress(request)}`);
        if (!d.allowed)
          throw new AppError(
            'rate_limited',
            'too_many_registrations',
            'Too many registrations from this address',
            {
              retryAfter: d.resetSeconds,
            },
          );
        return reply.status(201).send(await customers.register(request.body));
      },
    );
    app.post(
      '/store/auth/login',
      {
        schema: {
          tags: ['store'],
          summary: 'Log in: returns a session (cookie `sid`, also usable as a Bearer token)',
          body: z.object({ email, password: z.string().min(1).max(200) }).strict(),
          response: {
            200: z.object({ customer: CustomerSchema, sessionToken: z.string(), expiresAt: z.string() }),
          },
        },
      },
      async (request, reply) => {
        const { email, password } = request.body;
        // A try is taken from every budget before the password is checked (a burst is counted as
        // it arrives), and given back on success; blocked callers are refused before any check.
        // The answer is the same whether the email belongs to an account or not.
        const wait = await throttle.take(clientAddress(request), email);
        if (wait > 0) throw tooManyLogins(wait);
        const opened = await customers.login(email, password);
        await throttle.succeeded(clientAddress(request), email);
        const { token, session, customer } = opened;
        sessions.setCookie(reply, token);
        return { customer, sessionToken: token, expiresAt: session.expiresAt.toISOString() };
      },
    );
    app.post(
      '/store/auth/logout',
      { schema: { tags: ['store'], summary: 'End the current session' } },
      async (request, reply) => {
        const token = sessions.token(request);
        if (token) await sessions.store.destroy(token);
        sessions.clearCookie(reply);
        return reply.status(204).send();
      },
    );
    app.post(
      '/store/auth/logout-all',
      {
        schema: {
          tags: ['store'],
          summary: 'Log out everywhere: end every session of the logged-in customer (this one included)',
          response: { 200: z.object({ ended: z.number().int() }) },
        },
      },
      async (request, reply) => {
        const { customerId } = await sessions.requireCustomer(request);
        const ended = await sessions.store.destroyForCustomer(customerId);
        sessions.clearCookie(reply);
        return { ended };
      },
    );
    app.get(
      '/store/me',
      { schema: { tags: ['store'], summary: 'The logged-in customer', response: { 200: CustomerSchema } } },
      async (request) => customers.get((await sessions.requireCustomer(request)).customerId),
    );
    app.patch(
      '/store/me',
      {
        schema: {
          tags: ['store'],
          summary:
            'Change the profile: name, phone, document (CPF or CNPJ, check digits validated; null removes it)',
          body: z
            .object({
              name: z.string().trim().min(1).max(255).optional(),
              phone: z.string().trim().min(8).max(32).nullable().optional(),
              document: DocumentInputSchema.nullable().optional(),
            })
            .strict(),
          response: { 200: CustomerSchema },
        },
      },
      async (request) =>
        customers.updateProfile((await sessions.requireCustomer(request)).customerId, request.body),
    );
  };

export const AdminCustomerSchema = CustomerSchema.extend({
  anonymizedAt: z.string().nullable().describe('Set once the personal data was erased'),
  deletedAt: z.string().nullable(),
}).meta({ id: 'AdminCustomer' });

export const customersAdminRoutes: FastifyPluginAsyncZod<{ customers: CustomersService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { customers }) => {
    app.get(
      '/admin/customers',
      {
        schema: {
          tags: ['admin'],
          summary: 'Customers, newest first; q matches the start of the email or part of the name',
          querystring: z
            .object({
              q: z.string().trim().min(1).max(100).optional(),
              limit: LimitSchema,
              cursor: CursorSchema,
            })
            .strict(),
          response: {
            200: z.object({ items: z.array(AdminCustomerSchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      async (request) => {
        const page = await customers.search(request.query);
        // The audit entry of this read names who was seen (ids only; never the search text, which
        // may be an email).
        request.auditDetails = {
          customerIds: page.items.map((c) => c.id),
          searched: request.query.q !== undefined,
        };
        return page;
      },
    );
    app.get(
      '/admin/customers/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'One customer (erased ones too: their placeholders and when they were erased)',
          params: IdParams,
          response: { 200: AdminCustomerSchema },
        },
      },
      async (request) => customers.getAdmin(request.params.id),
    );
  };

/** The logged-in customer's address book. */
export const addressBookRoutes: FastifyPluginAsyncZod<{
  addresses: AddressesService;
  sessions: SessionHelpers;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { addresses, sessions }) => {
    const AddressParams = z.object({ id: z.string().min(1).max(200) });
    app.get(
      '/store/customers/me/addresses',
      {
        schema: {
          tags: ['store'],
          summary: "The logged-in customer's addresses, the default first",
          response: { 200: z.object({ items: z.array(AddressSchema) }) },
        },
      },
      async (request) => ({
        items: await addresses.list((await sessions.requireCustomer(request)).customerId),
      }),
    );
    app.post(
      '/store/customers/me/addresses',
      {
        schema: {
          tags: ['store'],
          summary: 'Add an address (the first one, or one with isDefault, becomes the default)',
          body: AddressInputSchema.extend({ isDefault: z.boolean().optional() }).strict(),
          response: { 201: AddressSchema },
        },
      },
      async (request, reply) => {
        const { customerId } = await sessions.requireCustomer(request);
        return reply.status(201).send(await addresses.create(customerId, request.body));
      },
    );
    app.patch(
      '/store/customers/me/addresses/:id',
      {
        schema: {
          tags: ['store'],
          summary: 'Change an address (isDefault: true makes it the default)',
          params: AddressParams,
          body: AddressInputSchema.partial().extend({ isDefault: z.boolean().optional() }).strict(),
          response: { 200: AddressSchema },
        },
      },
      async (request) =>
        addresses.update(
          (await sessions.requireCustomer(request)).customerId,
          request.params.id,
          request.body,
        ),
    );
    app.delete(
      '/store/customers/me/addresses/:id',
      {
        schema: { tags: ['store'], summary: 'Delete an address', params: AddressParams },
      },
      async (request, reply) => {
        await addresses.remove((await sessions.requireCustomer(request)).customerId, request.params.id);
        return reply.status(204).send();
      },
    );
  };
