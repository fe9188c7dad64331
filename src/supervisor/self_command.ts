/**
 * The command line that starts this same program again with other
 * arguments: how the supervisor spawns one process per group from a single
 * binary.
 *
 * @module
 */
import { SupervisorError } from "./supervisor_error.ts";

/** The permission kinds `deno run` has flags for, in the order their flags are written. */
export const PERMISSION_KINDS = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
] as const;

/** One permission kind: `read` stands for `--allow-read` / `--deny-read`, and so on. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/** The facts about the running program that decide how to start it again. */
export interface SelfRuntime {
  /** `true` in a `deno compile` binary (`Deno.build.standalone`). */
  readonly standalone: boolean;
  /** The executable: the binary itself when standalone, else the `deno` that runs us. */
  readonly execPath: string;
  /** The entry module URL (`Deno.mainModule`); unused when standalone. */
  readonly mainModule: string;
  /** Answers like `Deno.permissions.querySync`. */
  queryPermission(descriptor: Deno.PermissionDescriptor): Deno.PermissionState;
}

/** A command and its arguments, ready for `new Deno.Command(command, { args })`. */
export interface SelfCommand {
  /** The executable to start. */
  readonly command: string;
  /** Its arguments. */
  readonly args: readonly string[];
}

/** Options of {@linkcode selfCommand}. */
export interface SelfCommandOptions {
  /**
   * Values to check, per permission kind, for kinds this process holds only
   * in part (e.g. run with `--allow-env=MYCELIUM_CONFIG`). Deno can say
   * whether a given value is allowed but cannot list the allowed values, so
   * a kind that is not granted as a whole is passed on only for the values
   * named here: the granted ones become `--allow-env=A,B`, and values
   * explicitly denied become `--deny-env=C` (also when the kind as a whole is
   * granted, since `--allow-net --deny-net=x` reads as plain "granted").
   * Paths are checked and passed as written, so relative ones are relative to
   * the child's working directory. Default: none, so a partial grant is not
   * passed on and the child is refused (it never prompts).
   */
  probe?: Partial<Record<PermissionKind, readonly string[]>>;
  /**
   * Extra `deno run` flags placed before the entry module, e.g.
   * `["--config", "/app/deno.json"]` or `["--unstable-kv"]`. Not needed for
   * the imports map: `deno run` finds the `deno.json` next to a local entry
   * module whatever the working directory, and a bundle needs none. Ignored
   * for a compiled binary, whose flags are built in. Default: none.
   */
  runtimeFlags?: readonly string[];
  /** The facts to use. Default: this process's ({@linkcode currentRuntime}). */
  runtime?: SelfRuntime;
}

/**
 * The facts about this process: `Deno.build.standalone`, `Deno.execPath()`,
 * `Deno.mainModule` and `Deno.permissions.querySync`.
 *
 * @example
 * ```ts
 * import { currentRuntime } from "./self_command.ts";
 * if (currentRuntime().standalone) throw new Error("deno test is not a compiled binary");
 * ```
 */
export function currentRuntime(): SelfRuntime {
  return {
    standalone: Deno.build.standalone,
    execPath: Deno.execPath(),
    mainModule: Deno.mainModule,
    queryPermission: (descriptor) => Deno.permissions.querySync(descriptor).state,
  };
}

/**
 * The command line that runs this same program again with `args`.
 *
 * - In a compiled binary (`Deno.build.standalone`): the binary itself plus
 *   `args`; its permissions are built in.
 * - Under `deno run` (a source entry or a `deno bundle` output):
 *   `deno run`, `--no-prompt`, one `--allow-KIND` per permission kind this
 *   process holds as a whole, the partial grants and denials found through
 *   {@linkcode SelfCommandOptions.probe}, any
 *   {@linkcode SelfCommandOptions.runtimeFlags}, the entry module, then
 *   `args`. `--no-prompt` because a supervised child has no one to answer a
 *   prompt: what is not passed on is refused.
 *
 * Flags this process was started with that are not permissions (`--unstable-*`,
 * `--v8-flags`, `--config` pointing away from the entry, `--no-lock`, …)
 * cannot be read back from Deno; pass them in `runtimeFlags`.
 *
 * @throws {SupervisorError} `SUPERVISOR_SELF_COMMAND` when the entry cannot be
 * run again (`deno eval`, the REPL, stdin), when a probe value is not valid
 * for its kind or contains a comma.
 *
 * @example
 * ```ts
 * import { selfCommand } from "./self_command.ts";
 * const compiled = selfCommand(["run", "prod.yaml", "--group", "execution"], {
 *   runtime: {
 *     standalone: true,
 *     execPath: "/usr/local/bin/mycelium",
 *     mainModule: "file:///ignored.ts",
 *     queryPermission: () => "granted",
 *   },
 * });
 * if (compiled.command !== "/usr/local/bin/mycelium" || compiled.args[3] !== "execution") {
 *   throw new Error();
 * }
 * ```
 */
