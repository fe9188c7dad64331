/**
 * What a linked process said of its shutdown drain holds for that process
 * only: once its link closes, a new instance under the same identity is
 * waited for (or not) on what it says itself. Nodes in this process, linked
 * over Unix sockets.
 *
 * @module
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { Registry } from "../../src/codec/mod.ts";
import { DRAIN_STATUS } from "../../src/bus/link_peer.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { silentLogger } from "../../src/transport/logger.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { Answer, Ask, gate, Tick, tick, Tock } from "../bus/_messages.ts";

const quiet = {
  ...silentLogger,
  debug() {},
  child() {
    return quiet;
  },
};

const FIXTURE = new URL("./fixtures/drain_peer.ts", import.meta.url).pathname;

const registry = () => new Registry([Tick, Tock, Ask, Answer]);

/** A logger that calls `seen` with each debug entry (the drain's frames and rounds). */
function watching(seen: (message: string, fields: Record<string, unknown>) => void) {
  const logger = {
    ...quiet,
    debug(message: string, fields?: Record<string, unknown>) {
      seen(message, fields ?? {});
    },
    child() {
      return logger;
    },
  };
  return logger;
}

/** `b`: a bus with a counting `sink`, its node listening on `path`. */
async function receiver(path: string, seen: Parameters<typeof watching>[0]) {
  const bus = new MessageBus({ logger: quiet });
  const counts = { handled: 0, ended: false };
  bus.spawn("sink", {
    handlers: [on(Tick, (m) => {
      counts.handled++;
      if (m.note === "end") counts.ended = true;
    })],
  });
  const node = await BusNode.start({
    bus,
    identity: "b",
    registry: registry(),
    listen: [new UnixTransport({ path })],
    logger: watching(seen),
  });
  return { bus, node, counts };
}

/** An instance of `a` dialing `path`, once it reaches `sink`. */
async function dialer(path: string, bus = new MessageBus({ logger: quiet })) {
  const node = await BusNode.start({
    bus,
    identity: "a",
    registry: registry(),
    dial: [{ identity: "b", transport: new UnixTransport({ path }) }],
    logger: quiet,
  });
  await node.ready(["sink"], { timeoutMs: 10_000 });
  return { bus, node };
}

/** Resolves with the fields of the first debug entry `match` accepts. */
function waiter() {
  const waits: {
    match: (m: string, f: Record<string, unknown>) => boolean;
    open: (f: Record<string, unknown>) => void;
  }[] = [];
  return {
    seen(message: string, fields: Record<string, unknown>) {
      for (const w of [...waits]) {
        if (!w.match(message, fields)) continue;
        waits.splice(waits.indexOf(w), 1);
        w.open(fields);
      }
    },
    next(match: (m: string, f: Record<string, unknown>) => boolean) {
      const g = gate<Record<string, unknown>>();
      waits.push({ match, open: g.open });
      return g.promise;
    },
  };
}

