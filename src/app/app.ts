/**
 * An application as a value: its message types, its actors by name, its
 * fixed routes, its lifecycle and what it adds to the run report. The
 * runtime runs it as a topology places it (one process, one group of a split
 * deployment, or a supervisor of every group); the CLI and the user's binary
 * are built from it.
 *
 * @module
 */
import type { Actor } from "../actor/actor.ts";
import type { SupervisionPolicy } from "../actor/supervision.ts";
import type { MessageType } from "../codec/mod.ts";
import type { Logger } from "../logger.ts";
import type { MailboxOptions } from "../bus/mailbox.ts";
import { AppError } from "./app_error.ts";
import type { Params, ParamValues } from "./param.ts";
import { NAME_PATTERN } from "../topology/topology.ts";

/**
 * How an app ends: a `service` runs until SIGINT/SIGTERM, then drains; a
 * `job` runs until it calls {@linkcode AppEnv.done}, then every group drains
 * and exits 0.
 */
export type Lifecycle = "service" | "job";

/** What `setup` sees: the process an app instance runs in. */
export interface SetupEnv<P extends Params = Params> {
  /** The app's name. */
  readonly app: string;
  /** The parameter values of this run (defaults filled in). */
  readonly params: ParamValues<P>;
  /** The process group this process runs (`"main"` in a monolith). */
  readonly group: string;
  /** `monolith`: every actor here; `group`: one process group of a split deployment. */
  readonly mode: "monolith" | "group";
  /** Whether a supervisor started this process (it may be restarted after a crash). */
  readonly supervised: boolean;
  /** The actors this process hosts. */
  readonly hosted: ReadonlySet<string>;
  /** The runtime's logger. */
  readonly log: Logger;
  /**
   * Ends a `job`: every group drains what is in flight, reports and exits 0.
   * Call it from the actor that knows the work is over (e.g. the one that
   * saw the end of a stream). Idempotent; ignored by a `service`.
   */
  done(): void;
  /**
   * Calls `listener` when another process group restarted (after a crash),
   * with the actors it hosts: they lost what they had acknowledged but not
   * handled, and their state. Use it to resend what only this process knows
   * they need. Never called in a monolith. Returns an unsubscribe function.
   */
  onPeerRestart(listener: (group: string, actors: readonly string[]) => void): () => void;
}

/** What an actor factory sees: the setup's environment plus what `setup` returned. */
export interface AppEnv<P extends Params = Params, S = unknown> extends SetupEnv<P> {
  /** What the app's `setup` returned in this process (`undefined` without one). */
  readonly shared: S;
}

/** Makes a fresh actor: called at start and again on every restart. */
export type ActorFactory<P extends Params = Params, S = unknown, A extends Actor = Actor> = (
  env: AppEnv<P, S>,
) => A;

/** An actor with its spawn settings. */
export interface ActorSpec<P extends Params = Params, S = unknown, A extends Actor = Actor> {
  /** Makes a fresh actor: called at start and again on every restart. */
  readonly create: ActorFactory<P, S, A>;
  /**
   * Published message types and topics it receives. Default: every type it
   * handles. `[]`: reachable by name only. Types of fixed routes that name it
   * are added.
   */
  readonly subscribe?: readonly (MessageType | string)[];
  /**
   * What a failing handler does. Default: restart, 3 times in 10 s. A sync
   * target of a fixed route in the sender's process is called directly and
   * so cannot be paused or restarted: its failures are reported and it goes
   * on (`resume`); under `--routing bus`, or in a process of its own, this
   * policy applies. Async targets there are restarted with the same object.
   */
  readonly supervision?: SupervisionPolicy;
  /** Its mailbox. Default: capacity 1024, overflow `wait`. */
  readonly mailbox?: MailboxOptions;
  /**
   * Zero-copy views instead of plain objects for messages from other
   * processes: `true` for every type, or the types listed (see
   * `SpawnOptions.views`). Default: plain objects.
   */
  readonly views?: boolean | readonly MessageType[];
  /**
   * Whether its state is lost when its process restarts (the run report
   * then names it). Default: true. Say false for stateless actors.
   */
  readonly stateful?: boolean;
}

