/**
 * `mycelium run`: runs the reference trading pipeline as a topology places
 * it, and prints the summary. Today every actor runs in this process (the
 * monolith deployment); a hybrid or distributed topology needs the process
 * links, so it is refused with a clear message unless `--mode monolith` says
 * to run it in one process anyway.
 *
 * @module
 */
import { loadTopology, type Topology, TopologyResolver } from "../topology/mod.ts";
import { PIPELINE_ACTORS } from "../pipeline/actors.ts";
import { readSwapFile } from "../pipeline/market.ts";
import { type PipelineSummary, runPipeline } from "../pipeline/pipeline.ts";
import type { CliIo } from "./cli_io.ts";
import { EXIT_CODES } from "./exit_codes.ts";
import { formatTable } from "./format_table.ts";

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** Topology file. */
  config: string;
  /** `"monolith"` runs every actor here whatever the config says. Default: the config's mode. */
  mode?: "monolith" | undefined;
  /** Swaps to generate. */
  swaps: number;
  /** Seed of the market. */
  seed: number;
  /** Swaps per second; default as fast as the pipeline takes them. */
  rate?: number | undefined;
  /** Path of the audit file (created or truncated). */
  audit: string;
  /** Swap file (V2Swap frames) to replay instead of generating swaps. */
  replay?: string | undefined;
  /** Round-trip every message through the codec. */
  faithful: boolean;
}

/** Bytes buffered before the audit file is written to. */
const AUDIT_BUFFER = 64 * 1024;

/** Appends lines to a file through a buffer, written synchronously when full. */
class FileSink {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #pending: string[] = [];
  #size = 0;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  write(line: string): void {
    this.#pending.push(line);
    this.#size += line.length;
    if (this.#size >= AUDIT_BUFFER) this.flush();
  }

  flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.join(""));
    for (let at = 0; at < bytes.length;) at += this.#file.writeSync(bytes.subarray(at));
    this.#pending = [];
    this.#size = 0;
  }
}

async function sha256Hex(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function usdc(micro: bigint): string {
  const sign = micro < 0n ? "-" : "+";
  const abs = micro < 0n ? -micro : micro;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, "0").slice(0, 2)}`;
}

function latency(ns: number): string {
  if (ns === 0) return "-";
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(1)} ms`;
}

/** The summary, as printed. */
export function formatSummary(s: PipelineSummary, audit: string, checksum: string): string {
  const discarded = s.actors.reduce((n, a) => n + a.discarded + a.dropped, 0);
  const lines = [
    `  swaps         ${s.swaps}`,
    `  signals       ${s.signals} (filled ${s.fills}, refused by risk ${s.refused})`,
    `  P&L           ${usdc(s.pnlMicro)} USDC; open exposure ${
      usdc(s.exposureMicro).slice(1)
    } USDC; ` +
    `risk halted: ${s.halted ? "yes" : "no"}`,
    `  audit         ${audit}: ${s.auditLines} lines, sha256 ${checksum}`,
    `  completed     ${s.completed ? "yes" : "no (stopped early)"}; shutdown ${
      s.shutdown.drained ? "drained" : "hit its deadline"
    }; ${discarded} messages dropped or discarded; ${s.shutdown.abandonedRequests} requests abandoned`,
    `  elapsed       ${s.elapsedMs.toFixed(0)} ms`,
    "",
    formatTable([
      ["actor", "handled", "failed", "dropped", "discarded", "restarts", "p50", "p99"],
      ...s.actors.map((a) => [
        a.name,
        String(a.handled),
        String(a.failed),
        String(a.dropped),
        String(a.discarded),
        String(a.restarts),
        latency(a.p50Ns),
        latency(a.p99Ns),
      ]),
    ]),
    "  (p50/p99: time from entering the actor's mailbox to the end of its handler)",
  ];
  return lines.join("\n");
}

/** One declared route's latency budget against what the run measured. */
export interface BudgetCheck {
  readonly from: string;
  readonly to: string;
  readonly transport: string;
  /** Budget in ns, and the key that set it. */
  readonly budgetNs: number;
  readonly budgetKey: string;
  /** Measured at the receiver (mailbox wait + handling), in ns. */
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** Whether the 99th percentile is within the budget. */
  readonly ok: boolean;
}

/**
 * Compares each declared route that has a latency budget with the latency
 * measured at its receiving actor. The receiver's figure covers every sender
 * that reaches it, which for the pipeline is one sender per route.
 */
