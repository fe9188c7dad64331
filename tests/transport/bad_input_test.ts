/**
 * Bad input over real sockets, against every transport: each case closes the
 * offending connection with a typed, logged error, and the listener and the
 * other links keep working.
 */
import assert from "node:assert/strict";
import { Hello, LINK_PROTOCOL_VERSION } from "../../src/transport/_control.ts";
import { handshake, typeLines, writeAll } from "../../src/transport/_handshake.ts";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import type { ByteStream, Transport } from "../../src/transport/transport.ts";
import type { TransportError } from "../../src/transport/transport_error.ts";
import { CodecError } from "../../src/codec/mod.ts";
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

/** A listener with one healthy link, to prove the bad connection harmed nothing else. */
async function setup(
  kind: Kind,
  options: { peerTimeoutMs?: number; handshakeTimeoutMs?: number; maxPendingHandshakes?: number } =
    {},
) {
  const log = new RecordingLogger();
  const inbox = new Inbox<Seen>();
  const listener = await LinkListener.listen(kind.make(), {
    registry: registry(),
    identity: "server",
    logger: log,
    handler: recorder(inbox),
    ...options,
  });
  const healthy = await Link.connect(listener.transport, {
    registry: registry(),
    identity: "healthy",
    logger: new RecordingLogger(),
    heartbeatMs: 30,
  });
  return {
    log,
    listener,
    /** Checks the listener still works: the old link delivers, and a new one connects. */
    async stillWorks(): Promise<void> {
      healthy.write(Num, { n: 1, note: "old link" });
      await inbox.count(1);
      const fresh = await Link.connect(listener.transport, {
        registry: registry(),
        identity: "fresh",
        logger: new RecordingLogger(),
        heartbeatMs: 30,
      });
      fresh.write(Num, { n: 2, note: "new link" });
      const got = await inbox.count(2);
      assert.deepEqual(got.map((s) => `${s.peer}:${s.n}`).sort(), ["fresh:2", "healthy:1"]);
      await fresh.close();
    },
    async [Symbol.asyncDispose]() {
      await healthy.close();
      await listener.close();
    },
  };
}

/** A raw connection that completed the handshake as identity `who`. */
async function rawLink(transport: Transport, who: string): Promise<ByteStream> {
  const stream = await transport.dial();
  await handshake(stream, {
    role: "dialer",
    identity: who,
    registry: registry(),
    key: undefined,
    maxFrameSize: 1 << 20,
    timeoutMs: 5000,
    bootId: 12345,
    bind: () => 12345,
    resumePoint: (peer) => ({ received: 0, ref: peer.bootId }),
  });
  return stream;
}

/** Reads until the peer closes (so the socket is released); ignores errors. */
async function drain(stream: ByteStream): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    while (await stream.read(buf) !== null) { /* discard */ }
  } catch {
    // Reset by the peer: also closed.
  }
  try {
    stream.close();
  } catch {
    // Already closed.
  }
}

function header(typeId: number, bodyLength: number, version = 1): Uint8Array {
  const h = new Uint8Array(12);
  const dv = new DataView(h.buffer);
  h[0] = 0x4d;
  h[1] = version;
  dv.setUint16(2, typeId, true);
  dv.setUint32(8, bodyLength, true);
  return h;
}

function errorOf(
  entry: { fields?: Readonly<Record<string, unknown>> | undefined },
): TransportError {
  return entry.fields?.error as TransportError;
}

