/**
 * The wire codec against the hand-written floor and the usual alternatives,
 * on the 132-byte-fixed-block V2Swap (a 144-byte frame).
 *
 * Groups, each with one baseline:
 * - `encode`: message object → bytes (floor baseline);
 * - `decode-all`: bytes → every field read (floor baseline);
 * - `decode-one`: a view reading only `timestampNs` against the floor's full decode;
 * - `round-trip`: encode then decode with every field read (JSON baseline:
 *   stringify + parse back to an equal V2Swap).
 *
 * Everything is prepared at module load, outside the timed region, and every
 * result feeds `sink` so V8 cannot drop the work. Compare ratios within one
 * run: the machine is shared and absolute times drift.
 *
 * Run: `deno task bench` (or `deno bench bench/codec_bench.ts`).
 *
 * @module
 */
import { V2Swap } from "../src/cli/_bench_workload.ts";
import {
  checkPeers,
  fbEncode,
  FbSwap,
  floorDecode,
  floorEncode,
  FRAME_SIZE,
  jsonDecode,
  jsonDecodeSwap,
  jsonEncode,
  longToBigInt,
  msgpackDecode,
  msgpackEncode,
  pbDecode,
  pbEncode,
  SWAP,
} from "./_codec_peers.ts";

checkPeers();

/** Every bench folds what it produced into this, so nothing is dead code. */
let sink = 0;
const TS = SWAP.timestampNs;

// One slab for every encoder that takes a buffer; frames sit at its start.
const slab = new Uint8Array(64 * 1024);
const slabView = new DataView(slab.buffer);

// The encoded forms every decoder reads, made once. Copied out: msgpackr and
// flatbuffers hand back views of buffers they reuse (and Buffer#slice is a view).
const frame = V2Swap.toBytes(SWAP);
const frameView = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
const json = jsonEncode(SWAP);
const pb = Uint8Array.from(pbEncode(SWAP));
const mp = Uint8Array.from(msgpackEncode(SWAP));
const fb = Uint8Array.from(fbEncode(SWAP));

// ------------------------------------------------------------------- encode

Deno.bench({
  name: "floor: hand-written DataView encoder",
  group: "encode",
  baseline: true,
  fn() {
    sink ^= floorEncode(SWAP, slab, slabView, 0);
  },
});

Deno.bench({
  name: "Mycelium V2Swap.encode into a slab",
  group: "encode",
  fn() {
    sink ^= V2Swap.encode(SWAP, slab, 0);
  },
});

Deno.bench({
  name: "JSON.stringify (bytes as hex via toHex, u64 as decimal string)",
  group: "encode",
  fn() {
    sink ^= jsonEncode(SWAP).length;
  },
});

Deno.bench({
  name: "protobufjs encode().finish() (bytes, fixed64)",
  group: "encode",
  fn() {
    sink ^= pbEncode(SWAP).length;
  },
});

Deno.bench({
  name: "msgpackr pack, shared structures (pure JS)",
  group: "encode",
  fn() {
    sink ^= msgpackEncode(SWAP).length;
  },
});

Deno.bench({
  name: "flatbuffers Builder, reused (hand-written)",
  group: "encode",
  fn() {
    sink ^= fbEncode(SWAP).length;
  },
});

// --------------------------------------------------------------- decode-all
// Each reads all six fields: one byte of every byte field, and the u64.

Deno.bench({
  name: "floor: hand-written decoder (subarray views + bigint)",
  group: "decode-all",
  baseline: true,
  fn() {
    const m = floorDecode(frame, frameView, 0);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "Mycelium V2Swap.view, every field read",
  group: "decode-all",
  fn() {
    const m = V2Swap.view(frame);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "Mycelium V2Swap.decode (plain object, owns its bytes)",
  group: "decode-all",
  fn() {
    const m = V2Swap.decode(frame);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "JSON.parse → V2Swap (Uint8Array.fromHex, BigInt)",
  group: "decode-all",
  fn() {
    const m = jsonDecodeSwap(json);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "JSON.parse only (hex left as strings; BigInt of the u64)",
  group: "decode-all",
  fn() {
    const m = jsonDecode(json);
    sink ^= m.poolAddress.length ^ m.token0.length ^ m.token1.length ^ m.amountIn.length ^
      m.amountOut.length ^ (BigInt(m.timestampNs) === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "protobufjs decode (Long → bigint)",
  group: "decode-all",
  fn() {
    const m = pbDecode(pb);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (longToBigInt(m.timestampNs) === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "msgpackr unpack, shared structures (pure JS)",
  group: "decode-all",
  fn() {
    const m = msgpackDecode(mp);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "flatbuffers table accessors (views)",
  group: "decode-all",
  fn() {
    const m = new FbSwap(fb);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

// --------------------------------------------------------------- decode-one

Deno.bench({
  name: "floor: hand-written full decode",
  group: "decode-one",
  baseline: true,
  fn() {
    const m = floorDecode(frame, frameView, 0);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "Mycelium V2Swap.view, only timestampNs read",
  group: "decode-one",
  fn() {
    sink ^= V2Swap.view(frame).timestampNs === TS ? 1 : 0;
  },
});

// --------------------------------------------------------------- round-trip
// Message object → bytes → every field read. The baseline gives back an equal
// V2Swap, as Mycelium's decode does; the "parse only" row skips turning hex
// back into bytes, a lower bound for any JSON that carries this message.

Deno.bench({
  name: "JSON stringify + parse → equal V2Swap (toHex/fromHex, BigInt)",
  group: "round-trip",
  baseline: true,
  fn() {
    const m = jsonDecodeSwap(jsonEncode(SWAP));
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "JSON stringify + parse only (hex left as strings: lower bound)",
  group: "round-trip",
  fn() {
    const m = jsonDecode(jsonEncode(SWAP));
    sink ^= m.poolAddress.length ^ m.token0.length ^ m.token1.length ^ m.amountIn.length ^
      m.amountOut.length ^ (BigInt(m.timestampNs) === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "floor: hand-written encode + decode",
  group: "round-trip",
  fn() {
    floorEncode(SWAP, slab, slabView, 0);
    const m = floorDecode(slab, slabView, 0);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "Mycelium encode + decode (plain object), every field read",
  group: "round-trip",
  fn() {
    V2Swap.encode(SWAP, slab, 0);
    const m = V2Swap.decode(slab, 0);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

Deno.bench({
  name: "Mycelium encode + view, every field read",
  group: "round-trip",
  fn() {
    V2Swap.encode(SWAP, slab, 0);
    const m = V2Swap.view(slab, 0);
    sink ^= m.poolAddress[0]! ^ m.token0[1]! ^ m.token1[2]! ^ m.amountIn[3]! ^
      m.amountOut[4]! ^ (m.timestampNs === TS ? 1 : 0);
  },
});

// Reading `sink` once more keeps it observable to the optimiser.
addEventListener("unload", () => {
  if (sink === FRAME_SIZE * 0x1_0000_0000) throw new Error("unreachable");
});
