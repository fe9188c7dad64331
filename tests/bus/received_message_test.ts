/**
 * What a handler receives behaves the same wherever it came from: the same
 * handler code (spread, `Object.keys`, JSON, `structuredClone`, keeping the
 * message after the handler returns) observes the same results under plain
 * in-process delivery, faithful in-process delivery, and delivery across a
 * real Unix-socket link between two buses. Zero-copy views are opt-in.
 *
 * @module
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { defineMessage, field, type MessageOf, Registry } from "../../src/codec/mod.ts";
import { MessageBus, type SpawnOptions } from "../../src/bus/message_bus.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { NULL_LOGGER } from "../../src/logger.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { gate } from "./_messages.ts";

/** Every kind of value a handler can see, variable fields between fixed ones. */
const Sample = defineMessage({
  id: 4101,
  name: "Sample",
  topic: "samples",
  fields: {
    seq: field.u32(),
    note: field.string(),
    amount: field.u64(),
    id: field.bytes(4),
    payload: field.varBytes(),
    flag: field.bool(),
    price: field.f64(),
    big: field.u256(),
  },
});
type Sample = MessageOf<typeof Sample>;

/** Asks for a Sample back. */
const Fetch = defineMessage({ id: 4102, name: "Fetch", fields: { seq: field.u32() } });

/** Messages observed per run. */
const COUNT = 40;
/** Messages sent after those were handled, FILLER bytes each: ~1 MiB, several link read slabs. */
const AFTER = 250;
const FILLER = 4096;

/** A Sample built field by field in declaration order, as a user would. */
function sample(seq: number, payload = 24): Sample {
  return {
    seq,
    note: `sample ${seq} ✓`,
    amount: BigInt(seq) * 1_000_000_007n,
    id: Uint8Array.of(seq & 0xff, 1, 2, 3),
    payload: new Uint8Array(payload).fill(seq & 0xff),
    flag: seq % 2 === 0,
    price: seq / 3,
    big: (1n << 200n) + BigInt(seq),
  };
}

/** A value as data: Uint8Arrays as byte lists, bigints tagged, objects as ordered entries. */
function snapshot(v: unknown): unknown {
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (typeof v === "object" && v !== null) {
    return Object.entries(v).map(([k, x]) => [k, snapshot(x)]);
  }
  return v;
}

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) {
    return Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return v;
}

/** What the handler saw, through every way a user looks at an object. */
interface Observation {
  readonly keys: string[];
  readonly spread: unknown;
  readonly json: string;
  readonly jsonWithReplacer: string;
  readonly clone: unknown;
  readonly fields: unknown;
}

/** The handler code every mode runs. */
function observe(m: Readonly<Sample>): Observation {
  let json: string;
  try {
    json = JSON.stringify(m);
  } catch (e) {
    json = `throws ${(e as Error).name}`;
  }
  let clone: unknown;
  try {
    clone = snapshot(structuredClone(m));
  } catch (e) {
    clone = `throws ${(e as Error).name}`;
  }
  return {
    keys: Object.keys(m),
    spread: snapshot({ ...m }),
    json,
    jsonWithReplacer: JSON.stringify(m, replacer),
    clone,
    fields: byName(m),
  };
}

/** Fields read by name: what works on a view as well as on a plain message. */
function byName(m: Readonly<Sample>): unknown {
  return snapshot([m.seq, m.note, m.amount, m.id, m.payload, m.flag, m.price, m.big]);
}

/** What one run saw: per message, in handling order, then what was kept. */
interface RunResult {
  readonly seen: Observation[];
  readonly retained: Observation[];
  readonly reply: Observation;
  readonly views: boolean[];
}

/**
 * Spawns the recorder (and a replier) on `receiver`, then `sender` sends half
 * the samples by name and publishes the other half, and requests one back.
 */
async function exercise(
  sender: MessageBus,
  receiver: MessageBus,
  ready: () => Promise<void>,
  spawn: SpawnOptions = {},
): Promise<RunResult> {
  const seen: Observation[] = [];
  const kept: Readonly<Sample>[] = [];
  const all = gate();
  receiver.spawn("recorder", {
    handlers: [on(Sample, (m) => {
      seen.push(observe(m));
      kept.push(m);
      if (kept.length === COUNT) all.open();
    })],
  }, spawn);
  receiver.spawn("replier", {
    handlers: [on(Fetch, (q, ctx) => ctx.reply(Sample, sample(q.seq)))],
  }, { subscribe: [] });
  await ready();
  for (let i = 0; i < COUNT; i++) {
    if (i % 2 === 0) await sender.send("recorder", Sample, sample(i));
    else await sender.publish(Sample, sample(i));
  }
  await all.promise;
  const reply = await sender.request("replier", Fetch, { seq: 7 }, { reply: Sample });
  // More traffic after the handlers returned: whatever buffers carried the
  // kept messages have moved on by now.
  const more = gate();
  let extra = 0;
  receiver.spawn("after", {
    handlers: [on(Sample, () => void (++extra === AFTER && more.open()))],
  }, { subscribe: [] });
  await ready();
  for (let i = 0; i < AFTER; i++) await sender.send("after", Sample, sample(COUNT + i, FILLER));
  await more.promise;
  return {
    seen,
    retained: kept.map(observe),
    reply: observe(reply),
    views: kept.map((m) => Sample.isView(m)),
  };
}

