/** The event broker (RabbitMQ) and the search engine (PostgreSQL or OpenSearch). */
import { z } from 'zod';
import { ConfigError, withCredentials, type EnvOf } from './kit.ts';

export const messagingEnv = {
  AMQP_URL: z
    .string()
    .refine((u) => /^amqps?:\/\//.test(u), 'must be an amqp:// or amqps:// URL')
    .optional(),
  AMQP_USERNAME: z.string().min(1).optional(),
  AMQP_PASSWORD: z.string().min(1).optional(),
  SEARCH_ENGINE: z.enum(['postgres', 'opensearch', 'elasticsearch']).default('postgres'),
  OPENSEARCH_USERNAME: z.string().min(1).optional(),
  OPENSEARCH_PASSWORD: z.string().min(1).optional(),
  OPENSEARCH_URL: z.string().url().optional(),
  SEARCH_INDEX: z
    .string()
    .regex(/^[a-z0-9_-]{1,100}$/)
    .default('products'),
};

export interface MessagingSection {
  /** Absent: events are dispatched in-process from the outbox. */
  amqpUrl?: string;
  search: { engine: 'postgres' | 'opensearch'; url?: string; index: string };
}

export function messagingConfig(e: EnvOf<typeof messagingEnv>): MessagingSection {
  if (e.SEARCH_ENGINE !== 'postgres' && !e.OPENSEARCH_URL)
    throw new ConfigError([`SEARCH_ENGINE=${e.SEARCH_ENGINE} needs OPENSEARCH_URL`]);
  return {
    ...(e.AMQP_URL ? { amqpUrl: withCredentials(e.AMQP_URL, e.AMQP_USERNAME, e.AMQP_PASSWORD) } : {}),
    search: {
      engine: e.SEARCH_ENGINE === 'postgres' ? 'postgres' : 'opensearch',
      ...(e.OPENSEARCH_URL
        ? { url: withCredentials(e.OPENSEARCH_URL, e.OPENSEARCH_USERNAME, e.OPENSEARCH_PASSWORD) }
        : {}),
      index: e.SEARCH_INDEX,
    },
  };
}
