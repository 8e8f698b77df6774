/**
 * The one place guest sessions are made, for the HTTP edge (a first cart call) and for checkout
 * (an order without a session): each new one counts against the client address's hourly budget,
 * so a flood of sessionless requests cannot crowd out real shoppers.
 */
import { AppError } from '../errors.ts';
import type { RateLimiter } from '../ratelimit/rate-limiter.ts';
import type { Session, SessionStore } from './session-store.ts';

export class GuestSessions {
  constructor(
    private readonly deps: {
      store: SessionStore;
      /** Guest sessions one client address may create; absent: no cap. */
      perAddress?: RateLimiter;
    },
  ) {}

  /** A new guest session for a caller at `address`; 429 `too_many_sessions` past its budget. */
  async create(address: string): Promise<{ session: Session; token: string }> {
    if (this.deps.perAddress) {
      const d = await this.deps.perAddress.consume(`ip:${address}`);
      if (!d.allowed)
        throw new AppError('rate_limited', 'too_many_sessions', 'Too many new sessions from this address', {
          retryAfter: d.resetSeconds,
        });
    }
    return this.deps.store.create({ customerId: null });
  }

  /** Ends a guest session made for a request that came to nothing. */
  discard(token: string): Promise<void> {
    return this.deps.store.destroy(token);
  }
}
