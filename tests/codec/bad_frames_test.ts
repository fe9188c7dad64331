/**
 * Malformed frames through every reader (MessageType.decode/view,
 * Registry.decode/view): each gets a CodecError with the right code and the
 * byte offset of the problem.
 */
import assert from "node:assert/strict";
import { CodecError, type CodecErrorCode } from "../../src/codec/codec_error.ts";
import { defineMessage, field, HEADER_SIZE, Registry } from "../../src/codec/mod.ts";
import { ArbitrageSignal, V2Swap } from "../../examples/trading/messages.ts";
import {
  AllKinds,
  assertCodecError,
  Chat,
  concat,
  randomMessage,
  Rng,
  setU16,
  setU32,
} from "./_support.ts";

const registry = new Registry([AllKinds, Chat, V2Swap, ArbitrageSignal]);

// AllKinds's fixed block, by hand: u8 0, u16 1, u32 3, u64 7, i8 15, i16 16,
// i32 18, i64 22, f32 30, f64 34, flag 42, u256 43, addr 75; 79 bytes.
const ALL_FIXED = 79;
const FLAG_AT = HEADER_SIZE + 42;
const TEXT_ENTRY_AT = HEADER_SIZE + ALL_FIXED;
/** The default body limit, 16 MiB. */
const DEFAULT_LIMIT = 16 * 1024 * 1024;

const sample: AllKinds = {
  u8: 1,
  u16: 2,
  u32: 3,
  u64: 4n,
  text: "héllo",
  i8: -5,
  i16: -6,
  i32: -7,
  i64: -8n,
  f32: 9.5,
  f64: 10.25,
  flag: true,
  u256: 11n,
  addr: new Uint8Array([1, 2, 3, 4]),
  blob: new Uint8Array([5, 6, 7]),
};

function allKindsFrame(): Uint8Array {
  return AllKinds.toBytes(sample);
}

/** The frame placed at `pad` inside a buffer, with `tail` bytes after it. */
function placed(frame: Uint8Array, pad: number, tail = 0): Uint8Array {
  const out = new Uint8Array(pad + frame.length + tail).fill(0xee);
  out.set(frame, pad);
  return out;
}

/**
 * Every reader must throw `code` at `offset + pad` for `frame` placed at
 * `pad` (for pad 0 and 9). `strictOnly`: the problem exists only when the
 * buffer must hold exactly one frame.
 */
function assertAllReaders(frame: Uint8Array, code: CodecErrorCode, offset: number): void {
  assert.equal(AllKinds.fixedSize, ALL_FIXED);
  for (const pad of [0, 9]) {
    const bytes = placed(frame, pad);
    const at = pad === 0 ? undefined : pad;
    const want = offset + pad;
    assertCodecError(() => AllKinds.decode(bytes, at), code, want);
    assertCodecError(() => registry.decode(bytes, at), code, want);
    // Views check structure up front; content errors surface on read (tested below).
    if (code !== "CODEC_INVALID_UTF8" && code !== "CODEC_INVALID_BOOL") {
      assertCodecError(() => AllKinds.view(bytes, at), code, want);
      assertCodecError(() => registry.view(bytes, at), code, want);
    }
  }
}

Deno.test("a truncated header is CODEC_TRUNCATED at the frame start", () => {
  const frame = allKindsFrame();
  for (let n = 0; n < HEADER_SIZE; n++) {
    const cut = frame.slice(0, n);
    assertCodecError(() => AllKinds.decode(cut), "CODEC_TRUNCATED", 0);
    assertCodecError(() => AllKinds.view(cut), "CODEC_TRUNCATED", 0);
    assertCodecError(() => registry.decode(cut), "CODEC_TRUNCATED", 0);
    assertCodecError(() => registry.view(cut), "CODEC_TRUNCATED", 0);
    const later = placed(cut, 30);
    assertCodecError(() => AllKinds.decode(later, 30), "CODEC_TRUNCATED", 30);
    assertCodecError(() => registry.decode(later, 30), "CODEC_TRUNCATED", 30);
  }
});

Deno.test("a truncated body is CODEC_TRUNCATED at the frame start, for every cut", () => {
  const frame = allKindsFrame();
  for (let n = HEADER_SIZE; n < frame.length; n++) {
    const cut = frame.slice(0, n);
    const err = assertCodecError(() => AllKinds.decode(cut), "CODEC_TRUNCATED", 0);
    assert.match(err.message, new RegExp(`needs ${frame.length} bytes; only ${n} remain`));
    assertCodecError(() => AllKinds.view(cut), "CODEC_TRUNCATED", 0);
    assertCodecError(() => registry.decode(cut), "CODEC_TRUNCATED", 0);
    assertCodecError(() => registry.view(cut), "CODEC_TRUNCATED", 0);
    const later = placed(cut, 5);
    assertCodecError(() => registry.view(later, 5), "CODEC_TRUNCATED", 5);
  }
});

