/**
 * The order executor's simulated fills and the risk manager's book: pure,
 * deterministic logic that the pipeline's actors wrap.
 *
 * @module
 */
import { bytesToU256 } from "./amounts.ts";
import { readPath } from "./arbitrage.ts";
import type { ArbitrageSignal, OrderExecution, RiskCheck, RiskVerdict } from "./messages.ts";

/** Options of {@linkcode FillSimulator}. */
export interface FillSimulatorOptions {
  /** Gas and fees per filled order, in micro-units of the quote token. Default: 2,000,000 (2 USDC). */
  costMicro?: bigint;
}

/** What a signal would trade, in micro-units of quote (what the risk manager is asked about). */
export function notionalOf(signal: Readonly<ArbitrageSignal>): bigint {
  const path = readPath(signal.path);
  return BigInt(Math.floor(path.size * path.buyPrice * 1e6));
}

/** Simulates fills: a deterministic share of each order fills, set by its id. */
export class FillSimulator {
  readonly #cost: bigint;

  /** Creates a simulator. */
  constructor(options: FillSimulatorOptions = {}) {
    this.#cost = options.costMicro ?? 2_000_000n;
  }

  /** The execution of `signal`, given the risk manager's verdict. */
  fill(signal: Readonly<ArbitrageSignal>, verdict: Readonly<RiskVerdict>): OrderExecution {
    const notional = notionalOf(signal);
    if (!verdict.approved) {
      return {
        opportunityId: signal.opportunityId,
        filled: false,
        fillBps: 0,
        notionalMicro: 0n,
        pnlMicro: 0n,
        reason: verdict.halted ? "risk: trading halted" : "risk: limit",
      };
    }
    // 60% to 100% filled, from a hash of the id: the same id always fills the same.
    const h = (signal.opportunityId * 0x9e3779b97f4a7c15n) & ((1n << 64n) - 1n);
    const fillBps = 6_000 + Number((h >> 40n) % 4_001n);
    // Slippage 0 to 14 USDC, also from the id.
    const slippage = ((h >> 8n) % 1_400n) * 10_000n;
    const profit = bytesToU256(signal.estimatedProfit);
    return {
      opportunityId: signal.opportunityId,
      filled: true,
      fillBps,
      notionalMicro: (notional * BigInt(fillBps)) / 10_000n,
      pnlMicro: (profit * BigInt(fillBps)) / 10_000n - this.#cost - slippage,
      reason: "",
    };
  }
}

/** Options of {@linkcode RiskBook}. */
export interface RiskBookOptions {
  /** Most notional that may be open at once, in micro-units of quote. Default: 18,000 USDC. */
  maxExposureMicro?: bigint;
  /** Realised loss at which trading halts for good, in micro-units. Default: 250 USDC. */
  maxLossMicro?: bigint;
  /** Share of open exposure released by each execution, in basis points. Default: 2,500. */
  releaseBps?: bigint;
}

/**
 * Tracks exposure and realised P&L; refuses orders over limits and halts on losses.
 *
 * Idempotent per `opportunityId`: links deliver at least once, so after the
 * executor's process restarts, the same signal may be handled again and its
 * RiskCheck and OrderExecution arrive twice. A repeated check gets the first
 * verdict back and reserves nothing more; a repeated execution is not booked
 * again. Both are counted, so a run can say how many repeats it absorbed.
 */
export class RiskBook {
  readonly #maxExposure: bigint;
  readonly #maxLoss: bigint;
  readonly #release: bigint;
  #exposure = 0n;
  #pnl = 0n;
  #halted = false;
  /** The first verdict given for each id, in the order checked. */
  readonly #verdicts = new Map<bigint, RiskVerdict>();
  /** Ids whose execution has been booked. */
  readonly #booked = new Set<bigint>();
  #repeatedChecks = 0;
  #repeatedExecutions = 0;

  /** Creates an empty book. */
  constructor(options: RiskBookOptions = {}) {
    this.#maxExposure = options.maxExposureMicro ?? 18_000_000_000n;
    this.#maxLoss = options.maxLossMicro ?? 250_000_000n;
    this.#release = options.releaseBps ?? 2_500n;
  }

  /** Open exposure, in micro-units. */
  get exposureMicro(): bigint {
    return this.#exposure;
  }

  /** Realised P&L, in micro-units. */
  get pnlMicro(): bigint {
    return this.#pnl;
  }

  /** Whether trading is halted. */
  get halted(): boolean {
    return this.#halted;
  }

  /** Checks that came again for an id already checked (answered with the first verdict). */
  get repeatedChecks(): number {
    return this.#repeatedChecks;
  }

  /** Executions that came again for an id already booked (ignored). */
  get repeatedExecutions(): number {
    return this.#repeatedExecutions;
  }

  /**
   * Answers a pre-trade check. A check for an id already checked returns the
   * first verdict again and reserves nothing: the order it approved may
   * already be trading, and reserving twice would leak exposure.
   */
  check(request: Readonly<RiskCheck>): RiskVerdict {
    const first = this.#verdicts.get(request.opportunityId);
    if (first !== undefined) {
      this.#repeatedChecks++;
      return { opportunityId: first.opportunityId, approved: first.approved, halted: first.halted };
    }
    const approved = !this.#halted &&
      this.#exposure + request.notionalMicro <= this.#maxExposure;
    if (approved) this.#exposure += request.notionalMicro;
    const verdict = { opportunityId: request.opportunityId, approved, halted: this.#halted };
    this.#verdicts.set(request.opportunityId, verdict);
    return { ...verdict };
  }

  /**
   * Books an execution: realises P&L, releases exposure, halts past the loss
   * limit. An execution for an id already booked is ignored: booking it again
   * would count its P&L twice.
   */
  record(execution: Readonly<OrderExecution>): void {
    if (this.#booked.has(execution.opportunityId)) {
      this.#repeatedExecutions++;
      return;
    }
    this.#booked.add(execution.opportunityId);
    this.#pnl += execution.pnlMicro;
    this.#exposure -= (this.#exposure * this.#release) / 10_000n;
    if (-this.#pnl > this.#maxLoss) this.#halted = true;
  }

  /**
   * Ids approved by {@linkcode RiskBook.check} whose execution was never
   * booked, ascending: exposure still reserved for orders whose outcome never
   * arrived (e.g. lost with a process that died). Walks every id checked, so
   * call it at the end of a run, not per message.
   */
  approvedUnbooked(): bigint[] {
    const ids: bigint[] = [];
    for (const [id, verdict] of this.#verdicts) {
      if (verdict.approved && !this.#booked.has(id)) ids.push(id);
    }
    return ids.sort(ascending);
  }
}

function ascending(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
