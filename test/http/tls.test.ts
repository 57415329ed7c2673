import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/index.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { tempDir } from '../helpers/daemon.js';

/** http.tls: broker serves HTTPS with the embedded broker's certificate; the session cookie is Secure. */
function post(port: number, path: string, body: string, ca: Buffer): Promise<{ status: number; cookie: string; cert: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      const peer = (res.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie'] ?? ''), cert: peer.subject?.CN ?? '' }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTPS from the broker certificate files', () => {
  it('serves the HMI login over TLS with a Secure cookie, and refuses plain HTTP', async () => {
    const dir = tempDir('wwtp-http-tls-');
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const users = [{ username: 'hmi1', passwordHash: await hashPassword('pw-1'), role: 'hmi' }];
    const config = loadConfig({
      override: {
        site: `tls${process.pid}`,
        broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, tls: { port: 0, certFile, keyFile }, users } },
        http: { port: 0, tls: 'broker' },
        storage: { path: join(dir, 'edge.sqlite') },
        models: { enabled: false },
        sync: { enabled: false },
      },
    });
    const runtime = createRuntime(config, { logger: silentLogger() });
    await runtime.start(new AbortController().signal);
    try {
      const port = runtime.ports().http;
      const res = await post(port, '/hmi/api/login', JSON.stringify({ username: 'hmi1', password: 'pw-1' }), readFileSync(certFile));
      expect(res.status).toBe(200);
      expect(res.cert).toBe('localhost');
      expect(res.cookie).toMatch(/HttpOnly; SameSite=Strict; Max-Age=\d+; Secure/);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await runtime.stop();
    }
  });

  it('refuses http.tls: broker without broker certificate files', () => {
    const config = loadConfig({ override: { http: { tls: 'broker' }, broker: { embedded: { port: 0, wsPort: null } } } });
    expect(() => createRuntime(config, { logger: silentLogger() })).toThrow(/broker.embedded.tls names no certificate files/);
  });
});
