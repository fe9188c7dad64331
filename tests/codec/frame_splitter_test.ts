import assert from "node:assert/strict";
import { CodecError } from "../../src/codec/codec_error.ts";
import { FrameSplitter, HEADER_SIZE, type MessageType, Registry } from "../../src/codec/mod.ts";
import { V2Swap } from "../../examples/trading/messages.ts";
import {
  AllKinds,
  assertCodecError,
  Chat,
  concat,
  Empty,
  randomMessage,
  Rng,
  setU32,
} from "./_support.ts";

const TYPES: readonly MessageType[] = [AllKinds, Chat, Empty, V2Swap];
const registry = new Registry(TYPES);

/** `count` random frames of the test types, back to back, with the messages. */
function stream(seed: number, count: number): { bytes: Uint8Array; messages: unknown[] } {
  const r = new Rng(seed);
  const parts: Uint8Array[] = [];
  const messages: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.pick(TYPES);
    const m = randomMessage(r, type.fields);
    parts.push(type.toBytes(m as never));
    messages.push(m);
  }
  return { bytes: concat(...parts), messages };
}

/** Drains every whole frame the splitter holds, as plain messages. */
function drain(splitter: FrameSplitter): unknown[] {
  const out: unknown[] = [];
  for (let p = splitter.next(); p >= 0; p = splitter.next()) {
    assert.equal(splitter.buffer[p], 0x4d);
    const view = registry.viewChecked(splitter.buffer, splitter.dataView, p);
    assert.equal(
      splitter.frameLength,
      HEADER_SIZE + splitter.dataView.getUint32(p + 8, true),
    );
    out.push(view.toObject());
  }
  return out;
}

Deno.test("FrameSplitter yields a frame split at every possible boundary", () => {
  const { bytes, messages } = stream(1, 3);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const splitter = new FrameSplitter({ slabSize: 64 });
    splitter.push(bytes.subarray(0, cut));
    const first = drain(splitter);
    splitter.push(bytes.subarray(cut));
    const rest = drain(splitter);
    assert.deepStrictEqual([...first, ...rest], messages, `cut at ${cut}`);
    assert.equal(splitter.buffered, 0);
  }
});

Deno.test("FrameSplitter fed one byte at a time yields each frame exactly when its last byte arrives", () => {
  const { bytes, messages } = stream(2, 40);
  const ends: number[] = [];
  for (let p = 0, i = 0; i < messages.length; i++) {
    p += HEADER_SIZE + new DataView(bytes.buffer).getUint32(p + 8, true);
    ends.push(p);
  }
  const splitter = new FrameSplitter({ slabSize: 100 });
  const got: unknown[] = [];
  for (let i = 0; i < bytes.length; i++) {
    splitter.push(bytes.subarray(i, i + 1));
    const now = drain(splitter);
    if (ends.includes(i + 1)) assert.equal(now.length, 1, `frame ending at ${i + 1}`);
    else assert.equal(now.length, 0, `nothing ends at ${i + 1}`);
    got.push(...now);
  }
  assert.deepStrictEqual(got, messages);
});

Deno.test("FrameSplitter yields many frames from one chunk, in order", () => {
  const { bytes, messages } = stream(3, 2000);
  const splitter = new FrameSplitter();
  splitter.push(bytes);
  assert.deepStrictEqual(drain(splitter), messages);
  assert.equal(splitter.next(), -1);
  // frames() gives the same frames as subarrays.
  const again = new FrameSplitter();
  again.push(bytes);
  const frames = [...again.frames()];
  assert.equal(frames.length, messages.length);
  assert.deepStrictEqual(frames.map((f) => registry.decode(f).message), messages);
  assert.deepStrictEqual(concat(...frames), bytes);
});

