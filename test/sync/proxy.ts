import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of MariaDB that a test can cut (every connection reset, new ones refused: the
 * port is closed) and restore on the same port.
 */
export async function startProxy(initialTarget: number, targetHost = '127.0.0.1') {
  let targetPort = initialTarget;
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const done = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', done).on('close', done);
        upstream.on('error', done).on('close', done);
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        server = s;
        const addr = s.address();
        port = typeof addr === 'object' && addr ? addr.port : p;
        resolve();
      });
    });

  await listen(0);
  return {
    get port() {
      return port;
    },
    async cut(): Promise<void> {
      for (const s of sockets) s.resetAndDestroy();
      sockets.clear();
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    /** Forward new connections to another port (a closed one: the server refuses). */
    pointTo(next: number): void {
      targetPort = next;
    },
    async restore(): Promise<void> {
      if (!server) await listen(port);
    },
    async close(): Promise<void> {
      await this.cut();
    },
  };
}
