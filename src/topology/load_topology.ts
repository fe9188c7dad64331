/**
 * Reads a topology file and validates it.
 *
 * @module
 */
import { parseTopology } from "./parse_topology.ts";
import type { Topology } from "./topology.ts";
import { TopologyError } from "./topology_error.ts";

/** Options of {@linkcode loadTopology}. */
export interface LoadTopologyOptions {
  /**
   * The actors the application has: every one must be placed, nothing else
   * may be. Default: no check.
   */
  knownActors?: Iterable<string>;
  /** Aborts the read. */
  signal?: AbortSignal;
}

function readFix(e: unknown): [string, string] {
  if (e instanceof Deno.errors.NotFound) {
    return ["no such file", "check the path (relative paths start from the current directory)"];
  }
  if (e instanceof Deno.errors.IsADirectory) return ["this is a directory", "name a .yaml file"];
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return ["read permission denied", "allow reading it (deno run --allow-read, or file mode)"];
  }
  if (e instanceof TypeError && /utf-?8/i.test(e.message)) {
    return ["the file is not UTF-8 text", "save it as UTF-8"];
  }
  return [e instanceof Error ? e.message : String(e), "check that the file is readable"];
}

/**
 * Reads `path` and returns the validated topology (see `parseTopology` for
 * what is accepted and how hosts and addresses are derived).
 *
 * @throws {TopologyError} `TOPOLOGY_READ` when the file cannot be read, or any
 * code of `parseTopology`, with file, line, column and fix.
 * @example
 * ```ts
 * import { loadTopology } from "./load_topology.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/dev.yaml`, "topology:\n  mode: monolith\n  actors:\n    a: { transport: channel }\n");
 * const t = await loadTopology(`${dir}/dev.yaml`);
 * await Deno.remove(dir, { recursive: true });
 * if (t.mode !== "monolith") throw new Error();
 * ```
 */
export async function loadTopology(
  path: string,
  options: LoadTopologyOptions = {},
): Promise<Topology> {
  let text: string;
  try {
    text = await Deno.readTextFile(
      path,
      options.signal === undefined ? undefined : { signal: options.signal },
    );
  } catch (e) {
    if (options.signal?.aborted && e === options.signal.reason) throw e;
    const [problem, fix] = readFix(e);
    throw new TopologyError([{
      code: "TOPOLOGY_READ",
      file: path,
      line: 0,
      column: 0,
      path: "",
      problem,
      fix,
    }], {
      cause: e,
    });
  }
  return parseTopology(
    text,
    options.knownActors === undefined
      ? { file: path }
      : { file: path, knownActors: options.knownActors },
  );
}
