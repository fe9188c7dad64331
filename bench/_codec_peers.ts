/**
 * The codecs `codec_bench.ts` compares Mycelium with, each written the way a
 * careful user of that library would write it for one V2Swap, plus the fixture
 * message and a check that every codec round-trips it.
 *
 * All of them encode the same message (five byte fields and a u64 as bigint)
 * and decode back to something with the same six fields, so the bench measures
 * the same work everywhere.
 *
 * @module
 */
// The pin (bench/deno.json) must come first: it makes Deno resolve msgpackr's
// optional native helper to 3.0.4, the last version whose platform builds
// (macOS among them) are all in the registry. Nothing of it runs: it is a
// type-only import, msgpackr runs in pure JS, and the root deno.json denies the
// helper's build script (so installing it prints no "Ignored build scripts").
import type {} from "msgpackr-extract";
import { Packr } from "msgpackr/pack";
import protobuf from "protobufjs";
import { Builder, ByteBuffer } from "flatbuffers";
import { V2Swap } from "../src/cli/_bench_workload.ts";
import { FRAME_MAGIC, HEADER_SIZE, WIRE_VERSION } from "../src/codec/mod.ts";

/** The six fields every codec here produces when it decodes a swap. */
export interface SwapFields {
  readonly poolAddress: Uint8Array;
  readonly token0: Uint8Array;
  readonly token1: Uint8Array;
  readonly amountIn: Uint8Array;
  readonly amountOut: Uint8Array;
  readonly timestampNs: bigint;
}

/** Bytes of one encoded V2Swap frame. */
export const FRAME_SIZE = HEADER_SIZE + V2Swap.fixedSize;

function filled(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed + i * 37) & 0xff;
  return out;
}

/** The message every bench encodes: realistic, non-zero bytes in every field. */
export const SWAP: V2Swap = {
  poolAddress: filled(20, 1),
  token0: filled(20, 2),
  token1: filled(20, 3),
  amountIn: filled(32, 4),
  amountOut: filled(32, 5),
  timestampNs: 1_763_700_000_123_456_789n,
};

// ---------------------------------------------------------------- the floor

/** Magic, version and type id as the first little-endian u32 of the frame. */
const SIGNATURE = (FRAME_MAGIC | (WIRE_VERSION << 8) | (V2Swap.id << 16)) >>> 0;
const BODY = V2Swap.fixedSize;

/**
 * Hand-written encoder for exactly this type: the same 144 bytes Mycelium
 * writes, as straight DataView calls into a preallocated buffer, checking
 * nothing.
 */
export function floorEncode(m: SwapFields, u8: Uint8Array, dv: DataView, p: number): number {
  dv.setUint32(p, SIGNATURE, true);
  dv.setUint32(p + 4, BODY << 16, true); // flags 0, fixed-block length
  dv.setUint32(p + 8, BODY, true);
  const b = p + HEADER_SIZE;
  u8.set(m.poolAddress, b);
  u8.set(m.token0, b + 20);
  u8.set(m.token1, b + 40);
  u8.set(m.amountIn, b + 60);
  u8.set(m.amountOut, b + 92);
  dv.setBigUint64(b + 124, m.timestampNs, true);
  return b + BODY;
}

/**
 * Hand-written decoder: the least a safe reader does (one compare for magic,
 * version and type id, the length must fit), then byte fields as subarray views
 * into the frame and the u64 as a bigint.
 */
export function floorDecode(u8: Uint8Array, dv: DataView, p: number): SwapFields {
  if (
    u8.length - p < FRAME_SIZE || dv.getUint32(p, true) !== SIGNATURE ||
    dv.getUint32(p + 8, true) !== BODY
  ) {
    throw new RangeError(`no V2Swap frame at byte ${p}`);
  }
  const b = p + HEADER_SIZE;
  return {
    poolAddress: u8.subarray(b, b + 20),
    token0: u8.subarray(b + 20, b + 40),
    token1: u8.subarray(b + 40, b + 60),
    amountIn: u8.subarray(b + 60, b + 92),
    amountOut: u8.subarray(b + 92, b + 124),
    timestampNs: dv.getBigUint64(b + 124, true),
  };
}

// --------------------------------------------------------------------- JSON

/** What JSON carries: byte fields as lowercase hex strings, the u64 as a decimal string. */
export interface JsonSwap {
  readonly poolAddress: string;
  readonly token0: string;
  readonly token1: string;
  readonly amountIn: string;
  readonly amountOut: string;
  readonly timestampNs: string;
}

