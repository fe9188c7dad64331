/**
 * MessageBus in-process delivery at throughput, and request/reply latency.
 *
 * Throughput group: one producer publishes 1,000,000 V2Swaps to 3 subscriber
 * actors (3,000,000 deliveries per iteration; divide the time by 3e6 for one
 * delivery). Baseline: a channel with one promise per message per subscriber
 * (what `await`-per-message code does). Also shown: the hand-written floor, a
 * bounded ring per subscriber drained in batches on one microtask.
 *
 * Round-trip group: one request/reply per iteration, against a hand-written
 * promise round trip. p50/p99 from a LatencyRecorder are printed at the end.
 *
 * Run: deno bench bench/bus_bench.ts
 *
 * @module
 */
import { type Actor, on } from "../src/actor/mod.ts";
import { MessageBus } from "../src/bus/message_bus.ts";
import { defineMessage, field } from "../src/codec/mod.ts";
import { LatencyRecorder } from "../src/metrics/latency_recorder.ts";
import { sampleSwaps, Tally, V2Swap } from "../src/cli/_bench_workload.ts";

const MESSAGES = 1_000_000;
const SUBSCRIBERS = 3;

const messages = sampleSwaps();

function check(tallies: readonly Tally[], expected: number): void {
  for (const t of tallies) if (t.count !== expected) throw new Error(`lost messages: ${t.count}`);
}

// ---- baseline: one promise per message per subscriber -----------------------