/** An actor declaration: a factory, or a factory with spawn settings. */
export type ActorDecl<P extends Params = Params, S = unknown> =
  | ActorFactory<P, S, Actor>
  | ActorSpec<P, S, Actor>;

/** The actor a declaration makes. */
export type ActorOf<D> = D extends (env: never) => infer A ? A
  : D extends { readonly create: (env: never) => infer A } ? A
  : never;

/** The live actors of one process, by name: those it hosts are present. */
export type ActorInstances<A> = { readonly [K in keyof A]?: ActorOf<A[K]> };

/**
 * A fixed route, the design notes' "routing config": every message of `type`
 * goes to `sync` targets (handlers called directly, in order, inside the
 * publish, when they share the sender's process) and `async` targets
 * (through their mailboxes). Targets in other processes receive it over
 * links as subscribers. Same actor code either way.
 */
export interface FixedRoute<N extends string = string> {
  /** The routed message type. */
  readonly type: MessageType;
  /** Actors whose handlers run directly inside the publish, in order. */
  readonly sync?: readonly N[];
  /** Actors that receive it through their mailbox. */
  readonly async?: readonly N[];
}

/** What the runtime knows when the app merges its groups' report parts. */
export interface MergeInfo {
  /** Restarts per process group (empty in a monolith or when none restarted). */
  readonly restarts: Readonly<Record<string, number>>;
  /** Stateful actors whose process restarted: their figures cover their last run only. */
  readonly stateLost: readonly string[];
  /** Whether every process completed. */
  readonly completed: boolean;
}

/**
 * The app's own figures in the run report. Each process reports the part of
 * the actors it hosts (a JSON value; bigints allowed); `merge` makes one
 * total of every group's part; `lines` prints it above the runtime's tables.
 */
export interface AppReport<P extends Params, S, A, Part, Total> {
  /** This process's part, from the actors it hosts. */
  part(actors: ActorInstances<A>, env: AppEnv<P, S>): Part;
  /** Every process's part as one total. */
  merge(parts: readonly Part[], info: MergeInfo): Total;
  /** The total as lines of the printed summary. */
  lines(total: Total, params: ParamValues<P>): readonly string[] | Promise<readonly string[]>;
  /** Whether the run succeeded by the app's measure (exit 0). Default: it completed. */
  ok?(total: Total): boolean;
}

/** Options of {@linkcode defineApp}. */
export interface AppOptions<
  P extends Params,
  S,
  A extends Readonly<Record<string, ActorDecl<P, S>>>,
  Part,
  Total,
> {
  /** The app's name (the CLI's program name). */
  name: string;
  /** One line for `--help`. */
  description?: string;
  /**
   * The app's version, printed by `--version` (with Mycelium's beside it).
   * Default: none (`--version` prints the app's name and Mycelium's version).
   */
  version?: string;
  /** Every message type its actors exchange (what may cross a link). */
  messages: readonly MessageType[];
  /** Parameters set on the command line. Default: none. */
  params?: P;
  /** `service` (default) or `job`. */
  lifecycle?: Lifecycle;
  /**
   * Runs once per process before its actors are made; what it returns is
   * `env.shared` for every factory (open files, shared clients).
   */
  setup?: (env: SetupEnv<P>) => S | Promise<S>;
  /** Runs once per process after its actors stopped (close what `setup` opened). */
  teardown?: (shared: S, env: SetupEnv<P>) => void | Promise<void>;
  /**
   * Runs once per run before any process starts, in the monolith or in the
   * supervisor of the groups (not in a lone `--group` process): e.g. empty
   * an output file that restarted groups then append to. `hosted`: the
   * actors the run hosts on this machine.
   */
  prepare?: (params: ParamValues<P>, hosted: ReadonlySet<string>) => void | Promise<void>;
  /** The actors, by name. Names are what topologies place. */
  actors: A;
  /** Fixed routes. Default: none (every message goes through the bus). */
  routes?: readonly FixedRoute<keyof A & string>[];
  /** The app's figures in the run report. Default: only the runtime's. */
  report?: AppReport<P, S, A, Part, Total>;
}

