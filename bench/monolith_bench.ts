/**
 * MonolithBus emit to 3 handlers against hand-written direct calls (the
 * floor, baseline) and node:events EventEmitter (the common alternative).
 * Each iteration emits 1000 V2Swaps; divide by 1000 for one emit, by 3000
 * for one handler call.
 *
 * Run: deno bench bench/monolith_bench.ts
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { type Actor, on } from "../src/actor/mod.ts";
import { MonolithBus } from "../src/bus/monolith_bus.ts";
import { V2Swap } from "../src/pipeline/messages.ts";

const EMITS = 1000;

function swaps(): V2Swap[] {
  return Array.from({ length: 64 }, (_, i) => ({
    poolAddress: new Uint8Array(20).fill(i),
    token0: new Uint8Array(20).fill(1),
    token1: new Uint8Array(20).fill(2),
    amountIn: new Uint8Array(32).fill(i + 1),
    amountOut: new Uint8Array(32).fill(i + 2),
    timestampNs: BigInt(i),
  }));
}
const messages = swaps();

/** The work every handler does: read two fields, update state. */
class Strategy implements Actor {
  volume = 0;
  last = 0;
  readonly handlers = [on(V2Swap, (swap) => this.onSwap(swap))];
  /** The handler body; the hand-written floor calls it directly. */
  onSwap(swap: Readonly<V2Swap>): void {
    // Masked so the field stays a small integer: an unbounded sum turns into a
    // boxed double after ~10^7 calls and slows every variant down.
    this.volume = (this.volume + swap.amountIn[0]!) & 0x3fffffff;
    this.last = swap.poolAddress[0]!;
  }
}

// Hand-written floor: three objects, three direct method calls.
const direct = [new Strategy(), new Strategy(), new Strategy()] as const;
function directEmit(swap: Readonly<V2Swap>): void {
  direct[0].onSwap(swap);
  direct[1].onSwap(swap);
  direct[2].onSwap(swap);
}

// MonolithBus: the same handlers, routed in code.
const a = new Strategy();
const b = new Strategy();
const c = new Strategy();
const mono = new MonolithBus({ actors: { a, b, c } });
mono.route(V2Swap, [a, b, c]);
await mono.start();
const emitSwap = mono.emitter(V2Swap);

// EventEmitter: the same handlers as listeners.
const ee = new EventEmitter();
const listeners = [new Strategy(), new Strategy(), new Strategy()];
for (const l of listeners) ee.on("swap", (swap: Readonly<V2Swap>) => l.onSwap(swap));

Deno.bench({
  name: "hand-written direct calls, 3 handlers",
  group: "emit to 3 handlers (x1000)",
  baseline: true,
  warmup: 5000,
  fn() {
    for (let i = 0; i < EMITS; i++) directEmit(messages[i & 63]!);
  },
});

Deno.bench({
  name: "MonolithBus emitter, 3 handlers",
  group: "emit to 3 handlers (x1000)",
  warmup: 5000,
  fn() {
    for (let i = 0; i < EMITS; i++) emitSwap(messages[i & 63]!);
  },
});

Deno.bench({
  name: "node:events EventEmitter, 3 listeners",
  group: "emit to 3 handlers (x1000)",
  warmup: 5000,
  fn() {
    for (let i = 0; i < EMITS; i++) ee.emit("swap", messages[i & 63]!);
  },
});

globalThis.addEventListener("unload", () => {
  // Keep the handlers' results observable so no work is optimised away.
  const sum = direct[0].volume + a.volume + listeners[0]!.volume;
  if (!Number.isFinite(sum)) throw new Error("unreachable");
  void mono.close();
});
