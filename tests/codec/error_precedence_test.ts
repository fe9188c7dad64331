/**
 * docs/wire_format.md says which error a reader reports when a frame has
 * several problems, and what each error's offset counts from. These frames
 * have two faults each; the one the spec's order puts first must win.
 */
import assert from "node:assert/strict";
import { defineMessage, field, FrameSplitter, Registry } from "../../src/codec/mod.ts";
import { assertCodecError, concat, setU16, setU32 } from "./_support.ts";

const SB = defineMessage({ id: 60, name: "SB", fields: { s: field.string(), b: field.bool() } });
const BS = defineMessage({ id: 61, name: "BS", fields: { b: field.bool(), s: field.string() } });
const registry = new Registry([SB, BS]);
const BAD_UTF8 = new Uint8Array([0xff]);

/** A good SB frame with one byte of string, its bool at 12, its string's byte at 12 + 1 + 4. */
function sb(): Uint8Array {
  return SB.toBytes({ s: "x", b: true });
}

Deno.test("a bad read offset wins over everything", () => {
  assertCodecError(() => SB.decode(new Uint8Array(0), -1), "CODEC_INVALID_VALUE", -1);
  assertCodecError(() => registry.decode(new Uint8Array(3), 1.5), "CODEC_INVALID_VALUE", -1);
});

Deno.test("fewer than 12 bytes is CODEC_TRUNCATED even when the magic is wrong", () => {
  const f = sb().subarray(0, 5);
  f[0] = 0;
  assertCodecError(() => SB.decode(f), "CODEC_TRUNCATED", 0);
  assertCodecError(() => registry.decode(f), "CODEC_TRUNCATED", 0);
});

Deno.test("header checks run in the spec's order: magic, version, body limit, fixed length", () => {
  const f = sb();
  f[0] = 0x4e;
  f[1] = 9;
  assertCodecError(() => SB.decode(f), "CODEC_BAD_MAGIC", 0);
  const g = sb();
  g[1] = 9;
  setU32(g, 8, 0xffff_ffff);
  assertCodecError(() => SB.decode(g), "CODEC_BAD_VERSION", 1);
  // Over a small limit and a fixed block longer than the body: the limit wins.
  const small = new Registry([SB], { maxFrameSize: 4 });
  const h = sb();
  setU16(h, 6, 200);
  assertCodecError(() => small.decode(h), "CODEC_FRAME_TOO_LARGE", 8);
  assertCodecError(() => registry.decode(h), "CODEC_BAD_LENGTH", 6);
});

Deno.test("a bad fixed length wins over the type id; the type id over a truncated body", () => {
  const f = sb();
  setU16(f, 6, 200);
  setU16(f, 2, 999);
  assertCodecError(() => SB.decode(f), "CODEC_BAD_LENGTH", 6);
  assertCodecError(() => registry.decode(f), "CODEC_BAD_LENGTH", 6);
  const g = BS.toBytes({ b: true, s: "x" }).subarray(0, 14);
  assertCodecError(() => SB.decode(g), "CODEC_TYPE_MISMATCH", 2);
  setU16(g, 2, 999);
  assertCodecError(() => registry.decode(g), "CODEC_UNKNOWN_TYPE", 2);
});

Deno.test("a truncated frame wins over trailing-byte rules; trailing bytes over a bad body", () => {
  const f = sb();
  f[12] = 7; // bad bool
  assertCodecError(() => SB.decode(f.subarray(0, f.length - 1)), "CODEC_TRUNCATED", 0);
  const g = concat(f, new Uint8Array(2));
  assertCodecError(() => SB.decode(g), "CODEC_TRAILING_BYTES", f.length);
  assertCodecError(() => registry.decode(g), "CODEC_TRAILING_BYTES", f.length);
  // With an explicit offset, bytes after the frame are allowed; the body's fault shows.
  assertCodecError(() => SB.decode(g, 0), "CODEC_INVALID_BOOL", 12, "b");
});

Deno.test("a bad variable entry wins over a bad field, even an entry appended by a newer writer", () => {
  const f = concat(sb(), new Uint8Array([9, 0, 0, 0])); // an appended entry claiming 9 bytes
  setU32(f, 8, f.length - 12);
  f[12] = 7; // bad bool
  assertCodecError(() => SB.decode(f), "CODEC_BAD_LENGTH", 18);
  assertCodecError(() => registry.decode(f), "CODEC_BAD_LENGTH", 18);
  const g = concat(sb(), new Uint8Array([9, 0]));
  setU32(g, 8, g.length - 12);
  g[12] = 7;
  assertCodecError(() => SB.decode(g), "CODEC_TRUNCATED", 18);
});

Deno.test("of two bad fields, the first declared wins; a view reports each when read", () => {
  const sbBad = SB.toBytes({ s: "x", b: true });
  sbBad[12] = 7; // bool (declared second)
  sbBad[17] = BAD_UTF8[0]!; // the string's byte (declared first)
  assertCodecError(() => SB.decode(sbBad), "CODEC_INVALID_UTF8", 17, "s");
  const bsBad = BS.toBytes({ b: true, s: "x" });
  bsBad[12] = 7;
  bsBad[17] = BAD_UTF8[0]!;
  assertCodecError(() => BS.decode(bsBad), "CODEC_INVALID_BOOL", 12, "b");
  const view = SB.view(sbBad);
  assertCodecError(() => view.b, "CODEC_INVALID_BOOL", 12, "b");
  assertCodecError(() => view.s, "CODEC_INVALID_UTF8", 17, "s");
});

Deno.test("offsets count from the start of the buffer given, or of the stream for a splitter", () => {
  const f = concat(new Uint8Array(10), sb());
  f[11] = 3;
  assertCodecError(() => SB.decode(f, 10), "CODEC_BAD_VERSION", 11);
  assertCodecError(() => registry.decode(f, 10), "CODEC_BAD_VERSION", 11);
  const good = sb();
  const splitter = new FrameSplitter({ slabSize: 16 });
  splitter.push(good);
  splitter.push(good);
  const bad = sb();
  bad[1] = 3;
  splitter.push(bad);
  assert.equal(splitter.next(), 0);
  assert.ok(splitter.next() >= 0);
  assertCodecError(() => splitter.next(), "CODEC_BAD_VERSION", 2 * good.length + 1);
});

Deno.test("a splitter waits for more bytes instead of reporting a truncated frame", () => {
  const splitter = new FrameSplitter();
  splitter.push(sb().subarray(0, 15));
  assert.equal(splitter.next(), -1);
});
