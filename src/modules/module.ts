/**
 * What a module declares about itself. Each module's `index.ts` exports a factory that takes the
 * module's services (built by the composition root, src/app.ts) and returns one definition: its
 * HTTP routes as Fastify plugins with typed options, its event consumers, its scheduled jobs and
 * its health checks. The server mounts the routes of every module in the list, the worker runs
 * every consumer and job; neither names a module.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ConsumerSpec } from '../platform/events/bus.ts';
import type { HealthCheck } from '../platform/health.ts';
import type { Job } from '../platform/jobs/job.ts';

/** Plugins a route set needs in its own context (they hook every request of that context). */
export type RouteNeed = 'multipart' | 'websocket';

export interface RouteSet {
  /** `public`: store and public routes. `admin`: mounted behind the admin API key. */
  scope: 'public' | 'admin';
  register(app: Parameters<FastifyPluginAsync>[0]): Promise<void>;
  needs: readonly RouteNeed[];
}

/** A route set: `plugin` (Zod-typed or plain) registered with `options`, checked against each other. */
export function routes<Options extends object>(
  scope: RouteSet['scope'],
  plugin: FastifyPluginAsyncZod<Options> | FastifyPluginAsync<Options>,
  options: Options,
  needs: readonly RouteNeed[] = [],
): RouteSet {
  return {
    scope,
    needs,
    register: async (app) => {
      await app.register(plugin as FastifyPluginAsync<Options>, options);
    },
  };
}

/** Work the worker runs continuously (started after the relay, stopped before it). */
export interface BackgroundLoop {
  name: string;
  start(): void;
  /** Resolves once the work under way has finished. */
  stop(): Promise<void>;
}

export interface ShopFlowModule {
  /** Unique, lower-case: shows in logs and in the registration test. */
  name: string;
  routes?: RouteSet[];
  consumers?: ConsumerSpec[];
  jobs?: Job[];
  loops?: BackgroundLoop[];
  health?: HealthCheck[];
}
