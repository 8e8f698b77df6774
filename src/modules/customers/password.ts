/**
 * Password hashing with scrypt (Node's built-in KDF): `scrypt$N$r$p$salt$hash`, base64url parts.
 * The cost is configurable (log2 of N; OWASP recommends N = 2^17, r = 8, p = 1, the default);
 * hashes made with other parameters still verify, and are replaced on the next login.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

const KEYLEN = 32;
/** scrypt needs 128 * N * r bytes: 128 MiB at N = 2^17, r = 8. */
const maxmem = (n: number, r: number) => 128 * n * r + 32 * 1024 * 1024;

export class PasswordHasher {
  private readonly params: { N: number; r: number; p: number };
  private dummy: Promise<string> | undefined;
  /** Password checks (scrypt verifications) made by this process: what a throttle must bound. */
  checks = 0;

  constructor(logN = 17) {
    this.params = { N: 2 ** logN, r: 8, p: 1 };
  }

  async hash(password: string): Promise<string> {
    const { N, r, p } = this.params;
    const salt = randomBytes(16);
    const key = await scrypt(password.normalize('NFKC'), salt, KEYLEN, { N, r, p, maxmem: maxmem(N, r) });
    return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, n, r, p, salt, hash] = stored.split('$');
    if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64url');
    const [N, R, P] = [Number(n), Number(r), Number(p)];
    // A stored hash is ours, but bound its cost anyway (a tampered row must not exhaust memory).
    if (!(N >= 2 && N <= 2 ** 20 && R >= 1 && R <= 16 && P >= 1 && P <= 4)) return false;
    this.checks++;
    const key = await scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, {
      N,
      r: R,
      p: P,
      maxmem: maxmem(N, R),
    });
    return key.length === expected.length && timingSafeEqual(key, expected);
  }

  /** Whether a stored hash was made with other parameters than today's (rehash it on login). */
  isOutdated(stored: string): boolean {
    const [, n, r, p] = stored.split('$');
    return Number(n) !== this.params.N || Number(r) !== this.params.r || Number(p) !== this.params.p;
  }

  /** A real hash to compare against when the account does not exist, so timing reveals nothing. */
  dummyHash(): Promise<string> {
    this.dummy ??= this.hash('not-a-real-password');
    return this.dummy;
  }
}
