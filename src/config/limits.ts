/** Abuse limits: request rates, logins, registrations, guest sessions, unpaid orders held. */
import { int, bool, type EnvOf } from './kit.ts';

export const limitsEnv = {
  RATE_LIMIT_ENABLED: bool.default(true),
  RATE_LIMIT_PER_MINUTE: int(1, 10_000_000).default(1000),
  ADMIN_RATE_LIMIT_PER_MINUTE: int(1, 10_000_000).default(6000),
  LOGIN_FAILS_PER_ADDRESS_PER_DAY: int(1, 1_000_000).default(100),
  LOGIN_CONSECUTIVE_FAILS: int(1, 10_000).default(10),
  LOGIN_FAILS_PER_ACCOUNT_PER_HOUR: int(1, 1_000_000).default(50),
  PASSWORD_HASH_COST: int(14, 20).default(17),
  RATINGS_VERIFIED_ONLY: bool.default(true),
  LOW_STOCK_THRESHOLD: int(0, 1_000_000).default(5),
  REGISTRATIONS_PER_ADDRESS_PER_HOUR: int(1, 1_000_000).default(10),
  CARTS_PER_OWNER: int(1, 10_000).default(20),
  PROMOTION_CODES_PER_SESSION_PER_MINUTE: int(1, 1_000_000).default(10),
  PROMOTION_CODES_PER_ADDRESS_PER_MINUTE: int(1, 10_000_000).default(30),
  GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: int(0, 10_000_000).default(200),
  MEMORY_SESSIONS_MAX: int(1000, 100_000_000).default(100_000),
  PENDING_ORDER_TTL_MINUTES: int(1, 100_000).default(30),
  MAX_PENDING_ORDERS_PER_SESSION: int(1, 10_000).default(10),
  MAX_PENDING_ORDERS_PER_ADDRESS: int(0, 10_000_000).default(50),
  MAX_PENDING_UNITS_PER_SESSION: int(0, 100_000_000).default(300),
  MAX_PENDING_UNITS_PER_ADDRESS: int(0, 100_000_000).default(1000),
  MAX_UNITS_PER_LINE: int(1, 10_000).default(100),
};

export interface LimitsSection {
  rateLimit: { enabled: boolean; perMinute: number; adminPerMinute: number };
  /** Failed-login limits (always on, also with RATE_LIMIT_ENABLED=false). */
  login: { perAddressPerDay: number; consecutivePerAccount: number; perAccountPerHour: number };
  /** scrypt cost of new password hashes, as log2(N). */
  passwordHashCost: number;
  /** Whether product ratings average only verified purchases (review bombing by new accounts). */
  ratingsVerifiedOnly: boolean;
  /** A variant whose free units fall from above this to it or below emits `inventory.low_stock`. */
  lowStockThreshold: number;
  /** Account registrations one client address may attempt per hour (taken or not). */
  registrationsPerAddressPerHour: number;
  /** Active carts one owner (customer or guest session) may hold at once. */
  cartsPerOwner: number;
  /** Promotion codes one session, and one client address, may try on carts per minute (guessing is slow). */
  promotionCodeAttempts: { perSession: number; perAddress: number };
  /** Guest sessions one address may create per hour (0: no cap), and the in-process store's bound. */
  sessions: { guestsPerAddressPerHour: number; memoryMax: number };
  /**
   * Unpaid orders: how long they hold stock, and how many orders and units one customer or guest
   * session, and one address, may hold at once (0: no limit); the units one order line may ask for.
   */
  pendingOrders: {
    ttlMinutes: number;
    perSession: number;
    perAddress: number;
    unitsPerSession: number;
    unitsPerAddress: number;
    maxUnitsPerLine: number;
  };
}

export function limitsConfig(e: EnvOf<typeof limitsEnv>): LimitsSection {
  return {
    rateLimit: {
      enabled: e.RATE_LIMIT_ENABLED,
      perMinute: e.RATE_LIMIT_PER_MINUTE,
      adminPerMinute: e.ADMIN_RATE_LIMIT_PER_MINUTE,
    },
    login: {
      perAddressPerDay: e.LOGIN_FAILS_PER_ADDRESS_PER_DAY,
      consecutivePerAccount: e.LOGIN_CONSECUTIVE_FAILS,
      perAccountPerHour: e.LOGIN_FAILS_PER_ACCOUNT_PER_HOUR,
    },
    passwordHashCost: e.PASSWORD_HASH_COST,
    ratingsVerifiedOnly: e.RATINGS_VERIFIED_ONLY,
    lowStockThreshold: e.LOW_STOCK_THRESHOLD,
    registrationsPerAddressPerHour: e.REGISTRATIONS_PER_ADDRESS_PER_HOUR,
    cartsPerOwner: e.CARTS_PER_OWNER,
    promotionCodeAttempts: {
      perSession: e.PROMOTION_CODES_PER_SESSION_PER_MINUTE,
      perAddress: e.PROMOTION_CODES_PER_ADDRESS_PER_MINUTE,
    },
    sessions: {
      guestsPerAddressPerHour: e.GUEST_SESSIONS_PER_ADDRESS_PER_HOUR,
      memoryMax: e.MEMORY_SESSIONS_MAX,
    },
    pendingOrders: {
      ttlMinutes: e.PENDING_ORDER_TTL_MINUTES,
      perSession: e.MAX_PENDING_ORDERS_PER_SESSION,
      perAddress: e.MAX_PENDING_ORDERS_PER_ADDRESS,
      unitsPerSession: e.MAX_PENDING_UNITS_PER_SESSION,
      unitsPerAddress: e.MAX_PENDING_UNITS_PER_ADDRESS,
      maxUnitsPerLine: e.MAX_UNITS_PER_LINE,
    },
  };
}
