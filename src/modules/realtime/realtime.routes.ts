import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type {} from '@fastify/websocket'; // the `websocket` route option
import { z } from 'zod';
import type { RealtimeService } from './realtime.service.ts';

const HEARTBEAT_MS = 30_000;
const MAX_MESSAGE_BYTES = 16 * 1024;

const ClientMessage = z.union([
  z.object({ subscribe: z.array(z.string().max(100)).max(1000) }).strict(),
  z.object({ unsubscribe: z.array(z.string().max(100)).max(1000) }).strict(),
]);

/** GET /store/ws: `{"subscribe":["inventory:<productId>", ...]}` in, stock updates out. */
/** Needs @fastify/websocket in its context (the module declares it). */
export const realtimeRoutes: FastifyPluginAsync<{ realtime: RealtimeService }> = async (
  app,
  { realtime },
) => {
  // eslint-disable-next-line @typescript-eslint/require-await
  await app.register(async (scope) => {
    scope.get(
      '/store/ws',
      {
        websocket: true,
        schema: { tags: ['store'], summary: 'WebSocket of stock updates (see docs/api.md)' },
      },
      (socket: WebSocket) => {
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
            socket.send(
              JSON.stringify({
                subscribed: r.accepted,
                ...(r.rejected.length ? { rejected: r.rejected } : {}),
              }),
            );
          } else {
            realtime.unsubscribeChannels(socket, parsed.unsubscribe);
            socket.send(JSON.stringify({ unsubscribed: parsed.unsubscribe }));
          }
        });
        socket.on('close', () => {
          clearInterval(heartbeat);
          realtime.disconnect(socket);
        });
        socket.on('error', () => socket.terminate());
      },
    );
  });
};
