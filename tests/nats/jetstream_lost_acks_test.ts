/**
 * JetStream acknowledgements lost on the way (as with a server SIGKILLed
 * while they were in flight), over a real nats-server: the receiving
 * group's consumer drops the acknowledgements of its first messages. At
 * the end of the run the group waits, its consumer still running, until
 * the server hands those messages out again (after the consumer's
 * acknowledgement deadline); they are skipped as handled and acknowledged,
 * so the stream is empty when the run ends (nothing is left for the
 * group's next run to handle a second time).
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import type { NatsJetStreamWire } from "../../src/bus/nats_peer.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { defineMessage, field, Registry } from "../../src/codec/mod.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { NatsTransport } from "../../src/transport/nats.ts";
import type { NatsJetStream } from "../../src/transport/nats_jetstream.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsServer } from "./_nats_server.ts";

const Booked = defineMessage({ id: 711, name: "Booked", fields: { n: field.u32() } });

const COUNT = 200;
/** The last first deliveries, whose acknowledgements never reach the server. */
const DROPPED = 20;
/** The consumer's acknowledgement deadline (the default, 10 s, would make the test slow). */
const ACK_WAIT_MS = 1000;

/**
 * `js`, with the acknowledgements of the last `DROPPED` of `COUNT` first
 * deliveries dropped: the server hands them out again only after the
 * acknowledgement deadline, after the run's last message was handled.
 */
function droppingAcks(js: NatsJetStream, dropped: { n: number }): NatsJetStreamWire {
  let first = 0;
  return {
    publish: (subject, data, msgId) => js.publish(subject, data, msgId),
    consume: (filter, durable, handler, options) =>
      js.consume(filter, durable, (m) => {
        const drop = !m.redelivered && ++first > COUNT - DROPPED;
        if (drop) dropped.n++;
        handler({
          data: m.data,
          subject: m.subject,
          msgId: m.msgId,
          redelivered: m.redelivered,
          ack: drop ? () => {} : () => m.ack(),
        });
      }, { ...options, ackWaitMs: ACK_WAIT_MS }),
    backlog: (durable) => js.backlog(durable),
  };
}

Deno.test({
  name: `NATS JetStream: acknowledgements lost on the way are made good before the run ends${
    NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`
  }`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mycelium_js_lost_acks_" });
    const server = await startNatsServer({ jetstreamDir: dir });
    const prefix = `lost${Math.floor(Math.random() * 1e9)}`;
    const stream = `LOST_${prefix}`;
    const wires: NatsTransport[] = [];
    const sides: { bus: MessageBus; node: BusNode }[] = [];
    const handled: number[] = [];
    const all = Promise.withResolvers<void>();
    const dropped = { n: 0 };
    const stop = async (list: typeof sides) => {
      for (const s of list) {
        await s.bus.close({ deadlineMs: 0 });
        await s.node.close({ drainMs: 0 });
      }
    };
    try {
      for (const [identity, peer] of [["a", "b"], ["b", "a"]] as const) {
        const wire = await NatsTransport.connect({ servers: [server.url] });
        wires.push(wire);
        const js = await wire.jetstream({ stream, subjects: [`${prefix}.j.>`] });
        const bus = new MessageBus();
        if (identity === "b") {
          bus.spawn("ledger", {
            handlers: [on(Booked, ({ n }) => {
              handled.push(n);
              if (handled.length === COUNT) all.resolve();
            })],
          });
        }
        const node = await BusNode.start({
          bus,
          identity,
          registry: new Registry([Booked]),
          nats: {
            wire,
            peers: [peer],
            groups: ["a", "b"],
            subjectPrefix: prefix,
            jetstream: {
              wire: identity === "b" ? droppingAcks(js, dropped) : js,
              groups: ["b"],
            },
          },
        });
        sides.push({ bus, node });
      }
      const a = sides[0]!;
      await a.node.ready(["ledger"], { timeoutMs: 10_000 });
      for (let n = 1; n <= COUNT; n++) await a.bus.send("ledger", Booked, { n });
      await all.promise;
      assert.equal(dropped.n, DROPPED);
      // The end of a run: every group tallies (the JetStream group waits for its consumer).
      const tallied = await Promise.all(sides.map((s) => s.node.settled(5000)));
      assert.deepEqual(tallied, [true, true]);
      await stop(sides.splice(0).reverse());
      // Handled once each, redeliveries included.
      assert.deepEqual(handled, Array.from({ length: COUNT }, (_, i) => i + 1));
      const state = (await server.streams()).get(stream);
      assert.ok(state !== undefined, `no stream ${stream}`);
      assert.equal(state.lastSeq, COUNT);
      assert.equal(state.messages, 0, "messages left in the stream for the group's next run");
      assert.deepEqual(state.ackPending, { b: 0 });
    } finally {
      await stop(sides);
      for (const w of wires) await w.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
