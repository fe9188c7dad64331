/**
 * The same-process measurements of `mycelium bench`: MonolithBus emits and
 * MessageBus deliveries against hand-written direct calls, and MessageBus
 * request → reply against a hand-written promise round trip. Variants are
 * interleaved in small blocks so that a neighbour's load lands on both sides
 * of each ratio.
 *
 * @module
 */
import { on } from "../actor/mod.ts";
import { MessageBus, MonolithBus } from "../bus/mod.ts";
import { LatencyRecorder } from "../metrics/mod.ts";
import { BenchError } from "./_bench_error.ts";
import { sampleSwaps, Tally, V2Swap } from "./_bench_workload.ts";
import { type BenchRow, benchRow } from "./_bench_report.ts";

/** Sizes of the same-process measurements. */
export interface InProcessPlan {
  /** Messages the MessageBus producer publishes (to 3 subscribers). */
  messages: number;
  /** Request → reply round trips, and batches of 1000 emits. */
  roundTrips: number;
  /** Stops the run between blocks (with `BENCH_INTERRUPTED`). */
  signal?: AbortSignal;
}

const HANDLERS = 3;
const EMITS_PER_BATCH = 1000;
const CHUNK = 4096;
const BLOCK = 100;

function checkAborted(signal: AbortSignal | undefined, stage: string): void {
  if (signal?.aborted) {
    throw new BenchError("BENCH_INTERRUPTED", `interrupted during ${stage}`, { stage });
  }
}

/**
 * Runs the same-process measurements and returns their rows: the direct-call
 * floor, MonolithBus emit and MessageBus delivery per handler, the promise
 * round-trip floor and MessageBus request → reply.
 */
