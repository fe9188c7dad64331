/**
 * The trading example end to end, against its floor.
 *
 * - Group "trading, one process": the app run by the runtime in monolith
 *   mode (fixed routes as direct calls, mailboxes elsewhere, audit file
 *   written) against the floor (`baseline`): the same example logic (swap
 *   source, detector, risk book, fill simulator, ledger, audit lines, metrics
 *   counts) wired by hand-written direct calls, no bus at all. Both write the
 *   same audit bytes (checked once before timing). Each monolith iteration
 *   also runs the floor beside it (before it, then after it, in turns),
 *   outside its timing, and the end of the run prints the median of those
 *   pairs' ratios: the two rows run one
 *   after the other, and a shared machine's load drifts between them.
 * - Group "trading, split": the same app as three processes (hot path;
 *   executor over a Unix socket; audit over TCP; the risk manager either on
 *   the audit's host, as config/prod.yaml places it, or beside the executor),
 *   started by the CLI's supervisor as child processes, against the monolith
 *   run by the same CLI as a child process (`baseline`). Each iteration includes starting
 *   the processes; the swaps/s each run reported itself (swaps over the run's
 *   elapsed time, startup excluded) are printed at the end.
 *
 * Run: cd bench && deno bench -A trading_bench.ts
 *
 * @module
 */
import { parseTopology, runProcess } from "../mod.ts";
import { FileSink, tradingApp } from "../examples/trading/app.ts";
import { ArbitrageDetector } from "../examples/trading/arbitrage.ts";
import { executionLine, signalLine } from "../examples/trading/audit.ts";
import { FillSimulator, notionalOf, RiskBook } from "../examples/trading/execution.ts";
import { ExecutionLedger } from "../examples/trading/ledger.ts";
import { SwapSource } from "../examples/trading/market.ts";

const SWAPS = 200_000;
const SPLIT_SWAPS = 200_000;
const dir = await Deno.makeTempDir({ prefix: "mycelium_trading_bench_" });
const topology = parseTopology(
  `topology:\n  mode: monolith\n  actors: { ${
    tradingApp.actorNames.map((a) => `${a}:`).join(", ")
  } }\n`,
);

/**
 * The floor: one loop over the swaps, each stage called by hand in the order
 * the pipeline's messages reach it (relay, strategy and metrics per swap;
 * per signal: risk check, fill, audit of the signal, then the execution
 * booked by risk, audit and metrics).
 */
async function floor(swaps: number, audit: string): Promise<number> {
  const sink = new FileSink(
    await Deno.open(audit, { write: true, create: true, truncate: true }),
  );
  const source = new SwapSource({ seed: 1 });
  const detector = new ArbitrageDetector();
  const risk = new RiskBook();
  const sim = new FillSimulator();
  const ledger = new ExecutionLedger();
  const perPool = new Map<number, number>();
  let metricsSwaps = 0;
  let executions = 0;
  let fills = 0;
  let pnl = 0n;
  try {
    for (let i = 0; i < swaps; i++) {
      const swap = source.next();
      const signal = detector.onSwap(swap);
      metricsSwaps++;
      const a = swap.poolAddress;
      const key = (a[0] as number) * 256 + (a[19] as number);
      perPool.set(key, (perPool.get(key) ?? 0) + 1);
      if (signal === undefined) continue;
      const verdict = risk.check({
        opportunityId: signal.opportunityId,
        notionalMicro: notionalOf(signal),
      });
      const execution = sim.fill(signal, verdict);
      if (execution.filled) {
        fills++;
        pnl += execution.pnlMicro;
      }
      ledger.signal(signal);
      sink.write(signalLine(signal));
      risk.record(execution);
      ledger.execution(execution);
      sink.write(executionLine(execution));
      executions++;
    }
    ledger.end(BigInt(detector.signals));
  } finally {
    sink.close();
  }
  if (metricsSwaps !== swaps || executions !== ledger.summary().executed) {
    throw new Error("the floor lost count");
  }
  return fills + Number(pnl & 1n);
}