/** An application: what the runtime, the CLI and the binary run. Build it with {@linkcode defineApp}. */
export interface App<
  P extends Params = Params,
  S = unknown,
  A extends Readonly<Record<string, ActorDecl<P, S>>> = Readonly<
    Record<string, ActorDecl<P, S>>
  >,
  Part = unknown,
  Total = unknown,
> {
  /** The app's name. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Its version, if it declared one. */
  readonly version: string | undefined;
  /** Every message type its actors exchange. */
  readonly messages: readonly MessageType[];
  /** Its parameters. */
  readonly params: P;
  /** How it ends. */
  readonly lifecycle: Lifecycle;
  /** Its actors by name, each as a spec. */
  readonly actors: { readonly [K in keyof A]: ActorSpec<P, S, ActorOf<A[K]>> };
  /** Actor names, in declaration order. */
  readonly actorNames: readonly (keyof A & string)[];
  /** Fixed routes. */
  readonly routes: readonly FixedRoute<keyof A & string>[];
  /** Per-process setup. */
  readonly setup: ((env: SetupEnv<P>) => S | Promise<S>) | undefined;
  /** Per-process teardown. */
  readonly teardown: ((shared: S, env: SetupEnv<P>) => void | Promise<void>) | undefined;
  /** Once-per-run preparation. */
  readonly prepare:
    | ((params: ParamValues<P>, hosted: ReadonlySet<string>) => void | Promise<void>)
    | undefined;
  /** Its report. */
  readonly report: AppReport<P, S, A, Part, Total> | undefined;
}

/**
 * Any application, whatever its parameters, actors and report: what the
 * runtime and the CLI accept.
 */
// deno-lint-ignore no-explicit-any -- the runtime runs every app alike.
export type AnyApp = App<any, any, any, any, any>;

/**
 * Declares an application.
 *
 * @throws {AppError} `APP_INVALID`: a bad actor name, a route naming an
 *   unknown actor or one both sync and async, two types with one id, a
 *   parameter name the CLI reserves.
 *
 * @example A job of two actors
 * ```ts
 * import { defineApp } from "./app.ts";
 * import { on } from "../actor/actor.ts";
 * import { defineMessage, field } from "../codec/mod.ts";
 *
 * const Tick = defineMessage({ id: 1, name: "Tick", fields: { n: field.u32() } });
 * const app = defineApp({
 *   name: "ticker",
 *   messages: [Tick],
 *   lifecycle: "job",
 *   actors: {
 *     source: (env) => ({
 *       handlers: [],
 *       start: (ctx) => ctx.send("sink", Tick, { n: 3 }),
 *     }),
 *     sink: (env) => ({ handlers: [on(Tick, () => env.done())] }),
 *   },
 * });
 * if (app.actorNames.join() !== "source,sink") throw new Error();
 * ```
 */
export function defineApp<
  const A extends Readonly<Record<string, ActorDecl<P, S>>>,
  P extends Params = Record<never, never>,
  S = undefined,
  Part = undefined,
  Total = undefined,
