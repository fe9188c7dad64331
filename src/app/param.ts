/**
 * Parameters of an application: the values its users set on the command
 * line (`mycelium run config.yaml --swaps 5000`). The CLI turns each into a
 * `--kebab-case` option; the runtime hands the parsed values to the app's
 * `setup` and actor factories, and passes them on to every process group.
 *
 * @module
 */

/** What kind of value a parameter holds. */
export type ParamKind = "integer" | "number" | "string" | "path" | "flag";

/** Whether a path parameter names a file the app reads or writes (sets permissions of group processes). */
export type PathAccess = "read" | "write";

/** One declared parameter, as {@linkcode param} builds it. `T` is its parsed value's type. */
export interface Param<T> {
  /** The kind of value. */
  readonly kind: ParamKind;
  /** One line for `--help`. */
  readonly description: string;
  /** The value when the option is not given (`undefined`: the value may be absent). */
  readonly default: T | undefined;
  /** Smallest value allowed (`integer`, `number`). */
  readonly min?: number;
  /** For `path`: whether group processes need to read or write it. */
  readonly access?: PathAccess;
  /** Placeholder in `--help` (e.g. `FILE`, `N`). */
  readonly metavar: string;
  /** Type marker only; never set. */
  readonly _type?: T;
}

/** The parameters of an app, by name (camelCase; the option is its kebab-case form). */
export type Params = Readonly<Record<string, Param<unknown>>>;

/** The values of a set of parameters. */
export type ParamValues<P extends Params> = {
  readonly [K in keyof P]: P[K] extends Param<infer T> ? T : never;
};

/** Options shared by every parameter builder. */
export interface ParamOptions<T> {
  /** One line for `--help`. */
  description: string;
  /** The value when the option is not given. Without one, the value may be `undefined`. */
  default?: T;
}

/** Options of the numeric builders. */
export interface NumberParamOptions<T> extends ParamOptions<T> {
  /** Smallest value allowed. Default: none. */
  min?: number;
}

/** Options of {@linkcode param.path}. */
export interface PathParamOptions<T> extends ParamOptions<T> {
  /** Whether the app reads or writes the file (group processes get that permission for it). */
  access: PathAccess;
}

/** A parameter's type from its builder's options: absent without a default. */
export type Built<T, O> = O extends { default: T } ? Param<T> : Param<T | undefined>;

function build<T>(
  kind: ParamKind,
  metavar: string,
  options: ParamOptions<T> & { min?: number; access?: PathAccess },
): Param<T> {
  return Object.freeze({
    kind,
    metavar,
    description: options.description,
    default: options.default,
    ...(options.min === undefined ? {} : { min: options.min }),
    ...(options.access === undefined ? {} : { access: options.access }),
  });
}

/**
 * Builders of an app's parameters.
 *
 * @example
 * ```ts
 * import { param } from "./param.ts";
 *
 * const params = {
 *   clients: param.integer({ description: "Clients to simulate.", default: 4, min: 1 }),
 *   out: param.path({ description: "Where to write the log.", access: "write" }),
 *   verbose: param.flag({ description: "Log every request." }),
 * };
 * if (params.clients.default !== 4 || params.out.default !== undefined) throw new Error();
 * ```
 */
export const param: ParamBuilders = Object.freeze({
  /** A whole number: `--name 42`. */
  integer<const O extends NumberParamOptions<number>>(options: O): Built<number, O> {
    return build("integer", "N", options) as Built<number, O>;
  },
  /** A number: `--name 0.5`. */
  number<const O extends NumberParamOptions<number>>(options: O): Built<number, O> {
    return build("number", "X", options) as Built<number, O>;
  },
  /** A string: `--name text`. */
  string<const O extends ParamOptions<string>>(options: O): Built<string, O> {
    return build("string", "TEXT", options) as Built<string, O>;
  },
  /** A file path the app reads or writes: `--name FILE`. */
  path<const O extends PathParamOptions<string>>(options: O): Built<string, O> {
    return build("path", "FILE", options) as Built<string, O>;
  },
  /** A switch: present is `true`, absent `false`. */
  flag(options: { description: string }): Param<boolean> {
    return build("flag", "", { ...options, default: false });
  },
});

/** The builders of {@linkcode param}. */
export interface ParamBuilders {
  /** A whole number: `--name 42`. */
  integer<const O extends NumberParamOptions<number>>(options: O): Built<number, O>;
  /** A number: `--name 0.5`. */
  number<const O extends NumberParamOptions<number>>(options: O): Built<number, O>;
  /** A string: `--name text`. */
  string<const O extends ParamOptions<string>>(options: O): Built<string, O>;
  /** A file path the app reads or writes: `--name FILE`. */
  path<const O extends PathParamOptions<string>>(options: O): Built<string, O>;
  /** A switch: present is `true`, absent `false`. */
  flag(options: { description: string }): Param<boolean>;
}

/** `maxRestarts` → `max-restarts`: the option a parameter gets. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Parameter values as command-line options that give the same values back:
 * what a supervisor passes to the group processes it starts.
 */
export function paramArgs(params: Params, values: Readonly<Record<string, unknown>>): string[] {
  const args: string[] = [];
  for (const [name, p] of Object.entries(params)) {
    const v = values[name];
    if (v === undefined || v === false) continue;
    if (p.kind === "flag") args.push(`--${kebabCase(name)}`);
    else args.push(`--${kebabCase(name)}`, String(v));
  }
  return args;
}

/** The defaults of every parameter (what a program that sets none gets). */
export function defaultParams<P extends Params>(params: P): ParamValues<P> {
  return Object.fromEntries(
    Object.entries(params).map(([name, p]) => [name, p.default]),
  ) as ParamValues<P>;
}
