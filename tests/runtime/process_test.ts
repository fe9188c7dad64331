/**
 * The MessageBus across real processes (`Deno.Command` running `_node.ts`)
 * over unix and tcp: messages by name both ways, pub/sub fan-out to three
 * processes, request/reply (and its timeout once the replier's process is
 * gone), per-sender order, and a killed and restarted process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { on } from "../../src/actor/mod.ts";
import { BusError } from "../../src/bus/bus_error.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { BusNode, type BusNodeOptions } from "../../src/runtime/bus_node.ts";
import { silentLogger } from "../../src/transport/logger.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { Answer, Ask, Tick, tick, Tock } from "../bus/_messages.ts";
import { type NodeConfig, testRegistry } from "./_node.ts";

const NODE = new URL("./_node.ts", import.meta.url).pathname;

type Reply = Record<string, unknown>;

/** A child process running `_node.ts`. */
class Child implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";
  #done = false;
  #turn: Promise<void> = Promise.resolve();
  listening: string[] = [];

  private constructor(config: NodeConfig) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env",
        NODE,
        JSON.stringify(config),
      ],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: Deno.env.get("DEBUG_CHILD") ? "inherit" : "null",
    }).spawn();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stdin = this.#child.stdin.getWriter();
  }

  /** Starts a child and waits until it listens. */
  static async start(config: NodeConfig): Promise<Child> {
    const child = new Child(config);
    child.listening = (await child.#line()).listening as string[];
    return child;
  }

  /** Sends one command and returns the child's answer (calls are serialised). */
  call(command: Reply): Promise<Reply> {
    const answer = this.#turn.then(async () => {
      await this.#stdin.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
      return await this.#line();
    });
    this.#turn = answer.then(() => {}, () => {});
    return answer;
  }

  async #line(): Promise<Reply> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return JSON.parse(line) as Reply;
      }
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("the child exited without answering");
      this.#buffer += value;
    }
  }

  /** Closes its stdin (it closes its bus and node) and waits for it to exit. */
  async stop(): Promise<Deno.CommandStatus> {
    return await this.#finish(() => this.#stdin.close());
  }

  /** SIGKILL: no goodbye, no drain. */
  async kill(): Promise<void> {
    await this.#finish(() => this.#child.kill("SIGKILL"));
  }

  async #finish(end: () => Promise<void> | void): Promise<Deno.CommandStatus> {
    if (!this.#done) {
      this.#done = true;
      await end();
    }
    const status = await this.#child.status;
    await this.#lines.cancel().catch(() => {});
    this.#stdin.releaseLock();
    await this.#child.stdin.close().catch(() => {});
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#done) await this.kill();
    else await this.#child.status;
  }
}

const quiet = { ...silentLogger, debug() {}, child: () => quiet };

/** The test process's own bus and node. */
class Parent implements AsyncDisposable {
  readonly bus = new MessageBus();
  readonly sink = new Map<string, number[]>();
  node!: BusNode;
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  constructor() {
    this.bus.spawn("p.sink", {
      handlers: [on(Tick, (m) => {
        let seqs = this.sink.get(m.note);
        if (seqs === undefined) this.sink.set(m.note, seqs = []);
        seqs.push(m.seq);
        this.#waiters = this.#waiters.filter((w) => !(w.check() && (w.resolve(), true)));
      })],
    }, { subscribe: [] });
    this.bus.spawn("p.doubler", {
      handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n * 2 }))],
    });
  }

  async start(options: Omit<BusNodeOptions, "bus" | "identity" | "registry">): Promise<this> {
    this.node = await BusNode.start({
      bus: this.bus,
      identity: "p",
      registry: testRegistry(),
      logger: quiet,
      link: { reconnect: { initialMs: 20, maxMs: 200 } },
      ...options,
    });
    return this;
  }

  /** Resolves once `p.sink` holds `count` Ticks from `sender`. */
  received(sender: string, count: number): Promise<void> {
    const check = () => (this.sink.get(sender)?.length ?? 0) >= count;
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ check, resolve }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.bus.close();
    await this.node.close({ drainMs: 1000 });
  }
}

async function tempDir(): Promise<string & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium-proc-" });
  return Object.assign(dir, {
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  }) as unknown as string & AsyncDisposable;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

