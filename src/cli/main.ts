// deno-lint-ignore-file no-console -- the CLI talks to people on stdout and stderr.
/**
 * The command line of an app: `runCli(app, args)` gives any app `run`,
 * `validate`, `topology`, `bench` and `completion`, built with Optique
 * (typed options, `--help` on every command, shell completion, exit codes
 * per error class; see `exit_codes.ts`). A user's entry file hands its app
 * here; `deno compile` of that file is the app's single binary.
 *
 * @module
 */
import { object, or } from "npm:@optique/core@1.3.6/constructs";
import {
  commandLine,
  envVar,
  type Message,
  message,
  metavar,
  text,
} from "npm:@optique/core@1.3.6/message";
import { optional, withDefault } from "npm:@optique/core@1.3.6/modifiers";
import { argument, command, constant, flag, option } from "npm:@optique/core@1.3.6/primitives";
import {
  choice,
  float,
  integer,
  string,
  type ValueParser,
} from "npm:@optique/core@1.3.6/valueparser";
import type { InferValue, Parser } from "npm:@optique/core@1.3.6/parser";
import { run } from "npm:@optique/run@1.3.6";
import { extractOptionNames, type Usage } from "npm:@optique/core@1.3.6/usage";
import type { AnyApp } from "../app/app.ts";
import { kebabCase, type Param } from "../app/param.ts";
import type { CliIo } from "./cli_io.ts";
import { EXIT_CODES, exitCodeFor } from "./exit_codes.ts";
import { MyceliumError } from "../mycelium_error.ts";
import { reportError, topologyCommand, validateCommand } from "./topology_commands.ts";
import { measureCommand, runCommand } from "./run_command.ts";
import { bench, runBench } from "./bench_command.ts";
import { didYouMean } from "../topology/_did_you_mean.ts";

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /** Where the CLI writes. Default: stdout and stderr. */
  io?: CliIo;
  /**
   * The topology `run` uses when given none and `MYCELIUM_CONFIG` is unset.
   * Default: none (`run` then asks for one).
   */
  defaultConfig?: string;
}

/** The environment variable naming the topology file when a command is given none. */
export const CONFIG_ENV = "MYCELIUM_CONFIG";

/** Mycelium's version, printed by `--version` (after the app's own, when it declares one). */
export const VERSION = "0.1.0";

/** What `--version` prints for `app`: e.g. `sensors 1.4.2 (mycelium 0.1.0)`. */
export function versionLine(
  app: { readonly name: string; readonly version: string | undefined },
): string {
  return app.version === undefined
    ? `${app.name} (mycelium ${VERSION})`
    : `${app.name} ${app.version} (mycelium ${VERSION})`;
}

const configArgument = optional(argument(string({ metavar: "CONFIG" }), {
  description: message`Topology file (YAML). Default: the ${
    envVar(CONFIG_ENV)
  } environment variable.`,
}));

function describe(p: Param<unknown>): Message {
  return [text(p.description)];
}

// deno-lint-ignore no-explicit-any -- parsers of every kind of value, keyed by parameter.
type AnyParser = Parser<"sync", any, any>;

/** The Optique parser of one app parameter: `--kebab-name VALUE` (or a flag). */
function paramParser(name: string, p: Param<unknown>): AnyParser {
  const flagName = `--${kebabCase(name)}` as const;
  const description = describe(p);
  if (p.kind === "flag") return withDefault(flag(flagName, { description }), false) as AnyParser;
  const metavar = (p.metavar === "" ? "VALUE" : p.metavar) as "VALUE";
  const min = p.min === undefined ? {} : { min: p.min };
  // deno-lint-ignore no-explicit-any -- one option per value kind, typed by the parameter.
  const value: ValueParser<"sync", any> = p.kind === "integer"
    ? integer({ metavar, ...min })
    : p.kind === "number"
    ? float({ metavar, ...min })
    : string({ metavar });
  const opt = option(flagName, value, { description });
  return (p.default === undefined ? optional(opt) : withDefault(opt, p.default)) as AnyParser;
}

