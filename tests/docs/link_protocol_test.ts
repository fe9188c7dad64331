/**
 * docs/link_protocol.md and docs/wire_format.md are read by people who
 * implement Mycelium in another language, so what they state is checked
 * against the code: control frame layouts, flags and constants, the
 * fingerprint examples, and golden handshake transcripts produced by a real
 * keyed handshake (tests/testdata/link/).
 *
 * Regenerate the transcripts after a deliberate protocol change with
 * `MYCELIUM_UPDATE_GOLDEN=1 deno test -A tests/docs/link_protocol_test.ts`.
 */
import assert from "node:assert/strict";
import {
  defineMessage,
  type Field,
  field,
  type MessageType,
  Registry,
} from "../../src/codec/mod.ts";
import {
  Announce,
  Auth,
  Close,
  Envelope,
  ErrorFrame,
  FLAG_ACK_REQUEST,
  FLAG_ROUTED,
  Heartbeat,
  Hello,
  LINK_PROTOCOL_VERSION,
  Ready,
} from "../../src/transport/_control.ts";
import { HANDSHAKE_MAX_FRAME } from "../../src/transport/_handshake.ts";
import { LinkCredit, RequestFailed } from "../../src/bus/link_peer.ts";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import type { ByteStream, Transport } from "../../src/transport/transport.ts";
import { UnixTransport } from "../../src/transport/unix.ts";

const ROOT = new URL("../../", import.meta.url);
const readDoc = (name: string) => Deno.readTextFile(new URL(`docs/${name}`, ROOT));

/** The rows of the first table after `heading` (a line starting with it), as cells. */
function tableAfter(doc: string, heading: string): string[][] {
  const start = doc.split("\n").findIndex((line) => line.startsWith(heading));
  assert.ok(start >= 0, `no heading '${heading}'`);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of doc.split("\n").slice(start + 1)) {
    if (line.startsWith("#")) break;
    if (line.startsWith("|")) {
      inTable = true;
      const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
      if (!cells.every((c) => /^-+:?$/.test(c))) rows.push(cells);
    } else if (inTable) break;
  }
  return rows.slice(1); // without the header row
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, "");

/** A field descriptor from the spec's spelling of its kind. */
function kindOf(spelling: string): Field {
  const bytes = /^bytes\((\d+)\)$/.exec(spelling);
  if (bytes) return field.bytes(Number(bytes[1]));
  const builders: Record<string, () => Field> = {
    u8: field.u8,
    u16: field.u16,
    u32: field.u32,
    u64: field.u64,
    i8: field.i8,
    i16: field.i16,
    i32: field.i32,
    i64: field.i64,
    f32: field.f32,
    f64: field.f64,
    bool: field.bool,
    u256: field.u256,
    string: field.string,
    varBytes: field.varBytes,
    varbytes: field.varBytes,
  };
  const make = builders[spelling];
  assert.ok(make !== undefined, `unknown kind '${spelling}'`);
  return make();
}

const CONTROL: readonly [string, MessageType][] = [
  ["Hello", Hello],
  ["Auth", Auth],
  ["Ready", Ready],
  ["Heartbeat", Heartbeat],
  ["Announce", Announce],
  ["Envelope", Envelope],
  ["Error", ErrorFrame],
  ["Close", Close],
];

for (const [name, type] of CONTROL) {
  Deno.test(`link_protocol.md gives ${name}'s id, fields, kinds and offsets as the code has them`, async () => {
    const doc = await readDoc("link_protocol.md");
    const heading = `### ${name} (\`0x${type.id.toString(16).toUpperCase()}\`)`;
    const rows = tableAfter(doc, heading);
    const fields = Object.entries(type.fields);
    assert.deepStrictEqual(rows.map((r) => unquote(r[0]!)), fields.map(([k]) => k));
    let offset = 0;
    for (const [i, [key, f]] of fields.entries()) {
      const [, kind, at] = rows[i]!;
      const spec = kindOf(unquote(kind!));
      assert.deepStrictEqual([spec.kind, spec.size], [f.kind, f.size], `${name}.${key} kind`);
      if (f.size === 0) assert.equal(at, "—", `${name}.${key} is variable`);
      else {
        assert.equal(Number(at), offset, `${name}.${key} offset`);
        offset += f.size;
      }
    }
    const section = doc.slice(doc.indexOf(heading));
    const size = /Fixed block (\d+) bytes/.exec(section);
    assert.equal(Number(size?.[1]), type.fixedSize, `${name} fixed block`);
  });
}

