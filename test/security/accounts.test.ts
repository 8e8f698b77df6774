/**
 * Attacks on accounts: probing which emails have an account through registration (a taken email
 * answers 409), and cracking stolen hashes made at a weak cost. Registration is now rationed per
 * address, and passwords are hashed at OWASP's scrypt cost (N = 2^17, r = 8, p = 1), older hashes
 * being replaced at the next login.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { PasswordHasher } from '../../src/modules/customers/password.ts';
import { createTestApp, type TestApp } from '../app.ts';

describe('account enumeration through registration', () => {
  let t: TestApp | undefined;
  afterAll(async () => t?.close());

  it('rations registrations per address, taken or new emails alike', async () => {
    t = await createTestApp({ REGISTRATIONS_PER_ADDRESS_PER_HOUR: '5' });
    const register = (email: string, ip: string) =>
      t!.server.inject({
        method: 'POST',
        url: '/store/customers',
        remoteAddress: ip,
        payload: { email, password: 'a-long-password-1', name: 'X' },
      });
    expect((await register('taken@example.com', '198.51.100.60')).statusCode).toBe(201);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push(
        (await register(i % 2 ? 'taken@example.com' : `new${i}@example.com`, '198.51.100.60')).statusCode,
      );
    expect(statuses.slice(0, 4).every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses.slice(4)).toEqual(Array(6).fill(429));
    expect((await register('other@example.com', '198.51.100.61')).statusCode).toBe(201);
  });
});

describe('password hashing', () => {
  it('defaults to scrypt N = 2^17, r = 8, p = 1 and verifies at that cost', async () => {
    expect(loadConfig({}).passwordHashCost).toBe(17);
    const hasher = new PasswordHasher(17);
    const hash = await hasher.hash('uma senha longa');
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await hasher.verify('uma senha longa', hash)).toBe(true);
    expect(await hasher.verify('outra', hash)).toBe(false);
  });

  it('rehashes a password made at an older cost when its owner logs in', async () => {
    const old = await createTestApp({ PASSWORD_HASH_COST: '14' });
    let current: TestApp | undefined;
    try {
      await old.server.inject({
        method: 'POST',
        url: '/store/customers',
        payload: { email: 'ana@example.com', password: 'a-long-password-1', name: 'Ana' },
      });
      const stored = async (db: TestApp) =>
        (
          await db.db.pool.query<{ h: string }>(
            "SELECT password_hash AS h FROM customers WHERE email = 'ana@example.com'",
          )
        ).rows[0]!.h;
      expect(await stored(old)).toMatch(/^scrypt\$16384\$/);
      // The same database, served with a higher cost.
      current = await createTestApp({ PASSWORD_HASH_COST: '15' });
      await current.db.pool.query('INSERT INTO customers (email, name, password_hash) VALUES ($1, $2, $3)', [
        'ana@example.com',
        'Ana',
        await stored(old),
      ]);
      const login = await current.server.inject({
        method: 'POST',
        url: '/store/auth/login',
        payload: { email: 'ana@example.com', password: 'a-long-password-1' },
      });
      expect(login.statusCode).toBe(200);
      expect(await stored(current)).toMatch(/^scrypt\$32768\$/);
      // And the new hash still lets her in.
      const again = await current.server.inject({
        method: 'POST',
        url: '/store/auth/login',
        payload: { email: 'ana@example.com', password: 'a-long-password-1' },
      });
      expect(again.statusCode).toBe(200);
    } finally {
      await current?.close();
      await old.close();
    }
  });
});
