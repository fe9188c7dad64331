/**
 * `run`: runs an app as a topology places it, and prints the run report.
 *
 * - A monolith topology (or `--mode monolith`) runs every actor here.
 * - `--group NAME` runs one process group, linked to the others over Unix
 *   sockets and TCP as the topology says.
 * - Otherwise this process supervises one child per process group of this
 *   host (every host with `--all-hosts`): the same program re-run with
 *   `--group NAME`, restarted with backoff if it crashes. Each child prints a
 *   machine-readable report line; the supervisor merges them into one.
 *
 * @module
 */
import type { AnyApp, MergeInfo } from "../app/app.ts";
import { defaultParams, type Param, paramArgs } from "../app/param.ts";
import { type Logger, type LogLevel, sinkLogger } from "../logger.ts";
import { runProcess } from "../runtime/run_process.ts";
import {
  mergeProcessReports,
  type ProcessReport,
  processReportFromJson,
  processReportToJson,
  type RunReport,
} from "../runtime/run_report.ts";
import {
  formatSupervisorEvent,
  onShutdownSignals,
  selfCommand,
  Supervisor,
} from "../supervisor/mod.ts";
import { loadTopology, LOCAL_HOST, type Topology } from "../topology/mod.ts";
import type { CliIo } from "./cli_io.ts";
import { EXIT_CODE_BY_PREFIX, EXIT_CODES } from "./exit_codes.ts";
import { checkBudgets, formatBudgets, formatRun } from "./run_summary.ts";

/** Environment variables a group child reads: the config's, and the yaml package's two switches. */
/**
 * The deployment's link key: every group of a split run proves it to its peers
 * (HMAC in the link handshake), so a process without it cannot link or take over
 * an identity. An environment variable rather than a flag or a YAML field, so the
 * secret is neither in `ps` nor in the repository; children inherit it.
 */
export const LINK_KEY_ENV = "MYCELIUM_LINK_KEY";

const CHILD_ENV = ["MYCELIUM_CONFIG", "LOG_TOKENS", "LOG_STREAM", LINK_KEY_ENV];

/** The link key from {@linkcode LINK_KEY_ENV}, if it is set and readable without a prompt. */
function linkKeyFromEnv(): string | undefined {
  const state = Deno.permissions.querySync({ name: "env", variable: LINK_KEY_ENV }).state;
  return state === "granted" ? Deno.env.get(LINK_KEY_ENV) || undefined : undefined;
}

/** Options of {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** Topology file. */
  config: string;
  /** `"monolith"` runs every actor here whatever the config says. Default: the config's mode. */
  mode?: "monolith" | undefined;
  /** Round-trip every in-process message through the codec. */
  faithful: boolean;
  /** `fixed` (default): fixed routes are direct calls; `bus`: everything through the MessageBus. */
  routing?: "fixed" | "bus";
  /** Run only this process group. */
  group?: string | undefined;
  /** Supervise the groups of every host, not only this one's. */
  allHosts?: boolean;
  /** Directory for Unix sockets. Default: the topology's `socket_dir`, else a private temp dir. */
  socketDir?: string | undefined;
  /** Set by the supervisor on its children: print a machine-readable report, end when the supervisor's pipe closes. */
  supervised?: boolean;
  /** The app's parameter values (missing ones take their defaults). */
  params?: Readonly<Record<string, unknown>>;
  /** The least severe log records printed on stderr. Default: `warn`. */
  logLevel?: LogLevel;
}

/**
 * A logger that prints warnings and errors (actor failures, link trouble) to
 * stderr as one line each, so a failing actor is never silent.
 */
function stderrLog(io: CliIo, source: string, level: LogLevel = "warn"): Logger {
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
  }, { level, source });
}

/** Starts the machine-readable report line a group prints for its supervisor. */
export const GROUP_REPORT_MARK = "@mycelium-group-report ";

function paramsOf(app: AnyApp, options: RunCommandOptions): Record<string, unknown> {
  return { ...defaultParams(app.params), ...(options.params ?? {}) };
}

/** Stateful actors of an app (see `ActorSpec.stateful`). */
function statefulActors(app: AnyApp): Set<string> {
  return new Set(app.actorNames.filter((n: string) => app.actors[n]!.stateful !== false));
}

/** Merges process reports into the run's report, the app's total included. */
export function mergeRun(
  app: AnyApp,
  mode: string,
  parts: readonly ProcessReport[],
  restarts: Readonly<Record<string, number>> = {},
): RunReport {
  const merged = mergeProcessReports(parts, {
    order: app.actorNames,
    stateful: statefulActors(app),
    restarts,
  });
  const info: MergeInfo = {
    restarts: merged.restart?.restarts ?? {},
    stateLost: merged.stateLost,
    completed: merged.completed,
  };
  const { stateLost: _, ...rest } = merged;
  return {
    ...rest,
    name: app.name,
    mode,
    app: app.report?.merge(parts.map((p) => p.app), info),
  };
}