>(options: AppOptions<P, S, A, Part, Total>): App<P, S, A, Part, Total> {
  if (typeof options.name !== "string" || !NAME_PATTERN.test(options.name)) {
    throw new AppError("APP_INVALID", `app name ${JSON.stringify(options.name)} is not a name`, {
      fix: "use letters, digits, '_' and '-', starting with a letter",
    });
  }
  const actors: Record<string, ActorSpec<P, S>> = {};
  for (const [name, decl] of Object.entries(options.actors)) {
    if (!NAME_PATTERN.test(name) || name.startsWith("mycelium.")) {
      throw new AppError("APP_INVALID", `actor name ${JSON.stringify(name)} is not allowed`, {
        fix: "use letters, digits, '_' and '-', starting with a letter",
      });
    }
    const spec = typeof decl === "function" ? { create: decl } : decl;
    if (typeof spec.create !== "function") {
      throw new AppError("APP_INVALID", `actor '${name}' has no factory`, {
        fix: "declare it as (env) => actor, or { create: (env) => actor, ... }",
      });
    }
    actors[name] = Object.freeze({ ...spec });
  }
  const version: unknown = options.version;
  if (version !== undefined && (typeof version !== "string" || !/^\S+$/.test(version))) {
    throw new AppError(
      "APP_INVALID",
      `app '${options.name}' has version ${JSON.stringify(version)}`,
      {
        fix: 'give a version as one word without spaces, such as "1.4.2", or leave it out',
      },
    );
  }
  if (Object.keys(actors).length === 0) {
    throw new AppError("APP_INVALID", `app '${options.name}' declares no actor`, {
      fix: "add at least one actor under `actors`",
    });
  }
  const ids = new Map<number, string>();
  for (const t of options.messages) {
    const seen = ids.get(t.id);
    if (seen !== undefined && seen !== t.name) {
      throw new AppError("APP_INVALID", `message types ${seen} and ${t.name} share id ${t.id}`, {
        fix: "give every message type its own id",
      });
    }
    ids.set(t.id, t.name);
  }
  checkRoutes(options.routes ?? [], actors, ids);
  for (const name of Object.keys(options.params ?? {})) {
    if (RESERVED_PARAMS.has(name) || !/^[a-z][A-Za-z0-9]*$/.test(name)) {
      throw new AppError("APP_INVALID", `parameter name '${name}' is not allowed`, {
        fix: RESERVED_PARAMS.has(name)
          ? `the CLI's run command has its own --${name}; rename the parameter`
          : "use a camelCase name (it becomes a --kebab-case option)",
      });
    }
  }
  return Object.freeze({
    name: options.name,
    description: options.description ?? `The ${options.name} application.`,
    version: options.version,
    messages: Object.freeze([...options.messages]),
    params: options.params ?? ({} as P),
    lifecycle: options.lifecycle ?? "service",
    actors: Object.freeze(actors) as App<P, S, A, Part, Total>["actors"],
    actorNames: Object.freeze(Object.keys(actors)) as readonly (keyof A & string)[],
    routes: Object.freeze([...(options.routes ?? [])]),
    setup: options.setup,
    teardown: options.teardown,
    prepare: options.prepare,
    report: options.report,
  });
}

/** Option names of `run` that an app parameter may not take. */
const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  "mode",
  "group",
  "allHosts",
  "socketDir",
  "supervised",
  "faithful",
  "routing",
  "logLevel",
  "json",
  "help",
  "version",
]);

function checkRoutes(
  routes: readonly FixedRoute[],
  actors: Readonly<Record<string, unknown>>,
  ids: ReadonlyMap<number, string>,
): void {
  const mode = new Map<string, "sync" | "async">();
  const routed = new Set<MessageType>();
  for (const r of routes) {
    if (routed.has(r.type)) {
      throw new AppError("APP_INVALID", `${r.type.name} has two fixed routes`, {
        fix: "list every target of a type in one route",
      });
    }
    routed.add(r.type);
    if (ids.get(r.type.id) !== r.type.name) {
      throw new AppError("APP_INVALID", `route ${r.type.name}: the type is not in messages`, {
        fix: `add ${r.type.name} to the app's messages`,
      });
    }
    for (const kind of ["sync", "async"] as const) {
      for (const name of r[kind] ?? []) {
        if (!(name in actors)) {
          throw new AppError("APP_INVALID", `route ${r.type.name}: no actor '${name}'`, {
            fix: `declare '${name}' under actors, or remove it from the route`,
          });
        }
        const was = mode.get(name);
        if (was !== undefined && was !== kind) {
          throw new AppError(
            "APP_INVALID",
            `actor '${name}' is a sync target of one route and an async target of another`,
            { fix: "make it sync everywhere or async everywhere" },
          );
        }
        mode.set(name, kind);
      }
    }
  }
}
