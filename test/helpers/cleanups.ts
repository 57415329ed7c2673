import { afterEach } from 'vitest';

/** Cleanups a test file registers; run after each test, newest first. */
export function cleanupsAfterEach(): (() => void | Promise<void>)[] {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}