/**
 * JSON.stringify of the swap, byte fields as hex (the native
 * `Uint8Array.prototype.toHex`, ~8× faster than a lookup table in JS), the
 * u64 as a decimal string.
 */
export function jsonEncode(m: SwapFields): string {
  return JSON.stringify({
    poolAddress: m.poolAddress.toHex(),
    token0: m.token0.toHex(),
    token1: m.token1.toHex(),
    amountIn: m.amountIn.toHex(),
    amountOut: m.amountOut.toHex(),
    timestampNs: m.timestampNs.toString(),
  });
}

/**
 * JSON.parse only: byte fields stay hex strings and the u64 a decimal string.
 * Less work than giving a V2Swap back, so a lower bound on JSON's cost.
 */
export function jsonDecode(s: string): JsonSwap {
  return JSON.parse(s) as JsonSwap;
}

/**
 * JSON.parse back into an equal V2Swap: hex → `Uint8Array.fromHex` (native;
 * each is a new ArrayBuffer), decimal → bigint.
 */
export function jsonDecodeSwap(s: string): SwapFields {
  const j = JSON.parse(s) as JsonSwap;
  return {
    poolAddress: Uint8Array.fromHex(j.poolAddress),
    token0: Uint8Array.fromHex(j.token0),
    token1: Uint8Array.fromHex(j.token1),
    amountIn: Uint8Array.fromHex(j.amountIn),
    amountOut: Uint8Array.fromHex(j.amountOut),
    timestampNs: BigInt(j.timestampNs),
  };
}

// --------------------------------------------------------------- protobufjs

const PROTO = `
syntax = "proto3";
message V2Swap {
  bytes pool_address = 1;
  bytes token0 = 2;
  bytes token1 = 3;
  bytes amount_in = 4;
  bytes amount_out = 5;
  fixed64 timestamp_ns = 6;
}`;

/** protobufjs' type for the swap, from the schema above (camelCase field names). */
export const PbSwap: protobuf.Type = protobuf.parse(PROTO).root.lookupType("V2Swap");

/** A protobuf 64-bit value as protobufjs takes and returns it (a `Long`). */
interface LongLike {
  readonly low: number;
  readonly high: number;
}

/** What protobufjs decodes: bytes as views, fixed64 as a `Long`. */
export interface PbDecoded {
  readonly poolAddress: Uint8Array;
  readonly token0: Uint8Array;
  readonly token1: Uint8Array;
  readonly amountIn: Uint8Array;
  readonly amountOut: Uint8Array;
  readonly timestampNs: LongLike;
}

/**
 * protobufjs encode. protobufjs takes 64-bit values as a Long (or a lossy
 * number), so the bigint is split into its two halves first.
 */
export function pbEncode(m: SwapFields): Uint8Array {
  const t = m.timestampNs;
  return PbSwap.encode({
    poolAddress: m.poolAddress,
    token0: m.token0,
    token1: m.token1,
    amountIn: m.amountIn,
    amountOut: m.amountOut,
    timestampNs: { low: Number(t & 0xffff_ffffn) | 0, high: Number(t >> 32n) | 0, unsigned: true },
  }).finish();
}

/** protobufjs decode. */
export function pbDecode(bytes: Uint8Array): PbDecoded {
  return PbSwap.decode(bytes) as unknown as PbDecoded;
}

/** The bigint a protobufjs `Long` holds. */
export function longToBigInt(l: LongLike): bigint {
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
}

// ----------------------------------------------------------------- msgpackr

/**
 * msgpackr with shared structures (records: the field names are sent once,
 * then every message refers to the structure), in its pure-JS build:
 * `msgpackr/pack` resolves to the build without the native string extractor.
 * Encoder and decoder share the structure list, as two peers would.
 */
export const packr: Packr = new Packr({ structures: [], int64AsType: "bigint" });

/** msgpackr pack (into msgpackr's own reused buffer). */
export function msgpackEncode(m: SwapFields): Uint8Array {
  return packr.pack(m);
}

/** msgpackr unpack. */
export function msgpackDecode(bytes: Uint8Array): SwapFields {
  return packr.unpack(bytes) as SwapFields;
}

// -------------------------------------------------------------- flatbuffers

/*
 * Schema (written by hand, no flatc):
 *   table V2Swap { pool_address:[ubyte]; token0:[ubyte]; token1:[ubyte];
 *                  amount_in:[ubyte]; amount_out:[ubyte]; timestamp_ns:uint64; }
 *   root_type V2Swap;
 */