Deno.test("link_protocol.md gives the flag bits, protocol version, handshake frame limit and labels of the code", async () => {
  const doc = await readDoc("link_protocol.md");
  const flags = Object.fromEntries(
    tableAfter(doc, "### Message frames and flags").map((
      r,
    ) => [unquote(r[1]!), Number(unquote(r[0]!))]),
  );
  assert.deepStrictEqual(flags, { ROUTED: FLAG_ROUTED, ACK_REQUEST: FLAG_ACK_REQUEST });
  assert.ok(doc.includes(`| link protocol version: \`${LINK_PROTOCOL_VERSION}\``));
  assert.ok(doc.includes(`at most ${HANDSHAKE_MAX_FRAME.toLocaleString("en")} bytes`));
  const source = await Deno.readTextFile(new URL("src/transport/_handshake.ts", ROOT));
  for (const label of doc.matchAll(/`"(mycelium-link-1 [a-z]+ proof)"`/g)) {
    assert.ok(source.includes(`"${label[1]}"`), `label ${label[1]}`);
  }
});

Deno.test("link_protocol.md gives the type lines of the bus's own messages as the code has them", async () => {
  const doc = await readDoc("link_protocol.md");
  for (const t of [LinkCredit, RequestFailed]) {
    assert.ok(doc.includes(`\`${t.id} ${t.name} ${t.fingerprint}\``), t.name);
    assert.ok(
      doc.includes(`\`${t.name}\` message (\`0x${t.id.toString(16).toUpperCase()}\`: `),
      t.name,
    );
  }
});

Deno.test("link_protocol.md lists exactly the error codes a link reports from a peer's Error frame", async () => {
  const doc = await readDoc("link_protocol.md");
  const listed = tableAfter(doc, "## Errors and close").map((r) => unquote(r[0]!)).sort();
  const source = await Deno.readTextFile(new URL("src/transport/_handshake.ts", ROOT));
  const block = /const PEER_CODES[^[]*\[([^\]]*)\]/.exec(source);
  assert.ok(block !== null, "PEER_CODES in _handshake.ts");
  const known = [...block[1]!.matchAll(/"(TRANSPORT_[A-Z_]+)"/g)].map((m) => m[1]).sort();
  assert.deepStrictEqual(listed, known);
});

Deno.test("wire_format.md's fingerprint examples are what defineMessage gives", async () => {
  const doc = await readDoc("wire_format.md");
  const rows = tableAfter(doc, "Examples:");
  assert.ok(rows.length >= 3);
  for (const [, textCell, fp] of rows) {
    const text = unquote(textCell!).replaceAll("\\|", "|");
    const [id, name, ...parts] = text.split("|");
    const fields = Object.fromEntries(parts.map((p) => {
      const [key, kind, size] = p.split(":");
      return [key!, kind === "bytes" ? field.bytes(Number(size)) : kindOf(kind!)];
    }));
    const type = defineMessage({ id: Number(id), name: name!, fields });
    assert.equal(type.fingerprint, unquote(fp!), text);
  }
});

Deno.test("wire_format.md's id range is the one defineMessage enforces", async () => {
  const doc = await readDoc("wire_format.md");
  assert.match(doc, /`defineMessage` accepts ids 1 to `0xFEFF` \(65279\)/);
  for (const id of [1, 0xfeef, 0xfef0, 0xfeff]) {
    assert.equal(defineMessage({ id, name: "T", fields: {} }).id, id);
  }
  for (const id of [0, 0xff00, 0xffff]) {
    assert.throws(
      () => defineMessage({ id, name: "T", fields: {} }),
      /CODEC_INVALID_SCHEMA|id must/,
    );
  }
});

// ------------------------------------------------------------------ golden handshake transcripts

/** Fixed inputs of the keyed transcript. */
const GOLDEN_KEY = "golden shared key";
const GOLDEN: readonly { file: URL; key: string | undefined }[] = [
  { file: new URL("tests/testdata/link/handshake_keyed.txt", ROOT), key: GOLDEN_KEY },
  { file: new URL("tests/testdata/link/handshake_keyless.txt", ROOT), key: undefined },
];
const GoldenNote = defineMessage({
  id: 19,
  name: "golden.Note",
  fields: { n: field.u32(), text: field.string() },
});
const GoldenAck = defineMessage({ id: 20, name: "golden.Ack", fields: { ok: field.bool() } });

/** Bytes that crossed one connection, in each direction, in order. */
class Recorded {
  readonly toAcceptor: Uint8Array[] = [];
  readonly toDialer: Uint8Array[] = [];
}

/** A Unix transport whose dialed streams record what they write and read. */
function recording(inner: Transport, into: Recorded): Transport {
  return {
    kind: inner.kind,
    address: inner.address,
    listen: () => inner.listen(),
    async dial(signal?: AbortSignal): Promise<ByteStream> {
      const s = await inner.dial(signal);
      return {
        async read(buffer) {
          const n = await s.read(buffer);
          if (n !== null) into.toDialer.push(buffer.slice(0, n));
          return n;
        },
        async write(bytes) {
          const n = await s.write(bytes);
          into.toAcceptor.push(bytes.slice(0, n));
          return n;
        },
        close: () => s.close(),
      };
    },
  };
}