export async function measureInProcess(plan: InProcessPlan): Promise<BenchRow[]> {
  const swaps = sampleSwaps();
  const signal = plan.signal;

  // --- emit to 3 handlers: direct calls, MonolithBus ---------------------------
  const direct = [new Tally(), new Tally(), new Tally()] as const;
  const directEmit = (swap: Readonly<V2Swap>): void => {
    direct[0].onSwap(swap);
    direct[1].onSwap(swap);
    direct[2].onSwap(swap);
  };
  const a = new Tally();
  const b = new Tally();
  const c = new Tally();
  const mono = new MonolithBus({ actors: { a, b, c } });
  mono.route(V2Swap, [a, b, c]);
  await mono.start();
  const directNs = new LatencyRecorder();
  const monoNs = new LatencyRecorder();
  let directMs = 0;
  let monoMs = 0;
  try {
    const emit = mono.emitter(V2Swap);
    const batches = plan.roundTrips;
    const warmup = Math.max(50, batches >> 2);
    for (let n = 0; n < warmup + batches; n++) {
      if ((n & 63) === 0) checkAborted(signal, "in-process emit");
      const t0 = performance.now();
      for (let i = 0; i < EMITS_PER_BATCH; i++) directEmit(swaps[i & 63]!);
      const t1 = performance.now();
      for (let i = 0; i < EMITS_PER_BATCH; i++) {
        const wait = emit(swaps[i & 63]!);
        if (wait !== undefined) await wait;
      }
      const t2 = performance.now();
      if (n < warmup) continue;
      directMs += t1 - t0;
      monoMs += t2 - t1;
      // Whole batches: the recorder's buckets are 1 ns wide below 64 ns, too coarse for one call.
      directNs.record((t1 - t0) * 1e6);
      monoNs.record((t2 - t1) * 1e6);
    }
  } finally {
    await mono.close();
  }
  const emitted = plan.roundTrips * EMITS_PER_BATCH;
  const handCalls = benchRow({
    id: "direct-call",
    place: "in process",
    what: "hand-written direct calls, per handler (3 handlers)",
    ...figures(directNs, EMITS_PER_BATCH * HANDLERS),
    msgPerSec: emitted / (directMs / 1000),
    isFloor: true,
  });
  const monoRow = benchRow({
    id: "monolith-emit",
    place: "in process",
    what: "MonolithBus emit, per handler (3 handlers)",
    ...figures(monoNs, EMITS_PER_BATCH * HANDLERS),
    msgPerSec: emitted / (monoMs / 1000),
  }, handCalls);
  if (direct[0].count + a.count === 0) throw new Error("the handlers never ran");

  // --- MessageBus: 1 producer, 3 subscribers, at throughput --------------------
  const bus = new MessageBus();
  const tallies = [new Tally(), new Tally(), new Tally()];
  tallies.forEach((t, i) => bus.spawn(`tally-${i}`, t));
  const perDelivery = new LatencyRecorder();
  let busMs = 0;
  let published = 0;
  try {
    const warmup = Math.min(plan.messages, 20_000);
    let sent = 0;
    while (sent < warmup + plan.messages) {
      checkAborted(signal, "in-process MessageBus publish");
      const n = Math.min(CHUNK, warmup + plan.messages - sent);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const wait = bus.publish(V2Swap, swaps[(sent + i) & 63]!);
        if (wait !== undefined) await wait;
      }
      await bus.idle();
      const ms = performance.now() - t0;
      if (sent >= warmup) {
        busMs += ms;
        published += n;
        perDelivery.record(ms * 1e6 / (n * HANDLERS));
      }
      sent += n;
    }
    for (const t of tallies) {
      if (t.count !== sent) throw new Error(`MessageBus lost messages: ${t.count} of ${sent}`);
    }
  } finally {
    await bus.close();
  }
  const busRow = benchRow({
    id: "bus-publish",
    place: "in process",
    what: "MessageBus publish to 3 subscribers, per delivery",
    p50Ns: perDelivery.percentile(0.5),
    p99Ns: perDelivery.percentile(0.99),
    msgPerSec: published / (busMs / 1000),
    samples: published,
  }, handCalls);

  // --- request → reply ------------------------------------------------------------
  const rpc = new MessageBus();
  rpc.spawn("echo", { handlers: [on(V2Swap, (swap, ctx) => ctx.reply(V2Swap, swap))] }, {
    subscribe: [],
  });
  const promiseNs = new LatencyRecorder();
  const rpcNs = new LatencyRecorder();
  try {
    const warmup = Math.max(BLOCK, plan.roundTrips >> 2);
    for (let done = 0; done < warmup + plan.roundTrips; done += BLOCK) {
      checkAborted(signal, "in-process request/reply");
      const measured = done >= warmup;
      for (let i = 0; i < BLOCK; i++) {
        const swap = swaps[i & 63]!;
        const t0 = performance.now();
        const { promise, resolve } = Promise.withResolvers<Readonly<V2Swap>>();
        queueMicrotask(() => resolve(swap));
        const back = await promise;
        const ns = (performance.now() - t0) * 1e6;
        if (back !== swap) throw new Error("the promise round trip answered another message");
        if (measured) promiseNs.record(ns);
      }
      for (let i = 0; i < BLOCK; i++) {
        const swap = swaps[i & 63]!;
        const t0 = performance.now();
        const back = await rpc.request("echo", V2Swap, swap, { reply: V2Swap });
        const ns = (performance.now() - t0) * 1e6;
        if (back.timestampNs !== swap.timestampNs) throw new Error("MessageBus answered another");
        if (measured) rpcNs.record(ns);
      }
    }
  } finally {
    await rpc.close();
  }
  const promiseRow = benchRow({
    id: "promise-rtt",
    place: "in process",
    what: "hand-written promise round trip (microtask)",
    ...figures(promiseNs),
    isFloor: true,
  });
  const rpcRow = benchRow({
    id: "bus-rtt",
    place: "in process",
    what: "MessageBus request -> reply, V2Swap",
    ...figures(rpcNs),
  }, promiseRow);
  return [handCalls, monoRow, busRow, promiseRow, rpcRow];
}

/** p50, p99 and count of a recorder, each value divided by `per` (messages per sample). */
export function figures(
  r: LatencyRecorder,
  per = 1,
): { p50Ns: number; p99Ns: number; samples: number } {
  return { p50Ns: r.percentile(0.5) / per, p99Ns: r.percentile(0.99) / per, samples: r.count };
}