async function monolith(swaps: number, audit: string): Promise<void> {
  const report = await runProcess(tradingApp, {
    topology,
    params: { swaps, audit },
  });
  if (!report.completed) throw new Error("the monolith run did not complete");
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(path),
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

// The floor is the same logic: same audit bytes as the app.
await floor(20_000, `${dir}/floor-check.log`);
await monolith(20_000, `${dir}/mono-check.log`);
if (
  await sha256(`${dir}/floor-check.log`) !==
    await sha256(`${dir}/mono-check.log`)
) {
  throw new Error("the floor and the app wrote different audit files");
}

Deno.bench(`floor: the example's logic by direct calls, ${SWAPS} swaps`, {
  group: "trading, one process",
  baseline: true,
  n: 10,
  warmup: 2,
}, async () => void await floor(SWAPS, `${dir}/floor.log`));

/** Floor and monolith times of the monolith row's iterations, each pair taken one after the other. */
const pairs: [floorMs: number, monolithMs: number][] = [];
const MONOLITH_WARMUP = 2;
let monolithCalls = 0;

Deno.bench(`Mycelium monolith (runProcess, fixed routes), ${SWAPS} swaps`, {
  group: "trading, one process",
  n: 10,
  warmup: MONOLITH_WARMUP,
}, async (b) => {
  // A floor run beside each of this row's, outside its timing: the rows above run one after the
  // other, and a shared machine's load drifts between them; the pairs see the same load. The floor
  // goes first on even calls and second on odd ones, so neither always follows the other.
  const floorRun = async () => {
    const f0 = performance.now();
    await floor(SWAPS, `${dir}/floor-paired.log`);
    return performance.now() - f0;
  };
  const floorFirst = (monolithCalls & 1) === 0;
  const floorBefore = floorFirst ? await floorRun() : 0;
  b.start();
  const m0 = performance.now();
  await monolith(SWAPS, `${dir}/mono.log`);
  const monolithMs = performance.now() - m0;
  b.end();
  const floorMs = floorFirst ? floorBefore : await floorRun();
  // Deno calls the function for its warm-up runs too.
  if (++monolithCalls > MONOLITH_WARMUP) pairs.push([floorMs, monolithMs]);
});

// --- Split: child processes through the CLI ---

const cli = new URL("../cli.ts", import.meta.url).pathname;

function freePorts(n: number): number {
  for (;;) {
    const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (first.addr as Deno.NetAddr).port;
    first.close();
    try {
      for (let i = 1; i < n; i++) {
        Deno.listen({ hostname: "127.0.0.1", port: port + i }).close();
      }
      return port;
    } catch {
      // One of them is taken: try another range.
    }
  }
}

/**
 * The split: hot path; executor over a Unix socket; audit over TCP. `riskWith`
 * places the risk manager: `"compliance"` as config/prod.yaml does (every
 * order waits for a TCP round trip to another host), or `"execution"` beside
 * the executor it answers, where a latency-sensitive deployment keeps it.
 */
function hybridYaml(riskWith: "compliance" | "execution"): string {
  const execution = riskWith === "execution" ? "order_executor, risk_manager" : "order_executor";
  const compliance = riskWith === "compliance" ? "audit_trail, risk_manager" : "audit_trail";
  return `topology:
  mode: hybrid
  socket_dir: ${dir}
  base_port: ${freePorts(4)}
  hosts: { local: "127.0.0.1", compliance: "127.0.0.1" }
  process_groups:
    hot_path:
      actors: [polygon_collector, market_relay, arbitrage_strategy, metrics_collector]
      transport: channel
    execution:
      actors: [${execution}]
      transport: unix_socket
    compliance:
      actors: [${compliance}]
      host: compliance
`;
}

/** Swaps per second of the median of `ms` (one run of SWAPS each). */
function rate(ms: number[]): string {
  const median = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
  return Math.round(SWAPS / median * 1000).toLocaleString("en-US");
}

/** Swaps per second each CLI run reported, by row. */
const reported = new Map<string, number[]>();

async function cliRun(
  row: string,
  config: string,
  extra: string[],
): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      cli,
      "run",
      config,
      "--swaps",
      String(SPLIT_SWAPS),
      "--audit",
      `${dir}/${row.replaceAll(/\W+/g, "_")}.log`,
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${row} failed: ${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  const m = /throughput\s+([\d,]+) swaps\/s/.exec(text);
  if (m !== null) {
    const list = reported.get(row) ?? [];
    list.push(Number(m[1]!.replaceAll(",", "")));
    reported.set(row, list);
  }
}

const monolithYaml = `${dir}/monolith.yaml`;
Deno.writeTextFileSync(
  monolithYaml,
  `topology:\n  mode: monolith\n  actors: { ${
    tradingApp.actorNames.map((a) => `${a}:`).join(", ")
  } }\n`,
);

Deno.bench(`CLI monolith, one process, ${SPLIT_SWAPS} swaps`, {
  group: "trading, split",
  baseline: true,
  n: 3,
  warmup: 1,
}, async () => await cliRun("monolith", monolithYaml, []));

for (const riskWith of ["compliance", "execution"] as const) {
  Deno.bench(
    `CLI hybrid, 3 processes (unix and tcp links), risk with ${riskWith}, ${SPLIT_SWAPS} swaps`,
    { group: "trading, split", n: 3, warmup: 1 },
    async () => {
      const config = `${dir}/hybrid-${riskWith}.yaml`;
      await Deno.writeTextFile(config, hybridYaml(riskWith));
      // The compliance group is on another (mapped) host: this supervisor starts it too.
      await cliRun(`hybrid, risk with ${riskWith}`, config, [
        "--all-hosts",
        "--socket-dir",
        dir,
      ]);
    },
  );
}

globalThis.addEventListener("unload", () => {
  if (pairs.length > 0) {
    const ratios = pairs.map(([f, m]) => m / f).sort((a, b) => a - b);
    const mid = ratios[Math.floor(ratios.length / 2)]!;
    // deno-lint-ignore no-console
    console.log(
      `monolith / floor, runs taken in turn (${pairs.length} pairs): ` +
        `median ${mid.toFixed(2)}x, range ${ratios[0]!.toFixed(2)}-${
          ratios.at(-1)!.toFixed(2)
        }x; ` +
        `swaps/s median: floor ${rate(pairs.map(([f]) => f))}, monolith ${
          rate(pairs.map(([, m]) => m))
        }`,
    );
  }
  for (const [row, list] of reported) {
    const median = [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
    // deno-lint-ignore no-console
    console.log(
      `${row}: swaps/s as the run reported it: median ${median} of [${list.join(", ")}]`,
    );
  }
  const mono = reported.get("monolith");
  const med = (l: number[]) => [...l].sort((a, b) => a - b)[Math.floor(l.length / 2)]!;
  for (const [row, list] of reported) {
    if (mono === undefined || !row.startsWith("hybrid")) continue;
    // deno-lint-ignore no-console
    console.log(
      `${row} / monolith (reported swaps/s, medians): ${(med(list) / med(mono)).toFixed(2)}x`,
    );
  }
  Deno.removeSync(dir, { recursive: true });
});
