// schedule.js: when to poll next. A steady interval with jitter, a longer one for hidden tabs, and on
// errors a growing delay (x1.6 per failure) up to a ceiling, never below the interval: never a busy loop.

export const DEFAULT_POLL_MS = 5000;
export const DEFAULT_MAX_POLL_MS = 60000;
export const DEFAULT_HIDDEN_POLL_MS = 30000;
export const BACKOFF_FACTOR = 1.6;
export const JITTER = 0.2;

export class PollSchedule {
  /** pollMs: the steady interval; maxPollMs: the ceiling after errors; random: [0, 1) for jitter. */
  constructor({ pollMs = DEFAULT_POLL_MS, maxPollMs = DEFAULT_MAX_POLL_MS, hiddenPollMs = DEFAULT_HIDDEN_POLL_MS, random = Math.random } = {}) {
    this.pollMs = pollMs;
    this.maxPollMs = Math.max(maxPollMs, pollMs);
    this.hiddenPollMs = hiddenPollMs;
    this.random = random;
    this.failures = 0;
  }

  /** The first poll after live delivery is lost: anywhere in one interval, since every client lost it at once. */
  first() {
    return this.random() * this.pollMs;
  }

  /** The delay before the next poll, given whether the page is hidden. */
  next({ hidden = false } = {}) {
    let base = this.pollMs;
    if (this.failures > 0) base = Math.min(this.maxPollMs, this.pollMs * BACKOFF_FACTOR ** this.failures);
    if (hidden) base = Math.max(base, this.hiddenPollMs);
    const delay = base * (1 - JITTER + 2 * JITTER * this.random());
    return Math.max(this.pollMs * (1 - JITTER), Math.min(delay, this.maxPollMs * (1 + JITTER)));
  }

  /** A poll failed; `retryAfterMs` (from a 429 or 503) raises the next delay, up to the ceiling. */
  failed(retryAfterMs) {
    this.failures += 1;
    const delay = this.next();
    return retryAfterMs === undefined ? delay : Math.max(delay, Math.min(retryAfterMs, this.maxPollMs));
  }

  /** A poll succeeded: back to the steady interval. */
  succeeded() {
    this.failures = 0;
  }
}
