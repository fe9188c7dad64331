import assert from "node:assert/strict";
import {
  defineMessage,
  field,
  FrameSplitter,
  HEADER_SIZE,
  type MessageType,
  Registry,
} from "../../src/codec/mod.ts";
import type { Fields } from "../../src/codec/field.ts";
import { ArbitrageSignal, V2Swap } from "../../examples/trading/messages.ts";
import {
  AllKinds,
  assertCodecError,
  boundaryMessages,
  Chat,
  Empty,
  randomMessage,
  Rng,
} from "./_support.ts";

const TYPES: readonly MessageType[] = [AllKinds, Chat, Empty, V2Swap, ArbitrageSignal];
const registry = new Registry(TYPES);

/** Every field of `view`, read through its getter, equals the message's. */
function assertViewReads(view: Record<string, unknown>, message: Record<string, unknown>): void {
  for (const name of Object.keys(message)) {
    assert.deepStrictEqual(view[name], message[name], `getter '${name}'`);
  }
}

/** Checks one message through every read path, encoded alone and inside a slab at `offset`. */
function roundTrip(
  type: MessageType,
  message: Record<string, unknown>,
  r: Rng,
  registered = true,
): void {
  const bytes = type.toBytes(message as never);
  assert.equal(bytes.length, type.encodedSize(message as never), "encodedSize");

  assert.deepStrictEqual(type.decode(bytes), message, "decode");
  const view = type.view(bytes) as unknown as Record<string, unknown>;
  assertViewReads(view, message);
  assert.equal(view.type, type);
  assert.ok(type.isView(view));
  assert.deepStrictEqual((view as { toObject(): unknown }).toObject(), message, "toObject");

  const reg = registered ? registry : new Registry([type]);
  const decoded = reg.decode(bytes);
  assert.equal(decoded.type, type);
  assert.deepStrictEqual(decoded.message, message, "Registry.decode");
  const rview = reg.view(bytes);
  assert.ok(type.isView(rview));
  assertViewReads(rview as unknown as Record<string, unknown>, message);

  // The same frame somewhere inside a larger buffer.
  const offset = r.int(50);
  const slab = new Uint8Array(offset + bytes.length + r.int(50)).fill(0xa5);
  assert.equal(type.encode(message as never, slab, offset), offset + bytes.length);
  assert.deepStrictEqual(slab.subarray(offset, offset + bytes.length), bytes);
  assert.deepStrictEqual(type.decode(slab, offset), message, "decode at offset");
  assertViewReads(type.view(slab, offset) as unknown as Record<string, unknown>, message);
  assert.deepStrictEqual(reg.decode(slab, offset).message, message);
}

for (const type of TYPES) {
  Deno.test(`${type.name} round-trips boundary values through every read path`, () => {
    const r = new Rng(1);
    for (const m of boundaryMessages(type.fields)) roundTrip(type, m, r);
  });

  Deno.test(`${type.name} round-trips 400 seeded random messages through every read path`, () => {
    const r = new Rng(type.id);
    for (let i = 0; i < 400; i++) roundTrip(type, randomMessage(r, type.fields), r);
  });
}

Deno.test("round trip keeps -0, NaN and the infinities in float fields", () => {
  const F = defineMessage({ id: 9, name: "F", fields: { a: field.f32(), b: field.f64() } });
  for (const v of [-0, NaN, Infinity, -Infinity]) {
    const back = F.decode(F.toBytes({ a: v, b: v }));
    assert.ok(Object.is(back.a, v), `f32 ${v}`);
    assert.ok(Object.is(back.b, v), `f64 ${v}`);
    const view = F.view(F.toBytes({ a: v, b: v }));
    assert.ok(Object.is(view.a, v) && Object.is(view.b, v));
  }
});

Deno.test("an f32 field stores the nearest f32 (documented precision loss)", () => {
  const F = defineMessage({ id: 9, name: "F", fields: { a: field.f32() } });
  assert.equal(F.decode(F.toBytes({ a: 0.1 })).a, Math.fround(0.1));
});

Deno.test("decode copies byte fields out of the frame; a view shares them", () => {
  const m = randomMessage(new Rng(3), AllKinds.fields, 0) as AllKinds;
  const bytes = AllKinds.toBytes(m);
  const decoded = AllKinds.decode(bytes);
  const view = AllKinds.view(bytes);
  assert.equal(view.addr.buffer, bytes.buffer);
  assert.equal(view.blob.buffer, bytes.buffer);
  const snapshot = view.toObject();
  bytes.fill(0x33, HEADER_SIZE);
  assert.deepStrictEqual(decoded.addr, m.addr);
  assert.deepStrictEqual(decoded.blob, m.blob);
  assert.deepStrictEqual(snapshot.addr, m.addr);
  assert.deepStrictEqual(snapshot.blob, m.blob);
  assert.deepStrictEqual(view.addr, new Uint8Array(4).fill(0x33));
});