Deno.test("two processes exchange messages by name both ways, in order (unix: child dials)", async () => {
  await using dir = await tempDir();
  await using parent = await new Parent().start({
    listen: [new UnixTransport({ path: `${dir}/p.sock` })],
  });
  await using child = await Child.start({
    identity: "c",
    listen: [],
    dial: [{ identity: "p", kind: "unix", path: `${dir}/p.sock` }],
  });
  await parent.node.ready(["c.echo", "c.sink"], { timeoutMs: 20_000 });
  assert.deepEqual(await child.call({ op: "ready", actors: ["p.sink"] }), { ok: true });
  // Parent → child → parent by name: the echo sends each Tick back to p.sink.
  for (const i of range(0, 300)) await parent.bus.send("c.echo", Tick, tick(i, "p.sink"));
  // Child → parent, started by the child.
  assert.deepEqual(
    await child.call({ op: "send", to: "p.sink", from: 0, count: 300, note: "direct" }),
    { ok: true },
  );
  await parent.received("c", 300);
  await parent.received("direct", 300);
  assert.deepEqual(parent.sink.get("c"), range(0, 300));
  assert.deepEqual(parent.sink.get("direct"), range(0, 300));
  assert.equal((await child.stop()).code, 0);
});

Deno.test("two processes exchange messages by name both ways, in order (tcp: parent dials)", async () => {
  await using child = await Child.start({
    identity: "c",
    listen: [{ kind: "tcp", port: 0 }],
    dial: [],
  });
  const port = Number(child.listening[0]!.split(":").at(-1));
  await using parent = await new Parent().start({
    dial: [{ identity: "c", transport: new TcpTransport({ port }) }],
  });
  await parent.node.ready(["c.echo"], { timeoutMs: 20_000 });
  assert.deepEqual(await child.call({ op: "ready", actors: ["p.sink"] }), { ok: true });
  for (const i of range(0, 300)) await parent.bus.send("c.echo", Tick, tick(i, "p.sink"));
  await child.call({ op: "send", to: "p.sink", from: 0, count: 300, note: "direct" });
  await parent.received("c", 300);
  await parent.received("direct", 300);
  assert.deepEqual(parent.sink.get("c"), range(0, 300));
  assert.deepEqual(parent.sink.get("direct"), range(0, 300));
  const [stats] = parent.node.stats();
  assert.equal(stats!.peer, "c");
  assert.equal(stats!.dropped, 0);
  assert.equal((await child.stop()).code, 0);
});

Deno.test("a publish fans out to subscribers in three processes; per-sender order holds from each", async () => {
  await using dir = await tempDir();
  await using parent = await new Parent().start({
    listen: [new UnixTransport({ path: `${dir}/p.sock` })],
  });
  const dial: NodeConfig["dial"] = [{ identity: "p", kind: "unix", path: `${dir}/p.sock` }];
  await using c1 = await Child.start({ identity: "c1", listen: [], dial });
  await using c2 = await Child.start({ identity: "c2", listen: [], dial });
  await using c3 = await Child.start({ identity: "c3", listen: [], dial });
  const children = [c1, c2, c3];
  await parent.node.ready(["c1.sub", "c2.sub", "c3.sub"], { timeoutMs: 20_000 });
  for (const i of range(0, 500)) await parent.bus.publish(Tock, { seq: i });
  for (const c of children) {
    assert.deepEqual(await c.call({ op: "waitSub", count: 500 }), { ok: true });
  }
  for (const c of children) assert.deepEqual((await c.call({ op: "report" })).sub, range(0, 500));
  // All three send to the parent at once.
  await Promise.all(
    children.map((c) => c.call({ op: "send", to: "p.sink", from: 0, count: 2000 })),
  );
  for (const id of ["c1", "c2", "c3"]) {
    await parent.received(id, 2000);
    assert.deepEqual(parent.sink.get(id), range(0, 2000), `order of ${id}`);
  }
  for (const c of children) assert.equal((await c.stop()).code, 0);
});

Deno.test("request/reply crosses processes both ways; with the replier's process gone it times out", async () => {
  await using dir = await tempDir();
  await using parent = await new Parent().start({
    listen: [new UnixTransport({ path: `${dir}/p.sock` })],
  });
  await using child = await Child.start({
    identity: "c",
    listen: [],
    dial: [{ identity: "p", kind: "unix", path: `${dir}/p.sock` }],
  });
  await parent.node.ready(["c.doubler"], { timeoutMs: 20_000 });
  const answer = await parent.bus.request("c.doubler", Ask, { n: 21 }, { reply: Answer });
  assert.equal(answer.n, 42);
  assert.deepEqual(await child.call({ op: "request", to: "p.doubler", n: 5, timeoutMs: 5000 }), {
    n: 10,
  });
  assert.deepEqual(
    await child.call({ op: "request", to: "nobody", n: 5, timeoutMs: 5000 }),
    { error: "BUS_NO_ROUTE" },
  );
  await child.kill();
  await assert.rejects(
    parent.bus.request("c.doubler", Ask, { n: 1 }, { reply: Answer, timeoutMs: 300 }),
    (e: unknown) => e instanceof BusError && e.code === "BUS_REQUEST_TIMEOUT",
  );
});