async function inProcess(faithful: boolean, spawn: SpawnOptions = {}): Promise<RunResult> {
  await using bus = new MessageBus({ faithful });
  return await exercise(bus, bus, () => Promise.resolve(), spawn);
}

/** Two buses in this process, joined by BusNodes over a Unix socket in a temp dir. */
async function acrossLink(spawn: SpawnOptions = {}): Promise<RunResult> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-received-" });
  try {
    await using receiver = new MessageBus();
    await using sender = new MessageBus();
    const registry = () => new Registry([Sample, Fetch]);
    await using nodeR = await BusNode.start({
      bus: receiver,
      identity: "receiver",
      registry: registry(),
      listen: [new UnixTransport({ path: `${dir}/receiver.sock` })],
      logger: NULL_LOGGER,
    });
    await using nodeS = await BusNode.start({
      bus: sender,
      identity: "sender",
      registry: registry(),
      dial: [{ identity: "receiver", transport: nodeR.transports[0]! }],
      logger: NULL_LOGGER,
    });
    const ready = () =>
      nodeS.ready(["recorder", "replier", ...(receiver.ref("after") ? ["after"] : [])], {
        timeoutMs: 10_000,
      });
    const result = await exercise(sender, receiver, ready, spawn);
    assert.equal(nodeS.stats()[0]!.address, `${dir}/receiver.sock`, "the run crossed the socket");
    await sender.close();
    await receiver.close();
    return result;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a handler observes the same message in process, in faithful mode and across a link", async () => {
  const plain = await inProcess(false);
  const faithful = await inProcess(true);
  const linked = await acrossLink();

  // What a plain object shows, as the sender built it.
  const first = plain.seen[0]!;
  assert.deepEqual(first.keys, ["seq", "note", "amount", "id", "payload", "flag", "price", "big"]);
  assert.equal(first.json, "throws TypeError", "JSON of a bigint field throws, as for any object");
  assert.deepEqual(first.spread, snapshot(sample(0)));
  assert.deepEqual(first.clone, snapshot(sample(0)));
  assert.deepEqual(JSON.parse(first.jsonWithReplacer).amount, "0");
  assert.equal(plain.seen.length, COUNT);

  for (const [mode, run] of [["faithful", faithful], ["link", linked]] as const) {
    assert.deepEqual(run.views, plain.views, `${mode}: handlers get plain messages`);
    assert.deepEqual(run.seen[0], plain.seen[0], `${mode}: first message`);
    assert.deepEqual(run.seen, plain.seen, `${mode}: every message, as handled`);
    assert.deepEqual(run.retained, plain.retained, `${mode}: kept after the handler returned`);
    assert.deepEqual(run.reply, plain.reply, `${mode}: a reply`);
  }
  // Kept messages still read as they did while handled.
  assert.deepEqual(linked.retained, linked.seen);
});

Deno.test("an actor that asks for views gets the link's zero-copy views, and reads them by name", async () => {
  const spawn: SpawnOptions = { views: [Sample] };
  const plain = await inProcess(false, spawn);
  const faithful = await inProcess(true, spawn);
  const linked = await acrossLink(spawn);
  assert.ok(plain.views.every((v) => !v), "in process, the object sent");
  assert.ok(faithful.views.every((v) => v), "faithful: views, as a link would give");
  assert.ok(linked.views.every((v) => v), "across a link: the link's views");
  for (const run of [faithful, linked]) {
    assert.deepEqual(run.seen.map((o) => o.fields), plain.seen.map((o) => o.fields));
    assert.deepEqual(run.retained.map((o) => o.fields), plain.seen.map((o) => o.fields));
    // JSON goes through toJSON: the same throw, the same replaced text.
    assert.deepEqual(run.seen.map((o) => o.json), plain.seen.map((o) => o.json));
    assert.deepEqual(
      run.seen.map((o) => o.jsonWithReplacer),
      plain.seen.map((o) => o.jsonWithReplacer),
    );
    // What views cannot do, and the reason plain messages are the default.
    assert.deepEqual(run.seen[0]!.keys, []);
    // A requester always gets a plain reply.
    assert.deepEqual(run.reply, plain.reply);
  }
});

Deno.test("views: a type the actor does not handle is refused", async () => {
  await using bus = new MessageBus();
  assert.throws(
    () => bus.spawn("x", { handlers: [on(Fetch, () => {})] }, { views: [Sample] }),
    (e: unknown) => e instanceof BusError && e.code === "BUS_INVALID_OPTION",
  );
});

Deno.test("a view an actor forwards reaches plain receivers as a plain message", async () => {
  await using bus = new MessageBus({ faithful: true });
  const got: boolean[] = [];
  const done = gate();
  bus.spawn("forwarder", {
    handlers: [on(Sample, (m, ctx) => ctx.send("plain", Sample, m))],
  }, { views: true });
  bus.spawn("plain", {
    handlers: [on(Sample, (m) => {
      got.push(Sample.isView(m), Object.keys(m).length === 8);
      done.open();
    })],
  }, { subscribe: [] });
  await bus.send("forwarder", Sample, sample(1));
  await done.promise;
  assert.deepEqual(got, [false, true]);
});
