/**
 * The workload every measurement shares (`mycelium bench` and the
 * `deno bench` files): the message, 64 distinct swaps, and the small handler
 * each variant calls, so the variants differ only in how the call gets there.
 *
 * @module
 */
import { type Actor, on } from "../actor/mod.ts";
import { defineMessage, field, type MessageOf } from "../codec/mod.ts";

/**
 * The design notes' swap message (132 bytes of fixed fields, a 144-byte
 * frame), the one every benchmark sends. Declared here rather than taken from
 * the trading example, so the figures do not move when the example changes
 * and nothing in `src/` imports an application.
 */
export const V2Swap = defineMessage({
  id: 19,
  name: "V2Swap",
  topic: "market_data",
  fields: {
    poolAddress: field.bytes(20),
    token0: field.bytes(20),
    token1: field.bytes(20),
    amountIn: field.bytes(32),
    amountOut: field.bytes(32),
    timestampNs: field.u64(),
  },
});
/** A swap message. */
export type V2Swap = MessageOf<typeof V2Swap>;

/**
 * The one swap the transport benchmarks send over and over (a fresh object
 * each call), stamped `timestampNs`: a stream's last is told apart by its
 * stamp.
 */
export function benchSwap(timestampNs = 1_700_000_000_000_000_000n): V2Swap {
  return {
    poolAddress: new Uint8Array(20).fill(0x11),
    token0: new Uint8Array(20).fill(0x22),
    token1: new Uint8Array(20).fill(0x33),
    amountIn: new Uint8Array(32).fill(0x44),
    amountOut: new Uint8Array(32).fill(0x55),
    timestampNs,
  };
}

/** 64 distinct swaps, so no handler sees one object only. */
export function sampleSwaps(): V2Swap[] {
  return Array.from({ length: 64 }, (_, i) => ({
    poolAddress: new Uint8Array(20).fill(i),
    token0: new Uint8Array(20).fill(1),
    token1: new Uint8Array(20).fill(2),
    amountIn: new Uint8Array(32).fill(i + 1),
    amountOut: new Uint8Array(32).fill(i + 2),
    timestampNs: BigInt(i + 1),
  }));
}

/** The work every handler does, whatever calls it: read two fields, update state. */
export class Tally implements Actor {
  /** Swaps handled. */
  count = 0;
  /** A running sum of two fields (kept so the work cannot be optimised away). */
  volume = 0;
  readonly handlers = [on(V2Swap, (swap) => this.onSwap(swap))];

  /** The handler body; hand-written floors call it directly. */
  onSwap(swap: Readonly<V2Swap>): void {
    this.count++;
    // Masked: an unbounded sum would become a boxed double after ~10^7 calls and slow
    // every variant down.
    this.volume = (this.volume + swap.amountIn[0]! + swap.poolAddress[0]!) & 0x3fffffff;
  }
}
