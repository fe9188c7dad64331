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
  base: bigint;
  quote: bigint;
  /** `Number(base)` and `Number(quote)`, kept with the reserves. */
  baseNum: number;
  quoteNum: number;
  /** The pools of its pair (itself included), in pool order. */
  peers: readonly PoolState[];
}

/** Swaps whose amounts share one slab: two 32-byte views each. */
const SLAB_SWAPS = 1024;
const TWO_128 = 1n << 128n;

/**
 * Produces swaps on constant-product pools (0.3% fee). Traders lean against a
 * pool's deviation from its pair's average price, so venues drift apart and
 * back: the gaps an arbitrage strategy looks for.
 *
 * Reserves are exact (`bigint`), so the same seed gives the same swaps bit
 * for bit; prices are read from `number` copies kept with them. A swap's
 * amounts are views into a slab shared with the swaps around it (never
 * reused, so a swap stays intact however long it is kept): no buffer is
 * allocated per swap.
 */
export class SwapSource {
  readonly #random: () => number;
  readonly #pools: PoolState[];
  #now: bigint;
  #slab = new Uint8Array(0);
  #view = new DataView(this.#slab.buffer);
  #at = 0;

  /** Creates a source; the same options always give the same stream. */
  constructor(options: SwapSourceOptions = {}) {
    this.#random = seededRandom(options.seed ?? 1);
    const pools = (options.pools ?? defaultPools()).map((spec): PoolState => ({
      spec,
      base: spec.reserveBase,
      quote: spec.reserveQuote,
      baseNum: Number(spec.reserveBase),
      quoteNum: Number(spec.reserveQuote),
      peers: [],
    }));
    const pair = (p: PoolState) => `${p.spec.base.join(",")}/${p.spec.quote.join(",")}`;
    for (const p of pools) p.peers = pools.filter((q) => pair(q) === pair(p));
    this.#pools = pools;
    this.#now = options.startNs ?? 1_767_225_600_000_000_000n;
  }

  /** The next swap. */
  next(): V2Swap {
    const r = this.#random;
    const pool = this.#pools[Math.floor(r() * this.#pools.length)] as PoolState;
    const price = pool.quoteNum / pool.baseNum;
    const peers = pool.peers;
    let sum = 0;
    for (let i = 0; i < peers.length; i++) {
      const p = peers[i] as PoolState;
      sum += p.quoteNum / p.baseNum;
    }
    const mean = sum / peers.length;
    // Lean against the deviation: an expensive pool sees more base sold into it.
    const sellBase = r() < 0.5 + Math.max(-0.45, Math.min(0.45, 150 * (price / mean - 1)));
    const share = 0.0001 + 0.004 * r() * r() * r();
    const reserveIn = sellBase ? pool.base : pool.quote;
    const reserveOut = sellBase ? pool.quote : pool.base;
    const reserveInNum = sellBase ? pool.baseNum : pool.quoteNum;
    const amountIn = BigInt(Math.floor(reserveInNum * share / 1e9)) * 1_000_000_000n;
    const amountInLessFee = amountIn * 997n;
    const amountOut = (amountInLessFee * reserveOut) / (reserveIn * 1000n + amountInLessFee);
    if (sellBase) {
      pool.base += amountIn;
      pool.quote -= amountOut;
    } else {
      pool.quote += amountIn;
      pool.base -= amountOut;
    }
    pool.baseNum = Number(pool.base);
    pool.quoteNum = Number(pool.quote);
    // One bigint step: 50 ms plus up to 200 ms is exact as a number.
    this.#now += BigInt(50_000_000 + Math.floor(r() * 200_000_000));
    if (this.#at === this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_SWAPS * 64);
      this.#view = new DataView(this.#slab.buffer);
      this.#at = 0;
    }
    const at = this.#at;
    this.#at = at + 64;
    const slab = this.#slab;
    this.#write(amountIn, at);
    this.#write(amountOut, at + 32);
    return {
      poolAddress: pool.spec.address,
      token0: sellBase ? pool.spec.base : pool.spec.quote,
      token1: sellBase ? pool.spec.quote : pool.spec.base,
      amountIn: slab.subarray(at, at + 32),
      amountOut: slab.subarray(at + 32, at + 64),
      timestampNs: this.#now,
    };
  }

  /** Writes an amount as 32 little-endian bytes into the (zeroed) slab at `at`. */
  #write(value: bigint, at: number): void {
    if (value >= 0n && value < TWO_128) {
      // setBigUint64 keeps the low 64 bits by itself.
      this.#view.setBigUint64(at, value, true);
      this.#view.setBigUint64(at + 8, value >> 64n, true);
    } else u256ToBytes(value, this.#slab.subarray(at, at + 32));
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
