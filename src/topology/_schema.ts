/**
 * The shapes of a topology file, as zod schemas, and the translation of zod's
 * issues into problems that name the place and the fix.
 *
 * @module
 */
import { z } from "npm:zod@4.1.12";
import { didYouMean } from "./_did_you_mean.ts";
import type { YamlPath, YamlSource } from "./_yaml_source.ts";
import type { TopologyProblem } from "./topology_error.ts";
import { DEPLOYMENTS, NAME_PATTERN, TOPOLOGY_MODES } from "./topology.ts";

/** The spellings of a transport a file may use (`unix_socket` is the seeds' name for `unix`). */
export const TRANSPORT_SPELLINGS = ["channel", "unix", "unix_socket", "tcp", "nats"] as const;

const transport = z.enum(TRANSPORT_SPELLINGS);
/** How messages to a group travel through NATS: at most once, or stored and acknowledged. */
export const DELIVERIES = ["core", "jetstream"] as const;
const delivery = z.enum(DELIVERIES);
const deployment = z.enum(DEPLOYMENTS as [string, ...string[]]);
const port = z.number().int().min(1).max(65535);

const route = z.strictObject({
  from: z.string(),
  to: z.string(),
  transport: transport.optional(),
  latency: z.unknown().optional(),
  throughput: z.unknown().optional(),
});

const common = {
  mode: z.enum(TOPOLOGY_MODES as [string, ...string[]]),
  socket_dir: z.string().optional(),
  base_port: port.optional(),
  hosts: z.record(z.string(), z.string()).optional(),
  routes: z.array(route).optional(),
};

/** The top-level `nats:` section. */
export const natsSchema = z.strictObject({
  servers: z.union([z.string(), z.array(z.string()).min(1)]),
  token: z.string().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  nkey: z.string().optional(),
  creds: z.string().optional(),
  tls: z.union([
    z.boolean(),
    z.strictObject({
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
    }),
  ]).optional(),
  subject_prefix: z.string().optional(),
  jetstream: z.union([
    z.boolean(),
    z.strictObject({ replicas: z.number().int().min(1).max(5).optional() }),
  ]).optional(),
});

/** The data of a `nats:` section. */
export type NatsData = z.infer<typeof natsSchema>;

/** The document around `topology:`. */
export const rootSchema = z.strictObject({
  topology: z.strictObject({ mode: common.mode }).catchall(z.unknown()),
  performance: z.record(z.string(), z.unknown()).optional(),
  nats: z.unknown().optional(),
});

/** `mode: monolith`: every actor in one process. */
export const monolithSchema = z.strictObject({
  ...common,
  actors: z.record(z.string(), z.strictObject({ transport: transport.optional() }).nullable()),
});

/** `mode: hybrid`: actors in process groups. */
export const hybridSchema = z.strictObject({
  ...common,
  process_groups: z.record(
    z.string(),
    z.strictObject({
      actors: z.array(z.string()).min(1),
      transport: transport.optional(),
      deployment: deployment.optional(),
      reason: z.string().optional(),
      host: z.string().optional(),
      endpoint: z.string().optional(),
      socket: z.string().optional(),
      delivery: delivery.optional(),
    }),
  ),
});

/** `mode: distributed`: every actor its own process, reached at an endpoint. */
export const distributedSchema = z.strictObject({
  ...common,
  actors: z.record(
    z.string(),
    z.strictObject({
      transport: transport.optional(),
      endpoint: z.string().optional(),
      host: z.string().optional(),
      socket: z.string().optional(),
      delivery: delivery.optional(),
    }).nullable(),
  ),
});

const performance = z.record(z.string(), z.unknown()).optional();
const nats = natsSchema.optional();

/** The whole document, per mode. */
export const documentSchemas = {
  monolith: z.strictObject({ topology: monolithSchema, performance, nats }),
  hybrid: z.strictObject({ topology: hybridSchema, performance, nats }),
  distributed: z.strictObject({ topology: distributedSchema, performance, nats }),
} as const;

/** The data of a hybrid topology. */
export type HybridData = z.infer<typeof hybridSchema>;
/** The data of a monolith topology. */
export type MonolithData = z.infer<typeof monolithSchema>;
/** The data of a distributed topology. */
export type DistributedData = z.infer<typeof distributedSchema>;