/**
 * `validate --measure`: runs the app here (a job, default parameters) and
 * fails when a declared route that ran as the config places it is not shown
 * within its budget; routes the config sends between processes are listed
 * as not judged.
 */
export async function measureCommand(app: AnyApp, config: string, io: CliIo): Promise<number> {
  if (app.lifecycle !== "job") {
    io.err(
      `${app.name} validate --measure: ${app.name} is a service, which runs until stopped\n` +
        `  fix: measure it with 'run' and read the budgets table it prints`,
    );
    return EXIT_CODES.USAGE;
  }
  const topology = await loadTopology(config, { knownActors: app.actorNames });
  const report = await runProcess(app, { topology, routing: "bus" });
  const checks = checkBudgets(topology, report.actors);
  io.out(formatBudgets(checks, true));
  // A route the config sends between processes ran inside this one: listed as not judged, and
  // no reason to fail (only `run` of the split deployment can measure its transport).
  return checks.every((c) => c.ok || c.verdict === "in-process")
    ? EXIT_CODES.OK
    : EXIT_CODES.FAILED;
}

/** Runs `run`. SIGINT/SIGTERM stop the app and drain what is in flight. */
export async function runCommand(
  app: AnyApp,
  options: RunCommandOptions,
  io: CliIo,
): Promise<number> {
  const topology = await loadTopology(options.config, { knownActors: app.actorNames });
  for (const w of topology.warnings) {
    io.err(`warning: ${topology.file}:${w.line}:${w.column}: ${w.path}: ${w.problem}`);
  }
  if (options.group !== undefined) return await runOneGroup(app, topology, options, io);
  if (topology.mode !== "monolith" && options.mode !== "monolith") {
    return await superviseGroups(app, topology, options, io);
  }
  const params = paramsOf(app, options);
  await app.prepare?.(params, new Set(app.actorNames));
  using shutdown = onShutdownSignals();
  const part = await runProcess(app, {
    topology,
    params,
    faithful: options.faithful,
    routing: options.routing ?? "fixed",
    logger: stderrLog(io, app.name, options.logLevel),
    signal: shutdown.signal,
  });
  const report = mergeRun(app, "monolith", [part]);
  const how = [
    topology.mode === "monolith" ? "monolith" : `${topology.mode} topology, --mode monolith`,
    ...(options.faithful ? ["faithful"] : []),
    ...(options.routing === "bus" ? ["routing bus"] : []),
  ].join(", ");
  io.out(
    `${app.name} run ${options.config}: ${app.actorNames.length} actors in one process (${how})` +
      describeParams(app, params),
  );
  io.out(await formatRun(app, report, params));
  io.out("");
  io.out(formatBudgets(checkBudgets(topology, report.actors), false));
  return exitCode(app, report);
}

function exitCode(app: AnyApp, report: RunReport): number {
  const ok = app.report?.ok === undefined ? report.completed : app.report.ok(report.app);
  return ok ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}

function describeParams(app: AnyApp, params: Readonly<Record<string, unknown>>): string {
  const set = Object.keys(app.params).filter((k) => params[k] !== undefined && params[k] !== false)
    .map((k) => `${k} ${String(params[k])}`);
  return set.length === 0 ? "" : `; ${set.join(", ")}`;
}

/** `run CONFIG --group NAME`: one process group, linked to the others. */
async function runOneGroup(
  app: AnyApp,
  topology: Topology,
  options: RunCommandOptions,
  io: CliIo,
): Promise<number> {
  const group = options.group!;
  using shutdown = onShutdownSignals(undefined, { lifeline: options.supervised === true });
  const params = paramsOf(app, options);
  const key = linkKeyFromEnv();
  const part = await runProcess(app, {
    topology,
    group,
    params,
    supervised: options.supervised === true,
    faithful: options.faithful,
    routing: options.routing ?? "fixed",
    signal: shutdown.signal,
    logger: stderrLog(io, `${app.name}.${group}`, options.logLevel),
    ...(options.socketDir === undefined ? {} : { socketDir: options.socketDir }),
    ...(key === undefined ? {} : { key }),
  });
  if (options.supervised === true) {
    io.out(GROUP_REPORT_MARK + processReportToJson(part));
    return part.completed ? EXIT_CODES.OK : EXIT_CODES.FAILED;
  }
  const report = mergeRun(app, `${topology.mode}, group ${group}`, [part]);
  io.out(
    `${app.name} run ${options.config} --group ${group}: ${
      part.completed ? "completed" : "stopped early"
    } in ${part.elapsedMs.toFixed(0)} ms` + describeParams(app, params),
  );
  io.out(await formatRun(app, report, params, { appLines: false }));
  return part.completed ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}

