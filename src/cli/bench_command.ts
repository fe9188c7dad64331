/**
 * `mycelium bench`: measures what a message costs on this machine at each
 * deployment level (same process, another process over a Unix socket, TCP
 * over loopback), each against a hand-written or raw-socket floor measured
 * in the same run, and prints a per-transport table and the seeds-style
 * comparison table (or JSON).
 *
 * The socket peer is this same program re-run as the hidden `bench-peer`
 * command, so the compiled binary benchmarks itself too.
 *
 * @module
 */
import { object, or } from "npm:@optique/core@1.3.6/constructs";
import { message } from "npm:@optique/core@1.3.6/message";
import { optional, withDefault } from "npm:@optique/core@1.3.6/modifiers";
import type { InferValue } from "npm:@optique/core@1.3.6/parser";
import { command, constant, flag, option } from "npm:@optique/core@1.3.6/primitives";
import { integer, string } from "npm:@optique/core@1.3.6/valueparser";
import { onShutdownSignals } from "../supervisor/mod.ts";
import { measureInProcess } from "./_bench_in_process.ts";
import { runBenchPeer } from "./_bench_peer.ts";
import { measureNats, natsServerAvailable } from "./_bench_nats.ts";
import {
  type BenchReport,
  type BenchRow,
  type ComparisonRow,
  formatBenchReport,
  formatNs,
} from "./_bench_report.ts";
import { checkPermissions, measureSockets } from "./_bench_sockets.ts";
import type { CliIo } from "./cli_io.ts";
import { EXIT_CODES } from "./exit_codes.ts";

export { BenchError, type BenchErrorCode, type BenchErrorOptions } from "./_bench_error.ts";
export type { BenchReport, BenchRow, ComparisonRow } from "./_bench_report.ts";

/** Messages per stream by default, and with `--quick`. */
export const BENCH_MESSAGES = { full: 200_000, quick: 20_000 } as const;

/** Options of {@linkcode benchCommand}. */
export interface BenchCommandOptions {
  /** Fewer messages: the whole run takes a few seconds. Default: false. */
  quick?: boolean;
  /** Print JSON instead of tables. Default: false. */
  json?: boolean;
  /**
   * Messages per stream and per MessageBus throughput run; round trips are
   * a fortieth of it, between 200 and 5000. Default: 200,000 (20,000 with
   * `quick`).
   */
  messages?: number | undefined;
}

const benchCmd = command(
  "bench",
  object({
    command: constant("bench"),
    quick: withDefault(
      flag("--quick", {
        description: message`Fewer messages: a run of a few seconds (for tests and a first look).`,
      }),
      false,
    ),
    json: withDefault(
      flag("--json", { description: message`Print JSON instead of tables.` }),
      false,
    ),
    messages: optional(option("--messages", integer({ min: 1000, metavar: "N" }), {
      description:
        message`Messages per stream (round trips: N/40, 200 to 5000). Default: 200,000, or 20,000 with --quick.`,
    })),
  }),
  {
    brief: message`Measure this machine's cost per transport; print the comparison table.`,
    description:
      message`Measures the same process (MonolithBus emit and MessageBus delivery against direct calls; MessageBus request/reply against a promise round trip), another process over a Unix socket link and over a TCP loopback link (round trip of a 144-byte V2Swap and streaming rate, each against the raw socket measured in the same run), and, when nats-server is installed, the same through a NATS server against the raw NATS client. Prints a per-transport table, then the round-trip p50 in the same process, on the same machine and over the network. The figures are this machine's, now: on a shared machine, trust the ratios more than the times.`,
  },
);

const benchPeerCmd = command(
  "bench-peer",
  object({
    command: constant("bench-peer"),
    dir: option("--dir", string({ metavar: "DIR" }), {
      description: message`Private directory for the socket files.`,
    }),
    nats: optional(option("--nats", string({ metavar: "URL" }), {
      description: message`A nats-server to serve the NATS rows through.`,
    })),
  }),
  {
    hidden: true,
    brief: message`The far end of mycelium bench (started by it).`,
  },
);

/** The `bench` command and its hidden `bench-peer` helper, for the CLI's parser. */
export const bench = or(benchCmd, benchPeerCmd);

