/** The constants of docs/wire_format.md, pinned: changing one is a new wire version. */
import assert from "node:assert/strict";
import {
  CONTROL_TYPE_ID,
  DEFAULT_MAX_FRAME_SIZE,
  field,
  FIRST_CONTROL_TYPE_ID,
  FRAME_MAGIC,
  HEADER_OFFSET,
  HEADER_SIZE,
  isUserTypeId,
  MAX_FIXED_BYTES,
  WIRE_VERSION,
} from "../../src/codec/mod.ts";

Deno.test("the frame header is 12 bytes: magic 'M', version 1, type id, flags, fixed length, body length", () => {
  assert.equal(FRAME_MAGIC, "M".charCodeAt(0));
  assert.equal(WIRE_VERSION, 1);
  assert.equal(HEADER_SIZE, 12);
  assert.deepStrictEqual(
    { ...HEADER_OFFSET },
    { magic: 0, version: 1, typeId: 2, flags: 4, fixedLength: 6, bodyLength: 8 },
  );
  assert.equal(DEFAULT_MAX_FRAME_SIZE, 16 * 1024 * 1024);
});

Deno.test("type ids 1 to 0xFEFF are for users; 0 and 0xFF00 and up are not", () => {
  for (const id of [1, 19, 0xfeff]) assert.ok(isUserTypeId(id), `${id}`);
  for (const id of [0, -1, 0.5, 0xff00, 0xffff, 0x10000, NaN]) {
    assert.ok(!isUserTypeId(id), `${id}`);
  }
  assert.equal(FIRST_CONTROL_TYPE_ID, 0xff00);
});

Deno.test("control frames have the spec's reserved ids", () => {
  assert.deepStrictEqual({ ...CONTROL_TYPE_ID }, {
    handshake: 0xff01,
    handshakeAck: 0xff02,
    auth: 0xff03,
    heartbeat: 0xff04,
    announce: 0xff05,
    envelope: 0xff06,
    error: 0xff07,
    close: 0xff08,
  });
  for (const id of Object.values(CONTROL_TYPE_ID)) assert.ok(!isUserTypeId(id));
});

Deno.test("each field kind takes the spec's number of bytes in the fixed block", () => {
  const sizes = {
    u8: field.u8().size,
    u16: field.u16().size,
    u32: field.u32().size,
    u64: field.u64().size,
    i8: field.i8().size,
    i16: field.i16().size,
    i32: field.i32().size,
    i64: field.i64().size,
    f32: field.f32().size,
    f64: field.f64().size,
    bool: field.bool().size,
    u256: field.u256().size,
    bytes20: field.bytes(20).size,
    string: field.string().size,
    varBytes: field.varBytes().size,
  };
  assert.deepStrictEqual(sizes, {
    u8: 1,
    u16: 2,
    u32: 4,
    u64: 8,
    i8: 1,
    i16: 2,
    i32: 4,
    i64: 8,
    f32: 4,
    f64: 8,
    bool: 1,
    u256: 32,
    bytes20: 20,
    string: 0,
    varBytes: 0,
  });
  assert.equal(MAX_FIXED_BYTES, 4096);
});
