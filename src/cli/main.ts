// deno-lint-ignore-file no-console -- the CLI talks to people on stdout and stderr.
/**
 * The command-line front end of the `mycelium` binary, built with Optique:
 * typed subcommands and options, `--help` on every command, shell
 * completion, and exit codes per error class (see `exit_codes.ts`).
 *
 * @module
 */
import { object, or } from "npm:@optique/core@1.3.6/constructs";
import { commandLine, envVar, message, metavar } from "npm:@optique/core@1.3.6/message";
import { optional, withDefault } from "npm:@optique/core@1.3.6/modifiers";
import { argument, command, constant, flag, option } from "npm:@optique/core@1.3.6/primitives";
import {
  choice,
  integer,
  string,
  type ValueParser,
  type ValueParserResult,
} from "npm:@optique/core@1.3.6/valueparser";
import type { InferValue } from "npm:@optique/core@1.3.6/parser";
import { run } from "npm:@optique/run@1.3.6";
import { runCodecDemo } from "./codec_demo.ts";
import type { CliIo } from "./cli_io.ts";
import { EXIT_CODES, exitCodeFor } from "./exit_codes.ts";
import { MyceliumError } from "../mycelium_error.ts";
import { reportError, topologyCommand, validateCommand } from "./topology_commands.ts";
import { measureCommand, runCommand } from "./run_command.ts";
import { bench, runBench } from "./bench_command.ts";

/** The environment variable naming the topology file when a command is given none. */
export const CONFIG_ENV = "MYCELIUM_CONFIG";

/** Version printed by `mycelium --version`. */
export const VERSION = "0.1.0";

const ACTOR_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A comma-separated list of actor names: `a,b,c`. */
function actorList(): ValueParser<"sync", readonly string[]> {
  return {
    mode: "sync",
    metavar: "NAMES",
    placeholder: [],
    parse(input: string): ValueParserResult<readonly string[]> {
      const names = input.split(",").map((s) => s.trim()).filter((s) => s !== "");
      const bad = names.find((n) => !ACTOR_NAME.test(n));
      if (names.length === 0 || bad !== undefined) {
        return {
          success: false,
          error:
            message`Expected comma-separated actor names like ${"collector,relay"}, got ${input}.`,
        };
      }
      return { success: true, value: names };
    },
    format(value: readonly string[]): string {
      return value.join(",");
    },
  };
}

const configArgument = optional(argument(string({ metavar: "CONFIG" }), {
  description: message`Topology file (YAML). Default: the ${
    envVar(CONFIG_ENV)
  } environment variable.`,
}));

const actorsOption = optional(option("--actors", actorList(), {
  description: message`The application's actors: each must be placed, and nothing else may be.`,
}));

const demo = command(
  "demo",
  object({
    command: constant("demo"),
    count: withDefault(
      option("--count", integer({ min: 1 }), { description: message`Swaps to send.` }),
      200_000,
    ),
    seed: withDefault(
      option("--seed", integer({ min: 1 }), {
        description: message`Seed of the swap generator and of the read sizes.`,
      }),
      42,
    ),
  }),
  {
    brief: message`Push a seeded stream of V2Swap frames through the codec and verify it.`,
    description:
      message`Encodes a seeded stream of swaps into slabs, splits it back from reads of 1 B to 16 KiB the way a socket delivers them, views every frame and compares checksums.`,
  },
);

const validate = command(
  "validate",
  object({
    command: constant("validate"),
    config: configArgument,
    actors: actorsOption,
    measure: withDefault(
      flag("--measure", {
        description:
          message`Also run the reference pipeline in this process at 2,000 swaps/s and fail if a declared route's measured p99 latency is over its budget.`,
      }),
      false,
    ),
  }),
  {
    brief: message`Check a topology file; print each problem with its place and fix.`,
    description:
      message`Loads the topology and checks its syntax, its shape, where every actor is placed, the names routes and budgets refer to, and the ports and socket paths groups listen on. Exits 0 when valid, otherwise with the exit code of the error's class (10 to 18).`,
  },
);

const topology = command(
  "topology",
  object({
    command: constant("topology"),
    config: configArgument,
    actors: actorsOption,
    json: withDefault(
      flag("--json", { description: message`Print JSON instead of tables.` }),
      false,
    ),
  }),
  {
    brief: message`Show where each actor runs and the route table.`,
    description:
      message`Prints the process groups (host, deployment, actors, listening addresses) and, for each route, its transport, its expected cost and where that cost comes from (a performance budget, or the transport's default).`,
  },
);

