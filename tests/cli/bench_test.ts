/**
 * `mycelium bench` run as a real child process (`deno run cli.ts bench`),
 * which itself starts its peer process.
 * No timing thresholds: only the report's structure, that every figure is a
 * real measurement, and properties that hold on any machine.
 */
import assert from "node:assert/strict";
import { BenchError } from "../../src/cli/bench_command.ts";
import { EXIT_CODES, exitCodeFor } from "../../src/cli/exit_codes.ts";
import { NATS_SERVER_AVAILABLE } from "../nats/_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ALL = ["--allow-read", "--allow-write", "--allow-net", "--allow-run", "--allow-env"];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  /** What the run left in its private TMPDIR. */
  leftovers: string[];
}

/** Runs `cli.ts bench <args>` with its own TMPDIR, so leftovers can be seen. */
async function bench(args: readonly string[], permissions = ALL): Promise<Result> {
  const tmp = await Deno.makeTempDir({ prefix: "mycelium_bench_test_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...permissions, "cli.ts", "bench", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", TMPDIR: tmp },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const leftovers: string[] = [];
    for await (const entry of Deno.readDir(tmp)) leftovers.push(entry.name);
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr), leftovers };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

interface Row {
  id: string;
  place: string;
  what: string;
  p50Ns: number | null;
  p99Ns: number | null;
  msgPerSec: number | null;
  samples: number;
  isFloor: boolean;
  floor: string | null;
  floorRatio: number | null;
}

interface Cell {
  system: string;
  sameProcessNs: number | null;
  sameMachineNs: number | null;
  networkNs: number | null;
}

function assertMeasured(value: unknown, what: string): asserts value is number {
  assert.equal(typeof value, "number", `${what}: ${String(value)}`);
  assert.ok(Number.isFinite(value) && (value as number) > 0, `${what}: ${String(value)}`);
}

const MYCELIUM_ROWS = [
  "direct-call",
  "monolith-emit",
  "bus-publish",
  "promise-rtt",
  "bus-rtt",
  "unix-raw-rtt",
  "unix-link-rtt",
  "unix-raw-stream",
  "unix-link-stream",
  "tcp-raw-rtt",
  "tcp-link-rtt",
  "tcp-raw-stream",
  "tcp-link-stream",
];

/** The NATS rows, measured when nats-server is installed (`.ci/run` installs it). */
const NATS_ROWS = ["nats-raw-rtt", "nats-rtt", "nats-raw-stream", "nats-stream"];
const WITH_NATS = NATS_SERVER_AVAILABLE;

Deno.test("bench --quick --json measures every transport with real, consistent figures", async () => {
  const r = await bench(["--quick", "--json"]);
  assert.equal(r.code, EXIT_CODES.OK, r.stderr);
  assert.deepEqual(r.leftovers, [], "the socket directory was not removed");
  const report = JSON.parse(r.stdout);
  assert.equal(report.options.quick, true);
  assertMeasured(report.options.messages, "messages");
  assertMeasured(report.elapsedMs, "elapsedMs");
  assert.ok(!Number.isNaN(Date.parse(report.measuredAt)), report.measuredAt);

  const rows = report.rows as Row[];
  const byId = new Map(rows.map((row) => [row.id, row]));
  assert.equal(byId.size, rows.length, "row ids repeat");
  assert.deepEqual(
    rows.map((row) => row.id),
    [...MYCELIUM_ROWS, ...(WITH_NATS ? NATS_ROWS : [])],
    "rows, in order",
  );
  assert.deepEqual(
    [...new Set(rows.map((row) => row.place))],
    ["in process", "unix", "tcp", ...(WITH_NATS ? ["nats"] : [])],
    "Mycelium's own transports, NATS when a server can be started, and their floors",
  );

  for (const row of rows) {
    const figures = [row.p50Ns, row.p99Ns, row.msgPerSec].filter((f) => f !== null);
    assert.ok(figures.length > 0, `${row.id} measured nothing`);
    for (const f of figures) assertMeasured(f, row.id);
    assert.ok(row.samples > 0, `${row.id}: no samples`);
    assert.equal(row.p50Ns === null, row.p99Ns === null, `${row.id}: p50 without p99`);
    if (row.p50Ns !== null) assert.ok(row.p99Ns! >= row.p50Ns, `${row.id}: p99 < p50`);
    if (row.isFloor) {
      assert.equal(row.floor, null);
    } else {
      assert.ok(byId.get(row.floor ?? "")?.isFloor, `${row.id}: floor ${row.floor}`);
      assertMeasured(row.floorRatio, `${row.id} floor ratio`);
    }
  }

  // In process a round trip is a few function calls; over a socket it crosses two processes.
  const inProcess = byId.get("bus-rtt")!.p50Ns!;
  for (const id of ["unix-link-rtt", "tcp-link-rtt", "unix-raw-rtt", "tcp-raw-rtt"]) {
    assert.ok(inProcess < byId.get(id)!.p50Ns!, `in process ${inProcess} ns vs ${id}`);
  }

  const table = report.comparison.rows as Cell[];
  assert.deepEqual(table.map((c) => c.system), ["Mycelium"]);
  const mycelium = table[0]!;
  assertMeasured(mycelium.sameProcessNs, "Mycelium same process");
  assertMeasured(mycelium.sameMachineNs, "Mycelium same machine");
  assertMeasured(mycelium.networkNs, "Mycelium network");
  assert.equal(mycelium.sameMachineNs, byId.get("unix-link-rtt")!.p50Ns);
  assert.equal(mycelium.networkNs, byId.get("tcp-link-rtt")!.p50Ns);
  assert.ok(mycelium.sameProcessNs < mycelium.sameMachineNs);
  assert.ok(mycelium.sameProcessNs < mycelium.networkNs);
  assert.match(report.comparison.measure, /round-trip p50/);
});