function parsersOf(app: AnyApp) {
  const params: Record<string, AnyParser> = {};
  for (const [name, p] of Object.entries(app.params as Record<string, Param<unknown>>)) {
    params[name] = paramParser(name, p);
  }
  const validate = command(
    "validate",
    object({
      command: constant("validate"),
      config: configArgument,
      measure: withDefault(
        flag("--measure", {
          description:
            message`Also run the app here (a job, with its default parameters, every message through the bus) and fail unless each declared route it can judge is shown within its latency budget (routes the topology sends between processes are listed, not judged).`,
        }),
        false,
      ),
    }),
    {
      brief:
        message`Check a topology file against the app; print each problem with its place and fix.`,
      description:
        message`Loads the topology and checks its syntax, its shape, that it places every actor of the app and nothing else, the names routes and budgets refer to, and the ports and socket paths groups listen on. Exits 0 when valid, otherwise with the exit code of the error's class (10 to 19).`,
    },
  );
  const topology = command(
    "topology",
    object({
      command: constant("topology"),
      config: configArgument,
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
      mode: optional(option("--mode", choice(["monolith"], { metavar: "MODE" }), {
        description: message`Run every actor in this process, whatever the topology's mode.`,
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
            message`Set by the supervisor on the groups it starts: print a machine-readable report and stop when the supervisor goes away.`,
        }),
        false,
      ),
      faithful: withDefault(
        flag("--faithful", {
          description:
            message`Round-trip every in-process message through the codec, as a split deployment would.`,
        }),
        false,
      ),
      logLevel: withDefault(
        option("--log-level", choice(["debug", "info", "warn", "error"], { metavar: "LEVEL" }), {
          description:
            message`The least severe log records printed on stderr (the runtime's and the actors' ctx.log).`,
        }),
        "warn" as "debug" | "info" | "warn" | "error",
      ),
      routing: withDefault(
        option("--routing", choice(["fixed", "bus"], { metavar: "ROUTING" }), {
          description:
            message`fixed: the app's fixed routes between actors of one process are direct calls; bus: every message goes through the MessageBus (to compare).`,
        }),
        "fixed" as "fixed" | "bus",
      ),
      params: object(params),
    }),
    {
      brief: message`Run the app as a topology places it.`,
      description:
        message`A monolith topology (or --mode monolith) runs every actor in this process; --group NAME runs one process group, linked to the others; otherwise this process supervises one child process per process group of this host (--all-hosts: of every host), restarting a crashed group with backoff, and merges their reports. A job ends when the app says it is done; a service runs until SIGINT or SIGTERM, then drains.`,
    },
  );
  return {
    parser: or(runCmd, validate, topology, bench),
    /** Each command's parser, by name (its usage lists its options). */
    commands: new Map<string, { readonly usage: Usage }>([
      ["run", runCmd],
      ["validate", validate],
      ["topology", topology],
      ["bench", bench],
    ]),
  };
}

class ExitRequest extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

/**
 * A fix line for a usage error about an unknown `--option` of `args` that is
 * close to one its command has (`commands`: each command's parser by name).
 */
export function optionHint(
  commands: ReadonlyMap<string, { readonly usage: Usage }>,
  args: readonly string[],
): string | undefined {
  const command = commands.get(args[0] ?? "");
  if (command === undefined) return undefined;
  const known = extractOptionNames(command.usage);
  const unknown = args.slice(1).find((a) => a.startsWith("--") && !known.has(a.split("=")[0]!));
  if (unknown === undefined) return undefined;
  const hint = didYouMean(unknown.split("=")[0]!, known);
  return hint === "" ? undefined : `  fix: ${hint.trim()}`;
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
 * Runs `app`'s command line with `args` and returns the process exit code.
 *
 * @example A user's entry file (`main.ts`), whose `deno compile` is the app's binary
 * ```ts ignore
 * import { runCli } from "../../mod.ts";
 * import { app } from "./app.ts";
 *
 * if (import.meta.main) Deno.exit(await runCli(app, Deno.args));
 * ```
 */
export async function runCli(
  app: AnyApp,
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<number> {
  const io = options.io ?? consoleIo;
  const width = terminalWidth();
  const { parser, commands } = parsersOf(app);
  let parsed: InferValue<typeof parser>;
  try {
    parsed = run(parser, {
      programName: app.name,
      args,
      help: "both",
      version: versionLine(app),
      completion: "command",
      brief: [text(app.description)],
      footer: message`Environment: ${envVar(CONFIG_ENV)} names the topology file when ${
        metavar("CONFIG")
      } is not given. Example: ${commandLine(`${app.name} topology my-topology.yaml`)}`,
      showDefault: true,
      showChoices: true,
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
    if (e instanceof ExitRequest) {
      const hint = e.exitCode === EXIT_CODES.USAGE ? optionHint(commands, args) : undefined;
      if (hint !== undefined) io.err(hint);
      return e.exitCode;
    }
    throw e;
  }
  try {
    switch (parsed.command) {
      case "bench":
      case "bench-peer":
        return await runBench(parsed, io);
      case "run": {
        const config = parsed.config ?? configFromEnv() ?? options.defaultConfig;
        if (config === undefined) {
          io.err(
            `${app.name} run: no topology file given\n  fix: name one (${app.name} run my-topology.yaml) or set ${CONFIG_ENV}`,
          );
          return EXIT_CODES.USAGE;
        }
        return await runCommand(app, { ...parsed, config }, io);
      }
      case "validate":
      case "topology": {
        const config = parsed.config ?? configFromEnv();
        if (config === undefined) {
          io.err(
            `${app.name} ${parsed.command}: no topology file given\n  fix: name one (${app.name} ${parsed.command} my-topology.yaml) or set ${CONFIG_ENV}`,
          );
          return EXIT_CODES.USAGE;
        }
        const options = { config, actors: app.actorNames };
        if (parsed.command === "topology") {
          return await topologyCommand({ ...options, json: parsed.json }, io);
        }
        const valid = await validateCommand(options, io);
        return valid === EXIT_CODES.OK && parsed.measure
          ? await measureCommand(app, config, io)
          : valid;
      }
    }
  } catch (e) {
    if (e instanceof MyceliumError) return reportError(e, io, app.name);
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      // The app's own code (a setup opening a file, say) lacked a permission.
      io.err(`${app.name}: ${e.message}\n  fix: run it with that permission granted`);
      return EXIT_CODES.FAILED;
    }
    io.err(`${app.name}: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return exitCodeFor(e);
  }
}
