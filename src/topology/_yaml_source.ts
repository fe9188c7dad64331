/**
 * A parsed YAML document that remembers where every key and value was
 * written, so validation errors can name a line and a column.
 *
 * @module
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from "npm:yaml@2.8.1";
import type { Node, Pair } from "npm:yaml@2.8.1";
import { TopologyError, type TopologyErrorCode, type TopologyProblem } from "./topology_error.ts";

/** Environment variables the yaml package reads while parsing (debug switches). */
export const YAML_ENV = ["LOG_TOKENS", "LOG_STREAM"] as const;

/** A path into the document: map keys and list indexes. */
export type YamlPath = readonly (string | number)[];

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A key written twice in one map. */
export interface DuplicateKey {
  /** Path of the second occurrence. */
  readonly path: YamlPath;
  /** Where the second occurrence is. */
  readonly at: Position;
  /** Where the first occurrence is. */
  readonly first: Position;
}

const PARSE_FIXES: Partial<Record<string, string>> = {
  TAB_AS_INDENT: "indent with spaces, not tabs",
  BAD_INDENT: "indent the lines of one map or list by the same number of spaces",
  MISSING_CHAR: "close the quote, bracket or brace that is open here",
  MULTILINE_IMPLICIT_KEY: "put the key and its ':' on one line, or quote the value",
  BLOCK_AS_IMPLICIT_KEY: "add ':' after the key, or indent the value under it",
  MULTIPLE_DOCS: "keep one document in the file (remove the extra '---')",
};

/** Formats a path the way the user wrote it: `topology.routes[2].from`. */
export function formatPath(path: YamlPath): string {
  let out = "";
  for (const seg of path) {
    out += typeof seg === "number" ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  }
  return out;
}

/** The YAML text of one topology file, parsed, with positions. */
export class YamlSource {
  /** File name used in messages. */
  readonly file: string;
  /** The plain data (maps as objects, lists as arrays). */
  readonly data: unknown;
  #root: unknown;
  #lines: LineCounter;

  /**
   * Parses `text`; YAML syntax errors are returned by {@linkcode parseProblems}
   * rather than thrown, so the caller decides how to report them.
   */
  constructor(text: string, file: string) {
    this.file = file;
    this.#lines = new LineCounter();
    let doc;
    try {
      doc = parseDocument(text, {
        lineCounter: this.#lines,
        prettyErrors: true,
        uniqueKeys: false, // found by #findDuplicates, which knows the key's meaning
      });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied)) {
        throw e;
      }
      // The yaml package reads two debugging variables on every parse.
      throw new TopologyError([{
        code: "TOPOLOGY_READ",
        file,
        line: 0,
        column: 0,
        path: "",
        problem: `the YAML parser needs to read the environment variables ${
          YAML_ENV.join(" and ")
        }`,
        fix: `allow it: deno run --allow-env=${YAML_ENV.join(",")} (the compiled binary has it)`,
      }], { cause: e });
    }
    this.#root = doc.contents;
    this.#findDuplicates(doc.contents, []);
    this.#errors = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? { line: 0, col: 0 };
      const first = (e.message.split("\n")[0] ?? e.message).replace(
        / at line \d+, column \d+:?$/,
        "",
      );
      return {
        code: "TOPOLOGY_PARSE" as const,
        file,
        line: pos.line,
        column: pos.col,
        path: "",
        problem: `YAML syntax: ${first}`,
        fix: /end with/.test(first)
          ? "close the bracket, brace or quote opened here"
          : PARSE_FIXES[e.code] ??
            "check the YAML syntax here (indentation, ':' after keys, quotes)",
      };
    });
    this.data = this.#errors.length === 0 ? this.#toData(doc, file) : undefined;
  }

  /** The document as plain data; an alias that cannot be resolved becomes a located parse problem. */
  #toData(doc: ReturnType<typeof parseDocument>, file: string): unknown {
    try {
      return doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      let at: { line: number; col: number } = { line: 0, col: 0 };
      visit(doc, {
        Alias: (_, node) => {
          if (at.line === 0 && node.range) at = this.#lines.linePos(node.range[0]);
        },
      });
      this.#errors.push({
        code: "TOPOLOGY_PARSE",
        file,
        line: at.line,
        column: at.col,
        path: "",
        problem: `YAML: ${e.message.split("\n")[0]}`,
        fix:
          "define the anchor (&name) before the alias (*name) that uses it, or write the value out",
      });
      return undefined;
    }
  }

  #errors: TopologyProblem[];
  #duplicates: DuplicateKey[] = [];

  /** Keys written twice in one map, in file order. */
  get duplicateKeys(): readonly DuplicateKey[] {
    return this.#duplicates;
  }

  #findDuplicates(node: unknown, path: YamlPath): void {
    if (isSeq(node)) node.items.forEach((item, i) => this.#findDuplicates(item, [...path, i]));
    if (!isMap(node)) return;
    const seen = new Map<string, Pair>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, pair);
        this.#findDuplicates(pair.value, [...path, key]);
      } else {
        this.#duplicates.push({
          path: [...path, key],
          at: this.#start(pair.key) ?? { line: 0, column: 0 },
          first: this.#start(first.key) ?? { line: 0, column: 0 },
        });
      }
    }
  }

  /** The YAML syntax errors, in file order (empty when the text parsed). */
  get parseProblems(): readonly TopologyProblem[] {
    return this.#errors;
  }

  /**
   * Where the node at `path` was written. With `key: true` the position of the
   * key itself (for "unknown key" errors). When the path does not exist
   * (a missing key), the position of the deepest existing ancestor.
   */
  positionOf(path: YamlPath, key = false): Position {
    let node: unknown = this.#root;
    let best: Position = { line: 1, column: 1 };
    const here = this.#start(node);
    if (here !== undefined) best = here;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      let next: unknown;
      let pair: Pair | undefined;
      if (isMap(node) && typeof seg === "string") {
        pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
        next = pair?.value;
      } else if (isSeq(node) && typeof seg === "number") {
        next = node.items[seg];
      }
      if (pair === undefined && next === undefined) return best;
      const last = i === path.length - 1;
      // An empty value (`transport:`) sits after the colon: point at its key instead.
      const empty = isScalar(next) && next.value === null;
      const at = (last && key || empty) && pair !== undefined
        ? this.#start(pair.key)
        : this.#start(next) ?? this.#start(pair?.key);
      if (at !== undefined) best = at;
      node = next;
    }
    return best;
  }

  /** Builds a problem located at `path`. */
  problem(
    code: TopologyErrorCode,
    path: YamlPath,
    problem: string,
    fix: string,
    key = false,
  ): TopologyProblem {
    const { line, column } = this.positionOf(path, key);
    return { code, file: this.file, line, column, path: formatPath(path), problem, fix };
  }

  #start(node: unknown): Position | undefined {
    const range = (node as Node | null | undefined)?.range;
    if (range === undefined || range === null) return undefined;
    const { line, col } = this.#lines.linePos(range[0]);
    return { line, column: col };
  }
}
