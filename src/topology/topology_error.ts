/**
 * The error every topology problem is reported with.
 *
 * @module
 */
import { MyceliumError } from "../mycelium_error.ts";

/**
 * The failures a topology can have, one code per class of mistake. The CLI
 * maps each to its own exit code.
 */
export type TopologyErrorCode =
  /** The file could not be read (missing, unreadable). */
  | "TOPOLOGY_READ"
  /** The text is not valid YAML. */
  | "TOPOLOGY_PARSE"
  /** A key is unknown, missing, of the wrong type or has a value outside its set. */
  | "TOPOLOGY_INVALID"
  /** A latency or throughput is written with a unit Mycelium does not know. */
  | "TOPOLOGY_BAD_UNIT"
  /** A name refers to an actor (or group) that the topology does not place or the application does not have. */
  | "TOPOLOGY_UNKNOWN_ACTOR"
  /** One actor is placed in two places. */
  | "TOPOLOGY_DUPLICATE_ACTOR"
  /** An actor of the application is placed nowhere. */
  | "TOPOLOGY_UNPLACED_ACTOR"
  /** Two groups would listen on the same port or socket path. */
  | "TOPOLOGY_ADDRESS_CONFLICT"
  /** A pinned transport cannot carry a route (e.g. `unix` between two hosts). */
  | "TOPOLOGY_TRANSPORT_CONFLICT";

/** One problem found in a topology: where it is, what is wrong and how to fix it. */
export interface TopologyProblem {
  /** Class of the problem. */
  readonly code: TopologyErrorCode;
  /** The file (as given to the loader), or `"<topology>"` for text without a file. */
  readonly file: string;
  /** 1-based line of the offending node; 0 when the problem has no place in the file. */
  readonly line: number;
  /** 1-based column of the offending node; 0 when the problem has no place in the file. */
  readonly column: number;
  /** Dotted path of the offending key, e.g. `topology.process_groups.execution.transport`; empty for the whole file. */
  readonly path: string;
  /** What is wrong, e.g. `'unix_sockt' is not a transport`. */
  readonly problem: string;
  /** What would be valid, e.g. `use one of channel, unix, unix_socket, tcp`. */
  readonly fix: string;
}

/**
 * Formats a problem as one line: `file:line:column: path: problem; fix`.
 *
 * @example
 * ```ts
 * import { formatTopologyProblem } from "./topology_error.ts";
 * const line = formatTopologyProblem({
 *   code: "TOPOLOGY_INVALID", file: "prod.yaml", line: 3, column: 7,
 *   path: "topology.mode", problem: "'mono' is not a mode", fix: "use one of monolith, hybrid, distributed",
 * });
 * if (line !== "prod.yaml:3:7: topology.mode: 'mono' is not a mode; use one of monolith, hybrid, distributed") {
 *   throw new Error(line);
 * }
 * ```
 */
export function formatTopologyProblem(p: TopologyProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  const what = p.path === "" ? p.problem : `${p.path}: ${p.problem}`;
  return `${where}: ${what}; ${p.fix}`;
}

/**
 * A topology that cannot be used. `code`, `file`, `line`, `column`, `path` and
 * `fix` describe the first problem; `problems` lists every problem found in the
 * same pass (always at least one), in file order except that actors placed
 * nowhere come last (a misspelt name or a refused group above may explain them).
 *
 * @example
 * ```ts
 * import { parseTopology, TopologyError } from "./mod.ts";
 * try {
 *   parseTopology("topology:\n  mode: monolith\n  actors:\n    a: { transport: pigeon }\n", { file: "t.yaml" });
 *   throw new Error("unreachable");
 * } catch (e) {
 *   if (!(e instanceof TopologyError) || e.code !== "TOPOLOGY_INVALID" || e.line !== 4) throw e;
 * }
 * ```
 */
export class TopologyError extends MyceliumError {
  /** Class of the first problem. */
  override readonly code: TopologyErrorCode;
  /** The file the problem is in. */
  readonly file: string;
  /** 1-based line, or 0 when the problem has no place in the file. */
  readonly line: number;
  /** 1-based column, or 0 when the problem has no place in the file. */
  readonly column: number;
  /** Dotted path of the offending key. */
  readonly path: string;
  /** What would be valid. */
  readonly fix: string;
  /**
   * Every problem found in the same pass, the first one being this error's
   * own: in file order, actors placed nowhere last.
   */
  readonly problems: readonly TopologyProblem[];

  /** Creates an error from one or more problems (the first names the error). */
  constructor(
    problems: readonly [TopologyProblem, ...TopologyProblem[]],
    options: { cause?: unknown } = {},
  ) {
    const first = problems[0];
    super(first.code, formatTopologyProblem(first), options);
    this.code = first.code;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.path = first.path;
    this.fix = first.fix;
    this.problems = problems;
  }
}