Deno.test("bench --quick prints the per-transport table and the comparison table", async () => {
  const r = await bench(["--quick"]);
  assert.equal(r.code, EXIT_CODES.OK, r.stderr);
  assert.deepEqual(r.leftovers, []);
  assert.match(r.stdout, /^where\s+what\s+p50\s+p99\s+msg\/s\s+x floor$/m);
  for (
    const what of [
      "MonolithBus emit",
      "MessageBus request -> reply",
      "unix link",
      "tcp link",
      ...(WITH_NATS ? ["Mycelium over NATS, V2Swap request -> reply"] : []),
    ]
  ) {
    assert.match(r.stdout, new RegExp(`^\\S.*${what}.*\\d`, "m"), `no ${what} row`);
  }
  assert.match(r.stdout, /^Performance comparison \(each cell: measured round-trip p50/m);
  assert.match(r.stdout, /^\s+Same process\s+Same machine\s+Network$/m);
  assert.match(r.stdout, /^Mycelium\s+[\d.]+ [nµm]s\s+[\d.]+ [nµm]s\s+[\d.]+ [nµm]s$/m);
  assert.match(r.stdout, /this machine's, measured now; the machine may be shared/);
});

Deno.test("bench without --allow-run fails with a typed error line and its exit code", async () => {
  const r = await bench(["--quick"], ALL.filter((p) => p !== "--allow-run"));
  assert.equal(r.code, exitCodeFor(new BenchError("BENCH_PERMISSION", "")), r.stderr);
  assert.notEqual(r.code, EXIT_CODES.OK);
  assert.match(
    r.stderr,
    /^mycelium: no run \(.*\) permission; .*--allow-run.* \[BENCH_PERMISSION\]$/m,
  );
  assert.equal(r.stdout, "");
  assert.deepEqual(r.leftovers, [], "the socket directory was not removed");
});

Deno.test("bench --messages below 1000 is a usage error", async () => {
  const r = await bench(["--messages", "10"]);
  assert.equal(r.code, EXIT_CODES.USAGE);
  assert.match(r.stderr, /--messages/);
});

Deno.test("bench --help describes the in-process, unix, tcp and NATS measurements", async () => {
  const r = await bench(["--help"]);
  assert.equal(r.code, EXIT_CODES.OK, r.stderr);
  assert.match(r.stdout, /^Usage: mycelium bench \[--quick\] \[--json\] \[--messages N\]$/m);
  for (const what of ["MonolithBus emit", "Unix socket link", "TCP loopback link"]) {
    assert.ok(r.stdout.includes(what), `the help does not mention ${what}`);
  }
  assert.match(r.stdout, /when nats-server is installed/);
});
