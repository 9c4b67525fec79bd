/**
 * A fixed-window attempt counter held in process memory, bounded in the keys it keeps. With
 * several portal instances each counts on its own, so the effective limit is the configured one
 * times the number of instances behind the load balancer.
 */

/** How many attempts a key may make per window. */
export interface LimitRule {
  max: number;
  windowMs: number;
}

/** One key to count an attempt against, with its rule. */
export interface LimitKey {
  key: string;
  rule: LimitRule;
}

/** The answer to an attempt: allowed (with a way to give the attempt back) or refused. */
export type Reservation =
  | { allowed: true; /** Gives the attempt back (a success does not count). */ release(): void }
  | { allowed: false; retryAfterSeconds: number };

interface Window {
  count: number;
  resetAt: number;
}

/** Counts attempts per key; every key of one attempt is checked and counted together. */
export class AttemptLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keys currently held (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }

  /**
   * Counts one attempt against every key, or none when any key is over its limit. Synchronous, so
   * concurrent attempts cannot all pass one stale check.
   */
  reserve(keys: readonly LimitKey[]): Reservation {
    const now = this.now();
    let retryAfterMs = 0;
    for (const { key, rule } of keys) {
      const window = this.live(key, now);
      if (window && window.count >= rule.max) retryAfterMs = Math.max(retryAfterMs, window.resetAt - now);
    }
    if (retryAfterMs > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
    const counted: Array<[string, Window]> = [];
    for (const { key, rule } of keys) {
      let window = this.live(key, now);
      if (!window) {
        this.makeRoom(now);
        window = { count: 0, resetAt: now + rule.windowMs };
        this.windows.set(key, window);
      }
      window.count += 1;
      counted.push([key, window]);
    }
    let released = false;
    return {
      allowed: true,
      release: () => {
        if (released) return;
        released = true;
        for (const [key, window] of counted) {
          // Only the window this attempt was counted in; a newer one starts from zero anyway.
          if (this.windows.get(key) === window && window.count > 0) window.count -= 1;
        }
      },
    };
  }

  /** Gives one attempt back to each key (an attempt whose window has ended is gone anyway). */
  refund(keys: readonly LimitKey[]): void {
    const now = this.now();
    for (const { key } of keys) {
      const window = this.live(key, now);
      if (window && window.count > 0) window.count -= 1;
    }
  }

  /** Forgets a key's attempts. */
  clear(key: string): void {
    this.windows.delete(key);
  }

  private live(key: string, now: number): Window | undefined {
    const window = this.windows.get(key);
    if (window && window.resetAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  /** Drops expired windows, then the oldest ones, so the map never holds more than maxKeys. */
  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    // Map order is insertion order: the first keys are the oldest windows.
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}
