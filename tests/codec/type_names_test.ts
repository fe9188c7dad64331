/**
 * Type names travel in the link handshake (`id name fingerprint` lines, split
 * on spaces) and in the fingerprint text (`id|name|key:kind:size|…`), so
 * `defineMessage` accepts only names that can break neither.
 */
import assert from "node:assert/strict";
import { defineMessage, field, type Fields, Registry } from "../../src/codec/mod.ts";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { assertCodecError, Rng } from "./_support.ts";

const KINDS = [
  field.u8(),
  field.u16(),
  field.u32(),
  field.u64(),
  field.i8(),
  field.i16(),
  field.i32(),
  field.i64(),
  field.f32(),
  field.f64(),
  field.bool(),
  field.u256(),
  field.bytes(1),
  field.bytes(20),
  field.bytes(4096),
  field.string(),
  field.varBytes(),
];

/** The fingerprint as docs/wire_format.md defines it, computed here independently. */
function specFingerprint(id: number, name: string, fields: Fields): string {
  const text = [
    `${id}`,
    name,
    ...Object.entries(fields).map(([k, f]) => `${k}:${f.kind}:${f.size}`),
  ]
    .join("|");
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  }
  return h.toString(16).padStart(16, "0");
}

Deno.test("defineMessage refuses a type name with a space (links split type lines on spaces)", () => {
  const err = assertCodecError(
    () => defineMessage({ id: 5, name: "Price Update", fields: { p: field.f64() } }),
    "CODEC_INVALID_SCHEMA",
    -1,
  );
  assert.match(err.message, /'Price Update'/);
  assert.match(err.message, /"Price_Update"/, "the error suggests a name that works");
});

Deno.test("defineMessage refuses names holding the fingerprint's separators, so no two schemas share a text", () => {
  // The pair: both gave the text `5|A|x:u8:1`.
  assertCodecError(
    () => defineMessage({ id: 5, name: "A|x:u8:1", fields: {} }),
    "CODEC_INVALID_SCHEMA",
    -1,
  );
  const real = defineMessage({ id: 5, name: "A", fields: { x: field.u8() } });
  assert.equal(real.fingerprint, specFingerprint(5, "A", { x: field.u8() }));
});

Deno.test("defineMessage accepts letters, digits, '_' and '.' up to 128 characters, and nothing else", () => {
  for (const good of ["A", "_", "V2Swap", "test.Num", "orders.v2.Placed", "a_b", "x".repeat(128)]) {
    assert.equal(defineMessage({ id: 9, name: good, fields: {} }).name, good);
  }
  const bad = [
    "a b",
    " A",
    "A ",
    "A\tB",
    "A\nB",
    "A|B",
    "A:B",
    "1A",
    ".A",
    "A-B",
    "A/B",
    "A#",
    "A$",
    "é",
    "Ａ", // fullwidth A
    "A\u0000",
    "x".repeat(129),
  ];
  for (const name of bad) {
    assertCodecError(
      () => defineMessage({ id: 9, name, fields: {} }),
      "CODEC_INVALID_SCHEMA",
      -1,
    );
  }
});

Deno.test("defineMessage refuses a topic with a line break or another control character", () => {
  for (const topic of ["a\nb", "a\rb", "\u0000", "tab\there", "del\u007f"]) {
    assertCodecError(
      () => defineMessage({ id: 9, name: "T", topic, fields: {} }),
      "CODEC_INVALID_SCHEMA",
      -1,
    );
  }
  for (const topic of ["market data", "mycelium.run", "#T", "é/ü"]) {
    assert.equal(defineMessage({ id: 9, name: "T", topic, fields: {} }).topic, topic);
  }
});

Deno.test("the fingerprint is the spec's text hashed, and the text reads back as one schema only", () => {
  const r = new Rng(41);
  const chars = "abcXYZ_$019";
  const seen = new Map<string, string>();
  for (let i = 0; i < 2000; i++) {
    const id = 1 + r.int(0xfeff);
    const nameChars = "ab_.Z9";
    let name = r.pick(["a", "Z", "_"]);
    for (let n = r.int(6); n > 0; n--) name += r.pick([...nameChars]);
    const fields: Record<string, (typeof KINDS)[number]> = {};
    for (let n = r.int(4); n > 0; n--) {
      let key = r.pick(["a", "b", "_", "$"]);
      for (let k = r.int(3); k > 0; k--) key += r.pick([...chars]);
      if (key === "type") continue;
      fields[key] = r.pick(KINDS);
    }
    const t = defineMessage({ id, name, fields });
    assert.equal(t.fingerprint, specFingerprint(id, name, fields));
    assert.match(t.fingerprint, /^[0-9a-f]{16}$/, "16 lower-case hex digits");
    // The text splits back into exactly the declared schema.
    const text = [
      `${id}`,
      name,
      ...Object.entries(fields).map(([k, f]) => `${k}:${f.kind}:${f.size}`),
    ]
      .join("|");
    const [idText, nameText, ...entries] = text.split("|");
    assert.equal(Number(idText), id);
    assert.equal(nameText, name);
    assert.deepStrictEqual(
      entries.map((e) => e.split(":")),
      Object.entries(fields).map(([k, f]) => [k, f.kind, `${f.size}`]),
    );
    const schema = JSON.stringify([
      id,
      name,
      Object.entries(fields).map(([k, f]) => [k, f.kind, f.size]),
    ]);
    const before = seen.get(text);
    assert.ok(before === undefined || before === schema, `two schemas share '${text}'`);
    seen.set(text, schema);
  }
});

Deno.test("two links whose types have dotted and underscored names link and exchange messages", async () => {
  const T = defineMessage({ id: 77, name: "orders.v2.Placed_Event", fields: { n: field.u32() } });
  const registry = new Registry([T]);
  const quiet = { error() {}, warn() {}, info() {} };
  const dir = await Deno.makeTempDir({ prefix: "mycelium_names_" });
  const got = Promise.withResolvers<number>();
  const listener = await LinkListener.listen(new UnixTransport({ path: `${dir}/n.sock` }), {
    registry,
    identity: "a",
    logger: quiet,
    handler: { message: (v) => got.resolve(T.isView(v) ? v.n : -1) },
  });
  const link = await Link.connect(listener.transport, { registry, identity: "b", logger: quiet });
  try {
    link.write(T, { n: 9 });
    assert.equal(await got.promise, 9);
  } finally {
    await link.close();
    await listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
