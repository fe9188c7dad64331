/**
 * `mycelium run` as a real child process: the trading app's summary, its
 * audit file, and the same results whichever topology file places the actors.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";
import { mycelium, ROOT, sha256File as sha256 } from "./_mycelium.ts";

/** `mycelium run ARGS`, writing only in `dir`. */
function run(args: string[], dir: string) {
  return mycelium(["run", ...args], dir);
}

/** The summary lines that must not depend on timing. */
function results(stdout: string): string[] {
  return stdout.split("\n").filter((l) => /^ {2}(swaps|signals|P&L|delivery|completed) /.test(l));
}

Deno.test("mycelium run prints the trading summary and the checksum of the audit file it wrote", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_run_" });
  try {
    const audit = `${dir}/audit.log`;
    const r = await run(
      ["config/dev.yaml", "--swaps", "3000", "--seed", "2", "--audit", audit],
      dir,
    );
    assert.equal(r.code, EXIT_CODES.OK, r.stderr);
    assert.match(r.stdout, /^ {2}swaps +3000$/m);
    assert.match(r.stdout, /^ {2}completed +yes; shutdown drained; 0 messages dropped/m);
    assert.match(
      r.stdout,
      new RegExp(
        `^mycelium run config/dev\\.yaml: 7 actors in one process \\(monolith\\); swaps 3000, seed 2, audit ${
          audit.replaceAll(".", "\\.")
        }$`,
        "m",
      ),
    );
    // Routes to the actors a fixed route calls directly have no hop: 6 of dev.yaml's 8 (all
    // but the two into the executor, which stays on its mailbox).
    assert.match(
      r.stdout,
      /^budgets: \d+ of 8 declared routes within their latency budget; 6 of them direct calls/m,
    );
    assert.match(r.stdout, /^market_relay +arbitrage_strategy +channel +200 ns .* direct call$/m);
    const lines = (await Deno.readTextFile(audit)).split("\n").filter((l) => l !== "");
    assert.ok(lines.length > 0);
    assert.match(r.stdout, new RegExp(`${lines.length} lines, sha256 ${await sha256(audit)}`));
    assert.match(
      r.stdout,
      /^actor +group +delivery +handled +msg\/s +failed +dropped +discarded +restarts +hop p50 +hop p99 +queued +queued p99$/m,
    );
    // actor, group, delivery, handled, msg/s, then no failure, drop, discard or restart.
    assert.match(r.stdout, /^order_executor +main +mailbox +\d+ +\S+ +0 +0 +0 +0 /m);
    assert.match(r.stdout, /^market_relay +main +direct +3001 /m);
    // The market-data path, and the executor's risk checks, executions and audit lines: every
    // actor on them called directly.
    for (
      const name of [
        "polygon_collector",
        "market_relay",
        "arbitrage_strategy",
        "metrics_collector",
        "risk_manager",
        "audit_trail",
      ]
    ) {
      assert.match(
        r.stdout,
        new RegExp(`^${name} +main +direct +\\d+ +\\S+ +0 +0 +0 +0 +- +- +- +-$`, "m"),
      );
    }
    assert.doesNotMatch(r.stdout, /^ {2}(links|recovery) /m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mycelium run gives identical results from the monolith and the hybrid config, plain or faithful", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_run_" });
  try {
    const common = ["--swaps", "2500", "--seed", "5"];
    const a = await run(["config/dev.yaml", ...common, "--audit", `${dir}/a.log`], dir);
    const b = await run(
      [
        "config/prod.yaml",
        "--mode",
        "monolith",
        "--faithful",
        ...common,
        "--audit",
        `${dir}/b.log`,
      ],
      dir,
    );
    assert.equal(a.code, EXIT_CODES.OK, a.stderr);
    assert.equal(b.code, EXIT_CODES.OK, b.stderr);
    assert.deepEqual(results(b.stdout), results(a.stdout));
    assert.equal(results(a.stdout).length, 5);
    assert.equal(await sha256(`${dir}/b.log`), await sha256(`${dir}/a.log`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `mycelium validate CONFIG --measure` run from `dir`: it runs the app with its
 * default parameters, so its audit file (`mycelium-audit.log`) lands there.
 */
async function validateMeasure(config: string, dir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${dir}`,
      "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM",
      `${ROOT}cli.ts`,
      "validate",
      config,
      "--measure",
    ],
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("validate --measure passes within generous budgets and fails, naming the route, over tight ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_measure_" });
  try {
    const dev = await Deno.readTextFile(`${ROOT}config/dev.yaml`);
    assert.match(dev, /expected_latency: "200ns"/);
    await Deno.writeTextFile(`${dir}/loose.yaml`, dev.replace('"200ns"', '"10s"'));
    await Deno.writeTextFile(`${dir}/tight.yaml`, dev.replace('"200ns"', '"1ns"'));
    const loose = await validateMeasure(`${dir}/loose.yaml`, dir);
    assert.equal(loose.code, EXIT_CODES.OK, loose.stdout + loose.stderr);
    // Measured with every message through the bus, so every declared route is timed.
    assert.match(loose.stdout, /budgets: 8 of 8 declared routes within their latency budget/);
    const tight = await validateMeasure(`${dir}/tight.yaml`, dir);
    assert.equal(tight.code, EXIT_CODES.FAILED);
    assert.match(tight.stdout, /budgets: 0 of 8 declared routes within/);
    // Over on its hop p99, or unknown when no delivery found the receiver idle.
    assert.match(
      tight.stdout,
      /^polygon_collector +market_relay +channel +1 ns .*(OVER|no idle sample)$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validate --measure does not judge a route the config sends over a link: it ran in one process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_measure_" });
  try {
    const r = await validateMeasure(`${ROOT}config/prod.yaml`, dir);
    // Its two channel routes are over their 1 µs budget (every message through the bus).
    assert.equal(r.code, EXIT_CODES.FAILED, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^budgets: \d of 5 declared routes within their latency budget; 3 not judged: the config sends them over unix, tcp, but this run had sender and receiver in one process/m,
    );
    assert.match(
      r.stdout,
      /^arbitrage_strategy +order_executor +unix .* in one process: not judged$/m,
    );
    assert.match(r.stdout, /^order_executor +risk_manager +tcp .* in one process: not judged$/m);
    assert.doesNotMatch(r.stdout, /^\S+ +\S+ +(unix|tcp) .* ok$/m);
    // With the channel routes' budget loose, the routes it cannot judge do not fail it.
    const prod = await Deno.readTextFile(`${ROOT}config/prod.yaml`);
    assert.match(prod, /hot_path_latency: "1µs"/);
    await Deno.writeTextFile(`${dir}/loose.yaml`, prod.replace('"1µs"', '"10s"'));
    const loose = await validateMeasure(`${dir}/loose.yaml`, dir);
    assert.equal(loose.code, EXIT_CODES.OK, loose.stdout + loose.stderr);
    assert.match(
      loose.stdout,
      /^budgets: 2 of 5 declared routes within their latency budget; 3 not judged/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