const fbBuilder = new Builder(256);

/** FlatBuffers encode with one reused builder; returns a view of its buffer. */
export function fbEncode(m: SwapFields): Uint8Array {
  const b = fbBuilder;
  b.clear();
  const pool = b.createByteVector(m.poolAddress);
  const t0 = b.createByteVector(m.token0);
  const t1 = b.createByteVector(m.token1);
  const ain = b.createByteVector(m.amountIn);
  const aout = b.createByteVector(m.amountOut);
  b.startObject(6);
  b.addFieldOffset(0, pool, 0);
  b.addFieldOffset(1, t0, 0);
  b.addFieldOffset(2, t1, 0);
  b.addFieldOffset(3, ain, 0);
  b.addFieldOffset(4, aout, 0);
  b.addFieldInt64(5, m.timestampNs, 0n);
  b.finish(b.endObject());
  return b.asUint8Array();
}

/** A FlatBuffers table accessor, as flatc would generate it for the schema above. */
export class FbSwap {
  #bb: ByteBuffer;
  #pos: number;

  /** The root table of `bytes`. */
  constructor(bytes: Uint8Array) {
    this.#bb = new ByteBuffer(bytes);
    this.#pos = this.#bb.readInt32(this.#bb.position()) + this.#bb.position();
  }

  #vector(slot: number): Uint8Array {
    const bb = this.#bb;
    const o = bb.__offset(this.#pos, 4 + 2 * slot);
    if (o === 0) return new Uint8Array(0);
    const start = bb.__vector(this.#pos + o);
    return bb.bytes().subarray(start, start + bb.__vector_len(this.#pos + o));
  }

  /** The pool address (a view into the buffer). */
  get poolAddress(): Uint8Array {
    return this.#vector(0);
  }
  /** Token 0. */
  get token0(): Uint8Array {
    return this.#vector(1);
  }
  /** Token 1. */
  get token1(): Uint8Array {
    return this.#vector(2);
  }
  /** Amount in. */
  get amountIn(): Uint8Array {
    return this.#vector(3);
  }
  /** Amount out. */
  get amountOut(): Uint8Array {
    return this.#vector(4);
  }
  /** Timestamp in nanoseconds. */
  get timestampNs(): bigint {
    const o = this.#bb.__offset(this.#pos, 14);
    return o === 0 ? 0n : this.#bb.readUint64(this.#pos + o);
  }
}

// -------------------------------------------------------------------- check

function same(a: SwapFields, b: SwapFields, who: string): void {
  const keys = ["poolAddress", "token0", "token1", "amountIn", "amountOut"] as const;
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) {
      throw new Error(`${who}: field ${k} did not round-trip`);
    }
  }
  if (a.timestampNs !== b.timestampNs) throw new Error(`${who}: timestampNs did not round-trip`);
}

/**
 * Throws unless every codec here gives the fixture back, and the floor writes
 * the very bytes Mycelium writes. Run once before timing anything.
 */
export function checkPeers(): void {
  const slab = new Uint8Array(FRAME_SIZE);
  const dv = new DataView(slab.buffer);
  floorEncode(SWAP, slab, dv, 0);
  const mine = V2Swap.toBytes(SWAP);
  if (mine.length !== FRAME_SIZE || mine.some((v, i) => v !== slab[i])) {
    throw new Error("floor: bytes differ from Mycelium's frame");
  }
  same(floorDecode(slab, dv, 0), SWAP, "floor");
  same(jsonDecodeSwap(jsonEncode(SWAP)), SWAP, "JSON");
  const hex = Array.from(SWAP.amountOut, (b) => b.toString(16).padStart(2, "0")).join("");
  if (jsonDecode(jsonEncode(SWAP)).amountOut !== hex) {
    throw new Error("JSON: hex strings do not match the bytes");
  }
  const pb = pbDecode(pbEncode(SWAP));
  same({ ...pb, timestampNs: longToBigInt(pb.timestampNs) }, SWAP, "protobufjs");
  same(msgpackDecode(msgpackEncode(SWAP)), SWAP, "msgpackr");
  const fb = new FbSwap(fbEncode(SWAP));
  same(
    {
      poolAddress: fb.poolAddress,
      token0: fb.token0,
      token1: fb.token1,
      amountIn: fb.amountIn,
      amountOut: fb.amountOut,
      timestampNs: fb.timestampNs,
    },
    SWAP,
    "flatbuffers",
  );
}