Deno.test("a body length past the end of the bytes is CODEC_TRUNCATED, never a read past the end", () => {
  const frame = allKindsFrame();
  for (const body of [frame.length - HEADER_SIZE + 1, 0x10000, DEFAULT_LIMIT]) {
    const bad = frame.slice();
    setU32(bad, 8, body);
    assertAllReaders(bad, "CODEC_TRUNCATED", 0);
  }
});
Deno.test("a body over the limit is CODEC_FRAME_TOO_LARGE at the length field", () => {
  const frame = allKindsFrame();
  for (const body of [DEFAULT_LIMIT + 1, 0xffff_ffff]) {
    const bad = frame.slice();
    setU32(bad, 8, body);
    assertAllReaders(bad, "CODEC_FRAME_TOO_LARGE", 8);
  }
  // A Registry applies its own limit; a frame exactly at the limit passes.
  const swap = V2Swap.toBytes(randomMessage(new Rng(1), V2Swap.fields) as V2Swap);
  const tight = new Registry([V2Swap], { maxFrameSize: 131 });
  assertCodecError(() => tight.decode(swap), "CODEC_FRAME_TOO_LARGE", 8);
  assertCodecError(() => tight.view(placed(swap, 20), 20), "CODEC_FRAME_TOO_LARGE", 28);
  const exact = new Registry([V2Swap], { maxFrameSize: 132 });
  assert.equal(exact.decode(swap).type, V2Swap);
});

Deno.test("an unknown type id is CODEC_UNKNOWN_TYPE at the type id", () => {
  const bad = allKindsFrame();
  setU16(bad, 2, 999);
  assertCodecError(() => registry.decode(bad), "CODEC_UNKNOWN_TYPE", 2);
  assertCodecError(() => registry.view(bad), "CODEC_UNKNOWN_TYPE", 2);
  assertCodecError(() => registry.decode(placed(bad, 7, 3), 7), "CODEC_UNKNOWN_TYPE", 9);
  setU16(bad, 2, 0xff04); // a control frame is not a message type
  assertCodecError(() => registry.decode(bad), "CODEC_UNKNOWN_TYPE", 2);
});

Deno.test("a frame of another type is CODEC_TYPE_MISMATCH at the type id", () => {
  const chat = Chat.toBytes(randomMessage(new Rng(2), Chat.fields) as Chat);
  assertCodecError(() => AllKinds.decode(chat), "CODEC_TYPE_MISMATCH", 2);
  assertCodecError(() => AllKinds.view(chat), "CODEC_TYPE_MISMATCH", 2);
  assertCodecError(() => AllKinds.decode(placed(chat, 3), 3), "CODEC_TYPE_MISMATCH", 5);
});

Deno.test("a wrong magic byte is CODEC_BAD_MAGIC at the frame start", () => {
  for (const magic of [0x00, 0x4c, 0x4e, 0x6d, 0xff]) {
    const bad = allKindsFrame();
    bad[0] = magic;
    assertAllReaders(bad, "CODEC_BAD_MAGIC", 0);
  }
});

Deno.test("a wrong version is CODEC_BAD_VERSION at the version byte", () => {
  for (const version of [0, 2, 0xff]) {
    const bad = allKindsFrame();
    bad[1] = version;
    assertAllReaders(bad, "CODEC_BAD_VERSION", 1);
  }
});

Deno.test("a fixed block longer than the body is CODEC_BAD_LENGTH at the fixed-length field", () => {
  const frame = allKindsFrame();
  const body = frame.length - HEADER_SIZE;
  for (const fixed of [body + 1, 0xffff]) {
    const bad = frame.slice();
    setU16(bad, 6, fixed);
    assertAllReaders(bad, "CODEC_BAD_LENGTH", 6);
  }
});

Deno.test("a variable entry whose length runs past the frame end is CODEC_BAD_LENGTH at the entry", () => {
  const frame = allKindsFrame();
  const body = frame.length - HEADER_SIZE;
  const textLength = new TextEncoder().encode(sample.text).length;
  const blobEntryAt = TEXT_ENTRY_AT + 4 + textLength;
  // The last entry (blob) one byte too long, then wildly too long.
  for (const n of [sample.blob.length + 1, 0xffff_ffff]) {
    const bad = frame.slice();
    setU32(bad, blobEntryAt, n);
    assertAllReaders(bad, "CODEC_BAD_LENGTH", blobEntryAt);
  }
  // The first entry (text) claiming everything left in the body and more.
  const bad = frame.slice();
  setU32(bad, TEXT_ENTRY_AT, body - ALL_FIXED - 4 + 1);
  assertAllReaders(bad, "CODEC_BAD_LENGTH", TEXT_ENTRY_AT);
  // A text entry that swallows the blob's entry: the body ends where the text
  // does, so the blob reads as empty; still a valid frame.
  const swallow = frame.slice();
  setU32(swallow, TEXT_ENTRY_AT, body - ALL_FIXED - 4);
  const got = AllKinds.decode(swallow, 0);
  assert.equal(got.blob.length, 0);
});