/** Runs `fn` with `crypto.getRandomValues` filling call k's bytes with k·16 + i (mod 256). */
async function withFixedRandom<T>(fn: () => Promise<T>): Promise<T> {
  let call = 0;
  const fake = <A extends ArrayBufferView | null>(array: A): A => {
    call++;
    if (array !== null) {
      const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (call * 16 + i) & 0xff;
    }
    return array;
  };
  Object.defineProperty(crypto, "getRandomValues", { value: fake, configurable: true });
  try {
    return await fn();
  } finally {
    delete (crypto as { getRandomValues?: unknown }).getRandomValues;
  }
}

/** The frames of `chunks`: [type id, frame bytes]. */
function framesOf(chunks: readonly Uint8Array[]): Uint8Array[] {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const out: Uint8Array[] = [];
  for (let p = 0; p + 12 <= all.length;) {
    const end = p + 12 + new DataView(all.buffer, p + 8, 4).getUint32(0, true);
    if (end > all.length) break;
    out.push(all.slice(p, end));
    p = end;
  }
  return out;
}

const NAMES = new Map(CONTROL.map(([name, type]) => [type.id, name]));

function hexLines(frame: Uint8Array): string[] {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
  const lines = [`${hex(frame.subarray(0, 12))}  # header`];
  for (let i = 12; i < frame.length; i += 16) lines.push(hex(frame.subarray(i, i + 16)));
  return lines;
}

/** Runs a real keyed handshake with fixed inputs and renders its transcript. */
async function produceTranscript(key: string | undefined): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_golden_" });
  const quiet = { error() {}, warn() {}, info() {} };
  const rec = new Recorded();
  try {
    return await withFixedRandom(async () => {
      const registryA = new Registry([GoldenNote, GoldenAck]);
      const registryD = new Registry([GoldenNote]);
      const listener = await LinkListener.listen(new UnixTransport({ path: `${dir}/g.sock` }), {
        registry: registryA,
        identity: "golden-acceptor",
        ...(key === undefined ? {} : { key }),
        logger: quiet,
      });
      const link = await Link.connect(recording(listener.transport, rec), {
        registry: registryD,
        identity: "golden-dialer",
        ...(key === undefined ? {} : { key }),
        logger: quiet,
        reconnect: false,
      });
      await link.close();
      await listener.close();
      const toAcceptor = framesOf(rec.toAcceptor).filter((f) =>
        NAMES.get(typeIdOf(f)) !== "Announce"
      );
      const toDialer = framesOf(rec.toDialer).filter((f) => NAMES.get(typeIdOf(f)) !== "Announce");
      const hs = [
        [">", toAcceptor[0]!],
        ["<", toDialer[0]!],
        ["<", toDialer[1]!],
        [">", toAcceptor[1]!],
        ["<", toDialer[2]!],
      ] as const;
      const hello = (f: Uint8Array) => Hello.decode(f);
      const d = hello(hs[0][1]);
      const a = hello(hs[1][1]);
      const lines = [
        `# Golden transcript of a ${key === undefined ? "keyless" : "keyed"} link handshake ` +
        "(docs/link_protocol.md), produced by",
        "# tests/docs/link_protocol_test.ts with fixed inputs; `>` dialer to acceptor, `<` back.",
        key === undefined
          ? "# key: none (both proofs are empty)"
          : `# key: ${JSON.stringify(key)} (its UTF-8 bytes are the HMAC key)`,
        `# dialer: identity ${JSON.stringify(d.identity)}, boot id ${d.bootId}, nonce ${
          hex(d.nonce)
        }`,
        `# acceptor: identity ${JSON.stringify(a.identity)}, boot id ${a.bootId}, nonce ${
          hex(a.nonce)
        }`,
        `# dialer types: ${JSON.stringify(d.types)}`,
        `# acceptor types: ${JSON.stringify(a.types)}`,
      ];
      for (const [dir, frame] of hs) {
        lines.push("", `${dir} ${NAMES.get(typeIdOf(frame))}`, ...hexLines(frame));
      }
      return lines.join("\n") + "\n";
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function typeIdOf(frame: Uint8Array): number {
  return frame[2]! | (frame[3]! << 8);
}

for (const { file, key } of GOLDEN) {
  const name = key === undefined ? "keyless" : "keyed";
  Deno.test(`a ${name} handshake with fixed inputs still produces the golden transcript`, async () => {
    const produced = await produceTranscript(key);
    if (Deno.env.get("MYCELIUM_UPDATE_GOLDEN") === "1") {
      await Deno.mkdir(new URL(".", file), { recursive: true });
      await Deno.writeTextFile(file, produced);
    }
    const golden = await Deno.readTextFile(file);
    assert.equal(produced, golden);
    // The transcript shows the order the spec gives.
    const order = [...golden.matchAll(/^([<>]) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepStrictEqual(order, ["> Hello", "< Hello", "< Auth", "> Auth", "< Ready"]);
  });
}
