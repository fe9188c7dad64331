/**
 * Faithful mode catches what only a split deployment would show.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Actor, on } from "../../src/actor/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { V2Swap } from "../../examples/trading/messages.ts";
import { type Tick, Tick as TickType, tick } from "./_messages.ts";

function swap(ts: bigint): V2Swap {
  return {
    poolAddress: new Uint8Array(20).fill(1),
    token0: new Uint8Array(20).fill(2),
    token1: new Uint8Array(20).fill(3),
    amountIn: new Uint8Array(32).fill(4),
    amountOut: new Uint8Array(32).fill(5),
    timestampNs: ts,
  };
}

/** First subscriber mutates the shared message (bypassing readonly); second records. */
function mutationPair(seen: number[]): [Actor, Actor] {
  const mutator: Actor = {
    handlers: [on(V2Swap, (m) => void ((m as V2Swap).amountIn[0] = 99))],
  };
  const reader: Actor = { handlers: [on(V2Swap, (m) => void seen.push(m.amountIn[0]!))] };
  return [mutator, reader];
}

Deno.test("MessageBus: without faithful mode, a mutation leaks to other subscribers", async () => {
  await using bus = new MessageBus();
  const seen: number[] = [];
  const [mutator, reader] = mutationPair(seen);
  bus.spawn("mutator", mutator);
  bus.spawn("reader", reader);
  await bus.publish(V2Swap, swap(1n));
  await bus.idle();
  assert.deepEqual(seen, [99]);
});

Deno.test("MessageBus (faithful): each subscriber gets its own copy, so mutations stay local", async () => {
  await using bus = new MessageBus({ faithful: true });
  const seen: number[] = [];
  const [mutator, reader] = mutationPair(seen);
  bus.spawn("mutator", mutator);
  bus.spawn("reader", reader);
  const sent = swap(1n);
  await bus.publish(V2Swap, sent);
  await bus.idle();
  assert.deepEqual(seen, [4]);
  assert.equal(sent.amountIn[0], 4, "the sender's object is untouched");
});

Deno.test("MessageBus (faithful): a message the codec cannot carry is refused at send", async () => {
  await using bus = new MessageBus({ faithful: true });
  const seen: unknown[] = [];
  bus.spawn("sink", { handlers: [on(V2Swap, (m) => void seen.push(m))] });
  const bad = { ...swap(1n), poolAddress: new Uint8Array(19) }; // 19 bytes where 20 are needed
  let caught: unknown;
  try {
    bus.send("sink", V2Swap, bad);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof BusError);
  assert.equal(caught.code, "BUS_NOT_SERIALIZABLE");
  assert.equal(caught.messageType, "V2Swap");
  assert.equal((caught.cause as { code?: string }).code, "CODEC_INVALID_VALUE");
  assert.throws(
    () => bus.publish(V2Swap, bad),
    (e: unknown) => e instanceof BusError && e.code === "BUS_NOT_SERIALIZABLE",
  );
  await bus.idle();
  assert.equal(seen.length, 0);
});

Deno.test("MessageBus: the same bad message passes unnoticed without faithful mode", async () => {
  await using bus = new MessageBus();
  const seen: unknown[] = [];
  bus.spawn("sink", { handlers: [on(V2Swap, (m) => void seen.push(m))] });
  await bus.send("sink", V2Swap, { ...swap(1n), poolAddress: new Uint8Array(19) });
  await bus.idle();
  assert.equal(seen.length, 1);
});

Deno.test("MessageBus (faithful): properties outside the schema do not survive", async () => {
  await using bus = new MessageBus({ faithful: true });
  const seen: Readonly<Tick>[] = [];
  bus.spawn("sink", { handlers: [on(TickType, (m) => void seen.push(m))] });
  const sent = Object.assign(tick(3, "x"), { sneaky: "side channel" });
  await bus.send("sink", TickType, sent);
  await bus.idle();
  assert.deepEqual(seen[0], tick(3, "x"));
  assert.equal("sneaky" in seen[0]!, false);
});

Deno.test("MessageBus (faithful): values round-trip exactly, strings and u64 included", async () => {
  await using bus = new MessageBus({ faithful: true });
  const seen: Readonly<Tick>[] = [];
  bus.spawn("sink", { handlers: [on(TickType, (m) => void seen.push(m))] });
  const sent = { seq: 0xffffffff, note: "ünïcødé ✓", big: (1n << 64n) - 1n };
  await bus.send("sink", TickType, sent);
  await bus.idle();
  assert.deepEqual(seen[0], sent);
  assert.notEqual(seen[0], sent);
});
