import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { HttpConfig } from '../config/schema.js';
import type { Component } from '../lib/lifecycle.js';
import type { Logger } from '../lib/logger.js';

export interface HttpReply {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

/** A route gets the path segments after its prefix and the query; it returns a reply. */
export type RouteHandler = (rest: readonly string[], query: URLSearchParams) => HttpReply | Promise<HttpReply>;

export interface HttpDeps {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Readiness checks by name: broker connected, store writable, models loaded. */
  readonly readiness: () => Record<string, boolean>;
  /** Extra GET routes by path prefix, e.g. '/api/v1/alarms'. */
  readonly routes: ReadonlyMap<string, RouteHandler>;
  /**
   * The web HMI: gets every request first (any method) and returns true when it answered it (pages,
   * login, actions, live events); the API above stays GET only.
   */
  readonly app?: ((req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>) | undefined;
  /** Certificate and key files (PEM) for HTTPS; plain HTTP without. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string | undefined } | undefined;
}

export interface HttpServer extends Component {
  port(): number;
}

/** The daemon's HTTP endpoints (PRODUCT 4.3): health, readiness, metrics, and mounted API routes. */
export function createHttpServer(config: HttpConfig, deps: HttpDeps): HttpServer {
  const log = deps.logger.child({ component: 'http' });
  let server: Server | undefined;

  const handle = async (req: IncomingMessage): Promise<HttpReply> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return { status: 405, body: { error: 'only GET is served' } };
    if (url.pathname === '/healthz') return { status: 200, body: { status: 'ok' } };
    if (url.pathname === '/readyz') {
      const checks = deps.readiness();
      const ready = Object.values(checks).every(Boolean);
      return { status: ready ? 200 : 503, body: { ready, checks } };
    }
    if (url.pathname === '/metrics') {
      return { status: 200, body: await deps.registry.metrics(), contentType: deps.registry.contentType };
    }
    for (const [prefix, route] of deps.routes) {
      if (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) {
        const rest = url.pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
        return route(rest, url.searchParams);
      }
    }
    return { status: 404, body: { error: `no route ${url.pathname}` } };
  };

  const respond = (res: ServerResponse, reply: HttpReply): void => {
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(text);
  };

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const fail = (error: unknown): void => {
      log.error({ err: String(error), url: req.url }, 'route failed');
      if (!res.headersSent) respond(res, { status: 500, body: { error: 'internal error' } });
      else res.destroy();
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    const app = deps.app;
    (app ? app(req, res, url) : Promise.resolve(false)).then((answered) => {
      if (!answered) handle(req).then((reply) => respond(res, reply), fail);
    }, fail);
  };

  const makeServer = (): Server => {
    if (!deps.tls) return createServer(serve);
    const tls = deps.tls;
    return createTlsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}) }, serve);
  };

  return {
    name: 'http',
    async start() {
      if (!config.enabled) return;
      const s = makeServer();
      s.keepAliveTimeout = 5_000;
      await new Promise<void>((resolve, reject) => {
        s.once('error', (error: NodeJS.ErrnoException) =>
          reject(new Error(error.code === 'EADDRINUSE' ? `HTTP port ${config.port} on ${config.host} is taken; set http.port (or WWTP_EDGE_HTTP__PORT)` : error.message)),
        );
        s.listen(config.port, config.host, () => resolve());
      });
      server = s;
      log.info({ host: config.host, port: (s.address() as AddressInfo).port, tls: deps.tls !== undefined }, 'http listening');
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    port() {
      const address = server?.address();
      return address && typeof address === 'object' ? address.port : 0;
    },
  };
}
