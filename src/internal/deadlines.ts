/**
 * Deadlines that all share one duration, kept on one timer: what the Redis store uses to bound
 * each command in real time.
 *
 * Why not one `setTimeout` per command: a store sends a command or two per request, and under
 * load creating and clearing a timer for each one (plus the interruption handler that clears it)
 * cost more CPU than the rest of the command's client-side work (docs/performance.md). Every
 * deadline here is `millis` after it was added, so deadlines expire in the order they were added:
 * a queue ordered by time and a single timer armed for its oldest live entry. A settled entry is
 * marked done and leaves once everything before it has (the timer skips any still held). Each
 * entry costs one small object and one array push; while commands are quick, the timer wakes
 * about once per `millis`.
 *
 * @internal
 */

/** The longest delay `setTimeout` keeps (about 24.8 days); a longer one fires after 1 ms. */
export const MAX_DELAY = 2 ** 31 - 1

/** One deadline, as `Deadlines.add` returns it: hand it back to `Deadlines.settle`. */
export interface Deadline {
  readonly done: boolean
}

interface Entry extends Deadline {
  done: boolean
  readonly at: number
  readonly onTimeout: () => void
}

/**
 * A queue of same-length deadlines on one timer. The timer is `unref`'d: it only ends work that is
 * stuck, so it never keeps a process alive by itself. `close` drops every pending deadline.
 *
 * Settled entries leave the queue's head at once (replies mostly come back in the order the
 * commands went out, as they do on one Redis connection), so an entry lives about as long as its
 * command: kept for the whole timeout, every entry would outlive the young generation and make
 * the garbage collector's work, not the timer's, the cost.
 *
 * @internal
 */
export class Deadlines {
  private entries: Array<Entry | undefined> = []
  private head = 0
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(
    readonly millis: number,
    private readonly now: () => number = () => performance.now()
  ) {}

  /** Calls `onTimeout` `millis` from now unless the deadline is settled first. */
  add(onTimeout: () => void): Deadline {
    const entry: Entry = { at: this.now() + this.millis, done: false, onTimeout }
    this.entries.push(entry)
    if (this.timer === undefined) this.arm(this.millis)
    return entry
  }

  /** The work a deadline bounds has ended: it never fires. Settling twice, or after it fired, does nothing. */
  settle(deadline: Deadline): void {
    ;(deadline as Entry).done = true
    this.sweep()
  }

  /** How many deadlines are held (pending, or settled behind a pending one): for tests. */
  get size(): number {
    return this.entries.length - this.head
  }

  /** Drops every deadline without firing it and stops the timer. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.entries = []
    this.head = 0
  }

  /** Drops the settled entries at the head; keeps the array from growing without bound. */
  private sweep(): void {
    const entries = this.entries
    let head = this.head
    while (head < entries.length && entries[head]!.done) entries[head++] = undefined
    if (head === entries.length) {
      entries.length = 0
      head = 0
    } else if (head > 1024 && head * 2 > entries.length) {
      entries.copyWithin(0, head)
      entries.length -= head
      head = 0
    }
    this.head = head
  }

  private arm(delay: number): void {
    // Node fires a longer delay (a timeout of 30 days, say) after 1 ms: wait at most its maximum.
    this.timer = setTimeout(this.fire, Math.min(MAX_DELAY, Math.max(1, Math.ceil(delay))))
    this.timer.unref?.()
  }

  private readonly fire = (): void => {
    this.timer = undefined
    const now = this.now()
    const expired: Array<Entry> = []
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!
      if (entry.done) continue
      if (entry.at > now) break
      entry.done = true
      expired.push(entry)
    }
    this.sweep()
    const oldest = this.entries[this.head]
    if (oldest !== undefined) {
      // The head is live after a sweep: the next deadline to watch.
      this.arm(oldest.at - now)
    }
    // Fired after the queue is consistent: a callback may add deadlines of its own.
    for (const entry of expired) entry.onTimeout()
  }
}