Deno.test("many frames of several types encode back to back into one slab at moving offsets", () => {
  const r = new Rng(77);
  const slab = new Uint8Array(256 * 1024);
  const sent: [MessageType, Record<string, unknown>, number][] = [];
  let end = r.int(8); // the first frame need not start at 0
  const start = end;
  while (true) {
    const type = r.pick(TYPES);
    const m = randomMessage(r, type.fields);
    if (end + type.encodedSize(m as never) > slab.length) break;
    const at = end;
    end = type.encode(m as never, slab, at);
    sent.push([type, m, at]);
  }
  assert.ok(sent.length > 500, `only ${sent.length} frames fit`);

  // Earlier frames are untouched by later ones.
  for (const [type, m, at] of sent) {
    assert.deepStrictEqual(type.decode(slab, at), m);
    const got = registry.decode(slab, at);
    assert.equal(got.type, type);
    assert.deepStrictEqual(got.message, m);
  }

  // And a splitter, fed the stream in random chunks, finds the same frames.
  const splitter = new FrameSplitter({ slabSize: 4096 });
  const got: Record<string, unknown>[] = [];
  for (let p = start; p < end;) {
    const n = Math.min(end - p, 1 + r.int(3000));
    splitter.push(slab.subarray(p, p + n));
    p += n;
    for (let f = splitter.next(); f >= 0; f = splitter.next()) {
      const view = registry.viewChecked(splitter.buffer, splitter.dataView, f);
      got.push(view.toObject());
    }
  }
  assert.equal(splitter.buffered, 0);
  assert.deepStrictEqual(got, sent.map(([, m]) => m));
});

Deno.test("a buffer over a resizable ArrayBuffer is used within its current length", () => {
  const m = randomMessage(new Rng(9), Chat.fields) as Chat;
  const size = Chat.encodedSize(m);
  const buffer = new ArrayBuffer(8, { maxByteLength: 4 * size });
  const bytes = new Uint8Array(buffer); // tracks the buffer's length
  assertCodecError(() => Chat.encode(m, bytes, 0), "CODEC_BUFFER_TOO_SMALL", 0);
  assertCodecError(() => Chat.decode(bytes, 0), "CODEC_TRUNCATED", 0);
  buffer.resize(4 * size);
  assert.equal(Chat.encode(m, bytes, size), 2 * size);
  assert.deepStrictEqual(Chat.decode(bytes, size), m);
  buffer.resize(size + 12);
  assertCodecError(() => Chat.decode(bytes, size), "CODEC_TRUNCATED", size);
});

Deno.test("frames encode into and decode from a subarray that starts inside its buffer", () => {
  const r = new Rng(10);
  const big = new Uint8Array(4096);
  const window = big.subarray(100, 3000);
  for (let i = 0; i < 50; i++) {
    const m = randomMessage(r, AllKinds.fields) as AllKinds;
    const at = r.int(200);
    const end = AllKinds.encode(m, window, at);
    assert.deepStrictEqual(big.subarray(100 + at, 100 + end), AllKinds.toBytes(m));
    assert.deepStrictEqual(AllKinds.decode(window, at), m);
    assert.deepStrictEqual(AllKinds.decode(window.subarray(at, end)), m);
    assert.deepStrictEqual(registry.view(window.subarray(at, end)).toObject(), m);
  }
});

Deno.test("encodedSize counts UTF-8 bytes exactly, lone surrogates as U+FFFD", () => {
  const T = defineMessage({ id: 9, name: "S", fields: { s: field.string() } });
  const r = new Rng(11);
  const units = [0x41, 0xe9, 0x7ff, 0x800, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfeff, 0xffff];
  for (let i = 0; i < 2000; i++) {
    let s = "";
    for (let n = r.int(12); n > 0; n--) s += String.fromCharCode(r.pick(units));
    const bytes = T.toBytes({ s });
    assert.equal(bytes.length, HEADER_SIZE + 4 + new TextEncoder().encode(s).length);
    assert.equal(T.encodedSize({ s }), bytes.length);
    assert.equal(T.decode(bytes).s, s.toWellFormed());
  }
});

