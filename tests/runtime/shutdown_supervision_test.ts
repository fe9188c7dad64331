/**
 * Supervision and requests once a shutdown began: no actor is restarted (a
 * restart would start its work again), and requests a shutdown failed are
 * counted as abandoned, also those that waited on a linked process that left
 * (two buses joined over a real unix socket).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ActorFailure } from "../../src/actor/mod.ts";
import { on } from "../../src/actor/mod.ts";
import { Registry } from "../../src/codec/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { NULL_LOGGER } from "../../src/logger.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { Answer, Ask, gate, Tick, tick, Tock } from "../bus/_messages.ts";

/** A bus whose failures are kept in order; `failed` opens at the first. */
function watchedBus() {
  const failures: ActorFailure[] = [];
  const failed = gate();
  const bus = new MessageBus({
    logger: NULL_LOGGER,
    onFailure: (f) => {
      failures.push(f);
      failed.open();
    },
  });
  return { bus, failures, failed };
}

Deno.test("shutdown: a start hook failing once the bus closes stops its actor, no restart", async () => {
  const { bus, failures } = watchedBus();
  let starts = 0;
  const started = gate();
  const ref = bus.spawn("producer", () => ({
    handlers: [],
    async start(ctx) {
      starts++;
      started.open();
      // A producer that fails as its peers leave (e.g. its request's link closed).
      if (!ctx.signal.aborted) {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      }
      throw new BusError("BUS_NO_ROUTE", "no actor named 'calibrator' is reachable");
    },
  }));
  await started.promise;
  const report = await bus.close({ deadlineMs: 2_000 });
  assert.equal(starts, 1, "the start hook ran once: no restart during the shutdown");
  assert.deepEqual(failures.map((f) => [f.phase, f.action]), [["start", "stop"]]);
  assert.equal(ref.stats().restarts, 0);
  assert.equal(report.drained, true);
});

Deno.test("shutdown: a handler failing once the bus closes leaves the actor draining its mailbox", async () => {
  const { bus, failures } = watchedBus();
  const seen: number[] = [];
  let instances = 0;
  const ref = bus.spawn("sink", () => {
    instances++;
    return {
      handlers: [on(Tick, (t) => {
        seen.push(t.seq);
        if (t.seq === 2) throw new Error("bad tick");
      })],
    };
  });
  for (let seq = 1; seq <= 4; seq++) bus.send("sink", Tick, tick(seq));
  // Handled after the close began (delivery runs on a later turn).
  const report = await bus.close({ deadlineMs: 2_000 });
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.deepEqual(failures.map((f) => [f.phase, f.action]), [["handle", "resume"]]);
  assert.equal(instances, 1, "no fresh instance during the shutdown");
  assert.equal(ref.stats().restarts, 0);
  assert.equal(report.discarded, 0);
});

Deno.test("shutdown: a restart scheduled before the close is not made; the instance drains its mailbox", async () => {
  const { bus, failures, failed } = watchedBus();
  const seen: number[] = [];
  let instances = 0;
  let startsAfterAbort = 0;
  const ref = bus.spawn("sink", () => {
    instances++;
    return {
      handlers: [on(Tick, (t) => {
        seen.push(t.seq);
        if (t.seq === 1) throw new Error("bad tick");
      })],
      start(ctx) {
        if (ctx.signal.aborted) startsAfterAbort++;
      },
    };
  }, { supervision: { strategy: "restart", backoffMs: 5_000, maxBackoffMs: 5_000 } });
  bus.send("sink", Tick, tick(1));
  await failed.promise;
  // The restart waits out its backoff; these queue behind it.
  bus.send("sink", Tick, tick(2));
  bus.send("sink", Tick, tick(3));
  const began = performance.now();
  const report = await bus.close({ deadlineMs: 10_000 });
  const tookMs = performance.now() - began;
  assert.equal(instances, 1, "no fresh instance during the shutdown");
  assert.equal(startsAfterAbort, 0, "no start hook ran after the abort");
  assert.deepEqual(seen, [1, 2, 3], "the same instance drained its mailbox");
  assert.deepEqual(failures.map((f) => [f.phase, f.action]), [["handle", "restart"]]);
  assert.equal(ref.stats().restarts, 0, "the restart was not made");
  assert.equal(report.drained, true);
  assert.equal(report.discarded, 0);
  assert.ok(tookMs < 2_000, `the close did not wait out the 5 s backoff (took ${tookMs} ms)`);
});

