/**
 * Two versions of one message type (same id and name): the newer appends
 * fixed and variable fields. Each side must read the other's frames.
 */
import assert from "node:assert/strict";
import { defineMessage, field, FrameSplitter, Registry } from "../../src/codec/mod.ts";
import { concat, randomMessage, Rng } from "./_support.ts";

const declareV1 = () =>
  defineMessage({
    id: 40,
    name: "Order",
    topic: "orders",
    fields: {
      orderId: field.u64(),
      symbol: field.string(),
      price: field.f64(),
      buy: field.bool(),
      memo: field.varBytes(),
    },
  });

const declareV2 = () =>
  defineMessage({
    id: 40,
    name: "Order",
    topic: "orders",
    fields: {
      orderId: field.u64(),
      symbol: field.string(),
      price: field.f64(),
      buy: field.bool(),
      memo: field.varBytes(),
      // Appended by the newer writer: fixed and variable, interleaved.
      quantity: field.u32(),
      account: field.string(),
      venue: field.bytes(3),
      tag: field.i16(),
      signature: field.varBytes(),
    },
  });

const OrderV1 = declareV1();
const OrderV2 = declareV2();

Deno.test("an older reader skips fixed and variable fields appended by a newer writer", () => {
  const r = new Rng(1);
  const registry = new Registry([OrderV1]);
  for (let i = 0; i < 300; i++) {
    const m = randomMessage(r, OrderV2.fields) as ReturnType<typeof OrderV2.decode>;
    const bytes = OrderV2.toBytes(m);
    const { quantity: _q, account: _a, venue: _v, tag: _t, signature: _s, ...old } = m;
    assert.deepStrictEqual(OrderV1.decode(bytes), old);
    const view = OrderV1.view(bytes);
    assert.equal(view.symbol, m.symbol);
    assert.deepStrictEqual(view.memo, m.memo);
    assert.deepStrictEqual(view.toObject(), old);
    assert.deepStrictEqual(registry.decode(bytes).message, old);
  }
});

Deno.test("a newer reader reads missing fields of an older writer as zero or empty", () => {
  const r = new Rng(2);
  const registry = new Registry([OrderV2]);
  const missing = {
    quantity: 0,
    account: "",
    venue: new Uint8Array(3),
    tag: 0,
    signature: new Uint8Array(0),
  };
  for (let i = 0; i < 300; i++) {
    const m = randomMessage(r, OrderV1.fields) as ReturnType<typeof OrderV1.decode>;
    const bytes = OrderV1.toBytes(m);
    const expected = { ...m, ...missing };
    assert.deepStrictEqual(OrderV2.decode(bytes), expected);
    const view = OrderV2.view(bytes);
    assert.equal(view.quantity, 0);
    assert.equal(view.account, "");
    assert.deepStrictEqual(view.venue, new Uint8Array(3));
    assert.equal(view.tag, 0);
    assert.equal(view.signature.length, 0);
    assert.deepStrictEqual(view.toObject(), expected);
    assert.deepStrictEqual(registry.decode(bytes).message, expected);
  }
});

Deno.test("mixed-version frames in one stream split and read on both sides", () => {
  const r = new Rng(3);
  const parts: Uint8Array[] = [];
  const sent: Record<string, unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    const type = i % 2 === 0 ? OrderV1 : OrderV2;
    const m = randomMessage(r, type.fields);
    parts.push(type.toBytes(m as never));
    sent.push(m);
  }
  for (const reader of [OrderV1, OrderV2]) {
    const splitter = new FrameSplitter({ slabSize: 512 });
    splitter.push(concat(...parts));
    let i = 0;
    for (let p = splitter.next(); p >= 0; p = splitter.next(), i++) {
      const got = reader.view(splitter.buffer, p).toObject() as Record<string, unknown>;
      for (const name of Object.keys(reader.fields)) {
        if (name in (sent[i] as object)) {
          assert.deepStrictEqual(got[name], (sent[i] as Record<string, unknown>)[name]);
        }
      }
    }
    assert.equal(i, sent.length);
  }
});

Deno.test("fingerprints differ between versions and are stable for identical declarations", () => {
  assert.match(OrderV1.fingerprint, /^[0-9a-f]{16}$/);
  assert.match(OrderV2.fingerprint, /^[0-9a-f]{16}$/);
  assert.notEqual(OrderV1.fingerprint, OrderV2.fingerprint);
  assert.equal(declareV1().fingerprint, OrderV1.fingerprint);
  assert.equal(declareV2().fingerprint, OrderV2.fingerprint);
});

Deno.test("a fingerprint changes with any field's name, kind, size or order, and with the id or name", () => {
  const base = { a: field.u32(), b: field.bytes(4), c: field.string() };
  const print = (id: number, name: string, fields: Parameters<typeof defineMessage>[0]["fields"]) =>
    defineMessage({ id, name, fields }).fingerprint;
  const variants = [
    print(50, "T", base),
    print(51, "T", base),
    print(50, "U", base),
    print(50, "T", { ...base, a: field.i32() }), // kind
    print(50, "T", { ...base, b: field.bytes(5) }), // size
    print(50, "T", { x: base.a, b: base.b, c: base.c }), // name
    print(50, "T", { b: base.b, a: base.a, c: base.c }), // order
    print(50, "T", { ...base, c: field.varBytes() }), // string vs bytes
    print(50, "T", { ...base, d: field.u8() }), // appended
  ];
  assert.equal(new Set(variants).size, variants.length);
  // The topic is routing, not layout: it does not change the fingerprint.
  assert.equal(
    defineMessage({ id: 50, name: "T", topic: "elsewhere", fields: base }).fingerprint,
    variants[0],
  );
});