Deno.test("FrameSplitter reads through reserve()/commit() like a socket read", () => {
  const r = new Rng(4);
  const { bytes, messages } = stream(4, 500);
  const splitter = new FrameSplitter({ slabSize: 1024 });
  const got: unknown[] = [];
  for (let p = 0; p < bytes.length;) {
    const min = 1 + r.int(300);
    const space = splitter.reserve(min);
    assert.ok(space.length >= min, `reserve(${min}) gave ${space.length}`);
    assert.equal(space.buffer, splitter.buffer.buffer, "reserve returns space inside the slab");
    const n = Math.min(space.length, bytes.length - p, 1 + r.int(2 * min));
    space.set(bytes.subarray(p, p + n));
    splitter.commit(n);
    p += n;
    got.push(...drain(splitter));
  }
  assert.deepStrictEqual(got, messages);
  assert.throws(() => splitter.commit(splitter.reserve(1).length + 1), RangeError);
  assert.throws(() => splitter.commit(-1), RangeError);
});

Deno.test("FrameSplitter keeps views taken before a slab rollover valid after many more frames", () => {
  const r = new Rng(5);
  const { bytes, messages } = stream(5, 3000);
  const splitter = new FrameSplitter({ slabSize: 512 });
  const kept: [Record<string, unknown>, unknown][] = [];
  const slabs = new Set<ArrayBufferLike>();
  let index = 0;
  for (let p = 0; p < bytes.length;) {
    const n = Math.min(bytes.length - p, 1 + r.int(700));
    splitter.push(bytes.subarray(p, p + n));
    p += n;
    for (let f = splitter.next(); f >= 0; f = splitter.next()) {
      slabs.add(splitter.buffer.buffer);
      const view = registry.viewChecked(splitter.buffer, splitter.dataView, f);
      // Keep every 10th view un-copied, to read it again at the end.
      if (index % 10 === 0) {
        kept.push([view as unknown as Record<string, unknown>, messages[index]]);
      }
      index++;
    }
  }
  assert.equal(index, messages.length);
  assert.ok(slabs.size > 50, `only ${slabs.size} slabs were used`);
  for (const [view, message] of kept) {
    for (const [name, value] of Object.entries(message as Record<string, unknown>)) {
      assert.deepStrictEqual(view[name], value, `field ${name}`);
    }
  }
});

Deno.test("FrameSplitter takes a frame larger than its slab, in one push or byte by byte", () => {
  const big = {
    from: "sender",
    seq: 9,
    text: "🍄".repeat(3000),
    attachment: new Rng(6).bytes(20_000),
    urgent: false,
  };
  const frame = Chat.toBytes(big);
  const small = Empty.toBytes({});
  const bytes = concat(small, frame, small);
  const whole = new FrameSplitter({ slabSize: 64 });
  whole.push(bytes);
  assert.deepStrictEqual(drain(whole), [{}, big, {}]);

  const trickle = new FrameSplitter({ slabSize: 64 });
  const got: unknown[] = [];
  for (let i = 0; i < bytes.length; i++) {
    trickle.push(bytes.subarray(i, i + 1));
    got.push(...drain(trickle));
  }
  assert.deepStrictEqual(got, [{}, big, {}]);

  const reserved = new FrameSplitter({ slabSize: 64 });
  const viaReserve: unknown[] = [];
  for (let i = 0; i < bytes.length;) {
    const space = reserved.reserve(1);
    const n = Math.min(space.length, bytes.length - i);
    space.set(bytes.subarray(i, i + n));
    reserved.commit(n);
    i += n;
    viaReserve.push(...drain(reserved));
  }
  assert.deepStrictEqual(viaReserve, [{}, big, {}]);
});