Deno.test("messages sent while a process is down reach it, in order, once it restarts", async () => {
  await using dir = await tempDir();
  const config: NodeConfig = {
    identity: "c",
    listen: [{ kind: "unix", path: `${dir}/c.sock` }],
    dial: [],
  };
  let child = await Child.start(config);
  await using parent = await new Parent().start({
    dial: [{ identity: "c", transport: new UnixTransport({ path: `${dir}/c.sock` }) }],
  });
  // Told when the child's new instance links; what it sends then reaches that instance.
  const restarted: string[] = [];
  parent.node.onPeerRestart((peer) => {
    restarted.push(peer);
    void parent.bus.send("c.sink", Tick, tick(0, "r"));
  });
  try {
    await parent.node.ready(["c.sink"], { timeoutMs: 20_000 });
    for (const i of range(0, 100)) await parent.bus.send("c.sink", Tick, tick(i, "p"));
    assert.deepEqual(await child.call({ op: "waitSink", sender: "p", count: 100 }), { ok: true });
    assert.deepEqual(restarted, []);
    await child.kill();
    // The outage: these wait in the link's bounded buffer.
    for (const i of range(100, 200)) await parent.bus.send("c.sink", Tick, tick(i, "p"));
    child = await Child.start(config);
    // The new instance gets everything its predecessor had not confirmed, then the rest.
    assert.deepEqual(await child.call({ op: "waitLast", sender: "p", seq: 299 }), {
      ok: true,
    });
    const seqs = ((await child.call({ op: "report" })).sink as Record<string, number[]>).p!;
    assert.ok(seqs[0]! <= 100, `starts at ${seqs[0]}, after the outage began`);
    assert.deepEqual(seqs, range(seqs[0]!, 300 - seqs[0]!));
    const [stats] = parent.node.stats();
    assert.equal(stats!.reconnects, 1);
    assert.equal(stats!.peerRestarts, 1);
    assert.equal(stats!.dropped, 0);
    assert.deepEqual(restarted, ["c"]);
    assert.deepEqual(await child.call({ op: "waitLast", sender: "r", seq: 0 }), { ok: true });
    assert.equal((await child.stop()).code, 0);
  } finally {
    await child[Symbol.asyncDispose]();
  }
});

Deno.test("while a process is down, a full link buffer drops by policy and counts every drop", async () => {
  await using dir = await tempDir();
  const config: NodeConfig = {
    identity: "c",
    listen: [{ kind: "unix", path: `${dir}/c.sock` }],
    dial: [],
  };
  let child = await Child.start(config);
  await using parent = await new Parent().start({
    dial: [{ identity: "c", transport: new UnixTransport({ path: `${dir}/c.sock` }) }],
    link: {
      maxBufferedBytes: 16 * 1024,
      overflow: "drop-newest",
      reconnect: { initialMs: 20, maxMs: 200 },
    },
  });
  try {
    await parent.node.ready(["c.sink"], { timeoutMs: 20_000 });
    for (const i of range(0, 100)) await parent.bus.send("c.sink", Tick, tick(i, "p"));
    await child.call({ op: "waitSink", sender: "p", count: 100 });
    await child.kill();
    for (const i of range(100, 400)) await parent.bus.send("c.sink", Tick, tick(i, "p"));
    const dropped = parent.node.stats()[0]!.dropped;
    assert.ok(dropped > 0, "the bound was reached");
    child = await Child.start(config);
    // drop-newest kept the oldest: the new instance gets a contiguous run up to the last kept.
    const last = 499 - dropped;
    assert.deepEqual(await child.call({ op: "waitLast", sender: "p", seq: last }), { ok: true });
    const seqs = ((await child.call({ op: "report" })).sink as Record<string, number[]>).p!;
    assert.ok(seqs[0]! <= 100);
    assert.deepEqual(seqs, range(seqs[0]!, last + 1 - seqs[0]!));
    assert.equal(parent.node.stats()[0]!.dropped, dropped, "nothing else was dropped");
    assert.equal((await child.stop()).code, 0);
  } finally {
    await child[Symbol.asyncDispose]();
  }
});
