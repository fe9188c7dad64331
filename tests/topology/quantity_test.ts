import assert from "node:assert/strict";
import {
  formatLatency,
  formatThroughput,
  parseLatency,
  parseThroughput,
  TopologyError,
} from "../../src/topology/mod.ts";

Deno.test("parseLatency reads every unit the seeds use into nanoseconds", () => {
  assert.equal(parseLatency("200ns"), 200);
  assert.equal(parseLatency("2μs"), 2_000); // Greek mu
  assert.equal(parseLatency("50µs"), 50_000); // micro sign
  assert.equal(parseLatency("3us"), 3_000);
  assert.equal(parseLatency("1ms"), 1_000_000);
  assert.equal(parseLatency("1.5 ms"), 1_500_000);
  assert.equal(parseLatency("2s"), 2_000_000_000);
});

Deno.test("parseLatency refuses a bad unit, a bare number and zero with TOPOLOGY_BAD_UNIT and the fix", () => {
  for (const bad of ["200 nanos", "2 min", 200, "", "-5ms", "0ns", "ms"]) {
    assert.throws(
      () => parseLatency(bad, { file: "f.yaml", line: 3, column: 9, path: "performance.x" }),
      (e: unknown) => {
        assert.ok(e instanceof TopologyError);
        assert.equal(e.code, "TOPOLOGY_BAD_UNIT");
        assert.equal(e.line, 3);
        assert.equal(e.column, 9);
        assert.match(e.message, /^f\.yaml:3:9: performance\.x: .* is not a (positive )?latency; /);
        assert.match(e.fix, /ns, us \(or µs\), ms or s/);
        return true;
      },
      `accepted ${JSON.stringify(bad)}`,
    );
  }
});

Deno.test("parseThroughput reads k, M and G multipliers and plain numbers into messages per second", () => {
  assert.equal(parseThroughput("20M msg/s"), 20_000_000);
  assert.equal(parseThroughput("500k msg/s"), 500_000);
  assert.equal(parseThroughput("1.5G msg/s"), 1_500_000_000);
  assert.equal(parseThroughput("1000 msg/s"), 1000);
  assert.equal(parseThroughput(250_000), 250_000);
});

Deno.test("parseThroughput refuses a missing msg/s and unknown multipliers", () => {
  for (const bad of ["20M", "20X msg/s", "fast", "20M msg/min", 0, -1]) {
    assert.throws(() => parseThroughput(bad), (e: unknown) => {
      assert.ok(e instanceof TopologyError);
      assert.equal(e.code, "TOPOLOGY_BAD_UNIT");
      assert.match(e.fix, /msg\/s/);
      return true;
    });
  }
});

Deno.test("formatLatency and formatThroughput print what a person would write", () => {
  assert.equal(formatLatency(200), "200ns");
  assert.equal(formatLatency(2_000), "2µs");
  assert.equal(formatLatency(12_500), "12.5µs");
  assert.equal(formatLatency(1_500_000), "1.5ms");
  assert.equal(formatLatency(3e9), "3s");
  assert.equal(formatThroughput(20_000_000), "20M msg/s");
  assert.equal(formatThroughput(500), "500 msg/s");
  assert.equal(parseLatency(formatLatency(25_000)), 25_000);
});