Deno.test("decode keeps working after a decoded message's bytes are transferred away", () => {
  const m = randomMessage(new Rng(12), AllKinds.fields, 0) as AllKinds;
  const bytes = AllKinds.toBytes(m);
  for (const pick of [(d: AllKinds) => d.blob, (d: AllKinds) => d.addr]) {
    const decoded = AllKinds.decode(bytes);
    const buffer = pick(decoded).buffer as ArrayBuffer;
    structuredClone(null, { transfer: [buffer] });
    assert.ok(buffer.detached);
    assert.deepStrictEqual(AllKinds.decode(bytes), m);
    assert.deepStrictEqual(AllKinds.view(bytes).toObject(), m);
  }
  // Even when the transferred buffer held only an empty byte string.
  const E = defineMessage({ id: 9, name: "E", fields: { b: field.varBytes() } });
  const empty = E.decode(E.toBytes({ b: new Uint8Array(0) }));
  structuredClone(null, { transfer: [empty.b.buffer as ArrayBuffer] });
  assert.deepStrictEqual(E.decode(E.toBytes({ b: new Uint8Array(0) })).b, new Uint8Array(0));
});

Deno.test("a transferred (detached) buffer reads as empty: CodecErrors, not TypeErrors", () => {
  const m = randomMessage(new Rng(13), Chat.fields) as Chat;
  for (const warm of [true, false]) {
    const slab = new Uint8Array(1024);
    const end = Chat.encode(m, slab, 0);
    if (warm) assert.deepStrictEqual(Chat.decode(slab, 0), m); // the slab's DataView is cached
    structuredClone(null, { transfer: [slab.buffer] });
    assertCodecError(() => Chat.decode(slab, 0), "CODEC_TRUNCATED", 0);
    assertCodecError(() => Chat.view(slab, 0), "CODEC_TRUNCATED", 0);
    assertCodecError(() => registry.decode(slab, 0), "CODEC_TRUNCATED", 0);
    assertCodecError(() => Chat.encode(m, slab, 0), "CODEC_BUFFER_TOO_SMALL", 0);
    assert.ok(end > 0);
  }
});

Deno.test("field names that match the generated code's own names round-trip", () => {
  const names = [
    "v",
    "e",
    "b",
    "c",
    "f",
    "p",
    "h",
    "T",
    "m",
    "u8",
    "dv",
    "end",
    "s0",
    "n0",
    "View",
    "check",
    "decode",
    "encode",
    "arguments",
    "eval",
    "undefined",
    "NaN",
    "this",
    "new",
    "class",
    "return",
    "toString",
    "valueOf",
    "$",
    "_",
  ];
  const kinds = [field.u32(), field.string(), field.bytes(3), field.bool(), field.varBytes()];
  const fields: Record<string, (typeof kinds)[number]> = {};
  names.forEach((name, i) => (fields[name] = kinds[i % kinds.length] as (typeof kinds)[number]));
  const T = defineMessage({ id: 9, name: "Names", fields });
  const r = new Rng(14);
  for (let i = 0; i < 20; i++) {
    const m = randomMessage(r, T.fields);
    const bytes = T.toBytes(m as never);
    assert.deepStrictEqual(T.decode(bytes), m);
    const view = T.view(bytes) as unknown as Record<string, unknown>;
    for (const name of names) assert.deepStrictEqual(view[name], m[name], name);
    assert.deepStrictEqual(T.view(bytes).toObject(), m);
  }
});

Deno.test("a type with 300 fields round-trips", () => {
  const kinds = [field.u8(), field.i64(), field.string(), field.f64(), field.bytes(2)];
  const fields: Record<string, (typeof kinds)[number]> = {};
  for (let i = 0; i < 300; i++) fields[`f${i}`] = kinds[i % kinds.length] as (typeof kinds)[number];
  const T = defineMessage({ id: 9, name: "Wide", fields });
  const r = new Rng(15);
  for (let i = 0; i < 10; i++) roundTrip(T, randomMessage(r, T.fields), r, false);
});

// ---------------------------------------------------------------- encode errors

