import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type {} from '@fastify/websocket'; // the `websocket` route option
import { z } from 'zod';
import type { RealtimeService } from './realtime.service.ts';
import { clientAddress } from '../../http/client-address.ts';
import { AppError } from '../../platform/errors.ts';

const HEARTBEAT_MS = 30_000;
const MAX_MESSAGE_BYTES = 16 * 1024;

const ClientMessage = z.union([
  z.object({ subscribe: z.array(z.string().max(100)).max(1000) }).strict(),
  z.object({ unsubscribe: z.array(z.string().max(100)).max(1000) }).strict(),
]);

/** GET /store/ws: `{"subscribe":["inventory:<productId>", ...]}` in, stock updates out. */
/** Needs @fastify/websocket in its context (the module declares it). */
export const realtimeRoutes: FastifyPluginAsync<{
  realtime: RealtimeService;
  /** Open sockets one client address may hold (this process). */
  maxConnectionsPerAddress: number;
  /** Messages a socket may send per second; past it the socket is closed (1008). */
  maxMessagesPerSecond: number;
}> = async (app, { realtime, maxConnectionsPerAddress, maxMessagesPerSecond }) => {
  const open = new Map<string, number>();
  // eslint-disable-next-line @typescript-eslint/require-await
  await app.register(async (scope) => {
    scope.get(
      '/store/ws',
      {
        websocket: true,
        schema: { tags: ['store'], summary: 'WebSocket of stock updates (see docs/api.md)' },
        // Before the upgrade: an address over its share of sockets gets a plain 429.
        preValidation: (request, _reply, done) => {
          if ((open.get(clientAddress(request)) ?? 0) >= maxConnectionsPerAddress) {
            done(
              new AppError(
                'rate_limited',
                'too_many_connections',
                'Too many open WebSockets from this address',
                {
                  retryAfter: 5,
                },
              ),
            );
            return;
          }
          done();
        },
      },
      (socket: WebSocket, request) => {
        const address = clientAddress(request);
        open.set(address, (open.get(address) ?? 0) + 1);
        let windowStart = Date.now();
        let inWindow = 0;
        let alive = true;
        socket.on('pong', () => (alive = true));
        const heartbeat = setInterval(() => {
          if (!alive) return socket.terminate();
          alive = false;
          socket.ping();
        }, HEARTBEAT_MS);

        socket.on('message', (data, isBinary) => {
          const raw = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
          if (isBinary || raw.length > MAX_MESSAGE_BYTES) return socket.close(1009, 'message too large');
          const now = Date.now();
          if (now - windowStart >= 1000) {
            windowStart = now;
            inWindow = 0;
          }
          if (++inWindow > maxMessagesPerSecond) return socket.close(1008, 'too many messages');
          let parsed: z.infer<typeof ClientMessage>;
          try {
            parsed = ClientMessage.parse(JSON.parse(raw.toString('utf8')));
          } catch {
            socket.send(
              JSON.stringify({
                error: { code: 'invalid_request', message: 'send {"subscribe":["inventory:<productId>"]}' },
              }),
            );
            return;
          }
          if ('subscribe' in parsed) {
            const r = realtime.subscribe(socket, parsed.subscribe);
            // Rejected channels are counted by reason, not echoed: what a client sent is never
            // reflected back to it.
            const rejected: Record<string, number> = {};
            for (const x of r.rejected) rejected[x.reason] = (rejected[x.reason] ?? 0) + 1;
            socket.send(
              JSON.stringify({
                subscribed: r.accepted,
                ...(r.rejected.length ? { rejected } : {}),
              }),
            );
          } else {
            realtime.unsubscribeChannels(socket, parsed.unsubscribe);
            socket.send(JSON.stringify({ unsubscribed: parsed.unsubscribe }));
          }
        });
        socket.on('close', () => {
          const left = (open.get(address) ?? 1) - 1;
          if (left > 0) open.set(address, left);
          else open.delete(address);
          clearInterval(heartbeat);
          realtime.disconnect(socket);
        });
        socket.on('error', () => socket.terminate());
      },
    );
  });
};