for (const kind of KINDS) {
  Deno.test(`${kind.name}: garbage bytes instead of a handshake are refused`, async () => {
    await using s = await setup(kind);
    const raw = await s.listener.transport.dial();
    await writeAll(raw, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const entry = await s.log.waitForCode("TRANSPORT_HANDSHAKE");
    assert.equal(entry.level, "error");
    assert.ok(errorOf(entry).cause instanceof CodecError);
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: a frame of another wire version is refused`, async () => {
    await using s = await setup(kind);
    const raw = await s.listener.transport.dial();
    await writeAll(raw, header(Hello.id, 0, 9));
    const entry = await s.log.waitForCode("TRANSPORT_HANDSHAKE");
    assert.equal((errorOf(entry).cause as CodecError).code, "CODEC_BAD_VERSION");
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: a peer of another link protocol version is refused`, async () => {
    await using s = await setup(kind);
    const raw = await s.listener.transport.dial();
    await writeAll(
      raw,
      Hello.toBytes({
        protocol: LINK_PROTOCOL_VERSION + 1,
        bootId: 1,
        maxFrameSize: 1 << 20,
        nonce: new Uint8Array(32),
        identity: "from-the-future",
        types: typeLines(registry()),
      }),
    );
    const entry = await s.log.waitForCode("TRANSPORT_VERSION");
    assert.match(errorOf(entry).message, /from-the-future.*protocol 2/);
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: an oversize handshake frame is refused before its body arrives`, async () => {
    await using s = await setup(kind);
    const raw = await s.listener.transport.dial();
    await writeAll(raw, header(Hello.id, 100 * 1024 * 1024));
    const entry = await s.log.waitForCode("TRANSPORT_HANDSHAKE");
    assert.equal((errorOf(entry).cause as CodecError).code, "CODEC_FRAME_TOO_LARGE");
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: half a handshake then silence times out`, async () => {
    await using s = await setup(kind, { handshakeTimeoutMs: 150 });
    const raw = await s.listener.transport.dial();
    await writeAll(raw, header(Hello.id, 500).subarray(0, 7));
    await s.log.waitForCode("TRANSPORT_TIMEOUT");
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: garbage after the handshake closes that link only`, async () => {
    await using s = await setup(kind);
    const raw = await rawLink(s.listener.transport, "vandal");
    await writeAll(raw, new Uint8Array(64).fill(0xee));
    const entry = await s.log.waitForCode("TRANSPORT_PROTOCOL");
    assert.equal(errorOf(entry).peer, "vandal");
    assert.equal((errorOf(entry).cause as CodecError).code, "CODEC_BAD_MAGIC");
    await drain(raw);
    await s.stillWorks();
    assert.equal(s.listener.links.has("vandal"), false);
  });

  Deno.test(`${kind.name}: an oversize frame after the handshake is refused at its header`, async () => {
    await using s = await setup(kind);
    const raw = await rawLink(s.listener.transport, "bloater");
    await writeAll(raw, header(Num.id, 0xffff_fff0));
    const entry = await s.log.waitForCode("TRANSPORT_PROTOCOL");
    assert.equal((errorOf(entry).cause as CodecError).code, "CODEC_FRAME_TOO_LARGE");
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: a frame of an unknown type is refused`, async () => {
    await using s = await setup(kind);
    const raw = await rawLink(s.listener.transport, "stranger");
    await writeAll(raw, header(4242, 0));
    const entry = await s.log.waitForCode("TRANSPORT_PROTOCOL");
    assert.equal((errorOf(entry).cause as CodecError).code, "CODEC_UNKNOWN_TYPE");
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: half a frame then a stall times out`, async () => {
    await using s = await setup(kind, { peerTimeoutMs: 150 });
    const raw = await rawLink(s.listener.transport, "staller");
    const frame = Num.toBytes({ n: 1, note: "never finished" });
    await writeAll(raw, frame.subarray(0, frame.length - 3));
    const entry = await s.log.waitForCode("TRANSPORT_TIMEOUT");
    assert.equal(errorOf(entry).peer, "staller");
    await drain(raw);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: a truncated frame then a hang-up is reported`, async () => {
    await using s = await setup(kind);
    const raw = await rawLink(s.listener.transport, "truncator");
    const frame = Num.toBytes({ n: 1, note: "cut short" });
    await writeAll(raw, frame.subarray(0, 10));
    raw.close();
    const entry = await s.log.waitFor((e) =>
      e.message === "link connection ended" && errorOf(e).peer === "truncator"
    );
    assert.equal(errorOf(entry).code, "TRANSPORT_CLOSED");
    assert.match(errorOf(entry).message, /mid-frame \(10 bytes/);
    await s.stillWorks();
  });

  Deno.test(`${kind.name}: a connection flood is capped and the listener recovers`, async () => {
    await using s = await setup(kind, { maxPendingHandshakes: 2, handshakeTimeoutMs: 300 });
    const idle: ByteStream[] = [];
    for (let i = 0; i < 6; i++) idle.push(await s.listener.transport.dial());
    // Each idle connection ends cut to make room (how many depends on how fast they came:
    // none younger than 25 ms is cut) or timed out; every one of them ends.
    const ended = () =>
      s.log.codes().filter((c) => c === "TRANSPORT_FLOOD" || c === "TRANSPORT_TIMEOUT").length;
    await s.log.waitFor(() => ended() >= 6);
    assert.equal(ended(), 6);
    assert.ok(s.log.codes().filter((c) => c === "TRANSPORT_FLOOD").length <= 4);
    await Promise.all(idle.map(drain));
    await s.stillWorks();
  });
}
