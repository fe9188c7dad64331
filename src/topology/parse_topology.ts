/**
 * Topology text → validated {@linkcode Topology}. Pure: no file system; see
 * `loadTopology` for reading a file.
 *
 * @module
 */
import type { z } from "npm:zod@4.1.12";
import { throwIfAny, TopologyBuilder } from "./_build_topology.ts";
import { documentSchemas, issuesToProblems, rootSchema } from "./_schema.ts";
import { formatPath, YamlSource } from "./_yaml_source.ts";
import type { Topology, TopologyMode } from "./topology.ts";
import type { TopologyProblem } from "./topology_error.ts";

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
 * problem of the first failing stage (syntax, shape, placement, references).
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
export function parseTopology(text: string, options: ParseTopologyOptions = {}): Topology {
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
  if (!root.success) throwIfAny(issuesToProblems(root.error.issues, rootSchema, src, undefined));
  const mode = (data as { topology: { mode: TopologyMode } }).topology.mode;
  const schema = documentSchemas[mode];
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throwIfAny(issuesToProblems(parsed.error.issues, schema as z.ZodType, src, mode));
    throw new Error("unreachable");
  }
  return new TopologyBuilder(src, mode, options.knownActors).build(parsed.data);
}
