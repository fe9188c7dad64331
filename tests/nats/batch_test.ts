/**
 * Batching over a real nats-server: what one task publishes to one subject
 * travels as a few NATS messages, arrives whole and in order, and a NATS
 * message that never arrives is counted as lost frame by frame.
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import type { NatsWire } from "../../src/bus/nats_peer.ts";
import { defineMessage, field, Registry } from "../../src/codec/mod.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { NatsTransport } from "../../src/transport/nats.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsServer } from "./_nats_server.ts";

const Tick = defineMessage({ id: 611, name: "Tick", fields: { n: field.u32() } });
const COUNT = 2000;
/** Envelope (12 bytes) and frame (12-byte header, 4-byte body) of one Tick. */
const TICK_BYTES = 28;

const why = NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`;

/**
 * Group `a` publishes COUNT ticks in one task to group `b`, whose wire
 * passes a's publishes through `filter` (false: the NATS message is lost).
 */
async function run(filter: (subject: string, data: Uint8Array) => boolean) {
  const server = await startNatsServer();
  const prefix = `batch${Math.floor(Math.random() * 1e9)}`;
  const wires: NatsTransport[] = [];
  const buses: MessageBus[] = [];
  const nodes: BusNode[] = [];
  const seen: number[] = [];
  const last = Promise.withResolvers<void>();
  try {
    for (const [identity, peer] of [["a", "b"], ["b", "a"]] as const) {
      const nats = await NatsTransport.connect({ servers: [server.url] });
      wires.push(nats);
      const wire: NatsWire = identity === "b" ? nats : {
        publish: (subject, data, reply) => {
          if (filter(subject, data)) nats.publish(subject, data, reply);
        },
        subscribe: (subject, handler) => nats.subscribe(subject, handler),
        flush: () => nats.flush(),
      };
      const bus = new MessageBus();
      buses.push(bus);
      if (identity === "b") {
        bus.spawn("sink", {
          handlers: [on(Tick, (m) => {
            seen.push(m.n);
            if (m.n === COUNT - 1) last.resolve();
          })],
        }, { subscribe: [Tick] });
      }
      nodes.push(
        await BusNode.start({
          bus,
          identity,
          registry: new Registry([Tick]),
          nats: { wire, peers: [peer], groups: ["a", "b"], subjectPrefix: prefix },
        }),
      );
    }
    await nodes[0]!.ready(["sink"], { timeoutMs: 10_000 });
    for (let n = 0; n < COUNT; n++) {
      const r = buses[0]!.publish(Tick, { n });
      if (r !== undefined) await r;
    }
    await last.promise;
    return { seen, lost: nodes[1]!.stats().reduce((s, r) => s + (r.lost ?? 0), 0) };
  } finally {
    for (const b of buses) await b.close({ deadlineMs: 0 });
    for (const n of nodes) await n.close({ drainMs: 0 });
    for (const w of wires) await w.close();
    await server.stop();
  }
}

Deno.test({
  name: `NATS: one task's publishes travel as a few NATS messages, whole and in order${why}`,
  ignore: !NATS_SERVER_AVAILABLE,
  async fn() {
    const sizes: number[] = [];
    const { seen, lost } = await run((subject, data) => {
      if (subject.endsWith(".Tick")) sizes.push(data.length);
      return true;
    });
    assert.deepEqual(seen, Array.from({ length: COUNT }, (_, i) => i));
    assert.equal(lost, 0);
    assert.equal(sizes.reduce((a, b) => a + b, 0), COUNT * TICK_BYTES);
    // 56000 bytes; a batch closes at 16 KiB: 4 NATS messages (one more if a slab ends).
    assert.ok(sizes.length >= 4 && sizes.length <= 5, `${sizes.length} NATS messages`);
    for (const s of sizes) assert.ok(s < 16 * 1024 + TICK_BYTES, `a ${s}-byte batch`);
  },
});

Deno.test({
  name: `NATS: a lost batch is counted frame by frame; the rest arrives in order${why}`,
  ignore: !NATS_SERVER_AVAILABLE,
  async fn() {
    let batches = 0;
    let dropped = 0;
    const { seen, lost } = await run((subject, data) => {
      if (!subject.endsWith(".Tick") || ++batches !== 2) return true;
      dropped = data.length / TICK_BYTES;
      return false;
    });
    assert.ok(dropped > 1, `the dropped batch held ${dropped} frames`);
    assert.equal(lost, dropped);
    assert.equal(seen.length, COUNT - dropped);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, "in order");
  },
});