Deno.test("encode rejects out-of-range and wrong-typed values, naming the field", () => {
  const base = randomMessage(new Rng(5), AllKinds.fields, 0) as AllKinds;
  const cases: [keyof AllKinds, unknown][] = [
    ["u8", 256],
    ["u8", -1],
    ["u8", 1.5],
    ["u8", "1"],
    ["u16", 0x10000],
    ["u32", 2 ** 32],
    ["u32", -1],
    ["i8", -129],
    ["i8", 128],
    ["i16", -32769],
    ["i32", 2 ** 31],
    ["i32", NaN],
    ["u64", -1n],
    ["u64", 1n << 64n],
    ["u64", 1],
    ["i64", 1n << 63n],
    ["i64", -(1n << 63n) - 1n],
    ["u256", 1n << 256n],
    ["u256", -1n],
    ["u256", 5],
    ["f32", "1.5"],
    ["f64", 1n],
    ["flag", 1],
    ["flag", undefined],
    ["addr", new Uint8Array(3)],
    ["addr", new Uint8Array(5)],
    ["addr", [1, 2, 3, 4]],
    ["text", 42],
    ["text", null],
    ["blob", "bytes"],
    ["blob", [1, 2]],
  ];
  const slab = new Uint8Array(4096);
  for (const [name, bad] of cases) {
    const m = { ...base, [name]: bad } as AllKinds;
    slab.fill(0x5a);
    const err = assertCodecError(
      () => AllKinds.encode(m, slab, 8),
      "CODEC_INVALID_VALUE",
      -1,
      name,
    );
    assert.match(err.message, new RegExp(`'${name}'`));
    // No frame header was written: nothing at the offset looks like a frame.
    assert.ok(slab.subarray(0, 8 + HEADER_SIZE).every((b) => b === 0x5a), "header written");
    assertCodecError(() => AllKinds.toBytes(m), "CODEC_INVALID_VALUE", -1, name);
  }
});

Deno.test("encode rejects a message missing a field", () => {
  const m = randomMessage(new Rng(6), Chat.fields) as Partial<Chat>;
  delete m.text;
  assertCodecError(() => Chat.toBytes(m as Chat), "CODEC_INVALID_VALUE", -1, "text");
});

Deno.test("encode rejects an offset that is negative, fractional or not a number", () => {
  const slab = new Uint8Array(256);
  const m = { from: "a", seq: 1, text: "b", attachment: new Uint8Array(2), urgent: true };
  for (const offset of [-1, 1.5, NaN, Infinity]) {
    assertCodecError(() => Chat.encode(m, slab, offset), "CODEC_INVALID_VALUE", -1);
    assert.ok(slab.every((b) => b === 0), `offset ${offset} wrote into the slab`);
  }
});

Deno.test("encode into a too-small buffer throws CODEC_BUFFER_TOO_SMALL at the frame start", () => {
  const r = new Rng(8);
  for (const type of [AllKinds, Chat, V2Swap, Empty] as MessageType[]) {
    for (let i = 0; i < 50; i++) {
      const m = randomMessage(r, type.fields, 0.1);
      const size = type.encodedSize(m as never);
      const offset = r.int(20);
      // Every length that cuts the frame: inside the header, the fixed block, a
      // length prefix, a string or byte string.
      const short = offset + r.int(size);
      const slab = new Uint8Array(short).fill(0x5a);
      assertCodecError(
        () => type.encode(m as never, slab, offset),
        "CODEC_BUFFER_TOO_SMALL",
        offset,
      );
      // The contract: bytes before the offset are untouched and the caller
      // keeps its offset; bytes from the offset on are unspecified (a partial
      // body may be there) and must not be sent. Encoding again at the same
      // offset into room enough gives the same frame as a fresh encode.
      assert.ok(slab.subarray(0, offset).every((b) => b === 0x5a), "bytes before offset");
      assert.ok(slab.subarray(offset, offset + HEADER_SIZE).every((b) => b === 0x5a), "header");
      const room = new Uint8Array(offset + size);
      room.set(slab);
      assert.equal(type.encode(m as never, room, offset), offset + size);
      assert.deepStrictEqual(room.subarray(offset), type.toBytes(m as never));
    }
  }
});

Deno.test("encode to an offset past the buffer end throws CODEC_BUFFER_TOO_SMALL", () => {
  const slab = new Uint8Array(10);
  assertCodecError(() => Empty.encode({}, slab, 11), "CODEC_BUFFER_TOO_SMALL", 11);
  assertCodecError(() => Empty.encode({}, slab, 0), "CODEC_BUFFER_TOO_SMALL", 0);
  assert.equal(Empty.encode({}, new Uint8Array(12), 0), 12);
});

Deno.test("a string counts UTF-8 bytes, not UTF-16 units, against the buffer size", () => {
  const T = defineMessage({ id: 9, name: "S", fields: { s: field.string() } });
  const s = "🍄🍄🍄"; // 6 UTF-16 units, 12 UTF-8 bytes
  assert.equal(T.encodedSize({ s }), HEADER_SIZE + 4 + 12);
  assertCodecError(
    () => T.encode({ s }, new Uint8Array(HEADER_SIZE + 4 + 11)),
    "CODEC_BUFFER_TOO_SMALL",
    0,
  );
  assert.equal(T.encode({ s }, new Uint8Array(HEADER_SIZE + 4 + 12)), HEADER_SIZE + 16);
});

