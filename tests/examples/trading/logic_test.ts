import assert from "node:assert/strict";
import { CodecError } from "../../../src/codec/mod.ts";
import { bytesToU256, u256ToBytes, u256ToNumber } from "../../../examples/trading/amounts.ts";
import { seededRandom } from "../../../examples/trading/seeded_random.ts";
import { ArbitrageDetector, readPath } from "../../../examples/trading/arbitrage.ts";
import { executionLine, signalLine } from "../../../examples/trading/audit.ts";
import { FillSimulator, RiskBook } from "../../../examples/trading/execution.ts";
import {
  address,
  readSwapFile,
  SwapSource,
  USDC,
  WETH,
  writeSwapFile,
} from "../../../examples/trading/market.ts";
import type { ArbitrageSignal, V2Swap } from "../../../examples/trading/messages.ts";

function take(source: SwapSource, n: number): V2Swap[] {
  return Array.from({ length: n }, () => source.next());
}

Deno.test("u256 amounts round-trip through 32 little-endian bytes and refuse overflow", () => {
  for (const v of [0n, 1n, 255n, 256n, (1n << 128n) + 7n, (1n << 256n) - 1n]) {
    assert.equal(bytesToU256(u256ToBytes(v)), v);
  }
  assert.deepEqual([...u256ToBytes(258n).subarray(0, 3)], [2, 1, 0]);
  assert.throws(() => u256ToBytes(1n << 256n), RangeError);
  assert.throws(() => u256ToBytes(-1n), RangeError);
});

Deno.test("u256ToNumber rounds as Number(bigint) does, ties to even included, at every width", () => {
  const random = seededRandom(3);
  const values: bigint[] = [0n, 1n, (1n << 53n) - 1n, 1n << 53n, (1n << 256n) - 1n];
  for (let width = 1; width <= 256; width++) {
    for (let t = 0; t < 20; t++) {
      let v = 1n << BigInt(width - 1);
      for (let i = 0; i < width - 1; i++) if (random() < 0.5) v |= 1n << BigInt(i);
      values.push(v);
      if (width > 55) {
        // Exactly halfway between two doubles, and one unit either side of it.
        const drop = BigInt(width - 54);
        const half = ((v >> drop) << drop) | (1n << (drop - 1n));
        values.push(half, half + 1n, half - 1n);
      }
    }
  }
  for (const v of values) assert.equal(u256ToNumber(u256ToBytes(v)), Number(v), `${v}`);
  // Any offset into a larger buffer, as a decoded message's fields are.
  const slab = new Uint8Array(40);
  u256ToBytes(123_456_789_012_345_678_901_234_567n, slab.subarray(5, 37));
  assert.equal(u256ToNumber(slab.subarray(5, 37)), 123_456_789_012_345_678_901_234_567);
});

Deno.test("SwapSource gives the same stream for the same seed and another for another seed", () => {
  const a = take(new SwapSource({ seed: 5 }), 500);
  const b = take(new SwapSource({ seed: 5 }), 500);
  const c = take(new SwapSource({ seed: 6 }), 500);
  assert.deepEqual(writeSwapFile(a), writeSwapFile(b));
  assert.notDeepEqual(writeSwapFile(a), writeSwapFile(c));
  for (let i = 1; i < a.length; i++) {
    assert.ok((a[i] as V2Swap).timestampNs > (a[i - 1] as V2Swap).timestampNs);
  }
});

Deno.test("a swap file replays the swaps it was written from, and a cut file is refused", () => {
  const swaps = take(new SwapSource({ seed: 9 }), 100);
  const file = writeSwapFile(swaps);
  assert.equal(file.length, 100 * 144);
  assert.deepEqual(writeSwapFile(readSwapFile(file)), file);
  assert.throws(
    () => readSwapFile(file.subarray(0, file.length - 10)),
    (e) => e instanceof CodecError && e.code === "CODEC_TRUNCATED" && e.offset === 99 * 144,
  );
});

function swapAt(pool: number, priceUsd: number, t: bigint): V2Swap {
  // Sell 1 WETH into `pool` at `priceUsd`.
  return {
    poolAddress: address(0x10 + pool, 1),
    token0: WETH,
    token1: USDC,
    amountIn: u256ToBytes(10n ** 18n),
    amountOut: u256ToBytes(BigInt(priceUsd) * 10n ** 18n),
    timestampNs: t,
  };
}

Deno.test("ArbitrageDetector signals a gap over the threshold, buying low and selling high", () => {
  const detector = new ArbitrageDetector({ thresholdBps: 80, costBps: 60, tradeNotional: 1_000 });
  assert.equal(detector.onSwap(swapAt(0, 3000, 1n)), undefined);
  assert.equal(detector.onSwap(swapAt(1, 3015, 2n)), undefined, "50 bps is under the threshold");
  const signal = detector.onSwap(swapAt(2, 3036, 3n)) as ArbitrageSignal;
  assert.ok(signal !== undefined);
  assert.equal(signal.opportunityId, 1n);
  const path = readPath(signal.path);
  assert.deepEqual(path.buyPool, address(0x10, 1));
  assert.deepEqual(path.sellPool, address(0x12, 1));
  assert.equal(path.gapBps, 120);
  // 1,000 USDC × (1.2% − 0.6%) = 6 USDC.
  assert.equal(bytesToU256(signal.estimatedProfit), 6_000_000n);
  assert.equal(detector.signals, 1);
});

Deno.test("RiskBook refuses orders over the exposure limit and halts past the loss limit", () => {
  const book = new RiskBook({ maxExposureMicro: 100n, maxLossMicro: 10n, releaseBps: 5_000n });
  assert.equal(book.check({ opportunityId: 1n, notionalMicro: 80n }).approved, true);
  assert.equal(book.check({ opportunityId: 2n, notionalMicro: 30n }).approved, false);
  const exec = {
    opportunityId: 1n,
    filled: true,
    fillBps: 10_000,
    notionalMicro: 80n,
    pnlMicro: -11n,
    reason: "",
  };
  book.record(exec);
  assert.equal(book.exposureMicro, 40n);
  assert.equal(book.halted, true);
  assert.deepEqual(book.check({ opportunityId: 3n, notionalMicro: 1n }), {
    opportunityId: 3n,
    approved: false,
    halted: true,
  });
});

Deno.test("FillSimulator fills the same id the same way and leaves refused orders unfilled", () => {
  const detector = new ArbitrageDetector({ tradeNotional: 1_000 });
  detector.onSwap(swapAt(0, 3000, 1n));
  const signal = detector.onSwap(swapAt(1, 3060, 2n)) as ArbitrageSignal;
  const sim = new FillSimulator();
  const ok = { opportunityId: 1n, approved: true, halted: false };
  const a = sim.fill(signal, ok);
  assert.deepEqual(new FillSimulator().fill(signal, ok), a);
  assert.equal(a.filled, true);
  assert.ok(a.fillBps >= 6_000 && a.fillBps <= 10_000);
  const refused = sim.fill(signal, { opportunityId: 1n, approved: false, halted: true });
  assert.equal(refused.filled, false);
  assert.equal(refused.reason, "risk: trading halted");
  assert.match(signalLine(signal), /^signal 1 buy=(10){19}01 sell=(11){19}01 gap_bps=200 /);
  assert.match(executionLine(refused), /filled=false .*reason="risk: trading halted"\n$/);
});