Deno.test("FrameSplitter fails on an oversize header at once, without waiting for the body", () => {
  const ok = Chat.toBytes({
    from: "a",
    seq: 1,
    text: "b",
    attachment: new Uint8Array(3),
    urgent: true,
  });
  const header = ok.slice(0, HEADER_SIZE);
  setU32(header, 8, 101);
  const splitter = new FrameSplitter({ maxFrameSize: 100 });
  splitter.push(ok);
  splitter.push(header.subarray(0, HEADER_SIZE - 1));
  assert.equal(drain(splitter).length, 1);
  assert.equal(splitter.next(), -1, "11 header bytes are not enough to judge");
  splitter.push(header.subarray(HEADER_SIZE - 1));
  const err = assertCodecError(() => splitter.next(), "CODEC_FRAME_TOO_LARGE", ok.length + 8);
  assert.match(err.message, /101-byte body; the limit is 100/);

  // The default limit (16 MiB) holds too: a 4 GiB claim fails on its header.
  const huge = new FrameSplitter();
  setU32(header, 8, 0xffff_ffff);
  huge.push(header);
  assertCodecError(() => huge.next(), "CODEC_FRAME_TOO_LARGE", 8);
  // And a body at exactly the limit is accepted (waits for its bytes).
  const edge = new FrameSplitter({ maxFrameSize: 100 });
  setU32(header, 8, 100);
  edge.push(header);
  assert.equal(edge.next(), -1);
});

Deno.test("FrameSplitter reports bad headers at their offset in the whole stream", () => {
  const { bytes } = stream(7, 300);
  const r = new Rng(7);
  const cases: [
    string,
    (h: Uint8Array) => void,
    "CODEC_BAD_MAGIC" | "CODEC_BAD_VERSION" | "CODEC_BAD_LENGTH",
    number,
  ][] = [
    ["magic", (h) => (h[0] = 0x00), "CODEC_BAD_MAGIC", 0],
    ["version", (h) => (h[1] = 2), "CODEC_BAD_VERSION", 1],
    ["fixed length", (h) => new DataView(h.buffer).setUint16(6, 40, true), "CODEC_BAD_LENGTH", 6],
  ];
  for (const [what, spoil, code, at] of cases) {
    const bad = Empty.toBytes({});
    spoil(bad);
    const splitter = new FrameSplitter({ slabSize: 256 }); // many rollovers before the bad frame
    const all = concat(bytes, bad);
    let error: unknown;
    for (let p = 0; p < all.length && error === undefined;) {
      const n = Math.min(all.length - p, 1 + r.int(200));
      splitter.push(all.subarray(p, p + n));
      p += n;
      try {
        drain(splitter);
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof CodecError, what);
    assert.equal(error.code, code, what);
    assert.equal(error.offset, bytes.length + at, what);
  }
});

Deno.test("a failed FrameSplitter stays failed, whatever arrives next", () => {
  const splitter = new FrameSplitter();
  splitter.push(new Uint8Array(HEADER_SIZE).fill(0x21));
  const first = assertCodecError(() => splitter.next(), "CODEC_BAD_MAGIC", 0);
  splitter.push(Empty.toBytes({}));
  const again = assertCodecError(() => splitter.next(), "CODEC_BAD_MAGIC", 0);
  assert.equal(again, first);
  assert.throws(() => [...splitter.frames()], (e) => e === first);
});

Deno.test("FrameSplitter waits for a whole header before judging it", () => {
  const splitter = new FrameSplitter();
  splitter.push(new Uint8Array(HEADER_SIZE - 1).fill(0xff));
  assert.equal(splitter.next(), -1);
  assert.equal(splitter.buffered, HEADER_SIZE - 1);
  splitter.push(new Uint8Array(1));
  assertCodecError(() => splitter.next(), "CODEC_BAD_MAGIC", 0);
});

Deno.test("FrameSplitter yields a frame with an empty body", () => {
  const splitter = new FrameSplitter({ slabSize: HEADER_SIZE });
  const frame = Empty.toBytes({});
  assert.equal(frame.length, HEADER_SIZE);
  for (let i = 0; i < 5; i++) splitter.push(frame);
  assert.equal(drain(splitter).length, 5);
});

Deno.test("FrameSplitter rejects nonsensical options with CODEC_INVALID_VALUE", () => {
  for (const maxFrameSize of [-1, NaN, 1.5, 2 ** 32]) {
    assertCodecError(() => new FrameSplitter({ maxFrameSize }), "CODEC_INVALID_VALUE", -1);
  }
  for (const slabSize of [0, -1, NaN, 1.5]) {
    assertCodecError(() => new FrameSplitter({ slabSize }), "CODEC_INVALID_VALUE", -1);
  }
});
