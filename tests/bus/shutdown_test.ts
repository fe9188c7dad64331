/**
 * Graceful shutdown: drain within a deadline, stop hooks, refusing new
 * outside calls, pending requests, AsyncDisposable. Plain and faithful.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Actor, on } from "../../src/actor/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { Answer, Ask, gate, Gated, Tick, tick, Tock } from "./_messages.ts";

function closedError(e: unknown): boolean {
  return e instanceof BusError && e.code === "BUS_CLOSED";
}

for (const faithful of [false, true]) {
  const mode = faithful ? " (faithful)" : "";

  Deno.test(`MessageBus${mode}: close drains every mailbox, then calls stop hooks`, async () => {
    const bus = new MessageBus({ faithful });
    const log: string[] = [];
    const relay: Actor = {
      handlers: [on(Tick, async (m, ctx) => {
        await Promise.resolve();
        await ctx.send("sink", Tock, { seq: m.seq });
      })],
      stop: () => void log.push("relay stopped"),
    };
    const sink: Actor = {
      handlers: [on(Tock, (m) => void log.push(`tock ${m.seq}`))],
      stop: () => void log.push("sink stopped"),
    };
    bus.spawn("relay", relay);
    bus.spawn("sink", sink);
    for (let i = 0; i < 5; i++) await bus.send("relay", Tick, tick(i));
    const report = await bus.close({ deadlineMs: 5_000 });
    assert.deepEqual(report, { drained: true, discarded: 0, abandonedRequests: 0 });
    assert.deepEqual(log.slice(0, 5), ["tock 0", "tock 1", "tock 2", "tock 3", "tock 4"]);
    assert.deepEqual(log.slice(5).sort(), ["relay stopped", "sink stopped"]);
  });

  Deno.test(`MessageBus${mode}: past the deadline, queued messages are discarded and counted`, async () => {
    const bus = new MessageBus({ faithful });
    const actor = new Gated();
    let stopped = false;
    const ref = bus.spawn("stuck", Object.assign(actor, { stop: () => void (stopped = true) }));
    for (let i = 0; i < 4; i++) await bus.send("stuck", Tick, tick(i));
    await actor.entered;
    const report = await bus.close({ deadlineMs: 10 });
    assert.equal(report.drained, false);
    assert.equal(report.discarded, 3);
    assert.equal(ref.stats().discarded, 3);
    assert.equal(stopped, true);
    actor.release(); // the abandoned handler finishes; its result is ignored
    assert.deepEqual(actor.seqs, [0]);
  });

  Deno.test(`MessageBus${mode}: once closing, outside calls are refused; the signal aborts`, async () => {
    const bus = new MessageBus({ faithful });
    bus.spawn("sink", new Gated());
    const closing = bus.close();
    assert.equal(bus.signal.aborted, true);
    assert.throws(() => bus.send("sink", Tick, tick(1)), closedError);
    assert.throws(() => bus.publish(Tick, tick(1)), closedError);
    assert.throws(() => bus.spawn("late", new Gated()), closedError);
    await assert.rejects(bus.request("sink", Ask, { n: 1 }, { reply: Answer }), closedError);
    await closing;
    assert.equal(bus.close(), closing, "close is idempotent");
  });

  Deno.test(`MessageBus${mode}: pending requests are rejected with BUS_CLOSED`, async () => {
    const bus = new MessageBus({ faithful });
    const hold = gate();
    bus.spawn("slow", {
      handlers: [on(Ask, async (q, ctx) => {
        await hold.promise;
        ctx.reply(Answer, q);
      })],
    });
    const pending = bus.request("slow", Ask, { n: 1 }, { reply: Answer, timeoutMs: 60_000 });
    const entered = bus.idle(); // not idle while the handler waits: resolves after release
    const report = await bus.close({ deadlineMs: 10 });
    assert.equal(report.abandonedRequests, 1);
    await assert.rejects(pending, closedError);
    hold.open();
    await entered;
  });
}

Deno.test("MessageBus: 'await using' closes the bus and stops its actors", async () => {
  let stopped = 0;
  {
    await using bus = new MessageBus();
    bus.spawn("a", { handlers: [on(Tick, () => {})], stop: () => void stopped++ });
    bus.spawn("b", { handlers: [on(Tick, () => {})], stop: () => void stopped++ });
    await bus.publish(Tick, tick(1));
  }
  assert.equal(stopped, 2);
});

Deno.test("MessageBus: stopping one actor leaves the others running", async () => {
  await using bus = new MessageBus();
  const a = new Gated();
  a.hold = false;
  const b = new Gated();
  b.hold = false;
  const refA = bus.spawn("a", a);
  bus.spawn("b", b);
  await refA.stop();
  await bus.publish(Tick, tick(1));
  await bus.idle();
  assert.deepEqual(a.seqs, []);
  assert.deepEqual(b.seqs, [1]);
  assert.equal(refA.stats().stopped, true);
});

Deno.test("MessageBus: a sender that dropped its wait promise is not crashed by a stop", async () => {
  const bus = new MessageBus();
  const actor = new Gated();
  const ref = bus.spawn("slow", actor, { mailbox: { capacity: 1 } });
  await bus.send("slow", Tick, tick(0));
  await actor.entered;
  assert.equal(bus.send("slow", Tick, tick(1)), undefined);
  const dropped = bus.send("slow", Tick, tick(2)); // a promise the sender ignores
  assert.ok(dropped instanceof Promise);
  const report = await bus.close({ deadlineMs: 10 });
  assert.equal(report.discarded, 2, "the queued and the waiting message are both counted");
  assert.equal(ref.stats().discarded, 2);
  actor.release();
});
