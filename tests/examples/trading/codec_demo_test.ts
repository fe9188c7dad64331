/**
 * The codec demo (once `mycelium demo`, now a module of the example): every
 * swap it encodes arrives intact through arbitrary read sizes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runCodecDemo } from "../../../examples/trading/codec_demo.ts";

Deno.test("the codec demo receives every frame it sent, with the same checksum", () => {
  const r = runCodecDemo({ count: 3_000, seed: 7 });
  assert.equal(r.frames, 3_000);
  assert.ok(r.reads > 1, "the stream should arrive in several reads");
  assert.ok(r.bytes > 3_000 * 100, "each frame holds its 20-byte addresses and 32-byte amounts");
  assert.equal(r.checksumReceived, r.checksumSent);
  assert.notEqual(runCodecDemo({ count: 3_000, seed: 8 }).checksumSent, r.checksumSent);
});
