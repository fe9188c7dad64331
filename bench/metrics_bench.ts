/**
 * LatencyRecorder.record on a hot path, against keeping only a sum and a
 * max (the least a latency metric can do). Each iteration records 1000
 * values spread from nanoseconds to milliseconds.
 *
 * Run: deno bench bench/metrics_bench.ts
 *
 * @module
 */
import { LatencyRecorder } from "../src/metrics/latency_recorder.ts";

const values = Float64Array.from({ length: 1024 }, (_, i) => (i * 7919) % 5_000_000);
const recorder = new LatencyRecorder();

/** The least a latency metric can keep. */
class SumMax {
  sum = 0;
  max = 0;
  record(v: number): void {
    this.sum += v;
    if (v > this.max) this.max = v;
  }
}
const floor = new SumMax();

Deno.bench({
  name: "sum and max only",
  group: "record 1000 latencies",
  baseline: true,
  fn() {
    for (let i = 0; i < 1000; i++) floor.record(values[i & 1023]!);
  },
});

Deno.bench({
  name: "LatencyRecorder.record",
  group: "record 1000 latencies",
  fn() {
    for (let i = 0; i < 1000; i++) recorder.record(values[i & 1023]!);
  },
});

Deno.bench({
  name: "LatencyRecorder.percentile(0.99)",
  group: "query",
  baseline: true,
  fn() {
    if (recorder.percentile(0.99) < 0) throw new Error("unreachable");
  },
});

globalThis.addEventListener("unload", () => {
  if (!(floor.sum >= 0 && floor.max >= 0)) throw new Error("unreachable");
});
