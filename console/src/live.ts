/**
 * Live stock over the store's WebSocket (GET /store/ws): subscribe to the products on screen and
 * get every committed change, from any instance, within a second. Reconnects on its own.
 */
import { useEffect, useState } from 'react';

export interface Level {
  availableQuantity: number;
  reservedQuantity: number;
}

export function useLiveStock(productIds: string[]): { levels: Map<string, Level>; connected: boolean } {
  const [levels, setLevels] = useState(() => new Map<string, Level>());
  const [connected, setConnected] = useState(false);
  const key = [...new Set(productIds)].sort().slice(0, 100).join(',');

  useEffect(() => {
    const ids = key ? key.split(',') : [];
    if (ids.length === 0) return;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 500;
    let ws: WebSocket | undefined;
    const connect = () => {
      const url = new URL('/store/ws', window.location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const socket = new WebSocket(url);
      ws = socket;
      socket.onopen = () => {
        delay = 500;
        setConnected(true);
        socket.send(JSON.stringify({ subscribe: ids.map((id) => `inventory:${id}`) }));
      };
      socket.onmessage = (e: MessageEvent<string>) => {
        const m = JSON.parse(e.data) as Partial<Level> & { productId?: string };
        if (!m.productId || m.availableQuantity === undefined) return;
        const level = { availableQuantity: m.availableQuantity, reservedQuantity: m.reservedQuantity ?? 0 };
        setLevels((prev) => new Map(prev).set(m.productId!, level));
      };
      socket.onclose = () => {
        setConnected(false);
        if (stopped) return;
        retry = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10_000);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      ws?.close();
    };
  }, [key]);

  return { levels, connected };
}