Deno.test("shutdown: a restart after a failed start, scheduled before the close, stops the actor", async () => {
  const { bus, failures, failed } = watchedBus();
  let starts = 0;
  let stops = 0;
  const ref = bus.spawn("producer", () => ({
    handlers: [on(Tick, () => {})],
    start() {
      starts++;
      if (starts === 1) throw new Error("no connection yet");
    },
    stop() {
      stops++;
    },
  }), { supervision: { strategy: "restart", backoffMs: 5_000, maxBackoffMs: 5_000 } });
  await failed.promise;
  // Queued behind the restart's backoff: discarded when the close cancels the restart.
  bus.send("producer", Tick, tick(1));
  bus.send("producer", Tick, tick(2));
  const report = await bus.close({ deadlineMs: 10_000 });
  assert.equal(starts, 1, "the start hook did not run again during the shutdown");
  assert.deepEqual(failures.map((f) => [f.phase, f.action]), [["start", "restart"]]);
  assert.equal(ref.stats().stopped, true);
  assert.equal(ref.stats().restarts, 0);
  assert.equal(stops, 0, "an instance whose first start failed never started: no stop hook");
  assert.equal(report.discarded, 2, "the close report counts what the cancelled restart left");
  assert.equal(report.drained, true);
});

Deno.test("shutdown: a close that begins while a restart's stop hook runs stops the actor, no new start", async () => {
  const { bus, failures } = watchedBus();
  const stopping = gate();
  const release = gate();
  let instances = 0;
  let starts = 0;
  let stops = 0;
  const seen: number[] = [];
  const ref = bus.spawn("sink", () => {
    instances++;
    return {
      handlers: [on(Tick, (t) => {
        seen.push(t.seq);
        if (t.seq === 1) throw new Error("bad tick");
      })],
      start() {
        starts++;
      },
      async stop() {
        stops++;
        stopping.open();
        await release.promise;
      },
    };
  }, { supervision: { strategy: "restart", backoffMs: 0 } });
  bus.send("sink", Tick, tick(1));
  await stopping.promise;
  bus.send("sink", Tick, tick(2));
  const closing = bus.close({ deadlineMs: 10_000 });
  release.open();
  const report = await closing;
  assert.equal(instances, 1, "no fresh instance during the shutdown");
  assert.equal(starts, 1, "the start hook did not run again");
  assert.equal(stops, 1, "the old instance's stop hook ran once");
  assert.deepEqual(seen, [1]);
  assert.deepEqual(failures.map((f) => [f.phase, f.action]), [["handle", "restart"]]);
  assert.equal(ref.stats().stopped, true);
  assert.equal(ref.stats().discarded, 1, "the tick queued behind the restart is counted");
  // The actor left the bus before the close stopped the rest: the close report counts it too.
  assert.equal(report.discarded, 1);
  assert.equal(report.drained, true);
});

Deno.test("shutdown: a request whose linked peer leaves during the shutdown is counted abandoned", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-shutdown-" });
  const registry = () => new Registry([Tick, Tock, Ask, Answer]);
  const a = new MessageBus({ logger: NULL_LOGGER });
  const b = new MessageBus({ logger: NULL_LOGGER });
  const asked = gate();
  const hold = gate();
  b.spawn("slow", {
    handlers: [on(Ask, async (q, ctx) => {
      asked.open();
      await hold.promise;
      ctx.reply(Answer, q);
    })],
  });
  // `a` listens, `b` dials: a dialer that closes says goodbye and does not come back, so
  // the listener's link closes for good.
  const nodeA = await BusNode.start({
    bus: a,
    identity: "a",
    registry: registry(),
    listen: [new UnixTransport({ path: `${dir}/a.sock` })],
    logger: NULL_LOGGER,
  });
  const nodeB = await BusNode.start({
    bus: b,
    identity: "b",
    registry: registry(),
    dial: [{ identity: "a", transport: nodeA.transports[0]! }],
    logger: NULL_LOGGER,
  });
  try {
    await nodeA.ready(["slow"], { timeoutMs: 10_000 });
    const outcome = gate<string>();
    a.spawn("asker", {
      handlers: [],
      async start(ctx) {
        try {
          await ctx.request("slow", Ask, { n: 1 }, { reply: Answer, timeoutMs: 60_000 });
          outcome.open("answered");
        } catch (e) {
          outcome.open(e instanceof BusError ? e.code : String(e));
        }
      },
    });
    await asked.promise;
    // `a` begins its shutdown while its request waits on `b`; then `b` leaves.
    const closing = a.close({ deadlineMs: 10_000 });
    await nodeB.close({ drainMs: 0 });
    assert.equal(await outcome.promise, "BUS_NO_ROUTE");
    const report = await closing;
    assert.equal(report.abandonedRequests, 1, "the request the shutdown failed is counted");
  } finally {
    hold.open();
    await a.close();
    await b.close();
    await nodeA.close({ drainMs: 0 });
    await nodeB.close({ drainMs: 0 });
    await Deno.remove(dir, { recursive: true });
  }
});
