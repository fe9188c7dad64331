/**
 * {@linkcode DrainRounds}: how the process groups of a split run end a job
 * together.
 *
 * @module
 */

/** What one round needs from its process group. */
export interface DrainStep {
  /**
   * Resolves once this group's actors are idle (and its peers' monitors
   * reachable). It may resolve with the round's count, taken in the same
   * turn as its last idle check (nothing can run in between); otherwise
   * {@linkcode DrainStep.handled} is asked.
   */
  idle(): Promise<bigint | void>;
  /** Messages this group's actors have handled so far. */
  handled(): bigint;
  /** Sends this group's report of `round` to every peer. */
  publish(round: number, handled: bigint): void | Promise<void>;
  /** Resolves when the run is stopped (the rounds then end, unfinished). */
  readonly stopped: Promise<void>;
}

/**
 * The drain rounds that end a job across groups. Each round, every group
 * waits for its actors to be idle and reports how many messages they have
 * handled; links keep order, so a report follows everything its group sent
 * before it. Once two rounds in a row show the same counts for every group,
 * no message was in flight anywhere (it would have been handled in between),
 * and every group, seeing the same reports, stops at the same round.
 */
export class DrainRounds {
  /** This group's reports so far, to send again to a peer's new instance. */
  readonly sent: { round: number; handled: bigint }[] = [];
  readonly #group: string;
  readonly #peers: Set<string>;
  /** Round → group → messages its actors had handled when it reported. */
  readonly #rounds = new Map<number, Map<string, bigint>>();
  #latest = 0;
  #changed = Promise.withResolvers<void>();
  #stopped = false;

  /** Rounds of `group` with `peers`. */
  constructor(group: string, peers: readonly string[]) {
    this.#group = group;
    this.#peers = new Set(peers);
  }

  /** The peers still taking part. */
  get peers(): readonly string[] {
    return [...this.#peers];
  }

  /**
   * `peer` takes no further part (it left, or will not drain): rounds no
   * longer wait for its reports.
   */
  leave(peer: string): void {
    if (!this.#peers.delete(peer)) return;
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  /**
   * A group's report of a round (a peer's, as its monitor receives it, or
   * this group's). Ignored from a group not (or no longer) in the rounds.
   */
  record(round: number, from: string, handled: bigint): void {
    if (from !== this.#group && !this.#peers.has(from)) return;
    let r = this.#rounds.get(round);
    if (r === undefined) this.#rounds.set(round, r = new Map());
    r.set(from, handled);
    this.#latest = Math.max(this.#latest, round);
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }

  /** Runs rounds until they agree (true) or `step.stopped` resolves (false). */
  async run(step: DrainStep): Promise<boolean> {
    void step.stopped.then(() => {
      this.#stopped = true;
      this.#changed.resolve();
    });
    let previous: Map<string, bigint> | undefined;
    for (let round = 1;; round++) {
      const counted = await step.idle();
      if (this.#stopped) return false;
      const handled = typeof counted === "bigint" ? counted : step.handled();
      this.sent.push({ round, handled });
      this.record(round, this.#group, handled);
      await step.publish(round, handled);
      for (;;) {
        const got = this.#rounds.get(round);
        if (got !== undefined && [...this.#peers].every((p) => got.has(p))) break;
        await this.#changed.promise;
        if (this.#stopped) return false;
      }
      const current = this.#rounds.get(round)!;
      const same = previous !== undefined &&
        [this.#group, ...this.#peers].every((g) => previous!.get(g) === current.get(g));
      // A restarted peer replays earlier rounds: stop only once caught up with everyone.
      if (same && round >= this.#latest) return true;
      previous = current;
    }
  }
}
