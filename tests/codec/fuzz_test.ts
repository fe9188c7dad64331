/**
 * Seeded fuzzing of every reader: random and mutated frames must give either
 * a CodecError or a message that re-encodes to itself. Never a RangeError,
 * TypeError or other crash, never a read past the end, never a hang.
 */
import assert from "node:assert/strict";
import { CodecError } from "../../src/codec/codec_error.ts";
import {
  defineMessage,
  field,
  FrameSplitter,
  type MessageType,
  Registry,
} from "../../src/codec/mod.ts";
import { ArbitrageSignal, V2Swap } from "../../examples/trading/messages.ts";
import { AllKinds, Chat, concat, Empty, randomMessage, Rng } from "./_support.ts";

const FRAMES = 100_000;
const SEED = 0x5eed;

/** A newer AllKinds: its frames carry fields the registry's AllKinds does not know. */
const AllKindsV2 = defineMessage({
  id: AllKinds.id,
  name: AllKinds.name,
  fields: { ...AllKinds.fields, extra: field.u32(), note: field.string(), tail: field.varBytes() },
});
/** Text only, so UTF-8 handling sees most of the mutations. */
const Notes = defineMessage({
  id: 703,
  name: "Notes",
  fields: { a: field.string(), b: field.string(), c: field.string(), on: field.bool() },
});

const READ_TYPES: readonly MessageType[] = [V2Swap, ArbitrageSignal, AllKinds, Chat, Empty, Notes];
const WRITE_TYPES: readonly MessageType[] = [...READ_TYPES, AllKindsV2];
const registry = new Registry(READ_TYPES);
const MAX_FRAME = 1 << 16;

/** Where each variable entry of a valid frame starts. */
function entries(frame: Uint8Array): number[] {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const out: number[] = [];
  for (let e = 12 + dv.getUint16(6, true); e + 4 <= frame.length; e += 4 + dv.getUint32(e, true)) {
    out.push(e);
  }
  return out;
}

/** A value near `v` or anywhere, for length fields. */
function nearby(r: Rng, v: number, max: number): number {
  switch (r.int(4)) {
    case 0:
      return Math.max(0, v + r.int(9) - 4);
    case 1:
      return r.int(max + 1);
    case 2:
      return r.pick([0, 1, 3, 4, 0x7fff_ffff, 0xffff_ffff, 0xffff, 0x10000]);
    default:
      return r.u32() & max;
  }
}

function mutate(r: Rng, pool: readonly Uint8Array[]): Uint8Array {
  const base = r.pick(pool);
  let bytes: Uint8Array = base.slice();
  const dv = () => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Header edits need a whole header; a short base (from a nested mutation) gets garbage appended.
  const op = r.int(12);
  if (bytes.length < 12 && op >= 6 && op <= 9) return concat(bytes, r.bytes(1 + r.int(16)));
  switch (op) {
    case 0: // valid, unchanged
      return bytes;
    case 1: // bit flips
      for (let k = 1 + r.int(3); k > 0; k--) {
        const i = r.int(bytes.length);
        bytes[i] = (bytes[i] as number) ^ (1 << r.int(8));
      }
      return bytes;
    case 2: // bytes overwritten
      for (let k = 1 + r.int(4); k > 0; k--) {
        bytes[r.int(bytes.length)] = r.pick([
          0,
          1,
          2,
          0x7f,
          0x80,
          0xbf,
          0xc0,
          0xed,
          0xff,
          r.int(256),
        ]);
      }
      return bytes;
    case 3: // truncated
      return bytes.subarray(0, r.int(bytes.length));
    case 4: // garbage appended
      return concat(bytes, r.bytes(1 + r.int(16)));
    case 5: { // spliced: the head of one frame, the tail of another
      const other = r.pick(pool);
      return concat(
        bytes.subarray(0, r.int(bytes.length + 1)),
        other.subarray(r.int(other.length)),
      );
    }
    case 6: // body length edited
      dv().setUint32(8, nearby(r, dv().getUint32(8, true), 0xffff_ffff), true);
      return bytes;
    case 7: // fixed length edited
      dv().setUint16(6, nearby(r, dv().getUint16(6, true), 0xffff) & 0xffff, true);
      return bytes;
    case 8: { // a variable entry's length edited
      const at = entries(bytes);
      if (at.length === 0) return bytes;
      const e = r.pick(at);
      dv().setUint32(e, nearby(r, dv().getUint32(e, true), 0xffff_ffff), true);
      return bytes;
    }
    case 9: // another type id: the body is read with the wrong schema
      dv().setUint16(2, r.chance(0.8) ? r.pick(WRITE_TYPES).id : r.int(0x10000), true);
      return bytes;
    case 10: { // random bytes, half of them behind a plausible header
      bytes = r.bytes(r.int(100));
      if (bytes.length >= 12 && r.chance(0.5)) {
        bytes[0] = 0x4d;
        bytes[1] = 1;
        dv().setUint16(2, r.pick(READ_TYPES).id, true);
        dv().setUint32(8, bytes.length - 12, true);
        dv().setUint16(6, r.int(bytes.length - 11), true);
      }
      return bytes;
    }
    default: { // several of the above
      const once = mutate(r, pool);
      return mutate(r, [once.length > 0 ? once : base]);
    }
  }
}

