/**
 * Who may claim an identity: without a key, a second peer claiming the
 * identity of a live one is refused (it would otherwise receive the messages
 * meant for the first), and a TCP listener reachable from other machines
 * without a key warns at start.
 */
import assert from "node:assert/strict";
import { Link } from "../../src/transport/link.ts";
import { isLoopback, LinkListener } from "../../src/transport/listener.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import {
  Inbox,
  kinds,
  Num,
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
  Deno.test(`${kind.name}: without a key, a second peer claiming a live identity is refused with TRANSPORT_DUPLICATE_IDENTITY`, async () => {
    const log = new RecordingLogger();
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      logger: log,
    });
    const firstInbox = new Inbox<Seen>();
    await using first = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "twin",
      handler: recorder(firstInbox),
    });
    const secondInbox = new Inbox<Seen>();
    // Reconnects on and no signal: the refusal is final, so connect rejects at once.
    const error = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "twin",
      handler: recorder(secondInbox),
    }).then(async (l) => {
      await l.close();
      return undefined;
    }, (e) => e);
    assert.ok(error instanceof TransportError, String(error));
    assert.equal(error.code, "TRANSPORT_DUPLICATE_IDENTITY");
    assert.match(error.message, /key/);
    assert.equal((await log.waitForCode("TRANSPORT_DUPLICATE_IDENTITY")).level, "error");
    // Messages for "twin" still reach the first one.
    listener.links.get("twin")!.write(Num, { n: 1, note: "for the first twin" });
    assert.equal((await firstInbox.count(1))[0]?.note, "for the first twin");
    assert.equal(secondInbox.items.length, 0);
    assert.equal(first.state, "open");
  });

  Deno.test(`${kind.name}: once the first peer has gone, its identity may link again`, async () => {
    await using listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
    });
    const first = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "solo",
    });
    await first.close();
    const inbox = new Inbox<Seen>();
    await using second = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "solo",
      handler: recorder(inbox),
    });
    listener.links.get("solo")!.write(Num, { n: 2, note: "" });
    assert.equal((await inbox.count(1))[0]?.n, 2);
    assert.equal(second.state, "open");
  });
}

Deno.test("a tcp listener reachable from other machines without a key warns at start", async () => {
  const open = new RecordingLogger();
  await (await LinkListener.listen(new TcpTransport({ hostname: "0.0.0.0", port: 0 }), {
    registry: registry(),
    identity: "exposed",
    logger: open,
  })).close();
  const warning = open.entries.find((e) => e.level === "warn");
  assert.ok(warning !== undefined, JSON.stringify(open.entries));
  assert.match(warning.message, /without a key/);
  assert.match(String(warning.fields?.fix), /key/);

  const keyed = new RecordingLogger();
  await (await LinkListener.listen(new TcpTransport({ hostname: "0.0.0.0", port: 0 }), {
    registry: registry(),
    identity: "keyed",
    key: "secret",
    logger: keyed,
  })).close();
  const local = new RecordingLogger();
  await (await LinkListener.listen(new TcpTransport({ port: 0 }), {
    registry: registry(),
    identity: "local",
    logger: local,
  })).close();
  assert.deepEqual([...keyed.entries, ...local.entries].filter((e) => e.level !== "info"), []);
});

Deno.test("loopback addresses are told apart from the others", () => {
  for (const a of ["127.0.0.1:1", "tls+127.0.0.1:1", "localhost:80", "[::1]:9", "127.1.2.3:4"]) {
    assert.equal(isLoopback(a), true, a);
  }
  for (const a of ["0.0.0.0:1", "10.0.0.1:2", "tls+example.com:443", "[::]:9", "192.168.1.1:3"]) {
    assert.equal(isLoopback(a), false, a);
  }
});
