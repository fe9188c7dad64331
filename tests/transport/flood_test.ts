/**
 * Connection floods cost only themselves: silent and trickling (slowloris)
 * connections that fill every handshake slot do not keep a new peer out — the
 * listener cuts the least advanced of them, oldest first, and tells each one
 * cut `TRANSPORT_FLOOD` in an Error frame.
 *
 * (How fast a peer links and how a healthy stream fares under a flood is
 * measured in `bench/flood_bench.ts`; here only the order of events is
 * checked: the new peer links before any attacker's deadline has passed.)
 */
import assert from "node:assert/strict";
import { ErrorFrame, Hello } from "../../src/transport/_control.ts";
import { writeAll } from "../../src/transport/_handshake.ts";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import type { ByteListener, ByteStream, Transport } from "../../src/transport/transport.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import {
  Inbox,
  type Kind,
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

/** A plain socket to `transport`'s address (no TLS: an attacker need not get that far). */
function rawDial(kind: Kind, transport: Transport): Promise<Deno.Conn> {
  if (kind.name === "unix") return Deno.connect({ transport: "unix", path: transport.address });
  return Deno.connect({ hostname: "127.0.0.1", port: Number(transport.address.split(":").pop()) });
}

/** The first 7 bytes of a Hello header: a connection that has begun, and stalls. */
const TRICKLE = (() => {
  const h = new Uint8Array(12);
  const dv = new DataView(h.buffer);
  h[0] = 0x4d;
  h[1] = 1;
  dv.setUint16(2, Hello.id, true);
  dv.setUint32(8, 500, true);
  return h.subarray(0, 7);
})();

/** The code of the first Error frame the peer sends before closing, or `undefined`. */
async function toldCode(conn: ByteStream): Promise<string | undefined> {
  const buf = new Uint8Array(4096);
  let have = 0;
  try {
    for (;;) {
      const n = await conn.read(buf.subarray(have));
      if (n === null) break;
      have += n;
    }
  } catch {
    // Reset: what arrived counts.
  }
  closeQuietly(conn);
  if (have < 12) return undefined;
  const dv = new DataView(buf.buffer);
  if (dv.getUint16(2, true) !== ErrorFrame.id) return undefined;
  return ErrorFrame.decode(buf, 0).code;
}

/**
 * Lets the connections opened so far grow older than the 25 ms during which a
 * listener never cuts a new connection: the policy under test is about age.
 */
function pastGrace(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

function closeQuietly(conn: ByteStream): void {
  try {
    conn.close();
  } catch {
    // Closed by the listener.
  }
}

for (const kind of KINDS) {
  Deno.test(`${kind.name}: a new peer links while 70 slowloris and 300 silent connections hold every slot`, async () => {
    const log = new RecordingLogger();
    const inbox = new Inbox<Seen>();
    // 64 handshake slots; deadlines far longer than setting up the attack takes, so that linking
    // cannot come from attackers timing out.
    const listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      logger: log,
      handler: recorder(inbox),
      maxPendingHandshakes: 64,
      helloTimeoutMs: 30_000,
      handshakeTimeoutMs: 60_000,
    });
    const attackers: ByteStream[] = [];
    for (let i = 0; i < 70; i++) {
      // Through TLS too where the listener speaks it: the trickle reaches the handshake.
      const c = await listener.transport.dial();
      await writeAll(c, TRICKLE);
      attackers.push(c);
    }
    for (let i = 0; i < 300; i++) attackers.push(await rawDial(kind, listener.transport));
    // Every slot is taken, and has been since the 64th connection.
    const linked = await Link.connect(listener.transport, {
      registry: registry(),
      identity: "legit",
      reconnect: false,
    });
    // Linked before any attacker's deadline passed: not by waiting for the attackers to time out.
    assert.deepEqual(log.codes().filter((c) => c === "TRANSPORT_TIMEOUT"), []);
    // The attack did fill the slots: the listener had to cut (or turn away) its connections.
    assert.ok(listener.stats.cut > 0, `cut ${listener.stats.cut}`);
    assert.equal(listener.stats.authenticated, 1);
    linked.write(Num, { n: 1, note: "through the flood" });
    assert.equal((await inbox.count(1))[0]?.peer, "legit");
    await linked.close();
    for (const c of attackers) closeQuietly(c);
    await listener.close();
  });

  Deno.test(`${kind.name}: a connection cut to make room is told TRANSPORT_FLOOD`, async () => {
    const listener = await LinkListener.listen(kind.make(), {
      registry: registry(),
      identity: "server",
      logger: new RecordingLogger(),
      maxPendingHandshakes: 1,
    });
    const first = await listener.transport.dial();
    await pastGrace();
    const second = await listener.transport.dial();
    // The newcomer is not refused: the older silent connection makes room, and is told why.
    assert.equal(await toldCode(first), "TRANSPORT_FLOOD");
    assert.equal(listener.stats.cut, 1);
    closeQuietly(second);
    await listener.close();
  });
}

/**
 * A transport of kind "tcp" over a Unix socket whose accepted connections
 * claim the remote hosts given to `dialFrom`, in order: per-source rules
 * without needing several network addresses.
 */
