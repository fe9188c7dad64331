/**
 * The link behaviour suite, run against every transport: Unix sockets, TCP
 * and TCP+TLS (with a certificate the test generates).
 */
import assert from "node:assert/strict";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import { V2Swap } from "../../examples/trading/messages.ts";
import { Registry } from "../../src/codec/mod.ts";
import {
  Inbox,
  kinds,
  Num,
  NumV2,
  range,
  recorder,
  RecordingLogger,
  registry,
  Scratch,
  type Seen,
} from "./_helpers.ts";

const scratch = await Scratch.create();
globalThis.addEventListener("unload", () => Deno.removeSync(scratch.dir, { recursive: true }));
const KINDS = await kinds(scratch);

for (const kind of KINDS) {
  Deno.test(`${kind.name}: delivers messages both ways, in order, with their routes`, async () => {
    const log = new RecordingLogger();
    const atServer = new Inbox<Seen>();
    const atClient = new Inbox<Seen>();
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      logger: log,
      handler: recorder(atServer, (seen, link) => {
        if (seen.kind === "request") {
          link.write(Num, { n: seen.n * 2, note: "reply" }, {
            kind: "reply",
            to: seen.from,
            from: seen.to,
            correlation: seen.correlation,
          });
        }
      }),
    });
    await using link = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
      logger: log,
      handler: recorder(atClient),
    });
    const count = 3000;
    for (let i = 0; i < count; i++) {
      const note = i % 7 === 0 ? `note ${i} ✓` : "";
      if (i % 3 === 0) await link.send(Num, { n: i, note });
      else if (i % 3 === 1) {
        await link.send(Num, { n: i, note }, { kind: "send", to: "worker", from: "producer" });
      } else {
        await link.send(Num, { n: i, note }, {
          kind: "request",
          to: "doubler",
          from: "asker",
          correlation: i + 1_000_000,
        });
      }
    }
    const got = await atServer.count(count);
    assert.deepEqual(got.map((s) => s.n), range(0, count));
    assert.deepEqual(got[0], {
      n: 0,
      note: "note 0 ✓",
      kind: "publish",
      to: "numbers",
      from: "",
      correlation: 0,
      peer: "client",
    });
    assert.deepEqual(got[1], {
      n: 1,
      note: "",
      kind: "send",
      to: "worker",
      from: "producer",
      correlation: 0,
      peer: "client",
    });
    assert.deepEqual(got[2], {
      n: 2,
      note: "",
      kind: "request",
      to: "doubler",
      from: "asker",
      correlation: 1_000_002,
      peer: "client",
    });
    const replies = await atClient.count(count / 3);
    assert.deepEqual(
      replies.map((s) => s.correlation),
      range(0, count / 3).map((i) => 3 * i + 1_000_002),
    );
    assert.ok(replies.every((r) => r.kind === "reply" && r.to === "asker" && r.from === "doubler"));
    assert.ok(replies.every((r) => r.n === (r.correlation - 1_000_000) * 2));
    assert.equal(link.stats.received, count / 3);
    assert.deepEqual(log.codes(), []);
  });

  Deno.test(`${kind.name}: carries 144-byte V2Swap frames as zero-copy views`, async () => {
    const seen: bigint[] = [];
    let viewsShareOneSlab = true;
    let firstBuffer: ArrayBufferLike | undefined;
    const done = Promise.withResolvers<void>();
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      handler: {
        message(view) {
          if (!V2Swap.isView(view)) return;
          const pool = view.poolAddress;
          firstBuffer ??= pool.buffer;
          if (seen.length < 100 && pool.buffer !== firstBuffer) viewsShareOneSlab = false;
          seen.push(view.timestampNs);
          if (seen.length === 1000) done.resolve();
        },
      },
    });
    await using link = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
    });
    const swap = {
      poolAddress: new Uint8Array(20).fill(1),
      token0: new Uint8Array(20).fill(2),
      token1: new Uint8Array(20).fill(3),
      amountIn: new Uint8Array(32).fill(4),
      amountOut: new Uint8Array(32).fill(5),
      timestampNs: 0n,
    };
    for (let i = 0; i < 1000; i++) {
      swap.timestampNs = BigInt(i);
      await link.send(V2Swap, swap);
    }
    await done.promise;
    assert.deepEqual(seen, range(0, 1000).map(BigInt));
    assert.ok(viewsShareOneSlab, "views point into the read slab, not into a buffer each");
  });

  Deno.test(`${kind.name}: announces what each side hosts, on open and on change`, async () => {
    const atServer = new Inbox<string>();
    const atClient = new Inbox<string>();
    const show = (a: { actors: readonly string[]; topics: readonly string[] }) =>
      `${a.actors.join(",")}|${a.topics.join(",")}`;
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      announcement: { actors: ["risk"], topics: ["arbitrage"] },
      handler: { message() {}, announce: (a) => atServer.push(show(a)) },
    });
    await using link = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
      announcement: { actors: ["collector", "relay"], topics: [] },
      handler: { message() {}, announce: (a) => atClient.push(show(a)) },
    });
    assert.deepEqual(await atServer.count(1), ["collector,relay|"]);
    assert.deepEqual(await atClient.count(1), ["risk|arbitrage"]);
    link.announce({ actors: ["collector"], topics: ["market_data"] });
    assert.deepEqual(await atServer.count(2), ["collector,relay|", "collector|market_data"]);
    assert.deepEqual(link.peerAnnouncement, { actors: ["risk"], topics: ["arbitrage"] });
  });

  Deno.test(
    `${kind.name}: survives the listener restarting; messages written meanwhile arrive after, in order`,
    async () => {
      const log = new RecordingLogger();
      const before = new Inbox<Seen>();
      const first = await LinkListener.listen(kind.make(), {
        registry: registry(),
        identity: "server",
        logger: log,
        handler: recorder(before),
      });
      const address = first.transport;
      const link = await Link.connect(address, {
        registry: registry(),
        identity: "client",
        logger: log,
        reconnect: { initialMs: 10, maxMs: 100 },
      });
      for (let i = 0; i < 50; i++) await link.send(Num, { n: i, note: "" });
      await before.count(50);
      await link.drained();
      const away = Promise.withResolvers<void>();
      const up = Promise.withResolvers<void>();
      // Observe the link's state through its log: it goes away, then comes back.
      log.waitFor((e) => e.message === "link connection ended").then(() => away.resolve());
      await first.close();
      await away.promise;
      for (let i = 50; i < 120; i++) link.write(Num, { n: i, note: "during the outage" });
      assert.equal(link.state, "away");
      const after = new Inbox<Seen>();
      await using second = await LinkListener.listen(address, {
        registry: registry(),
        identity: "server",
        logger: log,
        handler: {
          ...recorder(after),
          up: () => up.resolve(),
        },
      });
      await up.promise;
      const got = await after.count(70);
      assert.deepEqual(got.map((s) => s.n), range(50, 120));
      await link.drained();
      assert.equal(link.stats.reconnects, 1);
      assert.equal(link.stats.dropped, 0);
      await link.close();
      assert.equal(link.stats.undelivered, 0);
      assert.equal(second.links.get("client")?.stats.received, 70);
    },
  );

  Deno.test(`${kind.name}: authenticates with a shared key and refuses peers without it`, async () => {
    const log = new RecordingLogger();
    const inbox = new Inbox<Seen>();
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      key: "correct horse battery staple",
      logger: log,
      handler: recorder(inbox),
    });
    await using good = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "good",
      key: "correct horse battery staple",
      logger: log,
    });
    const noKey = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "nokey",
      logger: new RecordingLogger(),
    }).then(() => undefined, (e) => e);
    assert.ok(noKey instanceof TransportError);
    assert.equal(noKey.code, "TRANSPORT_AUTH");
    const wrongKey = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "wrongkey",
      key: "guess",
      logger: new RecordingLogger(),
    }).then(() => undefined, (e) => e);
    assert.ok(wrongKey instanceof TransportError);
    assert.equal(wrongKey.code, "TRANSPORT_AUTH");
    // The listener refused both (logged), and never created links for them.
    await log.waitFor((e) =>
      log.codes().filter((c) => c === "TRANSPORT_AUTH").length >= 2 && e !== undefined
    );
    assert.deepEqual([...listener.links.keys()], ["good"]);
    // The good link still works.
    good.write(Num, { n: 7, note: "" });
    assert.equal((await inbox.count(1))[0]?.n, 7);
    assert.equal(listener.stats.refused, 2);
  });

  Deno.test(`${kind.name}: a client with the key refuses a server without it`, async () => {
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "impostor",
      logger: new RecordingLogger(),
    });
    const error = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
      key: "secret",
      logger: new RecordingLogger(),
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_AUTH");
    assert.match(error.message, /impostor/);
  });

  Deno.test(`${kind.name}: refuses a schema mismatch, naming the type and both sides`, async () => {
    const log = new RecordingLogger();
    await using listener = await LinkListener.listen(kind.make(), {
      registry: new Registry([NumV2]),
      identity: "new-build",
      logger: log,
    });
    const error = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "old-build",
      logger: new RecordingLogger(),
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof TransportError);
    assert.equal(error.code, "TRANSPORT_SCHEMA_MISMATCH");
    assert.equal(error.messageType, "test.Num");
    assert.match(error.message, /'old-build'/);
    assert.match(error.message, /'new-build'/);
    assert.match(error.message, new RegExp(Num.fingerprint));
    assert.match(error.message, new RegExp(NumV2.fingerprint));
    const logged = await log.waitForCode("TRANSPORT_SCHEMA_MISMATCH");
    assert.equal(logged.level, "error");
  });

  Deno.test(`${kind.name}: an idle link stays open on heartbeats`, async () => {
    const log = new RecordingLogger();
    const inbox = new Inbox<Seen>();
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      logger: log,
      heartbeatMs: 20,
      peerTimeoutMs: 150,
      handler: recorder(inbox),
    });
    await using link = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
      logger: log,
      heartbeatMs: 20,
      peerTimeoutMs: 150,
    });
    // Idle for several peer timeouts: heartbeats alone must keep both sides open.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(link.state, "open");
    assert.equal(link.stats.reconnects, 0);
    link.write(Num, { n: 1, note: "" });
    assert.equal((await inbox.count(1))[0]?.n, 1);
    assert.deepEqual(log.codes(), []);
  });

  Deno.test(
    `${kind.name}: a dropped connection resumes the same link; routed messages keep their names`,
    async () => {
      const log = new RecordingLogger();
      const inbox = new Inbox<Seen>();
      const up = new Inbox<string>();
      await using listener = await LinkListener.listen(kind.make(), {
        registry: registry(),
        identity: "server",
        logger: log,
        handler: { ...recorder(inbox), up: (l) => up.push(l.peer) },
      });
      await using link = await Link.connect(listener.transport, {
        registry: registry(),
        identity: "client",
        logger: log,
        reconnect: { initialMs: 5, maxMs: 50 },
      });
      for (let n = 0; n < 10; n++) {
        link.write(Num, { n, note: "" }, { kind: "send", to: "a", from: "b" });
      }
      await inbox.count(10);
      const accepted = listener.links.get("client")!;
      // Drop the socket under the link (as a network fault would): both sides keep their links.
      accepted._detach("simulated network fault");
      for (let n = 10; n < 20; n++) {
        link.write(Num, { n, note: "" }, { kind: "send", to: "a", from: "c" });
      }
      await up.count(2);
      const got = await inbox.count(20);
      assert.deepEqual(got.map((s) => s.n), range(0, 20));
      assert.deepEqual(got.map((s) => s.from), [...Array(10).fill("b"), ...Array(10).fill("c")]);
      assert.ok(got.every((s) => s.to === "a" && s.kind === "send"));
      assert.equal(listener.links.get("client"), accepted, "the same link object serves the peer");
      assert.equal(accepted.stats.received, 20);
      assert.deepEqual(log.codes().filter((c) => c !== "TRANSPORT_CLOSED"), []);
    },
  );

  Deno.test(`${kind.name}: refuses at once a message the peer could never accept`, async () => {
    await using listener = await LinkListener.listen(kind.make(), {
      registry: new Registry([Num]),
      identity: "server",
      logger: new RecordingLogger(),
    });
    await using link = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
      logger: new RecordingLogger(),
    });
    const swap = {
      poolAddress: new Uint8Array(20),
      token0: new Uint8Array(20),
      token1: new Uint8Array(20),
      amountIn: new Uint8Array(32),
      amountOut: new Uint8Array(32),
      timestampNs: 0n,
    };
    assert.throws(
      () => link.write(V2Swap, swap),
      (e) =>
        e instanceof TransportError && e.code === "TRANSPORT_UNKNOWN_TYPE" &&
        e.messageType === "V2Swap",
    );
    assert.equal(link.write(Num, { n: 1, note: "" }), 0);
    await link.drained();
  });

  Deno.test(`${kind.name}: connect gives up when its signal aborts; close is idempotent`, async () => {
    const listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      logger: new RecordingLogger(),
    });
    const address = listener.transport;
    await listener.close();
    await listener.close();
    const controller = new AbortController();
    const log = new RecordingLogger();
    const attempt = Link.connect(address, {
      registry: registry(),
      identity: "client",
      logger: log,
      reconnect: { initialMs: 5, maxMs: 20 },
      signal: controller.signal,
    });
    await log.waitFor((e) => e.message === "link reconnecting");
    controller.abort();
    await assert.rejects(
      attempt,
      (e) => e instanceof TransportError && e.code === "TRANSPORT_CONNECT",
    );
  });

  Deno.test(`${kind.name}: a paused link pushes back on the sender, then delivers in order`, async () => {
    const inbox = new Inbox<Seen>();
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      logger: new RecordingLogger(),
      handler: recorder(inbox),
    });
    await using link = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "client",
      logger: new RecordingLogger(),
      maxBufferedBytes: 64 * 1024,
    });
    link.write(Num, { n: 0, note: "" });
    await inbox.count(1);
    const receiving = listener.links.get("client")!;
    receiving.pause();
    const note = "x".repeat(100);
    for (let n = 1; n <= 50; n++) link.write(Num, { n, note });
    // While paused nothing is handled or acknowledged, however long we wait.
    await assert.rejects(link.drained(AbortSignal.timeout(300)));
    assert.equal(inbox.items.length, 1);
    assert.ok(link.buffered > 50 * 100);
    receiving.resume();
    await link.drained();
    const got = await inbox.count(51);
    assert.deepEqual(got.map((s) => s.n), range(0, 51));
  });
}