/** `run CONFIG` of a split topology: one supervised child per process group. */
async function superviseGroups(
  app: AnyApp,
  topology: Topology,
  options: RunCommandOptions,
  io: CliIo,
): Promise<number> {
  const groups = [...topology.groups.values()].filter((g) =>
    options.allHosts === true || g.host === LOCAL_HOST
  );
  if (groups.length === 0) {
    io.err(
      `${app.name} run: ${options.config} places no process group on this host\n` +
        `  fix: run the groups on their hosts with --group NAME, or add --all-hosts`,
    );
    return EXIT_CODES.USAGE;
  }
  const params = paramsOf(app, options);
  await app.prepare?.(params, new Set(groups.flatMap((g) => g.actors)));
  const ownSocketDir = options.socketDir === undefined && topology.socketDir === undefined
    ? await Deno.makeTempDir({ prefix: "mycelium-sockets-" })
    : undefined;
  const socketDir = options.socketDir ?? ownSocketDir;
  const common = [
    "run",
    options.config,
    "--supervised",
    ...paramArgs(app.params, params),
    ...(options.faithful ? ["--faithful"] : []),
    ...(options.routing === "bus" ? ["--routing", "bus"] : []),
    ...(options.logLevel === undefined || options.logLevel === "warn"
      ? []
      : ["--log-level", options.logLevel]),
    ...(socketDir === undefined ? [] : ["--socket-dir", socketDir]),
  ];
  const paths = (access: "read" | "write") =>
    Object.entries(app.params as Record<string, Param<unknown>>)
      .filter(([k, p]) => p.kind === "path" && p.access === access && params[k] !== undefined)
      .map(([k]) => String(params[k]));
  const probe = {
    env: CHILD_ENV,
    read: [options.config, ...paths("read")],
    write: [...paths("write"), ...(socketDir === undefined ? [] : [socketDir])],
    // Hosts the groups listen on and dial: enough when this process holds net only for them.
    net: [
      ...new Set(
        [...topology.groups.values()].flatMap((g) => g.tcp === undefined ? [] : [g.tcp.host]),
      ),
    ],
  };
  const parts = new Map<string, ProcessReport>();
  const restarts: Record<string, number> = {};
  using shutdown = onShutdownSignals();
  let supervisor: Supervisor;
  try {
    supervisor = new Supervisor(
      groups.map((g) => ({
        name: g.name,
        ...selfCommand([...common, "--group", g.name], { probe }),
      })),
      {
        signal: shutdown.signal,
        onOutput: (line) => {
          if (line.stream === "stdout" && line.text.startsWith(GROUP_REPORT_MARK)) {
            parts.set(line.child, processReportFromJson(line.text.slice(GROUP_REPORT_MARK.length)));
          } else io.err(line.prefixed);
        },
        onEvent: (event) => {
          if (event.type === "restarting") restarts[event.child] = (restarts[event.child] ?? 0) + 1;
          io.err(formatSupervisorEvent(event));
        },
        // A group's report is one line, however long its app's part.
        maxLineLength: 64 * 1024 * 1024,
        // Usage, configuration and declaration errors will not mend with a restart.
        restart: {
          // The topology, credentials refused (e.g. by the NATS cluster), an address another
          // process holds, a bus error while placing actors (a route target without the
          // handler), the app's declaration.
          fatalExitCodes: [
            EXIT_CODES.USAGE,
            ...TOPOLOGY_EXITS,
            EXIT_CODES.TRANSPORT_AUTH,
            EXIT_CODES.TRANSPORT_ADDRESS_IN_USE,
            EXIT_CODE_BY_PREFIX.BUS_,
            EXIT_CODE_BY_PREFIX.APP_,
          ],
        },
      },
    );
  } catch (e) {
    if (ownSocketDir !== undefined) await Deno.remove(ownSocketDir, { recursive: true });
    throw e;
  }
  const started = performance.now();
  try {
    await supervisor.done();
  } finally {
    await supervisor.close();
    if (ownSocketDir !== undefined) await Deno.remove(ownSocketDir, { recursive: true });
  }
  const missing = groups.filter((g) => !parts.has(g.name)).map((g) => g.name);
  if (missing.length > 0) {
    io.err(
      `${app.name} run: no report from group(s) ${missing.join(", ")}: the run did not finish`,
    );
    return EXIT_CODES.FAILED;
  }
  const report = mergeRun(app, topology.mode, [...parts.values()], restarts);
  io.out(
    `${app.name} run ${options.config}: ${topology.mode}, ${groups.length} process groups ` +
      `(${groups.map((g) => g.name).join(", ")}) in ${
        (performance.now() - started).toFixed(0)
      } ms` + describeParams(app, params),
  );
  io.out(await formatRun(app, report, params));
  io.out("");
  io.out(formatBudgets(checkBudgets(topology, report.actors), false));
  return exitCode(app, report);
}

/** Every exit code of a topology error: its own codes and the concept's. */
const TOPOLOGY_EXITS: readonly number[] = [
  ...Object.entries(EXIT_CODES).flatMap(([name, code]) =>
    name.startsWith("TOPOLOGY_") ? [code] : []
  ),
  EXIT_CODE_BY_PREFIX.TOPOLOGY_,
];