const runCmd = command(
  "run",
  object({
    command: constant("run"),
    config: configArgument,
    mode: optional(option("--mode", choice(["monolith"]), {
      description: message`Run every actor in this process, whatever the topology's mode.`,
    })),
    swaps: withDefault(
      option("--swaps", integer({ min: 1 }), {
        description: message`Swaps the collector produces.`,
      }),
      20_000,
    ),
    seed: withDefault(
      option("--seed", integer({ min: 1 }), {
        description: message`Seed of the simulated market.`,
      }),
      1,
    ),
    rate: optional(option("--rate", integer({ min: 1 }), {
      description:
        message`Swaps per second the collector produces. Default: as fast as the pipeline takes them.`,
    })),
    audit: withDefault(
      option("--audit", string({ metavar: "FILE" }), {
        description: message`Audit trail file (created or truncated).`,
      }),
      "mycelium-audit.log",
    ),
    replay: optional(option("--replay", string({ metavar: "FILE" }), {
      description: message`Replay swaps from a file of V2Swap frames instead of generating them.`,
    })),
    group: optional(option("--group", string({ metavar: "NAME" }), {
      description: message`Run only this process group, linked to the others.`,
    })),
    allHosts: withDefault(
      flag("--all-hosts", {
        description:
          message`Supervise the groups of every host here, not only this host's (to try a split deployment on one machine).`,
      }),
      false,
    ),
    socketDir: optional(option("--socket-dir", string({ metavar: "DIR" }), {
      description:
        message`Directory for Unix sockets. Default: the topology's socket_dir, else a private temporary directory.`,
    })),
    supervised: withDefault(
      flag("--supervised", {
        description:
          message`Set by the supervisor on the groups it starts: print a machine-readable summary, append to the audit file the supervisor emptied, and stop when the supervisor goes away.`,
      }),
      false,
    ),
    faithful: withDefault(
      flag("--faithful", {
        description:
          message`Round-trip every message through the codec, as a split deployment would.`,
      }),
      false,
    ),
  }),
  {
    brief: message`Run the reference trading pipeline as a topology places it.`,
    description:
      message`Runs the market-data collector, relay, arbitrage strategy, order executor, risk manager, audit trail and metrics collector, then prints a summary: swaps, signals, fills, P&L, the audit file's checksum, and per-actor counts and latency. A monolith topology (or --mode monolith) runs every actor in this process; --group NAME runs one process group; otherwise this process supervises one child process per process group of this host (--all-hosts: of every host), restarting a crashed group with backoff, and merges their summaries.`,
  },
);

const parser = or(demo, validate, topology, runCmd, bench);

class ExitRequest extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

const consoleIo: CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

function configFromEnv(): string | undefined {
  // Query first: reading without --allow-env would prompt in a terminal.
  const state = Deno.permissions.querySync({ name: "env", variable: CONFIG_ENV }).state;
  return state === "granted" ? Deno.env.get(CONFIG_ENV) || undefined : undefined;
}

function terminalWidth(): number | undefined {
  try {
    if (!Deno.stdout.isTerminal()) return undefined;
    // A pseudo-terminal may report 0 columns; Optique needs a usable width or none.
    const { columns } = Deno.consoleSize();
    return columns >= 40 ? columns : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the CLI with `args` and returns the process exit code. Writes to
 * `io` (default: stdout and stderr).
 */
export async function main(args: readonly string[], io: CliIo = consoleIo): Promise<number> {
  const width = terminalWidth();
  let parsed: InferValue<typeof parser>;
  try {
    parsed = run(parser, {
      programName: "mycelium",
      args,
      help: "both",
      version: VERSION,
      completion: "command",
      brief: message`Actors whose deployment is a configuration choice.`,
      footer: message`Environment: ${envVar(CONFIG_ENV)} names the topology file when ${
        metavar("CONFIG")
      } is not given. Example: ${commandLine("mycelium topology config/prod.yaml")}`,
      showDefault: true,
      colors: !Deno.noColor && Deno.stdout.isTerminal(),
      ...(width === undefined ? {} : { maxWidth: width }),
      errorExitCode: EXIT_CODES.USAGE,
      stdout: io.out,
      stderr: io.err,
      onExit: (code: number): never => {
        throw new ExitRequest(code);
      },
    });
  } catch (e) {
    if (e instanceof ExitRequest) return e.exitCode;
    throw e;
  }
  try {
    switch (parsed.command) {
      case "demo":
        return printDemo(parsed.count, parsed.seed, io);
      case "bench":
      case "bench-peer":
        return await runBench(parsed, io);
      case "run": {
        const config = parsed.config ?? configFromEnv() ?? "config/dev.yaml";
        return await runCommand({ ...parsed, config }, io);
      }
      case "validate":
      case "topology": {
        const config = parsed.config ?? configFromEnv();
        if (config === undefined) {
          io.err(
            `mycelium ${parsed.command}: no topology file given\n  fix: name one (mycelium ${parsed.command} config/dev.yaml) or set ${CONFIG_ENV}`,
          );
          return EXIT_CODES.USAGE;
        }
        const options = { config, actors: parsed.actors };
        if (parsed.command === "topology") {
          return await topologyCommand({ ...options, json: parsed.json }, io);
        }
        const valid = await validateCommand(options, io);
        return valid === EXIT_CODES.OK && parsed.measure ? await measureCommand(config, io) : valid;
      }
    }
  } catch (e) {
    if (e instanceof MyceliumError) return reportError(e, io);
    io.err(`mycelium: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return exitCodeFor(e);
  }
}

function printDemo(count: number, seed: number, io: CliIo): number {
  const r = runCodecDemo({ count, seed });
  const ok = r.frames === count && r.checksumSent === r.checksumReceived;
  io.out(`mycelium codec demo (seed ${seed})
  swaps encoded        ${count} V2Swap frames, ${r.bytes} bytes (${r.bytes / count} per frame)
  delivered in         ${r.reads} reads of 1 B to 16 KiB, split back into ${r.frames} frames
  wall time            ${r.elapsedMs.toFixed(0)} ms to encode, split, view and checksum every field
                       (a demonstration, not a benchmark: see deno task bench)
  checksum sent        ${r.checksumSent}
  checksum received    ${r.checksumReceived}
  result               ${ok ? "OK: every frame arrived intact and in order" : "MISMATCH"}`);
  return ok ? EXIT_CODES.OK : EXIT_CODES.FAILED;
}
