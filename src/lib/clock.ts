/** Wall time, injected so tests and replays control it. Event time always comes from the data. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { clear(): void };
  setInterval(fn: () => void, ms: number): { clear(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { clear: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { clear: () => clearInterval(t) };
  },
};
