/**
 * Shutting down linked processes together (SIGTERM to each, as the
 * supervisor does on Ctrl-C): each keeps its bus open until its peers have
 * finished sending to it, so what a producer sends last, after its signal
 * and a round trip, is still delivered; and a message that does arrive
 * after a bus closed is counted as undelivered, never silently lost.
 *
 * @module
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { Registry } from "../../src/codec/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { silentLogger } from "../../src/transport/logger.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { Answer, Ask, gate, Tick, tick, Tock } from "../bus/_messages.ts";

const FIXTURE = new URL("./fixtures/drain_peer.ts", import.meta.url).pathname;

interface Figures {
  role: string;
  handled: number;
  ended: boolean;
  sent: number;
  answered: boolean;
  restarts: number;
  shutdown: { drained: boolean; discarded: number; abandonedRequests: number };
  links: { undelivered: number; refused: number; dropped: number }[];
}

/** Runs one fixture process; `lines` yields its stdout lines as they come. */
function spawn(role: string, path: string, ...more: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", FIXTURE, role, path, ...more],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const next = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return JSON.parse(line);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`${role} ended before its next line`);
      buffer += value;
    }
  };
  return { child, next };
}

/** Ends what `spawn` started (SIGKILL if still running) and removes `dir`. */
async function stopAll(procs: ReturnType<typeof spawn>[], dir: string): Promise<void> {
  for (const p of procs) {
    try {
      p.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await p.child.status;
    await p.child.stdout.cancel().catch(() => {});
  }
  await Deno.remove(dir, { recursive: true });
}

for (let attempt = 1; attempt <= 3; attempt++) {
  Deno.test(`shutdown drain (${attempt}): a producer's last messages after SIGTERM are delivered`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "mycelium-drain-" });
    const dst = spawn("dst", `${dir}/dst.sock`);
    const src = spawn("src", `${dir}/dst.sock`);
    try {
      assert.deepEqual(await dst.next(), { ready: true });
      assert.deepEqual(await src.next(), { ready: true });
      // Both at once, as a supervisor stops its children; the receiver first.
      dst.child.kill("SIGTERM");
      src.child.kill("SIGTERM");
      const [d, s] = await Promise.all([dst.next(), src.next()]) as unknown as [Figures, Figures];
      assert.equal(s.answered, true, "the round trip after the signal was answered");
      assert.equal(d.ended, true, "the last message, sent after the signal, was delivered");
      assert.equal(d.handled, s.sent, "every message sent was handled");
      assert.equal(d.links[0]!.refused, 0);
      assert.equal(d.links[0]!.undelivered, 0);
      assert.equal(s.links[0]!.undelivered, 0);
      assert.equal(s.shutdown.abandonedRequests, 0);
      assert.equal(d.shutdown.drained, true);
      assert.equal(s.shutdown.drained, true);
      assert.equal((await dst.child.status).code, 0);
      assert.equal((await src.child.status).code, 0);
    } finally {
      await stopAll([dst, src], dir);
    }
  });
}

Deno.test("shutdown drain: a producer that ignores its signal makes the drain hit its deadline, said so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-drain-" });
  const dst = spawn("dst", `${dir}/dst.sock`, "1000");
  const src = spawn("stubborn", `${dir}/dst.sock`, "1000");
  try {
    assert.deepEqual(await dst.next(), { ready: true });
    assert.deepEqual(await src.next(), { ready: true });
    dst.child.kill("SIGTERM");
    src.child.kill("SIGTERM");
    const [d, s] = await Promise.all([dst.next(), src.next()]) as unknown as [Figures, Figures];
    // The receiver waited for the producer's group (it was shutting down) until the deadline.
    assert.equal(d.shutdown.drained, false);
    // Its producer failed once its bus stopped it, or once the receiver left: reported, not
    // restarted.
    assert.equal(s.restarts, 0);
    assert.equal(s.answered, false);
    // Whatever it sent while the receiver still ran was handled; what was not is counted:
    // discarded from a mailbox at the deadline, dropped, or undelivered (refused by the closed
    // bus, or left in a link). One send may have failed outright (its producer was told).
    const lost = d.shutdown.discarded + d.links[0]!.undelivered + s.links[0]!.undelivered +
      d.links[0]!.dropped + s.links[0]!.dropped;
    assert.ok(d.handled + lost >= s.sent - 1, `handled ${d.handled}, lost ${lost}, sent ${s.sent}`);
  } finally {
    await stopAll([dst, src], dir);
  }
});

const quiet = {
  ...silentLogger,
  debug() {},
  child() {
    return quiet;
  },
};

Deno.test("shutdown drain: a message arriving after the bus closed is counted undelivered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-drain-" });
  const registry = () => new Registry([Tick, Tock, Ask, Answer]);
  const refused = gate();
  const a = new MessageBus({ logger: quiet });
  a.spawn("sink", { handlers: [on(Tick, () => {})] });
  const nodeA = await BusNode.start({
    bus: a,
    identity: "a",
    registry: registry(),
    listen: [new UnixTransport({ path: `${dir}/a.sock` })],
    logger: {
      ...quiet,
      warn(message: string) {
        if (message.includes("not delivered")) refused.open();
      },
    },
  });
  const b = new MessageBus({ logger: quiet });
  const nodeB = await BusNode.start({
    bus: b,
    identity: "b",
    registry: registry(),
    dial: [{ identity: "a", transport: nodeA.transports[0]! }],
    logger: quiet,
  });
  try {
    await nodeB.ready(["sink"], { timeoutMs: 10_000 });
    // `b` keeps running (it is not shutting down): `a` closes its bus alone, then `b` sends.
    await a.close({ deadlineMs: 5_000 });
    await b.send("sink", Tick, tick(1));
    await refused.promise;
    const [link] = nodeA.stats();
    assert.equal(link!.refused, 1);
    assert.equal(link!.undelivered, 1, "the refused message is counted as lost");
  } finally {
    await b.close();
    await nodeA.close({ drainMs: 0 });
    await nodeB.close({ drainMs: 0 });
    await Deno.remove(dir, { recursive: true });
  }
});
