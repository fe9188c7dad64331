/**
 * Two buses joined through a 3-node NATS cluster, each on its own server;
 * the consumer's server is killed mid-stream. The consumer's client fails
 * over to another server, the stream goes on, and core NATS's losses are
 * counted exactly: what arrived plus what is reported lost is what was sent,
 * in order, never a silent gap.
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { defineMessage, field, Registry } from "../../src/codec/mod.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { NatsTransport } from "../../src/transport/nats.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsCluster } from "./_nats_server.ts";

const Num = defineMessage({ id: 501, name: "Num", fields: { n: field.u32() } });
const Tick = defineMessage({ id: 502, name: "Tick", topic: "ticks", fields: { n: field.u32() } });

Deno.test({
  name: `NATS failover: a killed server costs only counted messages; order holds${
    NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`
  }`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const cluster = await startNatsCluster(3);
    const prefix = `failover${Math.floor(Math.random() * 1e9)}`;
    const natsA = await NatsTransport.connect({
      servers: [cluster.urls[0]!],
      reconnectWaitMs: 50,
    });
    const natsB = await NatsTransport.connect({
      servers: [cluster.urls[1]!],
      reconnectWaitMs: 50,
    });
    const busA = new MessageBus();
    const busB = new MessageBus();
    let got = 0, ticks = 0, outOfOrder = 0, last = 0, lastTick = 0;
    busB.spawn("sink", {
      handlers: [
        on(Num, ({ n }) => {
          if (n <= last) outOfOrder++;
          last = n;
          got++;
        }),
        on(Tick, ({ n }) => {
          if (n <= lastTick) outOfOrder++;
          lastTick = n;
          ticks++;
        }),
      ],
    });
    const node = (bus: MessageBus, identity: string, peer: string, wire: NatsTransport) =>
      BusNode.start({
        bus,
        identity,
        registry: new Registry([Num, Tick]),
        nats: {
          wire,
          peers: [peer],
          subjectPrefix: prefix,
          counters: () => wire.stats(),
          events: (l) => wire.onEvent(l),
        },
      });
    const nodeA = await node(busA, "a", "b", natsA);
    const nodeB = await node(busB, "b", "a", natsB);
    try {
      await nodeA.ready(["sink"], { timeoutMs: 10_000 });
      const reconnected = new Promise<void>((resolve) => {
        const off = natsB.onEvent((e) => {
          if (e.type === "reconnect") {
            off();
            resolve();
          }
        });
      });
      const N = 20_000;
      for (let n = 1; n <= N; n++) {
        await busA.send("sink", Num, { n });
        await busA.publish(Tick, { n });
        if (n === N / 4) await cluster.servers[1]!.stop("SIGKILL");
        // Let the client write and the servers route, as a live producer would.
        if (n % 200 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      await reconnected;
      // Both sides announce their last numbers: the tail lost counts too.
      const [settledA, settledB] = await Promise.all([
        nodeA.settled(10_000),
        nodeB.settled(10_000),
      ]);
      assert.ok(settledA && settledB, "both sides heard each other's last numbers");
      await busB.idle();
      const row = nodeB.stats().find((l) => l.peer === "nats")!;
      assert.ok(row.reconnects >= 1, JSON.stringify(row));
      assert.equal(outOfOrder, 0);
      // Nothing silent: each message arrived or is counted lost.
      assert.equal(got + ticks + (row.lost ?? 0), 2 * N, JSON.stringify({ got, ticks, row }));
      assert.equal(row.dropped, row.lost, "losses are in the report's dropped count");
    } finally {
      await busA.close();
      await busB.close();
      await nodeA.close({ drainMs: 0 });
      await nodeB.close({ drainMs: 0 });
      await natsA.close();
      await natsB.close();
      await cluster.stop();
    }
  },
});
