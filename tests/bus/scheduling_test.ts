/**
 * Scheduling: one message at a time per actor, fairness, yielding to the
 * event loop during long runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Actor, on } from "../../src/actor/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { DeliveryTiming } from "../../src/metrics/delivery_timing.ts";
import { gate, Tick, tick } from "./_messages.ts";
import { defineMessage, field } from "../../src/codec/mod.ts";

Deno.test("MessageBus: an actor never handles two messages at once", async () => {
  await using bus = new MessageBus();
  let inside = 0;
  let most = 0;
  let done = 0;
  bus.spawn("careful", {
    handlers: [on(Tick, async () => {
      inside++;
      most = Math.max(most, inside);
      await Promise.resolve();
      await Promise.resolve();
      inside--;
      done++;
    })],
  });
  for (let i = 0; i < 200; i++) await bus.send("careful", Tick, tick(i));
  await bus.idle();
  assert.equal(done, 200);
  assert.equal(most, 1);
});

Deno.test("MessageBus: a long chain of messages yields to timers and still completes", async () => {
  await using bus = new MessageBus();
  const total = 200_000;
  let count = 0;
  let countWhenTimerFired = -1;
  const finished = gate();
  const looper: Actor = {
    handlers: [on(Tick, (m, ctx) => {
      count++;
      if (m.seq + 1 < total) return ctx.send("looper", Tick, tick(m.seq + 1));
      finished.open();
    })],
  };
  bus.spawn("looper", looper);
  const timerFired = gate();
  setTimeout(() => {
    countWhenTimerFired = count;
    timerFired.open();
  }, 0);
  await bus.send("looper", Tick, tick(0));
  await Promise.all([finished.promise, timerFired.promise]);
  assert.equal(count, total);
  assert.ok(countWhenTimerFired < total, `timer only ran after ${countWhenTimerFired}`);
});

Deno.test("MessageBus: a saturated bus lets a ready socket read through within a few timer turns", async () => {
  // An actor that sends itself a message forever keeps the bus busy; a read that is ready must
  // still resolve at the bus's next yield, not dozens of yields later (a yield that does not let
  // the runtime poll its sockets would starve links and heartbeats under load). Counted in turns
  // of a 0 ms timer chain running beside it, not in time.
  await using bus = new MessageBus();
  let running = true;
  bus.spawn("spinner", {
    handlers: [on(Tick, (m, ctx) => {
      if (running) return ctx.send("spinner", Tick, tick(m.seq + 1));
    })],
  });
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using client = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  using server = await listener.accept();
  let timerTurns = 0;
  let chain = true;
  const turn = () => {
    timerTurns++;
    if (chain) setTimeout(turn, 0);
  };
  await bus.send("spinner", Tick, tick(0));
  const read = server.read(new Uint8Array(1));
  await client.write(new Uint8Array([7]));
  const turnsAtWrite = timerTurns;
  setTimeout(turn, 0);
  await read;
  const turnsTaken = timerTurns - turnsAtWrite;
  chain = false;
  running = false;
  await bus.idle();
  assert.ok(turnsTaken <= 3, `the read waited ${turnsTaken} timer turns`);
});

Deno.test("MessageBus: busy actors take turns in batches", async () => {
  await using bus = new MessageBus();
  const order: string[] = [];
  const a: Actor = { handlers: [on(Tick, () => void order.push("a"))] };
  const b: Actor = { handlers: [on(Tick, () => void order.push("b"))] };
  bus.spawn("a", a, { subscribe: [], mailbox: { capacity: 1000 } });
  bus.spawn("b", b, { subscribe: [], mailbox: { capacity: 1000 } });
  for (let i = 0; i < 600; i++) assert.equal(bus.send("a", Tick, tick(i)), undefined);
  for (let i = 0; i < 600; i++) assert.equal(bus.send("b", Tick, tick(i)), undefined);
  await bus.idle();
  // a is not drained completely before b gets a turn.
  assert.ok(order.indexOf("b") < order.lastIndexOf("a"));
  assert.equal(order.length, 1200);
});

Deno.test("MessageBus: an actor's delivery timing samples one delivery in sampleEvery, idle ones as hops", async () => {
  await using bus = new MessageBus();
  const timing = new DeliveryTiming({ sampleEvery: 4 });
  const ref = bus.spawn("timed", {
    handlers: [on(Tick, async (m) => {
      if (m.seq % 2 === 0) await Promise.resolve();
    })],
  }, { timing });
  // One at a time: each finds the actor idle, so each timed one is a hop.
  for (let i = 0; i < 100; i++) {
    await bus.send("timed", Tick, tick(i));
    await bus.idle();
  }
  assert.equal(ref.stats().handled, 100);
  // The first, then one in 4: deliveries 1, 5, … 97.
  assert.equal(timing.hop.count, 25);
  assert.equal(timing.queued.count, 0);
  // A burst: all but the first wait behind others.
  for (let i = 0; i < 100; i++) await bus.send("timed", Tick, tick(i));
  await bus.idle();
  assert.equal(timing.hop.count + timing.queued.count, 50);
  assert.ok(timing.queued.count >= 24);
  assert.ok(timing.queued.max >= timing.queued.percentile(0.5) && timing.hop.min >= 0);
});

Deno.test("MessageBus: a request/reply ping-pong lets timers run before it ends", async () => {
  const Ping = defineMessage({ id: 901, name: "SchedPing", fields: { n: field.u32() } });
  const Pong = defineMessage({ id: 902, name: "SchedPong", fields: { n: field.u32() } });
  const ROUNDS = 300_000;
  let rounds = 0;
  const finished = Promise.withResolvers<void>();
  await using bus = new MessageBus();
  bus.spawn("pong", { handlers: [on(Ping, (m, ctx) => ctx.reply(Pong, { n: m.n }))] });
  bus.spawn("ping", {
    handlers: [
      on(Ping, async (m, ctx) => {
        await ctx.request("pong", Ping, { n: m.n }, { reply: Pong });
        rounds++;
        if (m.n < ROUNDS) await ctx.send("ping", Ping, { n: m.n + 1 });
        else finished.resolve();
      }),
    ],
  });
  // Each reply wakes its requester from a microtask; without a shared budget the event loop
  // (timers, I/O, signal handlers) would not get a turn until every round was over.
  const timerFired = new Promise<number>((resolve) => setTimeout(() => resolve(rounds), 0));
  await bus.send("ping", Ping, { n: 1 });
  const roundsWhenTimerFired = await timerFired;
  await finished.promise;
  assert.ok(
    roundsWhenTimerFired < ROUNDS,
    `the timer fired only after all ${ROUNDS} rounds (${roundsWhenTimerFired})`,
  );
});
