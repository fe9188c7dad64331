/**
 * BusNode within one process: two buses joined over real sockets (unix and
 * tcp): send, publish, request and its failure, readiness, closing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { Registry } from "../../src/codec/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { RuntimeError } from "../../src/runtime/runtime_error.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { silentLogger } from "../../src/transport/logger.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { Answer, Ask, gate, Tick, tick, Tock } from "../bus/_messages.ts";

const types = () => new Registry([Tick, Tock, Ask, Answer]);

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-node-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Two buses and their nodes: `a` listens on `transport`, `b` dials it. */
async function pair(
  transport: Transport,
  setup: (a: MessageBus, b: MessageBus) => void,
  optionsA: { holdInbound?: boolean } = {},
) {
  const a = new MessageBus();
  const b = new MessageBus();
  setup(a, b);
  const nodeA = await BusNode.start({
    bus: a,
    identity: "a",
    registry: types(),
    listen: [transport],
    logger: quiet,
    ...optionsA,
  });
  const nodeB = await BusNode.start({
    bus: b,
    identity: "b",
    registry: types(),
    dial: [{ identity: "a", transport: nodeA.transports[0]! }],
    logger: quiet,
  });
  return {
    a,
    b,
    nodeA,
    nodeB,
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
      await nodeB.close();
      await nodeA.close();
    },
  };
}

const quiet = {
  ...silentLogger,
  debug() {},
  child() {
    return quiet;
  },
};

for (const kind of ["unix", "tcp"] as const) {
  Deno.test(`BusNode (${kind}): messages by name cross both ways, in order`, async () => {
    await withDir(async (dir) => {
      const atA: number[] = [];
      const atB: number[] = [];
      const doneA = gate();
      const doneB = gate();
      const transport = kind === "unix"
        ? new UnixTransport({ path: `${dir}/a.sock` })
        : new TcpTransport({ port: 0 });
      await using p = await pair(transport, (a, b) => {
        a.spawn("sink-a", {
          handlers: [on(Tick, (m) => {
            atA.push(m.seq);
            if (atA.length === 500) doneA.open();
          })],
        }, { subscribe: [] });
        b.spawn("sink-b", {
          handlers: [on(Tick, (m) => {
            atB.push(m.seq);
            if (atB.length === 500) doneB.open();
          })],
        }, { subscribe: [] });
      });
      await p.nodeB.ready(["sink-a"], { timeoutMs: 10_000 });
      await p.nodeA.ready(["sink-b"], { timeoutMs: 10_000 });
      for (let i = 0; i < 500; i++) {
        await p.b.send("sink-a", Tick, tick(i, "to a"));
        await p.a.send("sink-b", Tick, tick(i, "to b"));
      }
      await doneA.promise;
      await doneB.promise;
      const expected = Array.from({ length: 500 }, (_, i) => i);
      assert.deepEqual(atA, expected);
      assert.deepEqual(atB, expected);
      const stats = p.nodeB.stats();
      assert.equal(stats.length, 1);
      assert.equal(stats[0]!.peer, "a");
      assert.equal(stats[0]!.sent, 500);
      assert.equal(stats[0]!.received, 500);
    });
  });
}

Deno.test("BusNode: publish reaches type and topic subscribers in the other process only once", async () => {
  await withDir(async (dir) => {
    const got: string[] = [];
    const all = gate();
    await using p = await pair(new UnixTransport({ path: `${dir}/a.sock` }), (a, _b) => {
      const note = (s: string) => {
        got.push(s);
        if (got.length === 2) all.open();
      };
      a.spawn("by-type", { handlers: [on(Tick, (m) => note(`type ${m.seq}`))] });
      a.spawn("by-topic", { handlers: [on(Tock, (m) => note(`topic ${m.seq}`))] }, {
        subscribe: ["ticks"],
      });
    });
    await p.nodeB.ready(["by-type", "by-topic"], { timeoutMs: 10_000 });
    await p.b.publish(Tick, tick(1));
    await p.b.publish(Tock, { seq: 2 });
    await all.promise;
    assert.deepEqual(got.sort(), ["topic 2", "type 1"]);
  });
});

Deno.test("BusNode: a request crosses and its reply comes back; a remote failure is typed", async () => {
  await withDir(async (dir) => {
    await using p = await pair(new UnixTransport({ path: `${dir}/a.sock` }), (a, _b) => {
      a.spawn("doubler", { handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n * 2 }))] });
      a.spawn("mute", { handlers: [on(Ask, () => {})] });
    });
    await p.nodeB.ready(["doubler", "mute"], { timeoutMs: 10_000 });
    const answer = await p.b.request("doubler", Ask, { n: 21 }, { reply: Answer });
    assert.equal(answer.n, 42);
    await assert.rejects(
      p.b.request("mute", Ask, { n: 1 }, { reply: Answer }),
      (e: unknown) => e instanceof BusError && e.code === "BUS_NO_REPLY",
    );
  });
});

Deno.test("BusNode: a held node delivers nothing until released, then everything in order; its own requests still get replies", async () => {
  await withDir(async (dir) => {
    const seqs: number[] = [];
    const all = gate();
    await using p = await pair(new UnixTransport({ path: `${dir}/a.sock` }), (a, b) => {
      a.spawn("sink", {
        handlers: [on(Tick, (m) => {
          seqs.push(m.seq);
          if (seqs.length === 10) all.open();
        })],
      });
      b.spawn("doubler", { handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n * 2 }))] });
    }, { holdInbound: true });
    assert.equal(p.nodeA.held, true);
    await p.nodeB.ready(["sink"], { timeoutMs: 10_000 });
    await p.nodeA.ready(["doubler"], { timeoutMs: 10_000 });
    for (let i = 0; i < 10; i++) await p.b.send("sink", Tick, tick(i));
    // The reply travels behind the ticks on the same link: when it is here, so are they.
    const answer = await p.a.request("doubler", Ask, { n: 21 }, { reply: Answer });
    assert.equal(answer.n, 42);
    await p.a.idle();
    assert.deepEqual(seqs, [], "held messages reached the actor before release");
    p.nodeA.release();
    p.nodeA.release();
    assert.equal(p.nodeA.held, false);
    await all.promise;
    assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

