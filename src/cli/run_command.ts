/**
 * `mycelium run`: runs the reference trading pipeline as a topology places
 * it, and prints the summary.
 *
 * - A monolith topology (or `--mode monolith`) runs every actor here.
 * - `--group NAME` runs one process group, linked to the others over Unix
 *   sockets and TCP as the topology says.
 * - Otherwise this process supervises one child per process group of this
 *   host (every host with `--all-hosts`): the same program re-run with
 *   `--group NAME`, restarted with backoff if it crashes. Each child prints a
 *   machine-readable summary line; the supervisor merges them into one.
 *
 * @module
 */
import { loadTopology, LOCAL_HOST, type Topology, TopologyResolver } from "../topology/mod.ts";
import {
  type GroupSummary,
  groupSummaryFromJson,
  groupSummaryToJson,
  mergeGroupSummaries,
  runGroup,
} from "../runtime/run_group.ts";
import {
  formatSupervisorEvent,
  onShutdownSignals,
  selfCommand,
  Supervisor,
} from "../supervisor/mod.ts";

/** Environment variables a group child reads: the config's, and the yaml package's two switches. */
const CHILD_ENV = ["MYCELIUM_CONFIG", "LOG_TOKENS", "LOG_STREAM"];
import { PIPELINE_ACTORS } from "../pipeline/actors.ts";
import { readSwapFile } from "../pipeline/market.ts";
import { type PipelineSummary, runPipeline } from "../pipeline/pipeline.ts";
import type { CliIo } from "./cli_io.ts";
import { type Logger, sinkLogger } from "../logger.ts";
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
  /**
   * Path of the audit file (created or emptied; a supervised group appends to
   * the file its supervisor emptied).
   */
  audit: string;
  /** Swap file (V2Swap frames) to replay instead of generating swaps. */
  replay?: string | undefined;
  /** Round-trip every message through the codec. */
  faithful: boolean;
  /** Run only this process group. */
  group?: string | undefined;
  /** Supervise the groups of every host, not only this one's. */
  allHosts?: boolean;
  /** Directory for Unix sockets. Default: the topology's `socket_dir`, else a private temp dir. */
  socketDir?: string | undefined;
  /**
   * Set by the supervisor on its children: print a machine-readable summary,
   * append to the audit file, end when the supervisor's pipe closes.
   */
  supervised?: boolean;
}

/**
 * A logger that prints warnings and errors (actor failures, link trouble) to
 * stderr as one line each, so a failing actor is never silent.
 */
