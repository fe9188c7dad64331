/**
 * Topology text → validated {@linkcode Topology}. Pure: no file system; see
 * `loadTopology` for reading a file.
 *
 * @module
 */
import type { z } from "npm:zod@4.1.12";
import { throwIfAny, TopologyBuilder } from "./_build_topology.ts";
import { documentSchemas, issuesToProblems, rootSchema, valueAt } from "./_schema.ts";
import { formatPath, YamlSource } from "./_yaml_source.ts";
import { closest } from "./_did_you_mean.ts";
import { type Topology, TOPOLOGY_MODES, type TopologyMode } from "./topology.ts";
import { TopologyError, type TopologyProblem } from "./topology_error.ts";

/** Options of {@linkcode parseTopology}. */
export interface ParseTopologyOptions {
  /** File name used in errors and kept in the model. Default: `"<topology>"`. */
  file?: string;
  /**
   * The actors the application has. When given, every one of them must be
   * placed and nothing else may be. Default: no check (any placed name is an
   * actor; routes and budgets may only name placed actors).
   */
  knownActors?: Iterable<string>;
}

/**
 * Parses and validates a topology. Every shape of the seeds loads: mode
 * `monolith` with `actors: {name: {transport: channel}}`, mode `hybrid` with
 * `process_groups`, mode `distributed` with an endpoint per actor; all become
 * the same model. Hosts: a group is on {@linkcode LOCAL_HOST} unless it says
 * `host:`, gives an `endpoint:` on another host, or says
 * `deployment: separate_machine` (then its host is named after the group).
 * Addresses: a group reached over Unix sockets listens on `socket:` or
 * `<group>.sock` (relative to `socket_dir`, or to a private directory chosen
 * at run time); a group reached over TCP listens on `endpoint:` or on the next
 * free port of its host from `base_port` (default 7400), in group order, at
 * the host's address from `hosts:` (default: the host's name, and 127.0.0.1
 * for the local host, so a multi-machine topology names `hosts: { local: … }`
 * when other machines reach groups here).
 *
 * @throws {TopologyError} naming file, line, column, key and fix of every
 * problem of the first failing stage (syntax, shape, placement, references);
 * when that stage only finds a misspelt mode or unknown keys, the problems of
 * the later stages come too (read as the closest mode, without those keys).
 * @example
 * ```ts
 * import { parseTopology } from "./parse_topology.ts";
 * const t = parseTopology(`
 * topology:
 *   mode: hybrid
 *   process_groups:
 *     hot_path: { actors: [collector, strategy], transport: channel }
 *     execution: { actors: [executor], transport: unix_socket }
 * `, { file: "example.yaml" });
 * if (t.actors.get("executor")?.group !== "execution") throw new Error();
 * ```
 */
export function parseTopology(text: string, given: ParseTopologyOptions = {}): Topology {
  // The actors are read more than once (examples in fixes, each stage): an iterator would not do.
  const options: ParseTopologyOptions = given.knownActors === undefined
    ? given
    : { ...given, knownActors: [...given.knownActors] };
  const file = options.file ?? "<topology>";
  const src = new YamlSource(text, file);
  throwIfAny([...src.parseProblems]);
  throwIfAny(src.duplicateKeys.map(({ path, at, first }): TopologyProblem => {
    const actor = path.length === 3 && path[0] === "topology" && path[1] === "actors";
    const key = String(path[path.length - 1]);
    return {
      code: actor ? "TOPOLOGY_DUPLICATE_ACTOR" : "TOPOLOGY_PARSE",
      file,
      line: at.line,
      column: at.column,
      path: formatPath(path),
      problem: actor
        ? `actor '${key}' is placed twice (first on line ${first.line})`
        : `key '${key}' appears twice in this map (first on line ${first.line})`,
      fix: actor
        ? "place each actor once: remove one of the two"
        : "remove or rename one of the two",
    };
  }));
  const data = src.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throwIfAny([src.problem(
      "TOPOLOGY_INVALID",
      [],
      data === null || data === undefined ? "the file is empty" : "the file does not hold a map",
      "start with 'topology:' holding 'mode: monolith' (or hybrid, distributed) and the actors",
    )]);
  }
  const root = rootSchema.safeParse(data);
  if (!root.success) {
    const problems = issuesToProblems(root.error.issues, rootSchema, src, undefined);
    const guess = guessMode(data, root.error.issues);
    if (guess !== undefined) problems.push(...checkAs(guess, src, options));
    throwIfAny(problems);
  }
  const mode = (data as { topology: { mode: TopologyMode } }).topology.mode;
  const schema = documentSchemas[mode];
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throwIfAny(shapeProblems(parsed.error.issues, data, mode, src, options));
    throw new Error("unreachable");
  }
  return new TopologyBuilder(src, mode, options.knownActors).build(parsed.data);
}

