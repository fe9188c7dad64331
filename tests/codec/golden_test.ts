/**
 * Golden frames: hand-written hex in tests/testdata/codec/ pins the wire
 * format byte for byte. The encoder must produce exactly these bytes and every
 * reader must decode them to the values below.
 */
import assert from "node:assert/strict";
import { FrameSplitter, type MessageType, Registry } from "../../src/codec/mod.ts";
import { ArbitrageSignal, V2Swap } from "../../examples/trading/messages.ts";
import { AllKinds, Chat, concat, parseHex } from "./_support.ts";

function range(from: number, count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => from + i);
}

/** `v` as `size` little-endian bytes. */
function le(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

interface Golden {
  readonly file: string;
  readonly type: MessageType;
  readonly message: Record<string, unknown>;
  /** FNV-1a 64 of the spec's `id|name|field:kind:size|…` text, computed outside the codec. */
  readonly fingerprint: string;
}

const GOLDEN: readonly Golden[] = [
  {
    file: "v2swap.hex",
    type: V2Swap,
    message: {
      poolAddress: range(0x01, 20),
      token0: range(0x15, 20),
      token1: range(0x29, 20),
      amountIn: le(10n ** 18n, 32),
      amountOut: le(3_000_000_000n, 32),
      timestampNs: 1_700_000_000_123_456_789n,
    },
    fingerprint: "0e350df0e0f51837",
  },
  {
    file: "arbitrage_signal.hex",
    type: ArbitrageSignal,
    message: {
      opportunityId: 0x0123456789abcdefn,
      path: range(0, 100),
      estimatedProfit: le(10n ** 17n, 32),
      deadlineBlock: 19_000_000n,
    },
    fingerprint: "d195df3b01f591e0",
  },
  {
    file: "all_kinds.hex",
    type: AllKinds,
    message: {
      u8: 254,
      u16: 0xbeef,
      u32: 0xdeadbeef,
      u64: 0x0123456789abcdefn,
      text: "mÿ🍄",
      i8: -2,
      i16: -300,
      i32: -70000,
      i64: -(2n ** 63n),
      f32: 1.5,
      f64: -0.1,
      flag: true,
      u256: 2n ** 255n + 0x1122n,
      addr: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      blob: new Uint8Array([0x00, 0xff, 0x10]),
    },
    fingerprint: "e3666094747e8977",
  },
  {
    file: "empty_strings.hex",
    type: Chat,
    message: { from: "", seq: 42, text: "", attachment: new Uint8Array(0), urgent: false },
    fingerprint: "",
  },
];

async function load(file: string): Promise<Uint8Array> {
  return parseHex(await Deno.readTextFile(new URL(`../testdata/codec/${file}`, import.meta.url)));
}

for (const golden of GOLDEN) {
  Deno.test(`${golden.type.name} encodes to the golden bytes of ${golden.file}`, async () => {
    const expected = await load(golden.file);
    // The fixture is self-consistent: its header's body length covers the rest.
    const dv = new DataView(expected.buffer);
    assert.equal(12 + dv.getUint32(8, true), expected.length);
    assert.equal(dv.getUint16(2, true), golden.type.id);

    const message = golden.message as never;
    assert.deepStrictEqual(golden.type.toBytes(message), expected);
    assert.equal(golden.type.encodedSize(message), expected.length);
    const slab = new Uint8Array(expected.length + 40).fill(0xcc);
    assert.equal(golden.type.encode(message, slab, 17), 17 + expected.length);
    assert.deepStrictEqual(slab.subarray(17, 17 + expected.length), expected);
  });

  Deno.test(`${golden.type.name} decodes and views the golden bytes of ${golden.file}`, async () => {
    const bytes = await load(golden.file);
    assert.deepStrictEqual(golden.type.decode(bytes), golden.message);
    const view = golden.type.view(bytes) as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(golden.message)) {
      assert.deepStrictEqual(view[name], value, name);
    }
    const decoded = new Registry([golden.type]).decode(bytes);
    assert.equal(decoded.type, golden.type);
    assert.deepStrictEqual(decoded.message, golden.message);
  });

  if (golden.fingerprint !== "") {
    Deno.test(`${golden.type.name} has the fingerprint the spec's formula gives`, () => {
      assert.equal(golden.type.fingerprint, golden.fingerprint);
    });
  }
}

Deno.test("the golden frames, concatenated, split and read back as a stream", async () => {
  const frames = await Promise.all(GOLDEN.map((g) => load(g.file)));
  const registry = new Registry(GOLDEN.map((g) => g.type));
  const splitter = new FrameSplitter({ slabSize: 128 });
  const all = concat(...frames);
  for (let i = 0; i < all.length; i += 7) splitter.push(all.subarray(i, i + 7));
  const got = [...splitter.frames()];
  assert.deepStrictEqual(got, frames);
  assert.deepStrictEqual(
    got.map((f) => registry.decode(f).message),
    GOLDEN.map((g) => g.message),
  );
});