export function checkBudgets(topology: Topology, summary: PipelineSummary): BudgetCheck[] {
  const byActor = new Map(summary.actors.map((a) => [a.name, a]));
  const checks: BudgetCheck[] = [];
  for (const route of new TopologyResolver(topology).routeTable()) {
    const measured = byActor.get(route.to);
    if (route.latencyBudget === undefined || measured === undefined) continue;
    checks.push({
      from: route.from,
      to: route.to,
      transport: route.transport,
      budgetNs: route.latencyBudget.value,
      budgetKey: route.latencyBudget.key,
      p50Ns: measured.p50Ns,
      p99Ns: measured.p99Ns,
      ok: measured.p99Ns <= route.latencyBudget.value,
    });
  }
  return checks;
}

function formatBudgets(checks: readonly BudgetCheck[], paced: boolean): string {
  if (checks.length === 0) return "budgets: the topology declares no latency budget for its routes";
  const over = checks.filter((c) => !c.ok).length;
  return [
    `budgets: ${
      checks.length - over
    } of ${checks.length} declared routes within their latency budget (p99 at the receiver)`,
    ...(paced ? [] : [
      "  (measured at full load, so queueing counts; --rate N measures at a set pace)",
    ]),
    formatTable([
      ["from", "to", "config transport", "budget", "set by", "p50", "p99", "verdict"],
      ...checks.map((c) => [
        c.from,
        c.to,
        c.transport,
        latency(c.budgetNs),
        c.budgetKey,
        latency(c.p50Ns),
        latency(c.p99Ns),
        c.ok ? "ok" : "OVER",
      ]),
    ]),
  ].join("\n");
}

/**
 * `mycelium validate --measure`: runs the reference pipeline here for two
 * seconds at 2,000 swaps/s (no audit file) and fails when a declared route's
 * p99 latency is over its budget.
 */
export async function measureCommand(config: string, io: CliIo): Promise<number> {
  const topology = await loadTopology(config, { knownActors: PIPELINE_ACTORS });
  const summary = await runPipeline({ audit: { write() {} }, swaps: 4_000, rate: 2_000 });
  const checks = checkBudgets(topology, summary);
  io.out(formatBudgets(checks, true));
  return checks.every((c) => c.ok) ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}

/** Runs `mycelium run`. SIGINT/SIGTERM stop production and drain what is in flight. */
export async function runCommand(options: RunCommandOptions, io: CliIo): Promise<number> {
  const topology = await loadTopology(options.config, { knownActors: PIPELINE_ACTORS });
  for (const w of topology.warnings) {
    io.err(`warning: ${topology.file}:${w.line}:${w.column}: ${w.path}: ${w.problem}`);
  }
  if (topology.mode !== "monolith" && options.mode !== "monolith") {
    io.err(
      `mycelium run: ${options.config} is a ${topology.mode} topology; running its groups as ` +
        `separate processes needs the process links, which are not built yet\n` +
        `  fix: add --mode monolith to run every actor in this process`,
    );
    return EXIT_CODES.USAGE;
  }
  const replay = options.replay === undefined
    ? undefined
    : readSwapFile(await Deno.readFile(options.replay));
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  const file = await Deno.open(options.audit, { write: true, create: true, truncate: true });
  let summary: PipelineSummary;
  try {
    const sink = new FileSink(file);
    summary = await runPipeline({
      audit: sink,
      swaps: options.swaps,
      seed: options.seed,
      faithful: options.faithful,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      signal: controller.signal,
      ...(replay === undefined ? {} : { replay }),
    });
    sink.flush();
  } finally {
    file.close();
    for (const s of signals) Deno.removeSignalListener(s, stop);
  }
  const source = replay === undefined
    ? `seed ${options.seed}, ${options.swaps} generated swaps`
    : `${replay.length} swaps replayed from ${options.replay}`;
  io.out(
    `mycelium run ${options.config}: ${PIPELINE_ACTORS.length} actors in one process ` +
      `(${
        topology.mode === "monolith" ? "monolith" : `${topology.mode} topology, --mode monolith`
      }` +
      `${options.faithful ? ", faithful" : ""}); ${source}`,
  );
  io.out(formatSummary(summary, options.audit, await sha256Hex(options.audit)));
  io.out("");
  io.out(formatBudgets(checkBudgets(topology, summary), options.rate !== undefined));
  return summary.completed ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}
