/**
 * DeliveryTiming: two recorders and a sampling period.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DeliveryTiming } from "../../src/metrics/delivery_timing.ts";

Deno.test("DeliveryTiming samples one delivery in 8 by default and keeps hops apart from queueing", () => {
  const t = new DeliveryTiming();
  assert.equal(t.sampleEvery, 8);
  t.hop.record(500);
  t.queued.record(2_000_000);
  t.queued.record(3_000_000);
  assert.equal(t.count, 3);
  assert.equal(t.hop.max, 500);
  assert.equal(t.queued.min, 2_000_000);
});

Deno.test("DeliveryTiming refuses a sampling period that is not a positive integer", () => {
  for (const sampleEvery of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new DeliveryTiming({ sampleEvery }), RangeError);
  }
  assert.equal(new DeliveryTiming({ sampleEvery: 1 }).sampleEvery, 1);
});
