import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';

/** Hands one client connection to the broker. */
export type ConnectionHandler = (stream: Duplex, request?: IncomingMessage) => void;

/** One bound listener. */
export interface Listener {
  readonly port: number;
  /** No new connections; open ones go on (their held acknowledgements can still be sent). */
  stopAccepting(): void;
  /**
   * Ends the open connections too: each is ended (what was written to it still goes out) and, if it is
   * not closed within `graceMs`, destroyed.
   */
  close(graceMs?: number): Promise<void>;
}

function listen(server: Server, port: number, host: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      server.close();
      reject(new Error('broker start cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    server.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    server.listen(port, host, () => {
      signal.removeEventListener('abort', onAbort);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function tracked(server: Server, port: number): Listener {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const stopAccepting = (): void => {
    if (server.listening) server.close();
  };
  return {
    port,
    stopAccepting,
    close: async (graceMs = 0) => {
      stopAccepting();
      if (graceMs > 0 && sockets.size > 0) {
        const ended = [...sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
        for (const socket of sockets) socket.end();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(ended), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      for (const socket of sockets) socket.destroy();
      if (sockets.size > 0 || server.listening) await closed;
    },
  };
}

export async function listenTcp(opts: { host: string; port: number; signal: AbortSignal; onConnection: ConnectionHandler }): Promise<Listener> {
  const server = createServer({ noDelay: true }, (socket) => opts.onConnection(socket));
  const listener = tracked(server, 0);
  const port = await listen(server, opts.port, opts.host, opts.signal);
  return { ...listener, port };
}

export async function listenTls(opts: {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  caFile?: string | undefined;
  signal: AbortSignal;
  onConnection: ConnectionHandler;
}): Promise<Listener> {
  const [cert, key, ca] = await Promise.all([readFile(opts.certFile), readFile(opts.keyFile), opts.caFile ? readFile(opts.caFile) : undefined]);
  const server = createTlsServer({ cert, key, ...(ca ? { ca } : {}) }, (socket) => opts.onConnection(socket));
  const listener = tracked(server, 0);
  const port = await listen(server, opts.port, opts.host, opts.signal);
  return { ...listener, port };
}

/** MQTT over WebSocket for browser HMIs (subprotocol `mqtt`). */
export async function listenWebSocket(opts: {
  host: string;
  port: number;
  maxFrameBytes: number;
  signal: AbortSignal;
  onConnection: ConnectionHandler;
}): Promise<Listener> {
  const server = createHttpServer();
  const listener = tracked(server, 0);
  // A WebSocket frame may carry several MQTT packets, and an oversized MQTT payload should reach the
  // broker to be dead-lettered rather than end the connection: the frame limit is above the packet limit.
  const wss = new WebSocketServer({ server, maxPayload: opts.maxFrameBytes, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : (protocols.values().next().value ?? false)) });
  wss.on('connection', (ws, request) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => ws.terminate());
    opts.onConnection(stream, request);
  });
  const port = await listen(server, opts.port, opts.host, opts.signal);
  return {
    port,
    stopAccepting: listener.stopAccepting,
    close: async (graceMs = 0) => {
      if (graceMs > 0 && wss.clients.size > 0) {
        const ended = [...wss.clients].map((client) => new Promise<void>((resolve) => client.once('close', () => resolve())));
        for (const client of wss.clients) client.close(1001, 'daemon stopping');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(ended), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await listener.close();
    },
  };
}
