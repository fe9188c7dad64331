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

/** Tracks exposure and realised P&L; refuses orders over limits and halts on losses. */
export class RiskBook {
  readonly #maxExposure: bigint;
  readonly #maxLoss: bigint;
  readonly #release: bigint;
  #exposure = 0n;
  #pnl = 0n;
  #halted = false;

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

  /** Answers a pre-trade check. */
  check(request: Readonly<RiskCheck>): RiskVerdict {
    const approved = !this.#halted &&
      this.#exposure + request.notionalMicro <= this.#maxExposure;
    if (approved) this.#exposure += request.notionalMicro;
    return { opportunityId: request.opportunityId, approved, halted: this.#halted };
  }

  /** Books an execution: realises P&L, releases exposure, halts past the loss limit. */
  record(execution: Readonly<OrderExecution>): void {
    this.#pnl += execution.pnlMicro;
    this.#exposure -= (this.#exposure * this.#release) / 10_000n;
    if (-this.#pnl > this.#maxLoss) this.#halted = true;
  }
}
