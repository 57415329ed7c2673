import { createServer } from 'node:net';

/** The preferred port if it is free on `host`, else a free one chosen by the OS. */
export async function preferPort(preferred: number, host: string): Promise<{ port: number; preferredTaken: boolean }> {
  const tryListen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, host, () => {
        const address = server.address();
        const bound = address && typeof address === 'object' ? address.port : undefined;
        server.close(() => resolve(bound));
      });
    });
  const first = await tryListen(preferred);
  if (first !== undefined) return { port: first, preferredTaken: false };
  const other = await tryListen(0);
  if (other === undefined) throw new Error(`no free TCP port on ${host}`);
  return { port: other, preferredTaken: true };
}
