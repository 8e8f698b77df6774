/**
 * Attacks on the stock WebSocket: opening sockets without end from one address, flooding one
 * socket with messages, and getting one's own input reflected back. Now: sockets per address are
 * capped (429 before the upgrade), a socket that sends too fast is closed (1008), and rejected
 * channels are counted, never echoed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, type TestApp } from '../app.ts';
import { eventually } from '../helpers/eventually.ts';

describe('WebSocket limits', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await createTestApp({ WS_MAX_CONNECTIONS_PER_ADDRESS: '3', WS_MAX_MESSAGES_PER_SECOND: '5' });
    url = (await t.server.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws') + '/store/ws';
  });
  afterAll(async () => t?.close());

  const connect = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });

  it('refuses the socket past the per-address cap, before the upgrade', async () => {
    const sockets = await Promise.all([connect(), connect(), connect()]);
    await expect(connect()).rejects.toThrow('HTTP 429');
    sockets[0].close();
    await new Promise((r) => sockets[0].once('close', r));
    // The freed place can be taken again, once the server has seen the close.
    const again = await eventually(connect);
    for (const s of [again, ...sockets.slice(1)]) s.close();
  });

  it('closes a socket that sends more messages per second than allowed, and echoes nothing', async () => {
    // The first test's sockets are counted until the server has seen them close.
    const ws = await eventually(connect);
    const replies: string[] = [];
    ws.on('message', (d: Buffer) => replies.push(d.toString()));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ subscribe: ['<script>alert(1)</script>'] }));
    for (let i = 0; i < 20; i++) ws.send(JSON.stringify({ subscribe: [] }));
    expect(await closed).toBe(1008);
    expect(replies.join('')).not.toContain('<script>');
    expect(JSON.parse(replies[0]!)).toMatchObject({ subscribed: [], rejected: { unknown_channel: 1 } });
  });
});