const NOUN: Readonly<Record<string, string>> = {
  mode: "a mode",
  transport: "a transport",
  deployment: "a deployment",
};

/** Names for examples in fixes: the file's (or the application's) own actors, else placeholders. */
interface ExampleNames {
  readonly a: string;
  readonly b: string;
}

/**
 * The actor names to show in examples: `known` (the application's actors)
 * when given, else the names the file itself places, else placeholders.
 */
function exampleNames(data: unknown, known: Iterable<string> | undefined): ExampleNames {
  const names = known === undefined ? [] : [...known];
  if (names.length === 0) {
    const t = valueAt(data, ["topology"]);
    const actors = valueAt(t, ["actors"]);
    if (isMap(actors)) names.push(...Object.keys(actors));
    const groups = valueAt(t, ["process_groups"]);
    if (isMap(groups)) {
      for (const g of Object.values(groups)) {
        const list = valueAt(g, ["actors"]);
        if (Array.isArray(list)) names.push(...list.filter((n) => typeof n === "string"));
      }
    }
  }
  const valid = [...new Set(names)].filter((n) => NAME_PATTERN.test(n));
  return { a: valid[0] ?? "my_actor", b: valid[1] ?? "other_actor" };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** What belongs at a key, for "missing" and "wrong type" fixes. */
function expected(path: YamlPath, ex: ExampleNames): string {
  const last = path[path.length - 1];
  const inGroup = path.length === 4 && path[1] === "process_groups";
  if (path[0] === "nats") return natsExpected(path);
  switch (last) {
    case "topology":
      return "a map holding mode: and where the actors run";
    case "mode":
      return `one of ${TOPOLOGY_MODES.join(", ")}`;
    case "actors":
      return inGroup
        ? `a list of actor names, e.g. actors: [${ex.a}, ${ex.b}]`
        : `a map of actor names, e.g. ${ex.a}: {}`;
    case "process_groups":
      return `a map of group names, e.g. workers: { actors: [${ex.a}] }`;
    case "transport":
      return `one of ${TRANSPORT_SPELLINGS.join(", ")}`;
    case "deployment":
      return `one of ${DEPLOYMENTS.join(", ")}`;
    case "delivery":
      return `one of ${DELIVERIES.join(", ")} (jetstream: stored and acknowledged)`;
    case "endpoint":
      return 'host:port in quotes, e.g. endpoint: "box-2.internal:7500"';
    case "hosts":
      return 'a map of host names to network addresses, e.g. local: "10.0.0.5"';
    case "base_port":
      return "a port number from 1 to 65535";
    case "routes":
      return `a list of routes, e.g. - { from: ${ex.a}, to: ${ex.b} }`;
    case "from":
    case "to":
      return "an actor name";
    case "performance":
      return 'a map of budgets, e.g. expected_latency: "200ns"';
    default:
      if (typeof last === "number" && path[path.length - 2] === "routes") {
        return `a route, e.g. { from: ${ex.a}, to: ${ex.b} }`;
      }
      if (typeof last === "number") return "an actor name";
      if (path.length === 3 && path[1] === "process_groups") {
        return `a process group, e.g. { actors: [${ex.a}], transport: unix }`;
      }
      if (path.length === 3 && path[1] === "actors") return "a map, e.g. { transport: tcp }";
      return "text";
  }
}

/** What belongs at a key of the `nats:` section. */
function natsExpected(path: YamlPath): string {
  const last = path[path.length - 1];
  if (path.length === 1) {
    return 'a map holding servers:, e.g. nats: { servers: ["nats://10.0.0.5:4222"] }';
  }
  if (path[1] === "servers") {
    return 'a server URL or a list of them, e.g. servers: ["nats://10.0.0.5:4222"]';
  }
  if (path[1] === "tls") {
    return path.length === 2
      ? "true, or a map of PEM files, e.g. tls: { ca: certs/ca.pem }"
      : "the path of a PEM file, e.g. certs/ca.pem";
  }
  switch (last) {
    case "token":
      return "the token the servers expect, in quotes";
    case "user":
    case "password":
      return "text in quotes (user: and password: go together)";
    case "nkey":
      return "the path of an nkey seed file, e.g. nkey: secrets/app.nk";
    case "creds":
      return "the path of a credentials file, e.g. creds: secrets/app.creds";
    case "subject_prefix":
      return "subject tokens joined by dots, e.g. subject_prefix: acme.prod";
    case "jetstream":
      return "true, or a map, e.g. jetstream: { replicas: 3 }";
    case "replicas":
      return "a number of servers from 1 to 5, e.g. replicas: 3";
    default:
      return "text";
  }
}

const TYPE_WORD: Readonly<Record<string, string>> = {
  string: "text",
  number: "a number",
  object: "a map",
  record: "a map",
  array: "a list",
  boolean: "true or false",
};

function describeValue(value: unknown): string {
  if (value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `'${value}'`;
  return String(value);
}

/** The value at `path` in `data`, or `undefined` where the path leads nowhere. */
export function valueAt(data: unknown, path: YamlPath): unknown {
  let node = data;
  for (const seg of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

/** Valid keys of the object schema at `path`, or `[]` if there is none. */
function keysAt(schema: z.ZodType, path: YamlPath): string[] {
  let s: z.ZodType = schema;
  for (const seg of path) {
    while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    if (s instanceof z.ZodObject) {
      s = (s.shape as Record<string, z.ZodType>)[String(seg)] ?? z.never();
    } else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else return [];
  }
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** Keys that belong under `topology:` in some mode. */
const TOPOLOGY_KEYS = new Set([
  "mode",
  "actors",
  "process_groups",
  "routes",
  "hosts",
  "socket_dir",
  "base_port",
]);

const MODE_OF_KEY: Readonly<Record<string, string>> = {
  process_groups: "hybrid",
  endpoint: "distributed or hybrid",
};

/** The keys of one process group and of one actor (mode distributed), to spot mis-indented ones. */
const GROUP_KEYS = new Set(Object.keys(hybridSchema.shape.process_groups.valueType.shape));
const ACTOR_KEYS = new Set(
  Object.keys(distributedSchema.shape.actors.valueType.unwrap().shape),
);

/**
 * A key of a group (or of an actor) written at the level of the group names
 * (or actor names), e.g. `actors:` under `process_groups:` beside `calib:`
 * instead of under it: the problem, its place and the fix, or `undefined`.
 */
function misIndented(
  path: YamlPath,
  src: YamlSource,
): { path: YamlPath; problem: string; fix: string } | undefined {
  const [top, level, name] = path;
  if (top !== "topology" || typeof name !== "string") return undefined;
  if (level !== "process_groups" && level !== "actors") return undefined;
  if (!(level === "process_groups" ? GROUP_KEYS : ACTOR_KEYS).has(name)) return undefined;
  const at: YamlPath = ["topology", level, name];
  // A map there may be a group (or actor) with that name; anything else is a key out of place.
  if (isMap(valueAt(src.data, at))) return undefined;
  const siblings = Object.keys(valueAt(src.data, ["topology", level]) as Record<string, unknown>);
  const above = siblings[siblings.indexOf(name) - 1];
  const what = level === "process_groups" ? "process group" : "actor";
  return {
    path: at,
    problem: `'${name}' is a key of ${level === "process_groups" ? "a" : "an"} ${what}, ` +
      `not ${level === "process_groups" ? "a" : "an"} ${what} name: it looks mis-indented`,
    fix: above === undefined
      ? `indent it under a ${what}, e.g. ${
        level === "process_groups" ? "workers" : "my_actor"
      }: followed by ${name}: two spaces further in`
      : `indent it two spaces further, under '${above}:'`,
  };
}

/**
 * For `calib:` written with nothing (`path`, e.g. a process group), the key
 * written next at its own level when that key belongs under it (see
 * {@linkcode misIndented}), else `undefined`.
 */
function misIndentedBelow(path: YamlPath, src: YamlSource): string | undefined {
  if (path.length !== 3 || path[0] !== "topology") return undefined;
  const siblings = Object.keys(valueAt(src.data, path.slice(0, 2)) as Record<string, unknown>);
  const next = siblings[siblings.indexOf(String(path[2])) + 1];
  if (next === undefined || misIndented([...path.slice(0, 2), next], src) === undefined) {
    return undefined;
  }
  return next;
}

/**
 * Turns zod's issues for `schema` into located problems, in file order.
 * `known` (the application's actors, when given) names the actors of the
 * examples in fixes; without it the file's own actors do.
 */
export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  schema: z.ZodType,
  src: YamlSource,
  mode: string | undefined,
  known?: Iterable<string>,
): TopologyProblem[] {
  const out: TopologyProblem[] = [];
  const ex = exampleNames(src.data, known);
  const expectedAt = (path: YamlPath) => expected(path, ex);
  const misplaced = new Set<string>();
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const last = path[path.length - 1];
    const value = valueAt(src.data, path);
    const off = misIndented(path, src);
    if (off !== undefined) {
      const key = off.path.join("\0");
      if (!misplaced.has(key)) {
        misplaced.add(key);
        out.push(src.problem("TOPOLOGY_INVALID", off.path, off.problem, off.fix, true));
      }
      continue;
    }
    if (
      value === undefined &&
      (issue.code === "invalid_type" || issue.code === "invalid_value" ||
        issue.code === "invalid_union")
    ) {
      out.push(src.problem(
        "TOPOLOGY_INVALID",
        path,
        `'${String(last)}' is missing`,
        `add ${String(last)}: ${expectedAt(path)}`,
      ));
      continue;
    }
    if (value === null && (issue.code === "invalid_type" || issue.code === "invalid_value")) {
      const next = misIndentedBelow(path, src);
      out.push(src.problem(
        "TOPOLOGY_INVALID",
        path,
        `'${String(last)}' has no value`,
        next === undefined
          ? `write ${expectedAt(path)}`
          : `indent '${next}:' (line ${
            src.positionOf([...path.slice(0, 2), next], true).line
          }) two spaces further, under '${String(last)}:'`,
      ));
      continue;
    }
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) {
          const valid = keysAt(schema, path);
          const otherMode = MODE_OF_KEY[key];
          let fix = `${didYouMean(key, valid)}valid keys here: ${valid.join(", ")}`;
          if (path.length === 1 && path[0] === "topology" && key === "nats") {
            fix = "'nats' is a top-level section: move it out of topology:, to column 1";
          } else if (path.length === 0 && TOPOLOGY_KEYS.has(key)) {
            fix = `'${key}' belongs under topology: indent it below 'topology:'`;
          } else if (path.length === 1 && /^expected_|_(latency|throughput)$/.test(key)) {
            fix = `budgets belong under 'performance:' at the top level, not under topology:`;
          } else if (mode !== undefined && otherMode !== undefined && !valid.includes(key)) {
            fix =
              `'${key}' belongs to mode ${otherMode}, not ${mode}; change mode or remove the key`;
          }
          out.push(
            src.problem("TOPOLOGY_INVALID", [...path, key], `unknown key '${key}'`, fix, true),
          );
        }
        break;
      case "invalid_value": {
        const noun = typeof last === "string" ? NOUN[last] ?? "a valid value" : "a valid value";
        const values = issue.values.map(String);
        out.push(src.problem(
          "TOPOLOGY_INVALID",
          path,
          `${describeValue(value)} is not ${noun}`,
          `${didYouMean(String(value), values)}use one of ${values.join(", ")}`,
        ));
        break;
      }
      case "invalid_type":
        out.push(src.problem(
          "TOPOLOGY_INVALID",
          path,
          `expected ${TYPE_WORD[issue.expected] ?? issue.expected}, found ${describeValue(value)}`,
          `write ${expectedAt(path)}`,
        ));
        break;
      case "too_small":
        out.push(src.problem(
          "TOPOLOGY_INVALID",
          path,
          issue.origin === "array" ? "the list is empty" : `${describeValue(value)} is too small`,
          `write ${expectedAt(path)}`,
        ));
        break;
      case "too_big":
        out.push(src.problem(
          "TOPOLOGY_INVALID",
          path,
          `${describeValue(value)} is too large`,
          `write ${expectedAt(path)}`,
        ));
        break;
      default:
        out.push(src.problem(
          "TOPOLOGY_INVALID",
          path,
          issue.message,
          `write ${expectedAt(path)}`,
        ));
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}