Deno.test("drain rounds: a peer that finished its drain and restarted is waited for at the next shutdown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-drain-" });
  const path = `${dir}/b.sock`;
  const w = waiter();
  const b = await receiver(path, w.seen);
  const release = gate();
  let a2: Awaited<ReturnType<typeof dialer>> | undefined;
  try {
    // `a`'s first instance stops alone (b keeps running): it tells b it finished, then leaves.
    const finished = w.next((m, f) =>
      m === "drain frame" && f.peer === "a" && f.status === DRAIN_STATUS.finished
    );
    const a1 = await dialer(path);
    const r1 = await a1.bus.close({ deadlineMs: 5_000 });
    assert.equal(r1.drained, true);
    await finished;
    await a1.node.close({ drainMs: 1_000 });

    // Its next instance sends until its signal, then (held by the test) its last messages.
    a2 = await dialer(path);
    let sent = 0;
    a2.bus.spawn("producer", {
      handlers: [],
      async start(ctx) {
        while (!ctx.signal.aborted) {
          await ctx.send("sink", Tick, tick(sent++, "a"));
          if (sent % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        }
        await release.promise;
        for (let i = 0; i < 100; i++) await ctx.send("sink", Tick, tick(sent++, "a"));
        await ctx.send("sink", Tick, tick(sent++, "end"));
      },
    });

    // The whole deployment stops: b must take the new instance into its rounds.
    const begun = w.next((m) => m === "drain rounds begin");
    const closingA = a2.bus.close({ deadlineMs: 10_000 });
    const closingB = b.bus.close({ deadlineMs: 10_000 });
    const { peers } = await begun;
    assert.deepEqual(peers, ["a"], "b drains with a's new instance");
    release.open();
    const [rA, rB] = await Promise.all([closingA, closingB]);
    assert.equal(b.counts.ended, true, "a's last message was delivered");
    assert.equal(b.counts.handled, sent, "every message a sent was handled");
    assert.equal(rA.drained, true);
    assert.equal(rB.drained, true);
  } finally {
    release.open();
    await a2?.bus.close({ deadlineMs: 1_000 });
    await Promise.all([a2?.node.close({ drainMs: 0 }), b.bus.close({ deadlineMs: 1_000 })]);
    await b.node.close({ drainMs: 0 });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("drain rounds: a peer that said it would drain and ended is not waited for in its new instance", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-drain-" });
  const path = `${dir}/b.sock`;
  const w = waiter();
  const b = await receiver(path, w.seen);
  const hang = gate();
  let a2: Awaited<ReturnType<typeof dialer>> | undefined;
  try {
    // `a`'s first instance begins to shut down (it tells b it will drain), then its link closes
    // before it drains: its producer never ends.
    const bus = new MessageBus({ logger: quiet });
    bus.spawn("producer", { handlers: [], start: () => hang.promise });
    const a1 = await dialer(path, bus);
    const joined = w.next((m, f) =>
      m === "drain frame" && f.peer === "a" && f.status === DRAIN_STATUS.joined
    );
    const closing1 = a1.bus.close({ deadlineMs: 10_000 });
    await joined;
    await a1.node.close({ drainMs: 0 });
    hang.open();
    await closing1;

    // Its next instance keeps running while b stops alone: b leaves it out after a short grace.
    a2 = await dialer(path);
    const r = await b.bus.close({ deadlineMs: 5_000 });
    assert.equal(r.drained, true, "b did not wait for a's new instance until its deadline");
  } finally {
    hang.open();
    await a2?.bus.close({ deadlineMs: 1_000 });
    await Promise.all([a2?.node.close({ drainMs: 0 }), b.bus.close({ deadlineMs: 1_000 })]);
    await b.node.close({ drainMs: 0 });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("drain rounds: what a closed link still hands the bus counts in the rounds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-drain-" });
  const path = `${dir}/b.sock`;
  const w = waiter();
  // `b`'s sink holds its first message until the test opens `hold`; its mailbox takes two.
  const bus = new MessageBus({ logger: quiet });
  const hold = gate();
  let handled = 0;
  bus.spawn("sink", {
    handlers: [on(Tick, async () => {
      await hold.promise;
      handled++;
    })],
  }, { mailbox: { capacity: 2 } });
  const b = await BusNode.start({
    bus,
    identity: "b",
    registry: registry(),
    listen: [new UnixTransport({ path })],
    logger: watching(w.seen),
  });
  // `c` drains with `b` and hears its round reports.
  const counts: bigint[] = [];
  const busC = new MessageBus({ logger: quiet });
  const c = await BusNode.start({
    bus: busC,
    identity: "c",
    registry: registry(),
    dial: [{ identity: "b", transport: new UnixTransport({ path }) }],
    logger: watching((m, f) => {
      if (m === "drain frame" && f.peer === "b" && f.status === DRAIN_STATUS.round) {
        counts.push(f.count as bigint);
      }
    }),
  });
  let a: Awaited<ReturnType<typeof dialer>> | undefined;
  try {
    await c.ready(["sink"], { timeoutMs: 10_000 });
    a = await dialer(path);
    for (let i = 0; i < 50; i++) await a.bus.send("sink", Tick, tick(i, "a"));
    // `a`'s link closes for good while most of its messages wait behind the full mailbox.
    const closed = w.next((m, f) => m === "link closed for good" && f.peer === "a");
    await a.node.close({ drainMs: 5_000 });
    await closed;
    hold.open();
    const [rB, rC] = await Promise.all([
      bus.close({ deadlineMs: 10_000 }),
      busC.close({ deadlineMs: 10_000 }),
    ]);
    assert.equal(handled, 50);
    assert.equal(rB.drained, true);
    assert.equal(rC.drained, true);
    assert.ok(counts.length > 0, "b reported rounds to c");
    assert.equal(counts.at(-1), 50n, "b's count includes what a's closed link delivered late");
  } finally {
    hold.open();
    await a?.bus.close({ deadlineMs: 1_000 });
    await Promise.all([bus.close({ deadlineMs: 1_000 }), busC.close({ deadlineMs: 1_000 })]);
    await Promise.all([b.close({ drainMs: 0 }), c.close({ drainMs: 0 })]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("drain rounds: a peer killed after saying it would drain is not waited for in its new instance", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-drain-" });
  const path = `${dir}/dst.sock`;
  const w = waiter();
  // `dst` here; `src` a process whose producer ignores its signal (so it never drains).
  const bus = new MessageBus({ logger: quiet });
  bus.spawn("sink", { handlers: [on(Tick, () => {})] });
  bus.spawn("echo", { handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, q))] });
  const dst = await BusNode.start({
    bus,
    identity: "dst",
    registry: registry(),
    listen: [new UnixTransport({ path })],
    logger: watching(w.seen),
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", FIXTURE, "stubborn", path],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const restarted = gate<string>();
  dst.onPeerRestart((peer) => restarted.open(peer));
  let src2: BusNode | undefined;
  const bus2 = new MessageBus({ logger: quiet });
  try {
    const first = await lines.read();
    assert.equal(first.value?.trim(), JSON.stringify({ ready: true }));
    const joined = w.next((m, f) =>
      m === "drain frame" && f.peer === "src" && f.status === DRAIN_STATUS.joined
    );
    child.kill("SIGTERM");
    await joined;
    // Killed: its link here is not closed, only down; the next instance resumes it.
    child.kill("SIGKILL");
    await child.status;
    src2 = await BusNode.start({
      bus: bus2,
      identity: "src",
      registry: registry(),
      dial: [{ identity: "dst", transport: new UnixTransport({ path }) }],
      logger: quiet,
    });
    await src2.ready(["sink"], { timeoutMs: 10_000 });
    assert.equal(await restarted.promise, "src");
    // `dst` stops alone; the new `src` keeps running: `dst` leaves it out after a short grace.
    const r = await bus.close({ deadlineMs: 5_000 });
    assert.equal(r.drained, true, "dst did not wait for the new src until its deadline");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await lines.cancel().catch(() => {});
    await bus2.close({ deadlineMs: 1_000 });
    await Promise.all([src2?.close({ drainMs: 0 }), bus.close({ deadlineMs: 1_000 })]);
    await dst.close({ drainMs: 0 });
    await Deno.remove(dir, { recursive: true });
  }
});
