/**
 * Mailboxes: bounds, overflow policies, FIFO with waiting senders, counters.
 * Run in plain and faithful mode.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BusError, MailboxFullError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { Ask, Gated, Tick, tick } from "./_messages.ts";

for (const faithful of [false, true]) {
  const mode = faithful ? " (faithful)" : "";

  Deno.test(`MessageBus${mode}: a full 'wait' mailbox makes send wait, then delivers in order`, async () => {
    await using bus = new MessageBus({ faithful });
    const actor = new Gated();
    const ref = bus.spawn("slow", actor, { mailbox: { capacity: 2 } });
    assert.equal(bus.send("slow", Tick, tick(0)), undefined);
    await actor.entered;
    assert.equal(bus.send("slow", Tick, tick(1)), undefined);
    assert.equal(bus.send("slow", Tick, tick(2)), undefined);
    const waiting = bus.send("slow", Tick, tick(3));
    assert.ok(waiting instanceof Promise);
    const waiting2 = ref.send(Tick, tick(4));
    assert.ok(waiting2 instanceof Promise);
    assert.equal(ref.stats().queued, 2);
    assert.equal(ref.stats().waiting, 2);
    actor.release();
    await Promise.all([waiting, waiting2]);
    await bus.idle();
    assert.deepEqual(actor.seqs, [0, 1, 2, 3, 4]);
    assert.equal(ref.stats().dropped, 0);
    assert.equal(ref.stats().handled, 5);
  });

  Deno.test(`MessageBus${mode}: senders that do not await still keep FIFO order`, async () => {
    await using bus = new MessageBus({ faithful });
    const actor = new Gated();
    actor.hold = false;
    bus.spawn("sink", actor, { mailbox: { capacity: 4, maxWaiting: 1000 } });
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      const w = bus.send("sink", Tick, tick(i));
      if (w !== undefined) waits.push(w);
    }
    assert.ok(waits.length > 0);
    await Promise.all(waits);
    await bus.idle();
    assert.deepEqual(actor.seqs, Array.from({ length: 500 }, (_, i) => i));
  });

  Deno.test(`MessageBus${mode}: more waiting senders than maxWaiting get MailboxFullError`, async () => {
    await using bus = new MessageBus({ faithful });
    const actor = new Gated();
    bus.spawn("slow", actor, { mailbox: { capacity: 1, maxWaiting: 1 } });
    await bus.send("slow", Tick, tick(0));
    await actor.entered;
    assert.equal(bus.send("slow", Tick, tick(1)), undefined);
    const w = bus.send("slow", Tick, tick(2));
    assert.ok(w instanceof Promise);
    let caught: unknown;
    try {
      bus.send("slow", Tick, tick(3));
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof MailboxFullError);
    assert.equal(caught.code, "BUS_MAILBOX_FULL");
    assert.equal(caught.actor, "slow");
    assert.equal((caught.undelivered as Tick).seq, 3);
    actor.release();
    await w;
    await bus.idle();
    assert.deepEqual(actor.seqs, [0, 1, 2]);
  });

  Deno.test(`MessageBus${mode}: 'drop-newest' discards new messages and counts them`, async () => {
    await using bus = new MessageBus({ faithful });
    const actor = new Gated();
    const ref = bus.spawn("slow", actor, { mailbox: { capacity: 2, overflow: "drop-newest" } });
    bus.send("slow", Tick, tick(0));
    await actor.entered;
    for (let i = 1; i <= 5; i++) assert.equal(bus.send("slow", Tick, tick(i)), undefined);
    assert.equal(ref.stats().dropped, 3);
    actor.release();
    await bus.idle();
    assert.deepEqual(actor.seqs, [0, 1, 2]);
  });

  Deno.test(`MessageBus${mode}: 'drop-oldest' discards the oldest queued and counts it`, async () => {
    await using bus = new MessageBus({ faithful });
    const actor = new Gated();
    const ref = bus.spawn("slow", actor, { mailbox: { capacity: 2, overflow: "drop-oldest" } });
    bus.send("slow", Tick, tick(0));
    await actor.entered;
    for (let i = 1; i <= 5; i++) assert.equal(bus.send("slow", Tick, tick(i)), undefined);
    assert.equal(ref.stats().dropped, 3);
    actor.release();
    await bus.idle();
    assert.deepEqual(actor.seqs, [0, 4, 5]);
  });

  Deno.test(`MessageBus${mode}: 'error' throws MailboxFullError carrying the message`, async () => {
    await using bus = new MessageBus({ faithful });
    const actor = new Gated();
    const ref = bus.spawn("slow", actor, { mailbox: { capacity: 1, overflow: "error" } });
    bus.send("slow", Tick, tick(0));
    await actor.entered;
    bus.send("slow", Tick, tick(1));
    let caught: unknown;
    try {
      bus.send("slow", Tick, tick(2, "lost?"));
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof MailboxFullError);
    assert.equal(caught.code, "BUS_MAILBOX_FULL");
    assert.equal(caught.messageType, "Tick");
    assert.equal((caught.undelivered as Tick).note, "lost?");
    assert.equal(ref.stats().dropped, 0);
    actor.release();
    await bus.idle();
    assert.deepEqual(actor.seqs, [0, 1]);
  });

  Deno.test(`MessageBus${mode}: publish tries every subscriber before throwing a full mailbox`, async () => {
    await using bus = new MessageBus({ faithful });
    const strict = new Gated();
    const relaxed = new Gated();
    relaxed.hold = false;
    bus.spawn("strict", strict, { mailbox: { capacity: 1, overflow: "error" } });
    bus.spawn("relaxed", relaxed);
    bus.publish(Tick, tick(0));
    await strict.entered;
    bus.publish(Tick, tick(1));
    assert.throws(() => bus.publish(Tick, tick(2)), MailboxFullError);
    strict.release();
    await bus.idle();
    assert.deepEqual(strict.seqs, [0, 1]);
    assert.deepEqual(relaxed.seqs, [0, 1, 2]);
  });
}

Deno.test("MessageBus: invalid mailbox options are refused with BUS_INVALID_OPTION", async () => {
  await using bus = new MessageBus();
  const actor = new Gated();
  for (const mailbox of [{ capacity: 0 }, { capacity: 1.5 }, { maxWaiting: -1 }]) {
    assert.throws(
      () => bus.spawn(`bad-${JSON.stringify(mailbox)}`, actor, { mailbox }),
      (e: unknown) => e instanceof BusError && e.code === "BUS_INVALID_OPTION",
    );
  }
  assert.throws(
    () => bus.spawn("bad-policy", actor, { mailbox: { overflow: "spill" as "wait" } }),
    (e: unknown) => e instanceof BusError && e.code === "BUS_INVALID_OPTION",
  );
  assert.equal(bus.stats().actors, 0);
});

Deno.test("MessageBus: a mailbox never holds more than its capacity", async () => {
  await using bus = new MessageBus();
  const actor = new Gated();
  const ref = bus.spawn("slow", actor, { mailbox: { capacity: 3, maxWaiting: 100 } });
  bus.send("slow", Tick, tick(0));
  await actor.entered;
  const waits: Promise<void>[] = [];
  for (let i = 1; i <= 50; i++) {
    const w = bus.send("slow", Tick, tick(i));
    if (w !== undefined) waits.push(w);
    assert.ok(ref.stats().queued <= 3);
  }
  assert.equal(ref.stats().queued, 3);
  assert.equal(ref.stats().waiting, 47);
  actor.release();
  await Promise.all(waits);
  await bus.idle();
  assert.equal(actor.seqs.length, 51);
});

Deno.test("MessageBus: subscribing to a type without a handler is refused at spawn", async () => {
  await using bus = new MessageBus();
  const actor = new Gated();
  assert.throws(
    () => bus.spawn("confused", actor, { subscribe: [Tick, Ask] }),
    (e: unknown) =>
      e instanceof BusError && e.code === "BUS_INVALID_OPTION" && e.messageType === "Ask",
  );
  assert.equal(bus.stats().actors, 0);
});
