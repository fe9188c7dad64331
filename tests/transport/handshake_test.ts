/**
 * The handshake against peers that get it wrong, over real sockets of every
 * kind: malformed Hello bodies, from either side, are refused with an Error
 * frame and `TRANSPORT_HANDSHAKE` on both sides.
 */
import assert from "node:assert/strict";
import { ErrorFrame, Hello, LINK_PROTOCOL_VERSION } from "../../src/transport/_control.ts";
import { typeLines, writeAll } from "../../src/transport/_handshake.ts";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import type { ByteStream } from "../../src/transport/transport.ts";
import { TransportError } from "../../src/transport/transport_error.ts";
import { kinds, RecordingLogger, registry, Scratch } from "./_helpers.ts";

const scratch = await Scratch.create();
globalThis.addEventListener("unload", () => Deno.removeSync(scratch.dir, { recursive: true }));
const KINDS = await kinds(scratch);

/** Header (12) + Hello's fixed block (protocol 2, boot 8, max frame 4, nonce 32). */
const IDENTITY_ENTRY = 12 + 2 + 8 + 4 + 32;

/** A Hello from "mangler" (or `identity`), then broken by `spoil`. */
function hello(spoil: (frame: Uint8Array, dv: DataView) => void, identity = "mangler"): Uint8Array {
  const frame = Hello.toBytes({
    protocol: LINK_PROTOCOL_VERSION,
    bootId: 7,
    maxFrameSize: 1 << 20,
    nonce: new Uint8Array(32),
    identity,
    types: typeLines(registry()),
  });
  spoil(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength));
  return frame;
}

const MALFORMED: Record<string, () => Uint8Array> = {
  "an identity that is not UTF-8": () =>
    hello((frame) => {
      frame[IDENTITY_ENTRY + 4] = 0xff;
      frame[IDENTITY_ENTRY + 5] = 0xfe;
    }),
  "an entry running past the frame": () =>
    hello((_frame, dv) => dv.setUint32(IDENTITY_ENTRY, 100_000, true)),
  "an empty identity": () => hello(() => {}, ""),
};

/** Everything the other side sends until it closes. */
async function readAll(stream: ByteStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await stream.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch {
    // Reset by the peer: what arrived before counts.
  }
  try {
    stream.close();
  } catch {
    // Already closed.
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The code of the Error frame among `bytes` (frames in order), or undefined. */
function errorCodeIn(bytes: Uint8Array): string | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 12 <= bytes.length;) {
    const id = dv.getUint16(at + 2, true);
    if (id === ErrorFrame.id) return ErrorFrame.decode(bytes, at).code;
    at += 12 + dv.getUint32(at + 8, true);
  }
  return undefined;
}

for (const kind of KINDS) {
  for (const [what, malformed] of Object.entries(MALFORMED)) {
    Deno.test(`${kind.name}: a listener answers a Hello with ${what} with TRANSPORT_HANDSHAKE`, async () => {
      const log = new RecordingLogger();
      await using listener = await LinkListener.listen(kind.make(), {
        registry: registry(),
        identity: "server",
        logger: log,
      });
      const raw = await listener.transport.dial();
      await writeAll(raw, malformed());
      const answer = await readAll(raw);
      const logged = await log.waitFor((e) => e.message === "connection refused");
      assert.equal((logged.fields?.error as TransportError).code, "TRANSPORT_HANDSHAKE");
      assert.equal(errorCodeIn(answer), "TRANSPORT_HANDSHAKE");
      assert.equal(listener.links.size, 0);
    });

    Deno.test(`${kind.name}: a dialer answers a Hello with ${what} with TRANSPORT_HANDSHAKE`, async () => {
      // A fake acceptor: reads the dialer's Hello, answers with a spoiled one.
      const fake = await kind.make().listen();
      const served = (async () => {
        const conn = await fake.accept();
        const first = new Uint8Array(64 * 1024);
        await conn.read(first);
        await writeAll(conn, malformed());
        return await readAll(conn);
      })();
      const error = await Link.connect(fake.transport, {
        registry: registry(),
        identity: "client",
        logger: new RecordingLogger(),
      }).then(() => undefined, (e) => e);
      const answer = await served;
      fake.close();
      assert.ok(error instanceof TransportError, String(error));
      assert.equal(error.code, "TRANSPORT_HANDSHAKE");
      assert.equal(errorCodeIn(answer), "TRANSPORT_HANDSHAKE");
    });
  }
}
