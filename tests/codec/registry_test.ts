import assert from "node:assert/strict";
import { defineMessage, field, FrameSplitter, Registry } from "../../src/codec/mod.ts";
import { ArbitrageSignal, V2Swap } from "../../examples/trading/messages.ts";
import {
  AllKinds,
  assertCodecError,
  Chat,
  concat,
  randomMessage,
  Rng,
  setU16,
} from "./_support.ts";

Deno.test("Registry refuses a second type with the same id, naming both types", () => {
  const Impostor = defineMessage({ id: 19, name: "NotASwap", fields: { x: field.u8() } });
  const err = assertCodecError(
    () => new Registry([V2Swap, Impostor]),
    "CODEC_DUPLICATE_TYPE",
    -1,
  );
  assert.match(err.message, /'V2Swap'/);
  assert.match(err.message, /'NotASwap'/);
  assert.match(err.message, /\b19\b/);

  const registry = new Registry([V2Swap]);
  const again = assertCodecError(() => registry.add(Impostor), "CODEC_DUPLICATE_TYPE", -1);
  assert.match(again.message, /'V2Swap'.*'NotASwap'/);
  assert.equal(registry.get(19), V2Swap, "the first type stays registered");
  assert.equal(registry.byName("NotASwap"), undefined);
});

Deno.test("Registry refuses a second type with the same name, naming both ids", () => {
  const Twin = defineMessage({ id: 99, name: "V2Swap", fields: {} });
  const err = assertCodecError(() => new Registry([V2Swap, Twin]), "CODEC_DUPLICATE_TYPE", -1);
  assert.match(err.message, /\b19\b/);
  assert.match(err.message, /\b99\b/);
});

Deno.test("Registry accepts the same type object twice and lists types in order of addition", () => {
  const registry = new Registry([V2Swap, ArbitrageSignal, V2Swap]).add(AllKinds).add(V2Swap);
  assert.deepStrictEqual([...registry], [V2Swap, ArbitrageSignal, AllKinds]);
  assert.equal(registry.get(20), ArbitrageSignal);
  assert.equal(registry.byName("AllKinds"), AllKinds);
  assert.equal(registry.get(21), undefined);
  assert.equal(registry.get(0), undefined);
});

Deno.test("Registry rejects a maxFrameSize that is not an integer from 0 to 2^32 - 1", () => {
  for (const maxFrameSize of [-1, NaN, 0.5, 2 ** 32, Infinity]) {
    assertCodecError(() => new Registry([], { maxFrameSize }), "CODEC_INVALID_VALUE", -1);
  }
  assert.equal(new Registry([], { maxFrameSize: 0 }).maxFrameSize, 0);
  assert.equal(new Registry().maxFrameSize, 16 * 1024 * 1024);
});

Deno.test("Registry.view narrows with isView and reads lazily", () => {
  const registry = new Registry([V2Swap, AllKinds]);
  const m = randomMessage(new Rng(1), AllKinds.fields) as AllKinds;
  const view = registry.view(AllKinds.toBytes(m));
  assert.ok(!V2Swap.isView(view));
  assert.ok(AllKinds.isView(view));
  assert.equal(view.u256, m.u256);
  assert.deepStrictEqual(view.toObject(), m);
});

Deno.test("Registry.viewChecked views splitter frames and reports unknown ids at the type id", () => {
  const registry = new Registry([Chat]);
  const r = new Rng(2);
  const a = randomMessage(r, Chat.fields);
  const b = randomMessage(r, Chat.fields);
  const stranger = Chat.toBytes(b as Chat);
  setU16(stranger, 2, 4242);
  const splitter = new FrameSplitter();
  const first = Chat.toBytes(a as Chat);
  splitter.push(concat(first, stranger));
  const p = splitter.next();
  assert.deepStrictEqual(
    registry.viewChecked(splitter.buffer, splitter.dataView, p).toObject(),
    a,
  );
  const q = splitter.next();
  assert.equal(q, first.length);
  assertCodecError(
    () => registry.viewChecked(splitter.buffer, splitter.dataView, q),
    "CODEC_UNKNOWN_TYPE",
    q + 2,
  );
});
