/**
 * Fixed byte fields up to 64 bytes are encoded by generated code that reads
 * the source byte by byte and writes 4-byte words; longer ones with `set`.
 * Both must write exactly the source bytes, at any offset and for any size
 * (including sizes that are not a multiple of 4), refuse a wrong length or
 * array type naming the field, and copy an overlapping source as `set` would.
 */
import assert from "node:assert/strict";
import { CodecError } from "../../src/codec/codec_error.ts";
import { defineMessage, field, type Fields, type MessageType } from "../../src/codec/mod.ts";
import { Rng } from "./_support.ts";

const SIZES: readonly (readonly number[])[] = [
  [1],
  [3],
  [5, 7],
  [4, 8, 33],
  [63, 2, 1],
  [64],
  [65],
  [128],
];

function typeOf(sizes: readonly number[], id: number): MessageType<Fields> {
  const fields: Record<string, ReturnType<typeof field.bytes> | ReturnType<typeof field.u8>> = {};
  sizes.forEach((n, i) => fields[`f${i}`] = field.bytes(n));
  fields.tail = field.u8();
  return defineMessage({ id, name: `Bytes${id}`, fields }) as unknown as MessageType<Fields>;
}

Deno.test("byte fields of every size round-trip at any offset", () => {
  const rng = new Rng(7);
  SIZES.forEach((sizes, t) => {
    const T = typeOf(sizes, 200 + t);
    const m: Record<string, unknown> = { tail: 7 };
    sizes.forEach((n, i) => {
      m[`f${i}`] = Uint8Array.from({ length: n }, () => rng.int(256));
    });
    const buf = new Uint8Array(1024).fill(0xee);
    for (const off of [0, 1, 3, 5]) {
      const end = T.encode(m as never, buf, off);
      const back = T.decode(buf.subarray(off, end)) as Record<string, unknown>;
      assert.deepEqual(back, m, `sizes ${sizes} at offset ${off}`);
    }
  });
});

Deno.test("a byte field of the wrong length or array type is refused, naming it", () => {
  SIZES.forEach((sizes, t) => {
    const T = typeOf(sizes, 300 + t);
    const m: Record<string, unknown> = { tail: 1 };
    sizes.forEach((n, i) => m[`f${i}`] = new Uint8Array(n));
    const n = sizes[0]!;
    for (const bad of [new Uint8Array(n + 1), new Uint8Array(n - 1), new Uint16Array(n), [0]]) {
      assert.throws(
        () => T.encode({ ...m, f0: bad } as never, new Uint8Array(1024)),
        (e: unknown) =>
          e instanceof CodecError && e.code === "CODEC_INVALID_VALUE" && e.field === "f0",
      );
    }
  });
});

Deno.test("a source overlapping the frame it is encoded into is copied as set would", () => {
  const S = defineMessage({ id: 400, name: "Overlap", fields: { a: field.bytes(20) } });
  for (const from of [4, 10, 12, 20, 30]) {
    const buf = Uint8Array.from({ length: 200 }, (_, i) => i);
    const expected = buf.slice();
    // The body starts after the 12-byte header.
    expected.set(expected.slice(from, from + 20), 12);
    S.encode({ a: buf.subarray(from, from + 20) }, buf, 0);
    assert.deepEqual(buf.subarray(12, 32), expected.subarray(12, 32), `source at ${from}`);
  }
});