class TaggedTransport implements Transport {
  readonly kind = "tcp" as const;
  readonly address: string;
  readonly #inner: UnixTransport;
  readonly #sources: string[] = [];
  constructor(path: string) {
    this.#inner = new UnixTransport({ path });
    this.address = path;
  }
  async listen(): Promise<ByteListener> {
    const inner = await this.#inner.listen();
    const sources = this.#sources;
    return {
      transport: this,
      async accept(): Promise<ByteStream> {
        const conn = await inner.accept();
        const hostname = sources.shift() ?? "";
        return {
          read: (b) => conn.read(b),
          write: (b) => conn.write(b),
          close: () => conn.close(),
          remoteAddr: { transport: "tcp", hostname, port: 1 },
        };
      },
      close: () => inner.close(),
    };
  }
  dial(signal?: AbortSignal): Promise<ByteStream> {
    return this.#inner.dial(signal);
  }
  /** Dials, and the listener will see the connection as coming from `host`. */
  dialFrom(host: string): Promise<ByteStream> {
    this.#sources.push(host);
    return this.#inner.dial();
  }
}

Deno.test("tcp: the address holding the most handshake slots pays for a newcomer from it", async () => {
  const transport = new TaggedTransport(`${scratch.dir}/tagged.sock`);
  const listener = await LinkListener.listen(transport, {
    registry: registry(),
    identity: "server",
    logger: new RecordingLogger(),
    maxPendingHandshakes: 2,
  });
  const neighbour = await transport.dialFrom("10.0.0.2");
  const flooder = await transport.dialFrom("10.0.0.1");
  await pastGrace();
  const flooderAgain = await transport.dialFrom("10.0.0.1");
  // All silent; the neighbour is the oldest, yet the flooder's own older connection is cut.
  assert.equal(await toldCode(flooder), "TRANSPORT_FLOOD");
  assert.equal(listener.stats.cut, 1);
  closeQuietly(neighbour);
  closeQuietly(flooderAgain);
  await listener.close();
});

/**
 * A Unix transport whose listener has room for `limit` open connections, as a
 * process with a low open-file limit does: past it, accepting a connection
 * that is waiting fails with `EMFILE` and the connection stays queued (it is
 * returned by the first `accept` after one of the open ones closed), as the
 * system does. With nothing waiting, `accept` waits.
 */
class FewDescriptors implements Transport {
  readonly kind = "unix" as const;
  readonly address: string;
  readonly #inner: UnixTransport;
  readonly #limit: number;
  /** Connections accepted and not closed yet. */
  open = 0;
  /** Accepts that failed for want of a descriptor. */
  refusedAccepts = 0;
  constructor(path: string, limit: number) {
    this.#inner = new UnixTransport({ path });
    this.address = path;
    this.#limit = limit;
  }
  async listen(): Promise<ByteListener> {
    const inner = await this.#inner.listen();
    let queued: ByteStream | undefined;
    const accept = async (): Promise<ByteStream> => {
      const conn = queued ?? await inner.accept();
      queued = undefined;
      if (this.open >= this.#limit) {
        queued = conn;
        this.refusedAccepts++;
        throw Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" });
      }
      this.open++;
      let closed = false;
      return {
        read: (b) => conn.read(b),
        write: (b) => conn.write(b),
        close: () => {
          if (!closed) {
            closed = true;
            this.open--;
          }
          conn.close();
        },
      };
    };
    return { transport: this, accept, close: () => inner.close() };
  }
  dial(signal?: AbortSignal): Promise<ByteStream> {
    return this.#inner.dial(signal);
  }
}

Deno.test("a listener out of file descriptors cuts a connection in its handshake to let a new peer in", async () => {
  const transport = new FewDescriptors(`${scratch.dir}/few.sock`, 20);
  const log = new RecordingLogger();
  // The default slots (far more than 20); deadlines far longer than the test, so linking cannot
  // come from attackers timing out.
  const listener = await LinkListener.listen(transport, {
    registry: registry(),
    identity: "server",
    logger: log,
    helloTimeoutMs: 30_000,
    handshakeTimeoutMs: 60_000,
  });
  const attackers: ByteStream[] = [];
  for (let i = 0; i < 20; i++) attackers.push(await transport.dial());
  await pastGrace();
  // The limit is reached, and nothing was cut while no one else waited.
  assert.equal(transport.open, 20);
  assert.equal(listener.stats.cut, 0);
  const linked = await Link.connect(transport, {
    registry: registry(),
    identity: "legit",
    reconnect: false,
    handshakeTimeoutMs: 5_000,
  });
  assert.ok(transport.refusedAccepts > 0, "the limit was reached");
  assert.equal(listener.stats.authenticated, 1);
  assert.ok(listener.stats.cut >= 1, `cut ${listener.stats.cut}`);
  // The oldest silent connection was cut first, and told why.
  assert.equal(await toldCode(attackers[0]!), "TRANSPORT_FLOOD");
  assert.deepEqual(log.codes().filter((c) => c === "TRANSPORT_TIMEOUT"), []);
  await linked.close();
  for (const c of attackers) closeQuietly(c);
  await listener.close();
});

Deno.test("a dialer cut by a flooded listener sees TRANSPORT_FLOOD", async () => {
  // A fake listener that cuts the first connection the way a flooded one does.
  const fake = await new UnixTransport({ path: `${scratch.dir}/fake.sock` }).listen();
  const cut = (async () => {
    const conn = await fake.accept();
    await conn.read(new Uint8Array(64 * 1024));
    await writeAll(
      conn,
      ErrorFrame.toBytes({ code: "TRANSPORT_FLOOD", message: "cut to make room", messageType: "" }),
    );
    conn.close();
  })();
  const error = await Link.connect(fake.transport, {
    registry: registry(),
    identity: "client",
    reconnect: false,
  }).then(() => undefined, (e) => e);
  await cut;
  fake.close();
  assert.ok(error instanceof TransportError);
  assert.equal(error.code, "TRANSPORT_FLOOD");
});