/** Rethrows anything that is not a CodecError, with the case that caused it. */
function onlyCodecErrors(e: unknown, i: number, what: string, bytes: Uint8Array): CodecError {
  if (e instanceof CodecError) {
    assert.ok(
      e.offset >= -1 && e.offset <= bytes.length,
      `frame ${i}: ${what} reported offset ${e.offset} outside ${bytes.length} bytes`,
    );
    return e;
  }
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  throw new Error(`frame ${i}: ${what} threw a non-codec error for ${hex}`, { cause: e });
}

Deno.test(`fuzz: ${FRAMES} seeded random and mutated frames give only CodecErrors or decodes that round-trip`, () => {
  const r = new Rng(SEED);
  const pool: Uint8Array[] = [];
  for (const type of WRITE_TYPES) {
    for (let k = 0; k < 40; k++) pool.push(type.toBytes(randomMessage(r, type.fields) as never));
  }
  const codes = new Set<string>();
  let decoded = 0;
  let splitFrames = 0;

  for (let i = 0; i < FRAMES; i++) {
    const bytes = mutate(r, pool);

    // Registry.decode: eager, strict (one whole frame).
    let message: Record<string, unknown> | undefined;
    let type: MessageType | undefined;
    try {
      ({ type, message } = registry.decode(bytes));
    } catch (e) {
      codes.add(onlyCodecErrors(e, i, "Registry.decode", bytes).code);
    }

    // Registry.view, then every getter and toObject.
    let viewed: Record<string, unknown> | undefined;
    try {
      const view = registry.view(bytes);
      const fields = view as unknown as Record<string, unknown>;
      for (const name of Object.keys(view.type.fields)) {
        try {
          fields[name];
        } catch (e) {
          onlyCodecErrors(e, i, `view getter ${name}`, bytes);
        }
      }
      viewed = view.toObject();
    } catch (e) {
      onlyCodecErrors(e, i, "Registry.view", bytes);
    }

    // The two readers agree on what is valid.
    assert.equal(
      viewed !== undefined,
      message !== undefined,
      `frame ${i}: decode and view disagree`,
    );
    if (message !== undefined && type !== undefined) {
      decoded++;
      assert.deepStrictEqual(viewed, message, `frame ${i}: view and decode differ`);
      const again = type.toBytes(message as never);
      assert.deepStrictEqual(type.decode(again), message, `frame ${i}: re-encode`);
    }

    // A splitter, fed the bytes in random chunks; every 4th time behind a
    // valid frame, which must come out intact whatever follows it.
    const lead = i % 4 === 0 ? r.pick(pool) : undefined;
    const fed = lead === undefined ? bytes : concat(lead, bytes);
    const splitter = new FrameSplitter({ maxFrameSize: MAX_FRAME, slabSize: 64 });
    const split: Record<string, unknown>[] = [];
    let splitError: CodecError | undefined;
    try {
      for (let p = 0; p < fed.length;) {
        const n = 1 + r.int(fed.length - p);
        splitter.push(fed.subarray(p, p + n));
        p += n;
        for (let f = splitter.next(); f >= 0; f = splitter.next()) {
          split.push(registry.viewChecked(splitter.buffer, splitter.dataView, f).toObject());
        }
      }
    } catch (e) {
      splitError = onlyCodecErrors(e, i, "FrameSplitter", fed);
    }
    splitFrames += split.length;
    if (lead !== undefined) {
      assert.deepStrictEqual(split[0], registry.decode(lead).message, `frame ${i}: lead frame`);
    }
    if (message !== undefined) {
      const want = lead === undefined ? 1 : 2;
      assert.equal(splitError, undefined, `frame ${i}: the splitter refused a valid frame`);
      assert.equal(split.length, want, `frame ${i}: the splitter found ${split.length} frames`);
      assert.deepStrictEqual(split[want - 1], message, `frame ${i}: split frame`);
      assert.equal(splitter.buffered, 0);
    }
  }

  // The mutations reached every kind of failure, and valid frames still came through.
  for (
    const code of [
      "CODEC_TRUNCATED",
      "CODEC_BAD_MAGIC",
      "CODEC_BAD_VERSION",
      "CODEC_FRAME_TOO_LARGE",
      "CODEC_BAD_LENGTH",
      "CODEC_UNKNOWN_TYPE",
      "CODEC_INVALID_UTF8",
      "CODEC_INVALID_BOOL",
      "CODEC_TRAILING_BYTES",
    ]
  ) {
    assert.ok(codes.has(code), `no frame produced ${code}`);
  }
  assert.ok(decoded > FRAMES / 10, `only ${decoded} frames decoded`);
  assert.ok(splitFrames >= decoded);
});
