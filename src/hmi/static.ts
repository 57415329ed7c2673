import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The HMI's files, shipped in the package (`hmi/` at the package root, next to src/ and dist/). */
export const STATIC_ROOT = join(import.meta.dirname, '..', '..', 'hmi');

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
};

/** Only flat file names with a known type: no path can leave the folder. */
const FILE = /^[a-z0-9][a-z0-9_-]*\.(html|js|css|svg|png)$/;

export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

/** Sends one static file; false when the name is not one of the HMI's files. */
export async function sendStatic(res: ServerResponse, name: string, root = STATIC_ROOT): Promise<boolean> {
  const m = FILE.exec(name);
  if (!m?.[1]) return false;
  let body: Buffer;
  try {
    body = await readFile(join(root, name));
  } catch {
    return false;
  }
  res.writeHead(200, { ...PAGE_HEADERS, 'content-type': TYPES[m[1]] ?? 'application/octet-stream', 'content-length': body.length });
  res.end(body);
  return true;
}