function stderrLog(io: CliIo): Logger {
  const text = (v: unknown): string =>
    v instanceof Error
      ? `${v.name}: ${v.message}`
      : typeof v === "bigint"
      ? `${v}`
      : typeof v === "object" && v !== null
      ? JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}` : x))
      : String(v);
  return sinkLogger((r) => {
    const fields = Object.entries(r.fields ?? {}).map(([k, v]) => ` ${k}=${text(v)}`).join("");
    io.err(`${r.level} ${r.source}: ${r.message}${fields}`);
  }, { level: "warn", source: "mycelium" });
}

/** Starts the machine-readable summary line a group prints for its supervisor. */
export const GROUP_SUMMARY_MARK = "@mycelium-group-summary ";

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
    ...formatDelivery(s),
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

/** At most this many ids are listed per line of the delivery report. */
const LISTED_IDS = 12;

function ids(list: readonly bigint[]): string {
  const shown = list.slice(0, LISTED_IDS).join(", ");
  return list.length > LISTED_IDS ? `${shown} and ${list.length - LISTED_IDS} more` : shown;
}

/**
 * How every signal was accounted for, and what restarts cost: one line when
 * each signal was executed exactly once, the details otherwise.
 */
export function formatDelivery(s: PipelineSummary): string[] {
  const l = s.ledger;
  const pad = "                ";
  const lines: string[] = [];
  const r = s.recovery;
  if (r !== undefined && r.stateLost.length > 0) {
    lines.push(
      `  delivery      not accounted: ${r.stateLost.join(", ")} restarted with their process and ` +
        `lost their state (stream position, books, ledger); the figures above cover their last run only`,
    );
  } else if (!s.completed) {
    lines.push(
      `  delivery      the run stopped before the end of the stream reached the audit trail: ` +
        `${l.executed} executions booked (${l.repeats} repeats); unfinished signals not counted`,
    );
  } else if (l.repeats === 0 && l.missing.length === 0 && s.approvedUnbooked.length === 0) {
    lines.push(
      `  delivery      every signal executed once (${l.signalsSent} sent, ${l.executed} booked by the audit trail)`,
    );
  } else {
    lines.push(
      `  delivery      ${l.signalsSent} signals sent; ${l.executed} executions booked by the audit trail, each once`,
    );
    if (l.repeats > 0) {
      lines.push(
        `${pad}${l.repeats} handled again after a restart (resent, not booked twice; "repeat" lines in the audit file)`,
      );
    }
    if (l.missing.length > 0) {
      lines.push(
        `${pad}${l.missing.length} lost in flight with a stopped process, never executed: ids ${
          ids(l.missing)
        }`,
      );
    }
    if (s.approvedUnbooked.length > 0) {
      lines.push(
        `${pad}risk manager approved ${s.approvedUnbooked.length} whose execution never arrived ` +
          `(exposure still reserved): ids ${ids(s.approvedUnbooked)}`,
      );
    }
  }
  if (r !== undefined) {
    const restarted = Object.entries(r.restarts).map(([g, n]) => `${g} ×${n}`).join(", ");
    lines.push(
      `  recovery      restarted: ${restarted}; ` +
        (r.figuresFromLedger
          ? "fills, refusals and P&L above come from the audit trail's ledger (the executor's " +
            "counters restarted with its process)"
          : r.stateLost.length > 0
          ? "figures above cover the restarted actors' last run only"
          : "figures above are the actors' own (the executor did not restart)") +
        `; ${r.unmatchedReplies} replies matched no pending request (meant for a stopped ` +
        `process, or late) and were ignored`,
    );
  }
  return lines;
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
  if (options.group !== undefined) return await runOneGroup(topology, options, options.group, io);
  if (topology.mode !== "monolith" && options.mode !== "monolith") {
    return await superviseGroups(topology, options, io);
  }
  const replay = options.replay === undefined
    ? undefined
    : readSwapFile(await Deno.readFile(options.replay));
  using shutdown = onShutdownSignals();
  const audit = await openAudit(options.audit);
  let summary: PipelineSummary;
  try {
    summary = await runPipeline({
      audit: audit.sink,
      swaps: options.swaps,
      seed: options.seed,
      faithful: options.faithful,
      logger: stderrLog(io),
      signal: shutdown.signal,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      ...(replay === undefined ? {} : { replay }),
    });
  } finally {
    audit.close();
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

/**
 * Opens the audit file (emptied first, unless `append`) and gives a sink that
 * appends to it, plus how to finish.
 */
async function openAudit(
  path: string,
  { append = false } = {},
): Promise<{ sink: FileSink; close(): void }> {
  const file = await Deno.open(path, { write: true, create: true, truncate: !append, append });
  const sink = new FileSink(file);
  return {
    sink,
    close() {
      try {
        sink.flush();
      } finally {
        file.close();
      }
    },
  };
}

/** `run CONFIG --group NAME`: one process group, linked to the others. */
async function runOneGroup(
  topology: Topology,
  options: RunCommandOptions,
  group: string,
  io: CliIo,
): Promise<number> {
  using shutdown = onShutdownSignals(undefined, { lifeline: options.supervised === true });
  const hostsAudit = topology.groups.get(group)?.actors.includes("audit_trail") === true;
  // Under a supervisor the file was emptied once before the first run: a restart appends.
  const audit = hostsAudit
    ? await openAudit(options.audit, { append: options.supervised === true })
    : undefined;
  const replay = options.replay === undefined
    ? undefined
    : readSwapFile(await Deno.readFile(options.replay));
  let summary: GroupSummary;
  try {
    summary = await runGroup({
      topology,
      group,
      swaps: options.swaps,
      seed: options.seed,
      signal: shutdown.signal,
      logger: stderrLog(io),
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      ...(audit === undefined ? {} : { audit: audit.sink }),
      ...(replay === undefined ? {} : { replay }),
      ...(options.socketDir === undefined ? {} : { socketDir: options.socketDir }),
    });
  } finally {
    audit?.close();
  }
  if (options.supervised === true) io.out(GROUP_SUMMARY_MARK + groupSummaryToJson(summary));
  else {
    io.out(
      `mycelium run ${options.config} --group ${group}: ${
        summary.completed ? "completed" : "stopped early"
      } in ${summary.elapsedMs.toFixed(0)} ms`,
    );
    io.out(formatTable([
      ["actor", "handled", "failed", "dropped", "discarded"],
      ...summary.actors.map((a) => [
        a.name,
        String(a.handled),
        String(a.failed),
        String(a.dropped),
        String(a.discarded),
      ]),
    ]));
  }
  return summary.completed ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}

/** `run CONFIG` of a split topology: one supervised child per process group. */
async function superviseGroups(
  topology: Topology,
  options: RunCommandOptions,
  io: CliIo,
): Promise<number> {
  const groups = [...topology.groups.values()].filter((g) =>
    options.allHosts === true || g.host === LOCAL_HOST
  );
  if (groups.length === 0) {
    io.err(
      `mycelium run: ${options.config} places no process group on this host\n` +
        `  fix: run the groups on their hosts with --group NAME, or add --all-hosts`,
    );
    return EXIT_CODES.USAGE;
  }
  if (groups.some((g) => g.actors.includes("audit_trail"))) {
    // Emptied here, once: the group hosting the audit trail appends, so a restart of it
    // keeps what its previous run wrote.
    await Deno.writeFile(options.audit, new Uint8Array());
  }
  const ownSocketDir = options.socketDir === undefined && topology.socketDir === undefined
    ? await Deno.makeTempDir({ prefix: "mycelium-sockets-" })
    : undefined;
  const socketDir = options.socketDir ?? ownSocketDir;
  const common = [
    "run",
    options.config,
    "--supervised",
    "--swaps",
    String(options.swaps),
    "--seed",
    String(options.seed),
    "--audit",
    options.audit,
    ...(options.replay === undefined ? [] : ["--replay", options.replay]),
    ...(options.rate === undefined ? [] : ["--rate", String(options.rate)]),
    ...(socketDir === undefined ? [] : ["--socket-dir", socketDir]),
  ];
  const probe = {
    env: CHILD_ENV,
    read: [options.config, ...(options.replay === undefined ? [] : [options.replay])],
    write: [options.audit, ...(socketDir === undefined ? [] : [socketDir])],
    // Hosts the groups listen on and dial: enough when this process holds net only for them.
    net: [
      ...new Set(
        [...topology.groups.values()].flatMap((g) => g.tcp === undefined ? [] : [g.tcp.host]),
      ),
    ],
  };
  const parts = new Map<string, GroupSummary>();
  const restarts: Record<string, number> = {};
  using shutdown = onShutdownSignals();
  const supervisor = new Supervisor(
    groups.map((g) => ({
      name: g.name,
      ...selfCommand([...common, "--group", g.name], { probe }),
    })),
    {
      signal: shutdown.signal,
      onOutput: (line) => {
        if (line.stream === "stdout" && line.text.startsWith(GROUP_SUMMARY_MARK)) {
          parts.set(line.child, groupSummaryFromJson(line.text.slice(GROUP_SUMMARY_MARK.length)));
        } else io.err(line.prefixed);
      },
      onEvent: (event) => {
        if (event.type === "restarting") restarts[event.child] = (restarts[event.child] ?? 0) + 1;
        io.err(formatSupervisorEvent(event));
      },
      // Usage and configuration errors will not mend with a restart.
      restart: { fatalExitCodes: [EXIT_CODES.USAGE, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19] },
    },
  );
  const started = performance.now();
  try {
    await supervisor.done();
  } finally {
    await supervisor.close();
    if (ownSocketDir !== undefined) await Deno.remove(ownSocketDir, { recursive: true });
  }
  const missing = groups.filter((g) => !parts.has(g.name)).map((g) => g.name);
  if (missing.length > 0) {
    io.err(`mycelium run: no summary from group(s) ${missing.join(", ")}: the run did not finish`);
    return EXIT_CODES.FAILED;
  }
  const summary = mergeGroupSummaries([...parts.values()], { restarts });
  io.out(
    `mycelium run ${options.config}: ${topology.mode}, ${groups.length} process groups ` +
      `(${groups.map((g) => g.name).join(", ")}) in ${
        (performance.now() - started).toFixed(0)
      } ms; seed ${options.seed}, ${options.swaps} generated swaps`,
  );
  const checksum = parts.size > 0 && [...parts.values()].some((p) => p.auditLines !== undefined)
    ? await sha256Hex(options.audit)
    : "(audit trail runs on another host)";
  io.out(formatSummary(summary, options.audit, checksum));
  return summary.completed ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}
