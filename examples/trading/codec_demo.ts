/**
 * `mycelium demo`: pushes a seeded stream of swaps through the codec the way a
 * socket would (encode into slabs, arbitrary read sizes, split, view) and
 * checks that every field arrives intact.
 *
 * @module
 */
import { FrameSplitter } from "../../mod.ts";
import { seededRandom } from "./seeded_random.ts";
import { V2Swap } from "./messages.ts";

/** Options of {@linkcode runCodecDemo}. */
export interface CodecDemoOptions {
  /** Swaps to send. Default: 200,000. */
  count?: number;
  /** Seed of the swap generator and of the read sizes. Default: 42. */
  seed?: number;
}

/** What the demo did. */
export interface CodecDemoResult {
  readonly frames: number;
  readonly bytes: number;
  readonly reads: number;
  readonly checksumSent: string;
  readonly checksumReceived: string;
  /** Wall time of encoding, splitting, viewing and checksumming, in milliseconds. */
  readonly elapsedMs: number;
}

function fnv(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 16777619);
  return h >>> 0;
}

function mix(h: number, swap: Readonly<V2Swap>): number {
  h = fnv(h, swap.poolAddress);
  h = fnv(h, swap.token0);
  h = fnv(h, swap.token1);
  h = fnv(h, swap.amountIn);
  h = fnv(h, swap.amountOut);
  return Math.imul(h ^ Number(swap.timestampNs & 0xffffn), 16777619) >>> 0;
}

/** Runs the demo and reports what happened. */
export function runCodecDemo(options: CodecDemoOptions = {}): CodecDemoResult {
  const count = options.count ?? 200_000;
  const random = seededRandom(options.seed ?? 42);
  const pools = Array.from({ length: 8 }, (_, i) => new Uint8Array(20).fill(i + 1));
  const token = (n: number) => new Uint8Array(20).fill(0xa0 + n);
  const amount = () => {
    const a = new Uint8Array(32);
    for (let i = 0; i < 16; i++) a[i] = Math.floor(random() * 256);
    return a;
  };
  const swaps: V2Swap[] = [];
  let sent = 2166136261;
  for (let i = 0; i < count; i++) {
    const swap: V2Swap = {
      poolAddress: pools[i % pools.length] as Uint8Array,
      token0: token(0),
      token1: token(1),
      amountIn: amount(),
      amountOut: amount(),
      timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
    };
    swaps.push(swap);
    sent = mix(sent, swap);
  }

  // Encode into 64 KiB slabs, as a link's write queue would.
  const slabs: Uint8Array[] = [];
  let slab = new Uint8Array(64 * 1024);
  let at = 0;
  const t0 = performance.now();
  for (const swap of swaps) {
    if (slab.length - at < V2Swap.encodedSize(swap)) {
      slabs.push(slab.subarray(0, at));
      slab = new Uint8Array(64 * 1024);
      at = 0;
    }
    at = V2Swap.encode(swap, slab, at);
  }
  slabs.push(slab.subarray(0, at));

  // Deliver in reads of random sizes (1 byte to 16 KiB), split and view.
  const splitter = new FrameSplitter();
  let received = 2166136261;
  let frames = 0;
  let bytes = 0;
  let reads = 0;
  for (const chunk of slabs) {
    for (let i = 0; i < chunk.length;) {
      const n = Math.min(chunk.length - i, 1 + Math.floor(random() * 16 * 1024));
      splitter.push(chunk.subarray(i, i + n));
      i += n;
      bytes += n;
      reads++;
      for (let p = splitter.next(); p >= 0; p = splitter.next()) {
        received = mix(received, V2Swap.view(splitter.buffer, p));
        frames++;
      }
    }
  }
  const t2 = performance.now();
  return {
    frames,
    bytes,
    reads,
    checksumSent: sent.toString(16).padStart(8, "0"),
    checksumReceived: received.toString(16).padStart(8, "0"),
    elapsedMs: t2 - t0,
  };
}
