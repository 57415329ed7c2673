import { fileURLToPath } from 'node:url';

/**
 * Node's arguments for a child process that runs `entry`, a module beside `from` (the caller's
 * `import.meta.url`) named without its extension: the built `.js`, or the `.ts` source through tsx
 * when the caller itself runs from the sources; with a heap of `maxHeapMb`.
 */
export function childEntryArgs(from: string, entry: string, maxHeapMb: number): string[] {
  const fromSources = from.endsWith('.ts');
  const file = fileURLToPath(new URL(`${entry}${fromSources ? '.ts' : '.js'}`, from));
  return [`--max-old-space-size=${maxHeapMb}`, ...(fromSources ? ['--import', import.meta.resolve('tsx')] : []), file];
}