Deno.test("BusNode: ready names the actors still unreachable at its deadline", async () => {
  await withDir(async (dir) => {
    await using p = await pair(new UnixTransport({ path: `${dir}/a.sock` }), () => {});
    await assert.rejects(
      p.nodeB.ready(["nobody"], { timeoutMs: 50 }),
      (e: unknown) =>
        e instanceof RuntimeError && e.code === "RUNTIME_NOT_READY" && e.actors[0] === "nobody",
    );
  });
});

Deno.test("BusNode: a peer without the key is refused and ready says why", async () => {
  await withDir(async (dir) => {
    await using a = new MessageBus();
    await using b = new MessageBus();
    a.spawn("sink", { handlers: [on(Tick, () => {})] });
    await using nodeA = await BusNode.start({
      bus: a,
      identity: "a",
      registry: types(),
      listen: [new UnixTransport({ path: `${dir}/a.sock` })],
      key: "right key",
      logger: quiet,
    });
    await using nodeB = await BusNode.start({
      bus: b,
      identity: "b",
      registry: types(),
      dial: [{ identity: "a", transport: nodeA.transports[0]! }],
      key: "wrong key",
      logger: quiet,
    });
    await assert.rejects(
      nodeB.ready(["sink"], { timeoutMs: 10_000 }),
      (e: unknown) =>
        e instanceof RuntimeError && e.code === "RUNTIME_DIAL_FAILED" && e.peer === "a",
    );
    assert.equal(nodeB.routable("sink"), false);
  });
});

Deno.test("BusNode: dialing an address that answers with another identity is refused", async () => {
  await withDir(async (dir) => {
    await using a = new MessageBus();
    await using b = new MessageBus();
    await using nodeA = await BusNode.start({
      bus: a,
      identity: "a",
      registry: types(),
      listen: [new UnixTransport({ path: `${dir}/a.sock` })],
      logger: quiet,
    });
    await using nodeB = await BusNode.start({
      bus: b,
      identity: "b",
      registry: types(),
      dial: [{ identity: "execution", transport: nodeA.transports[0]! }],
      logger: quiet,
    });
    await assert.rejects(
      nodeB.ready(["anything"], { timeoutMs: 10_000 }),
      (e: unknown) =>
        e instanceof RuntimeError && e.code === "RUNTIME_DIAL_FAILED" &&
        /is 'a', expected 'execution'/.test(e.message),
    );
  });
});

Deno.test("BusNode: an actor spawned later is announced; a peer that closes is detached", async () => {
  await withDir(async (dir) => {
    await using p = await pair(new UnixTransport({ path: `${dir}/a.sock` }), () => {});
    const later = p.nodeA.ready(["late"], { timeoutMs: 10_000 });
    p.b.spawn("late", { handlers: [on(Tick, () => {})] });
    await later;
    assert.equal(p.nodeA.routable("late"), true);
    const detached = new Promise<void>((resolve) => {
      const off = p.a.onRoutesChange(() => {
        if (!p.nodeA.routable("late")) {
          off();
          resolve();
        }
      });
    });
    await p.nodeB.close();
    await detached;
    assert.throws(
      () => p.a.send("late", Tick, tick(1)),
      (e: unknown) => e instanceof BusError && e.code === "BUS_NO_ROUTE",
    );
  });
});

Deno.test("BusNode: a slow consumer in the other process slows its sender; nothing is dropped", async () => {
  await withDir(async (dir) => {
    const a = new MessageBus();
    const b = new MessageBus();
    const seen: number[] = [];
    const all = gate();
    a.spawn("slow", {
      handlers: [on(Tick, async (m) => {
        // A handler that yields to the event loop: slower than the socket.
        await new Promise((resolve) => setTimeout(resolve, 0));
        seen.push(m.seq);
        if (seen.length === 600) all.open();
      })],
    }, { mailbox: { capacity: 4 }, subscribe: [] });
    const peer = { window: 16 };
    await using nodeA = await BusNode.start({
      bus: a,
      identity: "a",
      registry: types(),
      listen: [new UnixTransport({ path: `${dir}/a.sock` })],
      logger: quiet,
      peer,
    });
    await using nodeB = await BusNode.start({
      bus: b,
      identity: "b",
      registry: types(),
      dial: [{ identity: "a", transport: nodeA.transports[0]! }],
      logger: quiet,
      peer,
    });
    await nodeB.ready(["slow"], { timeoutMs: 10_000 });
    let waited = 0;
    for (let i = 0; i < 600; i++) {
      const r = b.send("slow", Tick, tick(i));
      if (r !== undefined) {
        waited++;
        await r;
      }
    }
    await all.promise;
    assert.deepEqual(seen, Array.from({ length: 600 }, (_, i) => i));
    assert.ok(waited > 0, "the sender had to wait for credit");
    const [toA] = nodeB.stats();
    assert.equal(toA!.sent, 600);
    assert.equal(toA!.dropped, 0);
    assert.equal(nodeA.stats()[0]!.dropped, 0);
    await b.close();
    await a.close();
  });
});