Deno.test("a body ending inside a variable entry's length prefix is CODEC_TRUNCATED at the entry", () => {
  // Fixed block, then 2 stray bytes where the text entry's u32 length should be.
  const frame = allKindsFrame().slice(0, TEXT_ENTRY_AT + 2);
  setU32(frame, 8, ALL_FIXED + 2);
  assertAllReaders(frame, "CODEC_TRUNCATED", TEXT_ENTRY_AT);
});

Deno.test("trailing bytes after a lone frame are CODEC_TRAILING_BYTES where the frame ends", () => {
  const frame = allKindsFrame();
  for (const extra of [1, 12, 500]) {
    const bytes = placed(frame, 0, extra);
    assertCodecError(() => AllKinds.decode(bytes), "CODEC_TRAILING_BYTES", frame.length);
    assertCodecError(() => AllKinds.view(bytes), "CODEC_TRAILING_BYTES", frame.length);
    assertCodecError(() => registry.decode(bytes), "CODEC_TRAILING_BYTES", frame.length);
    assertCodecError(() => registry.view(bytes), "CODEC_TRAILING_BYTES", frame.length);
    // With an explicit offset the caller walks a stream: what follows is the next frame.
    assert.deepStrictEqual(AllKinds.decode(bytes, 0), sample);
    assert.deepStrictEqual(registry.decode(bytes, 0).message, sample);
  }
});

Deno.test("a negative or fractional read offset is CODEC_INVALID_VALUE", () => {
  const frame = allKindsFrame();
  for (const at of [-1, 0.5, NaN]) {
    assertCodecError(() => AllKinds.decode(frame, at), "CODEC_INVALID_VALUE", -1);
    assertCodecError(() => AllKinds.view(frame, at), "CODEC_INVALID_VALUE", -1);
    assertCodecError(() => registry.decode(frame, at), "CODEC_INVALID_VALUE", -1);
    assertCodecError(() => registry.view(frame, at), "CODEC_INVALID_VALUE", -1);
  }
});

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0x80], // a continuation byte alone
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0x80], // overlong
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x82], // a sequence cut short by the end of the string
  [0x61, 0xff, 0x62], // a byte that never occurs in UTF-8
];

Deno.test("invalid UTF-8 fails decode eagerly, and a view only when the string is read", () => {
  const S = defineMessage({ id: 30, name: "S", fields: { n: field.u8(), s: field.string() } });
  const reg = new Registry([S]);
  // n at 12, the entry at 13, the string's bytes at 17.
  for (const bad of INVALID_UTF8) {
    const frame = S.toBytes({ n: 7, s: "x".repeat(bad.length) });
    frame.set(bad, 17);
    for (const pad of [0, 6]) {
      const bytes = placed(frame, pad);
      const at = pad === 0 ? undefined : pad;
      assertCodecError(() => S.decode(bytes, at), "CODEC_INVALID_UTF8", 17 + pad, "s");
      assertCodecError(() => reg.decode(bytes, at), "CODEC_INVALID_UTF8", 17 + pad, "s");
      const view = S.view(bytes, at);
      assert.equal(view.n, 7); // the rest of the frame reads fine
      assertCodecError(() => view.s, "CODEC_INVALID_UTF8", 17 + pad, "s");
      assertCodecError(() => view.toObject(), "CODEC_INVALID_UTF8", 17 + pad, "s");
      const rview = reg.view(bytes, at) as unknown as { s: string };
      assertCodecError(() => rview.s, "CODEC_INVALID_UTF8", 17 + pad, "s");
    }
  }
});

Deno.test("a bool byte other than 0 or 1 fails decode eagerly, and a view when read", () => {
  for (const byte of [2, 0x80, 0xff]) {
    const frame = allKindsFrame();
    frame[FLAG_AT] = byte;
    assertAllReaders(frame, "CODEC_INVALID_BOOL", FLAG_AT);
    const view = AllKinds.view(frame);
    assert.equal(view.u256, sample.u256);
    assertCodecError(() => view.flag, "CODEC_INVALID_BOOL", FLAG_AT, "flag");
    const later = AllKinds.view(placed(frame, 4), 4);
    assertCodecError(() => later.flag, "CODEC_INVALID_BOOL", FLAG_AT + 4, "flag");
  }
});

Deno.test("every reader throws only CodecError for frames cut and edited at every byte", () => {
  // A compact exhaustive pass next to the seeded fuzz test: every single-byte
  // value at every position of a small frame.
  const frame = Chat.toBytes({
    from: "é",
    seq: 1,
    text: "🍄",
    attachment: new Uint8Array([9]),
    urgent: true,
  });
  let failures = 0;
  for (let i = 0; i < frame.length; i++) {
    for (let v = 0; v < 256; v++) {
      const bad = frame.slice();
      bad[i] = v;
      for (const read of [() => registry.decode(bad), () => registry.view(bad).toObject()]) {
        try {
          read();
        } catch (e) {
          if (!(e instanceof CodecError)) throw e;
          failures++;
        }
      }
    }
  }
  assert.ok(failures > 0);
  assertCodecError(
    () => registry.decode(concat(frame, frame)),
    "CODEC_TRAILING_BYTES",
    frame.length,
  );
});
