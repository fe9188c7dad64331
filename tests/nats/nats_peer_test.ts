/**
 * Two buses joined through one real nats-server: schema mismatches are
 * refused with the links' typed error, requests get replies or time out with
 * a typed error, and a group that leaves is detached (sends to it fail with
 * BUS_NO_ROUTE instead of vanishing).
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { defineMessage, field, Registry } from "../../src/codec/mod.ts";
import type { MessageType } from "../../src/codec/mod.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { RuntimeError } from "../../src/runtime/runtime_error.ts";
import { NatsTransport } from "../../src/transport/nats.ts";
import { isTransportError } from "../../src/transport/transport_error.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsServer } from "./_nats_server.ts";

const Ask = defineMessage({ id: 601, name: "Ask", fields: { n: field.u32() } });
const Answer = defineMessage({ id: 602, name: "Answer", fields: { square: field.u64() } });
const AskOther = defineMessage({ id: 601, name: "Ask", fields: { n: field.u64() } });

const why = NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`;

async function pair(
  f: (
    a: { bus: MessageBus; node: BusNode },
    b: { bus: MessageBus; node: BusNode },
  ) => Promise<void>,
  typesB: MessageType[] = [Ask, Answer],
  spawnB: (bus: MessageBus) => void = () => {},
): Promise<void> {
  const server = await startNatsServer();
  const prefix = `peer${Math.floor(Math.random() * 1e9)}`;
  const wires: NatsTransport[] = [];
  const sides: { bus: MessageBus; node: BusNode }[] = [];
  try {
    for (
      const [identity, peer, types] of [["a", "b", [Ask, Answer]], ["b", "a", typesB]] as const
    ) {
      const wire = await NatsTransport.connect({ servers: [server.url] });
      wires.push(wire);
      const bus = new MessageBus();
      if (identity === "b") spawnB(bus);
      const node = await BusNode.start({
        bus,
        identity,
        registry: new Registry(types),
        nats: { wire, peers: [peer], groups: ["a", "b"], subjectPrefix: prefix },
      });
      sides.push({ bus, node });
    }
    await f(sides[0]!, sides[1]!);
  } finally {
    for (const s of sides) {
      await s.bus.close({ deadlineMs: 0 });
      await s.node.close({ drainMs: 0 });
    }
    for (const w of wires) await w.close();
    await server.stop();
  }
}

Deno.test({
  name: `NATS: a group whose message types differ is refused with TRANSPORT_SCHEMA_MISMATCH${why}`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: () =>
    pair(
      async (a) => {
        const e = await a.node.ready(["asker"], { timeoutMs: 10_000 }).then(
          () => assert.fail("ready resolved"),
          (e) => e,
        );
        assert.ok(e instanceof RuntimeError && e.code === "RUNTIME_DIAL_FAILED", String(e));
        assert.ok(isTransportError(e.cause, "TRANSPORT_SCHEMA_MISMATCH"), String(e.cause));
        assert.match(e.message, /message type 'Ask' differs/);
      },
      [AskOther, Answer],
      (bus) => bus.spawn("asker", { handlers: [on(AskOther, () => {})] }),
    ),
});

Deno.test({
  name: `NATS: a request gets its reply, a remote failure is typed, a slow one times out${why}`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const gate = Promise.withResolvers<void>();
    await pair(
      async (a) => {
        await a.node.ready(["squarer", "silent", "slow"], { timeoutMs: 10_000 });
        const r = await a.bus.request("squarer", Ask, { n: 12 }, {
          reply: Answer,
          timeoutMs: 5000,
        });
        assert.equal(r.square, 144n);
        // The other process's bus fails the request; the failure crosses with its code.
        await assert.rejects(
          a.bus.request("silent", Ask, { n: 1 }, { reply: Answer, timeoutMs: 5000 }),
          (e) => e instanceof BusError && e.code === "BUS_NO_REPLY",
        );
        await assert.rejects(
          a.bus.request("slow", Ask, { n: 1 }, { reply: Answer, timeoutMs: 200 }),
          (e) => e instanceof BusError && e.code === "BUS_REQUEST_TIMEOUT",
        );
        gate.resolve();
      },
      undefined,
      (bus) => {
        bus.spawn("squarer", {
          handlers: [on(Ask, ({ n }, ctx) => ctx.reply(Answer, { square: BigInt(n) * BigInt(n) }))],
        });
        bus.spawn("silent", { handlers: [on(Ask, () => {})] });
        bus.spawn("slow", {
          handlers: [on(Ask, async (_m, ctx) => {
            await gate.promise;
            ctx.reply(Answer, { square: 0n });
          })],
        });
      },
    );
  },
});

Deno.test({
  name:
    `NATS: a group that closes is detached; sending to its actors fails with BUS_NO_ROUTE${why}`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: () =>
    pair(
      async (a, b) => {
        await a.node.ready(["squarer"], { timeoutMs: 10_000 });
        const gone = new Promise<void>((resolve) => {
          const off = a.bus.onRoutesChange(() => {
            if (!a.node.routable("squarer")) {
              off();
              resolve();
            }
          });
        });
        // The node closes while its bus still hosts the actor: only its goodbye tells `a`.
        await b.node.close({ drainMs: 0 });
        await gone;
        assert.throws(
          () => a.bus.send("squarer", Ask, { n: 1 }),
          (e) => e instanceof BusError && e.code === "BUS_NO_ROUTE",
        );
      },
      undefined,
      (bus) => {
        bus.spawn("squarer", {
          handlers: [on(Ask, ({ n }, ctx) => ctx.reply(Answer, { square: BigInt(n) * BigInt(n) }))],
        });
      },
    ),
});