// ---------------------------------------------------------------- schema errors

Deno.test("defineMessage rejects ids outside 1..0xFEFF", () => {
  for (const id of [0, -1, 1.5, 0xff00, 0xff01, 0xffff, 0x10000, NaN]) {
    const err = assertCodecError(
      () => defineMessage({ id, name: "X", fields: { a: field.u8() } }),
      "CODEC_INVALID_SCHEMA",
      -1,
    );
    assert.match(err.message, /'X'/);
  }
  assert.equal(defineMessage({ id: 1, name: "Lo", fields: {} }).id, 1);
  assert.equal(defineMessage({ id: 0xfeff, name: "Hi", fields: {} }).id, 0xfeff);
});

Deno.test("defineMessage rejects field names that are not plain identifiers or are reserved", () => {
  for (const bad of ["1st", "a-b", "", "a b", "type", "toObject", "constructor", "__proto__"]) {
    const fields: Fields = Object.fromEntries([[bad, field.u8()]]);
    assert.ok(Object.hasOwn(fields, bad));
    const err = assertCodecError(
      () => defineMessage({ id: 3, name: "Bad", fields }),
      "CODEC_INVALID_SCHEMA",
      -1,
      bad,
    );
    assert.ok(err.message.includes(`'${bad}'`), err.message);
  }
});

Deno.test("defineMessage rejects bytes(n) outside 1..4096 and a fixed block over 64 KiB", () => {
  for (const n of [0, -1, 1.5, 4097, NaN]) {
    assertCodecError(
      () => defineMessage({ id: 3, name: "B", fields: { b: field.bytes(n) } }),
      "CODEC_INVALID_SCHEMA",
      -1,
      "b",
    );
  }
  const wide: Record<string, ReturnType<typeof field.bytes>> = {};
  for (let i = 0; i < 16; i++) wide[`b${i}`] = field.bytes(4096); // exactly 65536 bytes
  assertCodecError(
    () => defineMessage({ id: 3, name: "Wide", fields: wide }),
    "CODEC_INVALID_SCHEMA",
    -1,
  );
  delete wide.b15;
  wide.last = field.bytes(4095); // 65535: the most a header can describe
  assert.equal(defineMessage({ id: 3, name: "Wide", fields: wide }).fixedSize, 0xffff);
});

Deno.test("defineMessage rejects a field that is not a descriptor of a known kind and size", () => {
  const bad: unknown[] = [
    field.u8, // the builder, not called: a mistake plain JavaScript does not catch
    null,
    7,
    { kind: "u8", size: 3 },
    { kind: "u128", size: 16 },
    { kind: "string", size: 4 },
    { kind: "varbytes" },
  ];
  for (const f of bad) {
    const fields = { ok: field.u16(), f } as unknown as Fields;
    const err = assertCodecError(
      () => defineMessage({ id: 3, name: "Odd", fields }),
      "CODEC_INVALID_SCHEMA",
      -1,
      "f",
    );
    assert.match(err.message, /'f'/);
  }
});

Deno.test("defineMessage rejects fields that are not an object", () => {
  for (const fields of [undefined, null, 5]) {
    assertCodecError(
      () => defineMessage({ id: 3, name: "NoFields", fields: fields as unknown as Fields }),
      "CODEC_INVALID_SCHEMA",
      -1,
    );
  }
});

Deno.test("defineMessage rejects an empty name or topic", () => {
  assertCodecError(
    () => defineMessage({ id: 3, name: "", fields: {} }),
    "CODEC_INVALID_SCHEMA",
    -1,
  );
  assertCodecError(
    () => defineMessage({ id: 3, name: "N", topic: "", fields: {} }),
    "CODEC_INVALID_SCHEMA",
    -1,
  );
  assert.equal(defineMessage({ id: 3, name: "N", fields: {} }).topic, "N");
});

Deno.test("V2Swap and ArbitrageSignal have the seeds' ids, topics and fixed sizes", () => {
  assert.deepStrictEqual(
    [V2Swap.id, V2Swap.topic, V2Swap.fixedSize, V2Swap.variable],
    [19, "market_data", 132, false],
  );
  assert.deepStrictEqual(
    [ArbitrageSignal.id, ArbitrageSignal.topic, ArbitrageSignal.fixedSize],
    [20, "arbitrage", 148],
  );
});
