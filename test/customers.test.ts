import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';

describe('customers and sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The PostgreSQL session store here; the session-store contract suite covers the others.
    t = await createTestApp({ SESSION_STORE: 'postgres' });
  });
  afterAll(async () => t?.close());
  const { request: call } = api(() => t);

  it('registers, refuses a second account with the same email (any case), logs in and out', async () => {
    const reg = await call('POST', '/store/customers', {
      body: { email: 'Maria@Example.com', password: 'senha-forte-1', name: 'Maria Silva' },
    });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ email: 'maria@example.com', name: 'Maria Silva' });
    expect(JSON.stringify(reg.body)).not.toContain('senha');
    const dup = await call<{ error: { code: string } }>('POST', '/store/customers', {
      body: { email: 'MARIA@example.com', password: 'outra-senha-2', name: 'M' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('duplicate');

    const { rows } = await t.db.pool.query<{ password_hash: string }>(
      "SELECT password_hash FROM customers WHERE email = 'maria@example.com'",
    );
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$/);

    expect(
      (
        await call('POST', '/store/auth/login', {
          body: { email: 'maria@example.com', password: 'wrong-password' },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await call('POST', '/store/auth/login', {
          body: { email: 'nobody@example.com', password: 'whatever-1' },
        })
      ).status,
    ).toBe(401);
    const login = await call<{ sessionToken: string; expiresAt: string }>('POST', '/store/auth/login', {
      body: { email: 'maria@example.com', password: 'senha-forte-1' },
    });
    expect(login.status).toBe(200);
    expect(login.cookie).toMatch(/^sid=[A-Za-z0-9_-]{43};.*HttpOnly.*SameSite=Lax/i);
    const ttl = (Date.parse(login.body.expiresAt) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(604_800 - 60);

    // Stored under the SHA-256 of the token, never the token itself.
    const sessions = await t.db.pool.query<{ id: string }>('SELECT id FROM sessions');
    expect(JSON.stringify(sessions.rows)).not.toContain(login.body.sessionToken);

    const me = await call('GET', '/store/me', { token: login.body.sessionToken });
    expect(me.body).toMatchObject({ email: 'maria@example.com' });
    const viaCookie = await call('GET', '/store/me', {
      headers: { cookie: `sid=${login.body.sessionToken}` },
    });
    expect(viaCookie.status).toBe(200);

    expect((await call('POST', '/store/auth/logout', { token: login.body.sessionToken })).status).toBe(204);
    expect((await call('GET', '/store/me', { token: login.body.sessionToken })).status).toBe(401);
    expect((await call('GET', '/store/me')).status).toBe(401);
  });

  it('slides the session expiry back to 7 days on activity', async () => {
    await call('POST', '/store/customers', {
      body: { email: 'joao@example.com', password: 'senha-forte-2', name: 'João' },
    });
    const login = await call<{ sessionToken: string }>('POST', '/store/auth/login', {
      body: { email: 'joao@example.com', password: 'senha-forte-2' },
    });
    await t.db.pool.query("UPDATE sessions SET expires_at = NOW() + INTERVAL '1 day'");
    expect((await call('GET', '/store/me', { token: login.body.sessionToken })).status).toBe(200);
    const { rows } = await t.db.pool.query<{ secs: number }>(
      'SELECT MAX(EXTRACT(EPOCH FROM expires_at - NOW()))::int AS secs FROM sessions',
    );
    expect(rows[0]!.secs).toBeGreaterThan(604_800 - 60);
    await t.db.pool.query("UPDATE sessions SET expires_at = NOW() - INTERVAL '1 second'");
    expect((await call('GET', '/store/me', { token: login.body.sessionToken })).status).toBe(401);
  });
});
