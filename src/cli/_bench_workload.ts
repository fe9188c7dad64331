/**
 * The workload every same-process measurement shares (`mycelium bench` and
 * the `deno bench` files): 64 distinct swaps, and the small handler each
 * variant calls, so the variants differ only in how the call gets there.
 *
 * @module
 */
import { type Actor, on } from "../actor/mod.ts";
import { V2Swap } from "../pipeline/messages.ts";

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
