/**
 * Links between real processes (`Deno.Command` running `_peer.ts`): two and
 * three processes, request/reply both ways, pub/sub fan-out, and a peer that is
 * killed and restarted while messages are sent to it.
 */
import assert from "node:assert/strict";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import {
  Inbox,
  makeTestCertificate,
  Num,
  range,
  recorder,
  RecordingLogger,
  registry,
  Scratch,
  type Seen,
} from "./_helpers.ts";

const PEER = new URL("./_peer.ts", import.meta.url).pathname;
const scratch = await Scratch.create();
globalThis.addEventListener("unload", () => Deno.removeSync(scratch.dir, { recursive: true }));
const certs = await makeTestCertificate(scratch.dir);

/** A child process running `_peer.ts`, with its stdout as lines. */
class Peer {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(...args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", PEER, ...args],
      env: { MYCELIUM_TEST_CERTS: scratch.dir, NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line the peer prints. */
  async line(): Promise<string> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#lines.read();
      if (done) throw new Error("peer exited without printing a line");
      this.#buffer += value;
    }
  }

  /** Asks the peer to stop (closes its stdin) and waits for it. */
  async stop(): Promise<Deno.CommandStatus> {
    await this.#child.stdin.close();
    return await this.#finish();
  }

  /** Sends a signal (SIGSTOP freezes the process with its sockets open). */
  signal(sig: Deno.Signal): void {
    this.#child.kill(sig);
  }

  /** SIGKILL: no goodbye, no flush. */
  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#finish();
  }

  /** Waits for the peer to exit by itself. */
  async exit(): Promise<Deno.CommandStatus> {
    await this.#child.stdin.close();
    return await this.#finish();
  }

  async #finish(): Promise<Deno.CommandStatus> {
    const status = await this.#child.status;
    await this.#lines.cancel();
    return status;
  }
}

function address(kind: "unix" | "tcp" | "tls", t: Transport): string {
  return kind === "unix" ? t.address : t.address.slice(t.address.lastIndexOf(":") + 1);
}

function clientTransport(kind: "unix" | "tcp" | "tls", addr: string): Transport {
  if (kind === "unix") return new UnixTransport({ path: addr });
  return new TcpTransport({
    port: Number(addr),
    ...(kind === "tls" ? { tls: { caFile: certs.caFile } } : {}),
  });
}

for (const kind of ["unix", "tcp", "tls"] as const) {
  Deno.test(`${kind}: two processes exchange requests, replies and publishes both ways`, async () => {
    const echo = new Peer(
      "echo",
      kind,
      kind === "unix" ? `${scratch.dir}/echo-${kind}.sock` : "0",
      "echo",
    );
    const ready = await echo.line();
    const addr = ready.split(" ")[1]!;
    const replies = new Inbox<Seen>();
    const link = await Link.connect(clientTransport(kind, addr), {
      registry: registry(),
      identity: "parent",
      logger: new RecordingLogger(),
      handler: recorder(replies),
    });
    for (let i = 0; i < 500; i++) {
      await link.send(Num, { n: i, note: "" }, {
        kind: "request",
        to: "echo",
        from: "asker",
        correlation: i,
      });
    }
    const got = await replies.count(500);
    assert.deepEqual(got.map((s) => s.correlation), range(0, 500));
    assert.deepEqual(got.map((s) => s.n), range(0, 500).map((i) => i * 2));
    assert.ok(
      got.every((s) =>
        s.kind === "reply" && s.to === "asker" && s.from === "echo" && s.peer === "echo"
      ),
    );
    // And the other way: the child publishes to us for each plain publish we send.
    for (let i = 0; i < 300; i++) link.write(Num, { n: i, note: "" });
    const echoes = await replies.count(800);
    assert.deepEqual(echoes.slice(500).map((s) => s.n), range(0, 300));
    await link.close();
    assert.equal((await echo.stop()).code, 0);
  });
}

Deno.test("unix: a child process dials us, and request/reply works from its side too", async () => {
  const seen = new Inbox<Seen>();
  await using _listener = await LinkListener.listen(
    new UnixTransport({ path: `${scratch.dir}/hub.sock` }),
    {
      registry: registry(),
      identity: "hub",
      logger: new RecordingLogger(),
      handler: recorder(seen, (s, link) => {
        link.write(Num, { n: s.n * 2, note: "" }, {
          kind: "reply",
          to: s.from,
          from: "hub",
          correlation: s.correlation,
        });
        if (s.n % 10 === 0) link.write(Num, { n: s.n, note: "push" });
      }),
    },
  );
  const child = new Peer("pingpong", "unix", `${scratch.dir}/hub.sock`, "pinger", "1000");
  assert.equal(await child.line(), "done 1000 100 bad=0");
  const got = await seen.count(1100);
  assert.deepEqual(got.filter((s) => s.kind === "request").map((s) => s.n), range(0, 1000));
  assert.deepEqual(
    got.filter((s) => s.kind === "publish").map((s) => s.n),
    range(0, 100).map((i) => i * 10),
  );
  assert.equal((await child.exit()).code, 0);
});

