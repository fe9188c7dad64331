/**
 * The arbitrage strategy's logic: track each pool's last trade price and
 * signal when venues of one pair drift further apart than costs.
 *
 * @module
 */
import { bytesToU256, u256ToBytes } from "./amounts.ts";
import { USDC } from "./market.ts";
import type { ArbitrageSignal, V2Swap } from "./messages.ts";

/** Options of {@linkcode ArbitrageDetector}. */
export interface ArbitrageDetectorOptions {
  /** Smallest gap between venues worth a signal, in basis points. Default: 80. */
  thresholdBps?: number;
  /** Costs (fees both ways, slippage) in basis points, taken off the gap. Default: 60. */
  costBps?: number;
  /** Notional traded per signal, in quote-token units. Default: 5,000. */
  tradeNotional?: number;
  /** The quote token (prices are quote per base). Default: the simulated USDC, {@linkcode USDC}. */
  quote?: Uint8Array;
  /** Blocks a signal stays valid for. Default: 3. */
  deadlineBlocks?: number;
}

interface Quote {
  readonly pool: Uint8Array;
  price: number;
}

const BLOCK_NS = 2_000_000_000n;

/** Finds cross-pool price gaps in a stream of swaps. Deterministic. */
export class ArbitrageDetector {
  readonly #threshold: number;
  readonly #cost: number;
  readonly #notional: number;
  readonly #quote: string;
  readonly #deadline: bigint;
  readonly #pairs = new Map<string, Map<string, Quote>>();
  #nextId = 1n;

  /** Creates a detector. */
  constructor(options: ArbitrageDetectorOptions = {}) {
    this.#threshold = (options.thresholdBps ?? 80) / 10_000;
    this.#cost = (options.costBps ?? 60) / 10_000;
    this.#notional = options.tradeNotional ?? 5_000;
    this.#quote = key(options.quote ?? USDC);
    this.#deadline = BigInt(options.deadlineBlocks ?? 3);
  }

  /** Signals opened so far. */
  get signals(): number {
    return Number(this.#nextId - 1n);
  }

  /** Takes one swap; returns a signal when this swap opened a gap. */
  onSwap(swap: Readonly<V2Swap>): ArbitrageSignal | undefined {
    const amountIn = Number(bytesToU256(swap.amountIn));
    const amountOut = Number(bytesToU256(swap.amountOut));
    if (amountIn === 0 || amountOut === 0) return undefined;
    // Price is quote per base; without the configured quote token, the larger address quotes.
    const outIsQuote = key(swap.token1) === this.#quote;
    const inIsBase = outIsQuote ||
      (key(swap.token0) !== this.#quote && compare(swap.token0, swap.token1) < 0);
    const base = inIsBase ? swap.token0 : swap.token1;
    const quote = inIsBase ? swap.token1 : swap.token0;
    const price = inIsBase ? amountOut / amountIn : amountIn / amountOut;
    const pairKey = `${key(base)}/${key(quote)}`;
    let venues = this.#pairs.get(pairKey);
    if (venues === undefined) this.#pairs.set(pairKey, venues = new Map());
    const poolKey = key(swap.poolAddress);
    const known = venues.get(poolKey);
    if (known === undefined) venues.set(poolKey, { pool: swap.poolAddress.slice(), price });
    else known.price = price;

    let low: Quote | undefined;
    let high: Quote | undefined;
    for (const q of venues.values()) {
      if (low === undefined || q.price < low.price) low = q;
      if (high === undefined || q.price > high.price) high = q;
    }
    if (low === undefined || high === undefined || low === high) return undefined;
    const gap = high.price / low.price - 1;
    const traded = key(swap.poolAddress);
    if (gap < this.#threshold || (key(low.pool) !== traded && key(high.pool) !== traded)) {
      return undefined;
    }
    const size = this.#notional / low.price;
    const profitMicro = BigInt(Math.floor(this.#notional * (gap - this.#cost) * 1e6));
    const path = new Uint8Array(100);
    path.set(low.pool, 0);
    path.set(high.pool, 20);
    path.set(base, 40);
    path.set(quote, 60);
    const dv = new DataView(path.buffer);
    dv.setFloat64(80, size, true);
    dv.setUint32(88, Math.round(gap * 10_000), true);
    dv.setFloat64(92, low.price, true);
    const id = this.#nextId++;
    return {
      opportunityId: id,
      path,
      estimatedProfit: u256ToBytes(profitMicro > 0n ? profitMicro : 0n),
      deadlineBlock: swap.timestampNs / BLOCK_NS + this.#deadline,
    };
  }
}

/** What a signal's `path` says, decoded. */
export interface SignalPath {
  readonly buyPool: Uint8Array;
  readonly sellPool: Uint8Array;
  readonly base: Uint8Array;
  readonly quote: Uint8Array;
  readonly size: number;
  readonly gapBps: number;
  readonly buyPrice: number;
}

/** Reads the fields the detector packs into a signal's 100-byte path. */
export function readPath(path: Uint8Array): SignalPath {
  const dv = new DataView(path.buffer, path.byteOffset, path.byteLength);
  return {
    buyPool: path.subarray(0, 20),
    sellPool: path.subarray(20, 40),
    base: path.subarray(40, 60),
    quote: path.subarray(60, 80),
    size: dv.getFloat64(80, true),
    gapBps: dv.getUint32(88, true),
    buyPrice: dv.getFloat64(92, true),
  };
}

function key(a: Uint8Array): string {
  return a.join(",");
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