export function selfCommand(
  args: readonly string[],
  options: SelfCommandOptions = {},
): SelfCommand {
  const runtime = options.runtime ?? currentRuntime();
  if (runtime.standalone) return { command: runtime.execPath, args: [...args] };
  if (/\$deno\$(eval|repl|stdin)/.test(runtime.mainModule)) {
    throw new SupervisorError(
      "SUPERVISOR_SELF_COMMAND",
      `cannot start '${runtime.mainModule}' again: run a file (or the compiled binary) instead of eval, the REPL or stdin`,
    );
  }
  return {
    command: runtime.execPath,
    args: [
      "run",
      "--no-prompt",
      ...permissionFlags(runtime, options.probe ?? {}),
      ...(options.runtimeFlags ?? []),
      runtime.mainModule,
      ...args,
    ],
  };
}

/**
 * The `--allow-*` / `--deny-*` flags that give a `deno run` child the
 * permissions of the process `runtime` describes (see
 * {@linkcode SelfCommandOptions.probe} for partial grants).
 *
 * @example
 * ```ts
 * import { permissionFlags } from "./self_command.ts";
 * const flags = permissionFlags({
 *   standalone: false,
 *   execPath: "deno",
 *   mainModule: "file:///app/cli.ts",
 *   queryPermission: (d) =>
 *     d.name === "read" || (d.name === "env" && d.variable === "HOME") ? "granted" : "prompt",
 * }, { env: ["HOME", "PATH"] });
 * if (flags.join(" ") !== "--allow-read --allow-env=HOME") throw new Error(flags.join(" "));
 * ```
 */
export function permissionFlags(
  runtime: SelfRuntime,
  probe: Partial<Record<PermissionKind, readonly string[]>> = {},
): string[] {
  const flags: string[] = [];
  for (const kind of PERMISSION_KINDS) {
    const whole = query(runtime, kind, undefined);
    if (whole === "granted") flags.push(`--allow-${kind}`);
    else if (whole === "denied") flags.push(`--deny-${kind}`);
    const allowed: string[] = [];
    const denied: string[] = [];
    for (const value of probe[kind] ?? []) {
      if (value.includes(",")) {
        throw new SupervisorError(
          "SUPERVISOR_SELF_COMMAND",
          `the ${kind} permission value '${value}' contains a comma, which a --allow-${kind} list cannot carry`,
        );
      }
      const state = query(runtime, kind, value);
      if (state === "granted" && whole !== "granted") allowed.push(value);
      if (state === "denied" && whole !== "denied") denied.push(value);
    }
    if (allowed.length > 0) flags.push(`--allow-${kind}=${allowed.join(",")}`);
    if (denied.length > 0) flags.push(`--deny-${kind}=${denied.join(",")}`);
  }
  return flags;
}

function query(
  runtime: SelfRuntime,
  kind: PermissionKind,
  value: string | undefined,
): Deno.PermissionState {
  try {
    return runtime.queryPermission(descriptorOf(kind, value));
  } catch (cause) {
    throw new SupervisorError(
      "SUPERVISOR_SELF_COMMAND",
      `cannot check the ${kind} permission${value === undefined ? "" : ` for '${value}'`}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
  }
}

function descriptorOf(kind: PermissionKind, value: string | undefined): Deno.PermissionDescriptor {
  if (value === undefined) return { name: kind };
  switch (kind) {
    case "read":
    case "write":
    case "ffi":
      return { name: kind, path: value };
    case "net":
    case "import":
      return { name: kind, host: value };
    case "env":
      return { name: kind, variable: value };
    case "run":
      return { name: kind, command: value };
    case "sys":
      return { name: kind, kind: value as NonNullable<Deno.SysPermissionDescriptor["kind"]> };
  }
}
