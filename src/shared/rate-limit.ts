// A fixed-window counter per key (a client address): enough to slow a guesser down, kept in memory.

export interface RateLimiter {
  /** Counts one hit for `key`; returns the seconds to wait when the key is over its limit, else 0. */
  hit(key: string, now?: number): number;
  /** Seconds to wait for `key` without counting a hit. */
  blockedFor(key: string, now?: number): number;
}

export function createRateLimiter(options: { limit: number; windowMs: number; maxKeys?: number }): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  const current = (key: string, now: number) => {
    const window = windows.get(key);
    return window && now - window.start < options.windowMs ? window : undefined;
  };
  const wait = (window: { start: number; count: number } | undefined, now: number) =>
    window && window.count > options.limit ? Math.ceil((window.start + options.windowMs - now) / 1000) : 0;
  return {
    hit(key, now = Date.now()) {
      let window = current(key, now);
      if (!window) {
        // Forget expired windows before the map grows without bound (many addresses).
        if (windows.size >= maxKeys)
          for (const [k, w] of windows) if (now - w.start >= options.windowMs) windows.delete(k);
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      return wait(window, now);
    },
    blockedFor: (key, now = Date.now()) => wait(current(key, now), now),
  };
}