/** Runs what {@linkcode bench} parsed: the benchmark, or its peer. */
export async function runBench(parsed: InferValue<typeof bench>, io: CliIo): Promise<number> {
  if (parsed.command === "bench-peer") {
    return await runBenchPeer({ dir: parsed.dir, nats: parsed.nats }, io);
  }
  return await benchCommand(parsed, io);
}

/**
 * Measures every transport and prints the report; returns the exit code.
 *
 * @throws {BenchError} when the peer process or a socket fails, or the run
 *   is interrupted.
 */
export async function benchCommand(options: BenchCommandOptions, io: CliIo): Promise<number> {
  const report = await measureBench(options, (stage) => {
    if (Deno.stderr.isTerminal()) io.err(`mycelium bench: ${stage}…`);
  });
  if (report.peerStderr !== undefined) {
    io.err(`mycelium bench: the peer said: ${report.peerStderr}`);
  }
  io.out(options.json ? JSON.stringify(report, null, 2) : formatBenchReport(report));
  return EXIT_CODES.OK;
}

/**
 * Runs every measurement and returns the report. `progress` hears the name
 * of each stage as it starts.
 */
export async function measureBench(
  options: BenchCommandOptions,
  progress: (stage: string) => void = () => {},
): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const messages = options.messages ?? (quick ? BENCH_MESSAGES.quick : BENCH_MESSAGES.full);
  const roundTrips = Math.min(5000, Math.max(200, Math.round(messages / 40)));
  const started = performance.now();
  const measuredAt = new Date().toISOString();
  checkPermissions();
  using shutdown = onShutdownSignals();
  progress("same process");
  const inProcess = await measureInProcess({ messages, roundTrips, signal: shutdown.signal });
  progress("unix and tcp links, peer in another process");
  const sockets = await measureSockets({
    messages,
    roundTrips,
    rounds: quick ? 3 : 5,
    signal: shutdown.signal,
  });
  const rows = [...inProcess, ...sockets.rows];
  // NATS rows when nats-server is installed (the peer is this program in another process).
  if (natsServerAvailable()) {
    progress("nats, peer in another process");
    const dir = await Deno.makeTempDir({ prefix: "mycelium-bench-nats-" });
    try {
      rows.push(
        ...await measureNats({
          messages,
          roundTrips,
          rounds: quick ? 3 : 5,
          signal: shutdown.signal,
        }, dir),
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  return {
    measuredAt,
    machine: {
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
    },
    options: { quick, messages, roundTrips },
    rows,
    comparison: comparison(rows),
    elapsedMs: performance.now() - started,
    ...(sockets.peerStderr === "" ? {} : { peerStderr: sockets.peerStderr }),
  };
}

function comparison(rows: readonly BenchRow[]): BenchReport["comparison"] {
  const row = (id: string) => rows.find((r) => r.id === id);
  const p50 = (id: string) => row(id)?.p50Ns ?? null;
  const table: ComparisonRow[] = [{
    system: "Mycelium",
    sameProcessNs: p50("bus-rtt"),
    sameMachineNs: p50("unix-link-rtt"),
    networkNs: p50("tcp-link-rtt"),
  }];
  const notes = [
    "Same process: MessageBus request -> reply. Same machine: Unix socket link to another " +
    "process. Network: TCP link over loopback (one machine, so no wire time).",
  ];
  const mono = p50("monolith-emit");
  const direct = p50("direct-call");
  if (mono !== null && direct !== null) {
    notes.push(
      `One-way, in process: MonolithBus emit ${formatNs(mono)} per handler ` +
        `(a direct call: ${formatNs(direct)}).`,
    );
  }
  const rawUnix = p50("unix-raw-rtt");
  const rawTcp = p50("tcp-raw-rtt");
  if (rawUnix !== null && rawTcp !== null) {
    notes.push(
      `Raw socket ping-pong in this run: Unix ${formatNs(rawUnix)}, TCP ${formatNs(rawTcp)}.`,
    );
  }
  return {
    measure: "each cell: measured round-trip p50 of a 144-byte V2Swap, this run",
    rows: table,
    notes,
  };
}
