/**
 * A simulated market: Uniswap-V2-style constant-product pools whose swaps form
 * a deterministic, seeded stream, plus reading and writing swap files
 * (concatenated V2Swap frames) for replay.
 *
 * @module
 */
import { CodecError, FrameSplitter } from "../../mod.ts";
import { seededRandom } from "./seeded_random.ts";
import { u256ToBytes } from "./amounts.ts";
import { V2Swap } from "./messages.ts";

/** One simulated pool of a token pair. */
export interface PoolSpec {
  /** Readable name, e.g. "uni:WETH/USDC". */
  readonly name: string;
  /** The pool's 20-byte address. */
  readonly address: Uint8Array;
  /** Base token address (the pair's price is quote per base). */
  readonly base: Uint8Array;
  /** Quote token address. */
  readonly quote: Uint8Array;
  /** Starting reserves, in the tokens' smallest units (18 decimals here). */
  readonly reserveBase: bigint;
  readonly reserveQuote: bigint;
}

/** 20-byte address whose bytes are all `tag`, with `index` in the last byte. */
export function address(tag: number, index = 0): Uint8Array {
  const a = new Uint8Array(20).fill(tag);
  a[19] = index;
  return a;
}

const E18 = 10n ** 18n;

/** The simulated quote token (a dollar stablecoin). */
export const USDC: Uint8Array = address(0xc0);
/** The simulated wrapped ether. */
export const WETH: Uint8Array = address(0xe0);
/** The simulated wrapped bitcoin. */
export const WBTC: Uint8Array = address(0xb0);

/** The default market: two pairs, three venues each, prices a little apart. */
export function defaultPools(): PoolSpec[] {
  const [weth, wbtc, usdc] = [WETH, WBTC, USDC];
  const venues = ["uni", "sushi", "quick"];
  const pools: PoolSpec[] = [];
  venues.forEach((venue, i) => {
    pools.push({
      name: `${venue}:WETH/USDC`,
      address: address(0x10 + i, 1),
      base: weth,
      quote: usdc,
      reserveBase: 2_000n * E18,
      reserveQuote: BigInt(6_000_000 + 6_000 * i) * E18,
    });
    pools.push({
      name: `${venue}:WBTC/USDC`,
      address: address(0x10 + i, 2),
      base: wbtc,
      quote: usdc,
      reserveBase: 100n * E18,
      reserveQuote: BigInt(9_000_000 - 9_000 * i) * E18,
    });
  });
  return pools;
}

/** Options of {@linkcode SwapSource}. */
export interface SwapSourceOptions {
  /** Seed of the stream. Default: 1. */
  seed?: number;
  /** Pools to trade on. Default: {@linkcode defaultPools}. */
  pools?: readonly PoolSpec[];
  /** Timestamp of the first swap, in ns since the epoch. Default: 2026-01-01T00:00:00Z. */
  startNs?: bigint;
}

interface PoolState {
  readonly spec: PoolSpec;
  readonly pair: string;
  base: bigint;
  quote: bigint;
}

/**
 * Produces swaps on constant-product pools (0.3% fee). Traders lean against a
 * pool's deviation from its pair's average price, so venues drift apart and
 * back: the gaps an arbitrage strategy looks for.
 */
export class SwapSource {
  readonly #random: () => number;
  readonly #pools: PoolState[];
  #now: bigint;

  /** Creates a source; the same options always give the same stream. */
  constructor(options: SwapSourceOptions = {}) {
    this.#random = seededRandom(options.seed ?? 1);
    this.#pools = (options.pools ?? defaultPools()).map((spec) => ({
      spec,
      pair: `${spec.base.join(",")}/${spec.quote.join(",")}`,
      base: spec.reserveBase,
      quote: spec.reserveQuote,
    }));
    this.#now = options.startNs ?? 1_767_225_600_000_000_000n;
  }

  /** The next swap. */
  next(): V2Swap {
    const r = this.#random;
    const pool = this.#pools[Math.floor(r() * this.#pools.length)] as PoolState;
    const price = Number(pool.quote) / Number(pool.base);
    const peers = this.#pools.filter((p) => p.pair === pool.pair);
    const mean = peers.reduce((s, p) => s + Number(p.quote) / Number(p.base), 0) / peers.length;
    // Lean against the deviation: an expensive pool sees more base sold into it.
    const sellBase = r() < 0.5 + Math.max(-0.45, Math.min(0.45, 150 * (price / mean - 1)));
    const share = 0.0001 + 0.004 * r() * r() * r();
    const reserveIn = sellBase ? pool.base : pool.quote;
    const reserveOut = sellBase ? pool.quote : pool.base;
    const amountIn = BigInt(Math.floor(Number(reserveIn) * share / 1e9)) * 1_000_000_000n;
    const amountOut = (amountIn * 997n * reserveOut) / (reserveIn * 1000n + amountIn * 997n);
    if (sellBase) {
      pool.base += amountIn;
      pool.quote -= amountOut;
    } else {
      pool.quote += amountIn;
      pool.base -= amountOut;
    }
    this.#now += 50_000_000n + BigInt(Math.floor(r() * 200_000_000));
    return {
      poolAddress: pool.spec.address,
      token0: sellBase ? pool.spec.base : pool.spec.quote,
      token1: sellBase ? pool.spec.quote : pool.spec.base,
      amountIn: u256ToBytes(amountIn),
      amountOut: u256ToBytes(amountOut),
      timestampNs: this.#now,
    };
  }
}

/** Encodes swaps as a swap file: their V2Swap frames, back to back. */
export function writeSwapFile(swaps: Iterable<Readonly<V2Swap>>): Uint8Array {
  const list = [...swaps];
  const out = new Uint8Array(list.reduce((n, s) => n + V2Swap.encodedSize(s), 0));
  let at = 0;
  for (const swap of list) at = V2Swap.encode(swap, out, at);
  return out;
}

/**
 * Reads a swap file back.
 * @throws {CodecError} when the file is not a whole number of V2Swap frames.
 */
export function readSwapFile(bytes: Uint8Array): V2Swap[] {
  const splitter = new FrameSplitter();
  splitter.push(bytes);
  const swaps: V2Swap[] = [];
  for (let p = splitter.next(); p >= 0; p = splitter.next()) {
    swaps.push(V2Swap.decode(splitter.buffer, p));
  }
  if (splitter.buffered !== 0) {
    throw new CodecError(
      "CODEC_TRUNCATED",
      `swap file ends inside a frame: ${splitter.buffered} bytes left over`,
      { offset: bytes.length - splitter.buffered },
    );
  }
  return swaps;
}
