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
  /** Ends the open connections too. */
  close(): Promise<void>;
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
    close: async () => {
      stopAccepting();
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
  maxPayloadBytes: number;
  signal: AbortSignal;
  onConnection: ConnectionHandler;
}): Promise<Listener> {
  const server = createHttpServer();
  const listener = tracked(server, 0);
  // A WebSocket frame may carry several MQTT packets, and an oversized MQTT payload should reach the
  // broker to be dead-lettered rather than end the connection: the frame limit is generous.
  const wss = new WebSocketServer({ server, maxPayload: opts.maxPayloadBytes * 4 + 65_536, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : (protocols.values().next().value ?? false)) });
  wss.on('connection', (ws, request) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => ws.terminate());
    opts.onConnection(stream, request);
  });
  const port = await listen(server, opts.port, opts.host, opts.signal);
  return {
    port,
    stopAccepting: listener.stopAccepting,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await listener.close();
    },
  };
}
