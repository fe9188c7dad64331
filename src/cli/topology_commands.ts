/**
 * `mycelium validate` and `mycelium topology`: load a topology, report its
 * problems one line each with the fix, or print where everything runs and
 * the route table.
 *
 * @module
 */
import {
  formatLatency,
  formatThroughput,
  loadTopology,
  type Topology,
  TopologyError,
  TopologyResolver,
} from "../topology/mod.ts";
import type { CliIo } from "./cli_io.ts";
import { EXIT_CODES, exitCodeFor } from "./exit_codes.ts";
import { formatTable } from "./format_table.ts";

/** Options shared by `validate` and `topology`. */
export interface TopologyCommandOptions {
  /** Path of the topology file. */
  config: string;
  /** The application's actors; when given, each must be placed and nothing else. Default: no check. */
  actors?: readonly string[] | undefined;
}

/** Options of {@linkcode topologyCommand}. */
export interface ShowTopologyOptions extends TopologyCommandOptions {
  /** Print JSON instead of tables. Default: false. */
  json?: boolean;
}

/** Prints an error as one line per problem plus the fix, and returns its exit code. */
export function reportError(error: unknown, io: CliIo, program = "mycelium"): number {
  if (error instanceof TopologyError) {
    for (const p of error.problems) {
      const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
      const what = p.path === "" ? p.problem : `${p.path}: ${p.problem}`;
      io.err(`${where}: ${what} [${p.code}]\n  fix: ${p.fix}`);
    }
  } else if (error instanceof Error) {
    io.err(`${program}: ${error.message}${"code" in error ? ` [${String(error.code)}]` : ""}`);
    const fix = (error as { fix?: unknown }).fix;
    if (typeof fix === "string" && fix !== "") io.err(`  fix: ${fix}`);
  } else io.err(`${program}: ${String(error)}`);
  return exitCodeFor(error);
}

async function load(options: TopologyCommandOptions, io: CliIo): Promise<Topology> {
  const t = await loadTopology(
    options.config,
    options.actors === undefined ? {} : { knownActors: options.actors },
  );
  for (const w of t.warnings) {
    io.err(`warning: ${t.file}:${w.line}:${w.column}: ${w.path}: ${w.problem}\n  fix: ${w.fix}`);
  }
  return t;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function summary(t: Topology): string {
  return `mode ${t.mode}, ${plural(t.actors.size, "actor")} in ${
    plural(t.groups.size, "process group")
  } on ${plural(t.hosts.length, "host")}, ${plural(t.routes.length, "declared route")}`;
}

/**
 * `mycelium validate CONFIG`: exit 0 and one summary line when the topology is
 * valid (warnings, if any, go to stderr); otherwise every problem of the first failing stage, one line each
 * with its fix, and the exit code of the error's class.
 */
export async function validateCommand(options: TopologyCommandOptions, io: CliIo): Promise<number> {
  try {
    const t = await load(options, io);
    io.out(`${t.file}: valid (${summary(t)})`);
    return EXIT_CODES.OK;
  } catch (e) {
    return reportError(e, io);
  }
}

/**
 * `mycelium topology CONFIG`: the process groups (host, deployment, actors,
 * listening addresses) and the route table: each (from, to), its transport
 * and expected cost, with where the cost comes from.
 */
export async function topologyCommand(options: ShowTopologyOptions, io: CliIo): Promise<number> {
  let t: Topology;
  try {
    t = await load(options, io);
  } catch (e) {
    return reportError(e, io);
  }
  const routes = new TopologyResolver(t).routeTable();
  if (options.json === true) {
    io.out(JSON.stringify(
      {
        file: t.file,
        mode: t.mode,
        hosts: t.hosts,
        nats: t.nats === undefined ? undefined : {
          servers: t.nats.servers,
          subjectPrefix: t.nats.subjectPrefix,
          auth: t.nats.auth?.kind,
          tls: t.nats.tls !== undefined,
        },
        groups: [...t.groups.values()].map((g) => ({
          name: g.name,
          host: g.host,
          deployment: g.deployment,
          actors: g.actors,
          unix: g.unix?.path,
          tcp: g.tcp === undefined ? undefined : `${g.tcp.host}:${g.tcp.port}`,
        })),
        routes: routes.map((r) => ({
          from: r.from,
          to: r.to,
          transport: r.transport,
          expectedLatencyNs: r.expectedLatency,
          latencySource: r.latencySource,
          throughputBudget: r.throughputBudget?.value,
          reason: r.reason,
        })),
      },
      null,
      2,
    ));
    return EXIT_CODES.OK;
  }
  const groups = formatTable([
    ["group", "host", "deployment", "actors", "listens on"],
    ...[...t.groups.values()].map((g) => [
      g.name,
      g.host,
      g.deployment,
      g.actors.join(", "),
      [
        g.unix === undefined ? "" : `unix ${g.unix.path}`,
        g.tcp === undefined ? "" : `tcp ${g.tcp.host}:${g.tcp.port}`,
      ].filter((s) => s !== "").join(", ") || "-",
    ]),
  ]);
  const table = formatTable([
    ["from", "to", "transport", "expected", "throughput", "cost from", "why"],
    ...routes.map((r) => [
      r.from,
      r.to,
      r.transport,
      formatLatency(r.expectedLatency),
      r.throughputBudget === undefined ? "-" : formatThroughput(r.throughputBudget.value),
      r.latencySource,
      r.reason,
    ]),
  ]);
  const which = t.routes.length > 0
    ? "declared routes"
    : "every pair of actors (no routes declared)";
  const nats = t.nats === undefined
    ? ""
    : `\n\nnats: ${t.nats.servers.join(", ")} (subjects ${t.nats.subjectPrefix}.*${
      t.nats.auth === undefined ? "" : `, ${t.nats.auth.kind} auth`
    }${t.nats.tls === undefined ? "" : ", tls"})`;
  io.out(`${t.file}: ${summary(t)}\n\n${groups}${nats}\n\nroutes: ${which}\n${table}`);
  return EXIT_CODES.OK;
}
