/**
 * The audit trail's ledger: accounts for every signal of a run, once.
 *
 * Links deliver at least once, so after the executor's process restarts a
 * signal may be handled twice (its execution then arrives twice), and the
 * signals the dead process had received but not finished are lost with it.
 * The ledger books each opportunity id's first execution only, counts the
 * repeats, and at the end names the ids no execution came for. It relies on
 * the strategy numbering its signals 1, 2, 3… without gaps, and on the
 * end-of-stream marker carrying how many it sent (`StreamEnd.signals`).
 *
 * @module
 */
import type { ArbitrageSignal, OrderExecution } from "./messages.ts";

/** What the ledger accounted for in a run. */
export interface LedgerSummary {
  /** Signals the strategy sent (from the end-of-stream marker; 0 until it arrives). */
  readonly signalsSent: number;
  /** Distinct signals an execution was booked for. */
  readonly executed: number;
  /** Booked executions that filled. */
  readonly fills: number;
  /** Booked executions the risk manager refused. */
  readonly refused: number;
  /** Realised P&L of the booked fills, in micro-units of the quote token. */
  readonly pnlMicro: bigint;
  /** Executions that came again for an id already booked (handled twice, booked once). */
  readonly repeats: number;
  /** Ids 1..signalsSent no execution came for, ascending (lost in flight). */
  readonly missing: readonly bigint[];
}

const NONE_MISSING: readonly bigint[] = Object.freeze([]);

/**
 * Books each opportunity id's first execution; counts repeats; names the
 * signals no execution came for.
 *
 * @example
 * ```ts
 * import { ExecutionLedger } from "./ledger.ts";
 *
 * const ledger = new ExecutionLedger();
 * const exec = {
 *   opportunityId: 2n,
 *   filled: true,
 *   fillBps: 10_000,
 *   notionalMicro: 5n,
 *   pnlMicro: 3n,
 *   reason: "",
 * };
 * ledger.execution(exec); // true: booked
 * ledger.execution(exec); // false: a repeat
 * ledger.end(3n);
 * const s = ledger.summary(); // fills 1, repeats 1, missing [1n, 3n]
 * if (s.repeats !== 1 || s.missing.length !== 2) throw new Error("unexpected");
 * ```
 */
export class ExecutionLedger {
  readonly #signals = new Set<bigint>();
  readonly #executed = new Set<bigint>();
  #repeatedSignals = 0;
  #signalsSent = 0n;
  #fills = 0;
  #refused = 0;
  #pnl = 0n;
  #repeats = 0;
  // The smallest and largest id booked: with the count, they tell in O(1) that none is missing.
  #minId = 0n;
  #maxId = 0n;

  /** Signals that came again for an id already seen. */
  get repeatedSignals(): number {
    return this.#repeatedSignals;
  }

  /** Notes a signal; returns whether it is the first time this id's signal is seen. */
  signal(signal: Readonly<Pick<ArbitrageSignal, "opportunityId">>): boolean {
    const id = signal.opportunityId;
    if (this.#signals.has(id)) {
      this.#repeatedSignals++;
      return false;
    }
    this.#signals.add(id);
    return true;
  }

  /**
   * Books the first execution of an id (a fill adds its P&L, anything else
   * counts as refused); a repeat is counted and not booked. Returns whether
   * it was the first.
   */
  execution(
    execution: Readonly<Pick<OrderExecution, "opportunityId" | "filled" | "pnlMicro">>,
  ): boolean {
    const id = execution.opportunityId;
    if (this.#executed.has(id)) {
      this.#repeats++;
      return false;
    }
    if (this.#executed.size === 0 || id < this.#minId) this.#minId = id;
    if (this.#executed.size === 0 || id > this.#maxId) this.#maxId = id;
    this.#executed.add(id);
    if (execution.filled) {
      this.#fills++;
      this.#pnl += execution.pnlMicro;
    } else this.#refused++;
    return true;
  }

  /** Records how many signals the strategy sent (from the end-of-stream marker). */
  end(signalsSent: bigint): void {
    this.#signalsSent = signalsSent;
  }

  /** What was booked so far; `missing` is only meaningful once {@linkcode ExecutionLedger.end} was called. */
  summary(): LedgerSummary {
    return {
      signalsSent: Number(this.#signalsSent),
      executed: this.#executed.size,
      fills: this.#fills,
      refused: this.#refused,
      pnlMicro: this.#pnl,
      repeats: this.#repeats,
      missing: this.#missing(),
    };
  }

  #missing(): readonly bigint[] {
    const sent = this.#signalsSent;
    if (sent === 0n) return NONE_MISSING;
    // Distinct ids, as many as were sent, all within 1..sent: every one is there.
    const count = BigInt(this.#executed.size);
    if (count === sent && this.#minId >= 1n && this.#maxId <= sent) return NONE_MISSING;
    const missing: bigint[] = [];
    for (let id = 1n; id <= sent; id++) if (!this.#executed.has(id)) missing.push(id);
    return missing.length === 0 ? NONE_MISSING : missing;
  }
}