/**
 * The problems of a document that does not have the shape of its mode. When
 * they are only unknown keys, the later stages (placement, addresses,
 * references) also run, on the document without those keys, so that an
 * independent problem elsewhere (a port out of range) is reported in the
 * same run; their problems inside a map that held an unknown key are left
 * out, since they may come from the misspelling (`hots:` for `host:`).
 */
function shapeProblems(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  mode: TopologyMode,
  src: YamlSource,
  options: ParseTopologyOptions,
): TopologyProblem[] {
  const schema = documentSchemas[mode];
  const problems = issuesToProblems(issues, schema as z.ZodType, src, mode, options.knownActors);
  if (!issues.every((i) => i.code === "unrecognized_keys")) return problems;
  const trimmed = structuredClone(data);
  const holders: string[] = [];
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const holder = valueAt(trimmed, path) as Record<string, unknown>;
    for (const key of issue.keys) delete holder[key];
    if (!(path.length === 0 || (path.length === 1 && path[0] === "topology"))) {
      holders.push(formatPath(path));
    }
  }
  const parsed = schema.safeParse(trimmed);
  if (!parsed.success) return problems;
  const inHolder = (p: TopologyProblem) =>
    holders.some((h) => p.path === h || p.path.startsWith(`${h}.`) || p.path.startsWith(`${h}[`));
  return [
    ...problems,
    ...buildProblems(parsed.data, mode, src, options).filter((p) => !inHolder(p)),
  ];
}

/** The problems the stages after the shape find in `data` (already of mode `mode`'s shape). */
function buildProblems(
  data: Parameters<TopologyBuilder["build"]>[0],
  mode: TopologyMode,
  src: YamlSource,
  options: ParseTopologyOptions,
): TopologyProblem[] {
  try {
    new TopologyBuilder(src, mode, options.knownActors).build(data);
    return [];
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    return [...e.problems];
  }
}

/**
 * When the only thing wrong at the top is a misspelt mode (`hybird`), the
 * mode it is closest to, so the rest of the file can be checked in the same
 * run; otherwise `undefined`.
 */
function guessMode(data: unknown, issues: readonly z.core.$ZodIssue[]): TopologyMode | undefined {
  const onlyMode = issues.every((i) =>
    i.path.length === 2 && i.path[0] === "topology" && i.path[1] === "mode"
  );
  const mode = (data as { topology?: { mode?: unknown } }).topology?.mode;
  if (!onlyMode || typeof mode !== "string") return undefined;
  return closest(mode, TOPOLOGY_MODES) as TopologyMode | undefined;
}

/** The other problems of a file whose mode is misspelt, read as mode `guess`. */
function checkAs(
  guess: TopologyMode,
  src: YamlSource,
  options: ParseTopologyOptions,
): TopologyProblem[] {
  const data = src.data as { topology: Record<string, unknown> };
  const asGuessed = { ...data, topology: { ...data.topology, mode: guess } };
  const schema = documentSchemas[guess];
  const parsed = schema.safeParse(asGuessed);
  return parsed.success
    ? buildProblems(parsed.data, guess, src, options)
    : shapeProblems(parsed.error.issues, asGuessed, guess, src, options);
}
