/**
 * The arbitrage strategy's logic: track each pool's last trade price and
 * signal when venues of one pair drift further apart than costs.
 *
 * @module
 */
import { u256ToBytes, u256ToNumber } from "./amounts.ts";
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
  readonly hash: number;
  price: number;
}

/** The venues of one pair, in the order they first traded. */
interface Pair {
  readonly base: Uint8Array;
  readonly quote: Uint8Array;
  readonly hash: number;
  readonly venues: Quote[];
}

const BLOCK_NS = 2_000_000_000n;

/**
 * Finds cross-pool price gaps in a stream of swaps. Deterministic.
 *
 * Per swap it reads the amounts as numbers (a price needs no exact integer)
 * and finds the pair and the pool by hashing their addresses' bytes: no
 * bigint, no string and no buffer per swap. Only a signal allocates.
 */
export class ArbitrageDetector {
  readonly #threshold: number;
  readonly #cost: number;
  readonly #notional: number;
  readonly #quote: Uint8Array;
  readonly #deadline: bigint;
  /** Pairs by the hash of their two addresses (colliding ones share a bucket). */
  readonly #pairs = new Map<number, Pair[]>();
  #nextId = 1n;

  /** Creates a detector. */
  constructor(options: ArbitrageDetectorOptions = {}) {
    this.#threshold = (options.thresholdBps ?? 80) / 10_000;
    this.#cost = (options.costBps ?? 60) / 10_000;
    this.#notional = options.tradeNotional ?? 5_000;
    this.#quote = (options.quote ?? USDC).slice();
    this.#deadline = BigInt(options.deadlineBlocks ?? 3);
  }

  /** Signals opened so far. */
  get signals(): number {
    return Number(this.#nextId - 1n);
  }

  /** Takes one swap; returns a signal when this swap opened a gap. */
  onSwap(swap: Readonly<V2Swap>): ArbitrageSignal | undefined {
    const amountIn = u256ToNumber(swap.amountIn);
    const amountOut = u256ToNumber(swap.amountOut);
    if (amountIn === 0 || amountOut === 0) return undefined;
    // Price is quote per base; without the configured quote token, the larger address quotes.
    const outIsQuote = equal(swap.token1, this.#quote);
    const inIsBase = outIsQuote ||
      (!equal(swap.token0, this.#quote) && compare(swap.token0, swap.token1) < 0);
    const base = inIsBase ? swap.token0 : swap.token1;
    const quote = inIsBase ? swap.token1 : swap.token0;
    const price = inIsBase ? amountOut / amountIn : amountIn / amountOut;
    const venues = this.#pair(base, quote).venues;
    const poolHash = hash(swap.poolAddress, 0);
    let traded: Quote | undefined;
    for (let i = 0; i < venues.length; i++) {
      const q = venues[i] as Quote;
      if (q.hash === poolHash && equal(q.pool, swap.poolAddress)) {
        traded = q;
        break;
      }
    }
    if (traded === undefined) {
      traded = { pool: swap.poolAddress.slice(), hash: poolHash, price };
      venues.push(traded);
    } else traded.price = price;

    let low: Quote | undefined;
    let high: Quote | undefined;
    for (let i = 0; i < venues.length; i++) {
      const q = venues[i] as Quote;
      if (low === undefined || q.price < low.price) low = q;
      if (high === undefined || q.price > high.price) high = q;
    }
    if (low === undefined || high === undefined || low === high) return undefined;
    const gap = high.price / low.price - 1;
    if (gap < this.#threshold || (low !== traded && high !== traded)) return undefined;
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

  /** The pair of `base` and `quote`, made on first sight. */
  #pair(base: Uint8Array, quote: Uint8Array): Pair {
    const h = hash(quote, hash(base, 0));
    let bucket = this.#pairs.get(h);
    if (bucket === undefined) this.#pairs.set(h, bucket = []);
    for (let i = 0; i < bucket.length; i++) {
      const p = bucket[i] as Pair;
      if (equal(p.base, base) && equal(p.quote, quote)) return p;
    }
    const pair: Pair = { base: base.slice(), quote: quote.slice(), hash: h, venues: [] };
    bucket.push(pair);
    return pair;
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

/** FNV-1a over the bytes of `a`, continuing from `seed` (0 to start). */
function hash(a: Uint8Array, seed: number): number {
  let h = seed === 0 ? 0x811c9dc5 : seed;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ (a[i] as number), 0x01000193);
  return h >>> 0;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
