/** Helpers shared by the supervisor tests. */
import type { SupervisedChild, SupervisorEvent } from "../../src/supervisor/mod.ts";

/** The fixture child running in `mode`, as a supervised child named `name`. */
export function fixtureChild(name: string, mode: string, ...args: string[]): SupervisedChild {
  return {
    name,
    command: Deno.execPath(),
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      new URL("./fixtures/child.ts", import.meta.url).pathname,
      mode,
      ...args,
    ],
  };
}

/**
 * Collects what a supervisor reports and lets a test wait for a given event
 * or output line. A wait that is never satisfied fails after `limitMs`
 * instead of hanging the run (a failure deadline, not a sleep).
 */
export class Recorder<T> {
  readonly items: T[] = [];
  #waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  /** Records one item and wakes the waiters it satisfies. */
  readonly push = (item: T): void => {
    this.items.push(item);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(item)) return true;
      w.resolve(item);
      return false;
    });
  };

  /** Resolves with the first recorded item that matches (already there, or yet to come). */
  waitFor(match: (item: T) => boolean, what: string, limitMs = 30_000): Promise<T> {
    const found = this.items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.match !== match);
        reject(new Error(`never saw ${what}; got ${JSON.stringify(this.items)}`));
      }, limitMs);
      this.#waiters.push({
        match,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  }
}

/** The events of one type, narrowed. */
export function eventsOf<K extends SupervisorEvent["type"]>(
  events: readonly SupervisorEvent[],
  type: K,
): Extract<SupervisorEvent, { type: K }>[] {
  return events.filter((e): e is Extract<SupervisorEvent, { type: K }> => e.type === type);
}
