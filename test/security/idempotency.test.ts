/**
 * Attack: a cookieless guest is scoped by address, and a replay hands back the session token the
 * first request created. Another guest behind the same address who guessed a short key got that
 * session. Now a caller without a session must use an unguessable key (32+ characters: a UUID).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';

describe('a guest retry never receives another guest’s session', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { newProduct } = api(() => t);
  const order = (productId: string, key: string, token?: string) =>
    t.server.inject({
      method: 'POST',
      url: '/store/orders',
      remoteAddress: '203.0.113.77',
      headers: { 'idempotency-key': key, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: { items: [{ productId, quantity: 1 }] },
    });

  it('refuses a guessable key from a caller without a session, writing nothing', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const weak = await order(productId, 'order-1');
    expect(weak.statusCode).toBe(400);
    expect(weak.json<Err>().error.code).toBe('idempotency_key_too_weak');
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT (SELECT COUNT(*)::int FROM orders) + (SELECT COUNT(*)::int FROM idempotency_keys) AS n',
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('gives two guests behind one address their own sessions; only the key holder gets a replay', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const keyA = randomUUID();
    const a = await order(productId, keyA);
    const b = await order(productId, randomUUID());
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    const tokenA = a.json<{ sessionToken: string }>().sessionToken;
    expect(b.json<{ sessionToken: string }>().sessionToken).not.toBe(tokenA);
    const replay = await order(productId, keyA);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json<{ sessionToken: string }>().sessionToken).toBe(tokenA);
  });

  it('accepts short keys from a caller with a session (the scope is theirs alone)', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const cart = await t.server.inject({ method: 'POST', url: '/store/carts' });
    const token = cart.json<{ sessionToken: string }>().sessionToken;
    expect((await order(productId, 'k-1', token)).statusCode).toBe(201);
  });
});