Deno.test("tcp: three processes: a publisher fans out to two subscribers, which answer it", async () => {
  const links = new Map<string, Link>();
  const subscribed = Promise.withResolvers<void>();
  const answers = new Inbox<Seen>();
  await using listener = await LinkListener.listen(new TcpTransport({ port: 0 }), {
    registry: registry(),
    identity: "publisher",
    logger: new RecordingLogger(),
    handler: {
      ...recorder(answers),
      announce(a, link) {
        if (a.topics.includes("numbers")) links.set(link.peer, link);
        if (links.size === 2) subscribed.resolve();
      },
    },
  });
  const port = address("tcp", listener.transport);
  const a = new Peer("subscriber", "tcp", port, "sub-a", "2000");
  const b = new Peer("subscriber", "tcp", port, "sub-b", "2000");
  await subscribed.promise;
  for (let n = 0; n < 2000; n++) {
    for (const link of links.values()) await link.send(Num, { n, note: "" });
  }
  const sum = (2000 * 1999) / 2;
  assert.deepEqual([await a.line(), await b.line()], [
    `got sub-a 2000 ${sum} bad=0`,
    `got sub-b 2000 ${sum} bad=0`,
  ]);
  const got = await answers.count(2);
  assert.deepEqual(
    got.map((s) => `${s.peer} ${s.kind} ${s.to} ${s.from} ${s.n} ${s.note}`).sort(),
    [`sub-a send publisher sub-a 2000 sum ${sum}`, `sub-b send publisher sub-b 2000 sum ${sum}`],
  );
  assert.equal((await a.exit()).code, 0);
  assert.equal((await b.exit()).code, 0);
});

Deno.test("unix: a killed and restarted peer gets the messages sent during the outage, in order", async () => {
  const path = `${scratch.dir}/restart.sock`;
  const log = new RecordingLogger();
  const echoes = new Inbox<Seen>();
  let peer = new Peer("echo", "unix", path, "worker");
  await peer.line();
  const link = await Link.connect(new UnixTransport({ path }), {
    registry: registry(),
    identity: "parent",
    logger: log,
    reconnect: { initialMs: 10, maxMs: 200 },
    maxBufferedBytes: 64 * 1024,
    handler: recorder(echoes),
  });
  for (let n = 0; n < 100; n++) link.write(Num, { n, note: "" });
  await echoes.count(100);
  await link.drained();
  const down = log.waitFor((e) => e.message === "link connection ended");
  await peer.kill();
  await down;
  assert.notEqual(link.state, "open");
  // The peer is dead: these wait in the link's buffer (100 frames of 20 bytes fit).
  for (let n = 100; n < 200; n++) assert.equal(link.write(Num, { n, note: "" }), 0);
  peer = new Peer("echo", "unix", path, "worker");
  await peer.line();
  const got = await echoes.count(200);
  assert.deepEqual(got.map((s) => s.n), range(0, 200));
  assert.equal(link.stats.dropped, 0);
  assert.ok(link.stats.reconnects >= 1);
  await link.close();
  assert.equal(link.stats.undelivered, 0);
  assert.equal((await peer.stop()).code, 0);
});

Deno.test("tcp: a dialing peer killed and restarted gets what the listener sent it meanwhile, in order", async () => {
  const log = new RecordingLogger();
  const echoes = new Inbox<Seen>();
  const ups = new Inbox<string>();
  await using listener = await LinkListener.listen(new TcpTransport({ port: 0 }), {
    registry: registry(),
    identity: "hub",
    logger: log,
    handler: { ...recorder(echoes), up: (l) => ups.push(l.peer) },
  });
  const port = address("tcp", listener.transport);
  let peer = new Peer("echo-dialer", "tcp", port, "worker");
  await peer.line();
  await ups.count(1);
  const link = listener.links.get("worker")!;
  for (let n = 0; n < 50; n++) link.write(Num, { n, note: "" });
  await echoes.count(50);
  await link.drained();
  const down = log.waitFor((e) => e.message === "link connection ended");
  await peer.kill();
  await down;
  assert.equal(link.state, "away");
  for (let n = 50; n < 100; n++) link.write(Num, { n, note: "" });
  peer = new Peer("echo-dialer", "tcp", port, "worker");
  await peer.line();
  const got = await echoes.count(100);
  assert.deepEqual(got.map((s) => s.n), range(0, 100));
  assert.equal(listener.links.get("worker"), link, "the restarted peer got its link back");
  assert.equal(link.stats.reconnects, 1);
  assert.equal((await peer.stop()).code, 0);
});

Deno.test("unix: a frozen peer (SIGSTOP) is detected by heartbeats; after SIGCONT the link recovers", async () => {
  const path = `${scratch.dir}/frozen.sock`;
  const log = new RecordingLogger();
  const echoes = new Inbox<Seen>();
  const peer = new Peer("echo", "unix", path, "sleeper");
  await peer.line();
  const link = await Link.connect(new UnixTransport({ path }), {
    registry: registry(),
    identity: "parent",
    logger: log,
    heartbeatMs: 50,
    peerTimeoutMs: 400,
    handshakeTimeoutMs: 400,
    reconnect: { initialMs: 20, maxMs: 100 },
    handler: recorder(echoes),
  });
  link.write(Num, { n: 0, note: "" });
  await echoes.count(1);
  peer.signal("SIGSTOP");
  const timeout = await log.waitForCode("TRANSPORT_TIMEOUT");
  assert.equal((timeout.fields?.error as { peer?: string }).peer, "sleeper");
  for (let n = 1; n < 20; n++) link.write(Num, { n, note: "" });
  peer.signal("SIGCONT");
  const got = await echoes.count(20);
  assert.deepEqual(got.map((s) => s.n), range(0, 20));
  await link.close();
  assert.equal((await peer.stop()).code, 0);
});
