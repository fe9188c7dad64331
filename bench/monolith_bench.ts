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
import { MonolithBus } from "../src/bus/monolith_bus.ts";
import { sampleSwaps, Tally, V2Swap } from "../src/cli/_bench_workload.ts";

const EMITS = 1000;

const messages = sampleSwaps();

// Hand-written floor: three objects, three direct method calls.
const direct = [new Tally(), new Tally(), new Tally()] as const;
function directEmit(swap: Readonly<V2Swap>): void {
  direct[0].onSwap(swap);
  direct[1].onSwap(swap);
  direct[2].onSwap(swap);
}

// MonolithBus: the same handlers, routed in code.
const a = new Tally();
const b = new Tally();
const c = new Tally();
const mono = new MonolithBus({ actors: { a, b, c } });
mono.route(V2Swap, [a, b, c]);
await mono.start();
const emitSwap = mono.emitter(V2Swap);

// EventEmitter: the same handlers as listeners.
const ee = new EventEmitter();
const listeners = [new Tally(), new Tally(), new Tally()];
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