/** A channel where every message is handed over through its own promise. */
class PromiseChannel {
  readonly #tally: Tally;
  constructor(tally: Tally) {
    this.#tally = tally;
  }
  send(swap: Readonly<V2Swap>): Promise<void> {
    return Promise.resolve(swap).then((s) => this.#tally.onSwap(s));
  }
}

const promiseTallies = Array.from({ length: SUBSCRIBERS }, () => new Tally());
const channels = promiseTallies.map((t) => new PromiseChannel(t));

// ---- floor: bounded rings drained in batches on one microtask ---------------

class RingFloor {
  readonly #ring: (V2Swap | undefined)[] = new Array<V2Swap | undefined>(1024).fill(undefined);
  #head = 0;
  #size = 0;
  readonly tally: Tally;
  constructor(tally: Tally) {
    this.tally = tally;
  }
  push(swap: V2Swap): boolean {
    if (this.#size === 1024) return false;
    this.#ring[(this.#head + this.#size++) & 1023] = swap;
    return true;
  }
  drain(): void {
    while (this.#size > 0) {
      const s = this.#ring[this.#head]!;
      this.#ring[this.#head] = undefined;
      this.#head = (this.#head + 1) & 1023;
      this.#size--;
      this.tally.onSwap(s);
    }
  }
}
const floorTallies = Array.from({ length: SUBSCRIBERS }, () => new Tally());
const rings = floorTallies.map((t) => new RingFloor(t));
function drainAll(resolve: () => void): void {
  for (const r of rings) r.drain();
  resolve();
}

// ---- MessageBus -----------------------------------------------------------------

const bus = new MessageBus();
const busTallies = Array.from({ length: SUBSCRIBERS }, () => new Tally());
busTallies.forEach((t, i) => {
  const actor: Actor = { handlers: [on(V2Swap, (swap) => t.onSwap(swap))] };
  bus.spawn(`tally-${i}`, actor);
});

Deno.bench({
  name: "one promise per message (channel)",
  group: "publish 1M to 3 subscribers",
  baseline: true,
  n: 5,
  warmup: 2,
  async fn() {
    for (const t of promiseTallies) t.count = 0;
    let last: Promise<void> | undefined;
    for (let i = 0; i < MESSAGES; i++) {
      const swap = messages[i & 63]!;
      for (let s = 0; s < SUBSCRIBERS; s++) last = channels[s]!.send(swap);
      if ((i & 1023) === 1023) await last;
    }
    await last;
    check(promiseTallies, MESSAGES);
  },
});

Deno.bench({
  name: "hand-written floor (rings, microtask drain)",
  group: "publish 1M to 3 subscribers",
  n: 5,
  warmup: 2,
  async fn() {
    for (const t of floorTallies) t.count = 0;
    for (let i = 0; i < MESSAGES; i++) {
      const swap = messages[i & 63]!;
      let full = false;
      for (let s = 0; s < SUBSCRIBERS; s++) if (!rings[s]!.push(swap)) full = true;
      if (full || (i & 1023) === 1023) {
        await new Promise<void>((resolve) => queueMicrotask(() => drainAll(resolve)));
        if (full) { for (let s = 0; s < SUBSCRIBERS; s++) rings[s]!.push(swap); }
      }
    }
    await new Promise<void>((resolve) => queueMicrotask(() => drainAll(resolve)));
    check(floorTallies, MESSAGES);
  },
});

Deno.bench({
  name: "MessageBus publish (mailbox 1024, wait)",
  group: "publish 1M to 3 subscribers",
  n: 5,
  warmup: 2,
  async fn() {
    for (const t of busTallies) t.count = 0;
    for (let i = 0; i < MESSAGES; i++) {
      const w = bus.publish(V2Swap, messages[i & 63]!);
      if (w !== undefined) await w;
    }
    await bus.idle();
    check(busTallies, MESSAGES);
  },
});

// ---- request/reply ------------------------------------------------------------

const Quote = defineMessage({ id: 900, name: "Quote", fields: { pool: field.u32() } });
const Price = defineMessage({
  id: 901,
  name: "Price",
  fields: { pool: field.u32(), px: field.f64() },
});
/**
 * The price is `(pool + 0.25) * 1.5`, always fractional. It was `pool * 1.5`,
 * a small integer for even pools and a fraction for odd ones: V8 (Maglev)
 * then deoptimized the handler, inlined in the bus's drain loop, over and over
 * (341 "reason: Smi" deopts in one run of this file, each 0.2 to 6 ms), and the
 * row measured recompilation rather than the bus (3 to 4 times slower per
 * round trip). The floor computes the same price.
 */
function quotePrice(pool: number): number {
  return (pool + 0.25) * 1.5;
}
bus.spawn("pricer", {
  handlers: [on(Quote, (q, ctx) => ctx.reply(Price, { pool: q.pool, px: quotePrice(q.pool) }))],
}, { subscribe: [] });

const busLatency = new LatencyRecorder();
const floorLatency = new LatencyRecorder();
let seq = 0;

Deno.bench({
  name: "hand-written promise round trip (microtask reply)",
  group: "request/reply round trip",
  baseline: true,
  async fn() {
    const t0 = performance.now();
    const { promise, resolve } = Promise.withResolvers<number>();
    const pool = seq++;
    queueMicrotask(() => resolve(quotePrice(pool)));
    const px = await promise;
    floorLatency.record((performance.now() - t0) * 1e6);
    if (px !== quotePrice(pool)) throw new Error("bad reply");
  },
});

Deno.bench({
  name: "MessageBus request → reply",
  group: "request/reply round trip",
  async fn() {
    const t0 = performance.now();
    const pool = seq++ & 0xffff;
    const price = await bus.request("pricer", Quote, { pool }, { reply: Price });
    busLatency.record((performance.now() - t0) * 1e6);
    if (price.pool !== pool) throw new Error("bad reply");
  },
});

globalThis.addEventListener("unload", () => {
  const fmt = (r: LatencyRecorder) => {
    const s = r.summary();
    return `p50 ${(s.p50 / 1000).toFixed(2)} µs, p99 ${(s.p99 / 1000).toFixed(2)} µs, ` +
      `avg ${(s.avg / 1000).toFixed(2)} µs over ${s.count}`;
  };
  // A bench's report, not library code.
  // deno-lint-ignore no-console
  console.log(`request/reply, hand-written floor: ${fmt(floorLatency)}`);
  // deno-lint-ignore no-console
  console.log(`request/reply, MessageBus:         ${fmt(busLatency)}`);
});
