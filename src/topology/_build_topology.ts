/**
 * Validated YAML data → the normalised {@linkcode Topology}: placement, host
 * and address derivation, references (routes, budgets) and their checks.
 *
 * @module
 */
import {
  betweenFor,
  chooseTransport,
  type GroupFacts,
  pairKey,
  pinnedListener,
  type TransportChoice,
  type TransportRefusal,
} from "./_choose_transport.ts";
import { closest, didYouMean } from "./_did_you_mean.ts";
import type { DistributedData, HybridData, MonolithData, NatsData } from "./_schema.ts";
import { formatPath, type YamlPath, type YamlSource } from "./_yaml_source.ts";
import { parseLatency, parseThroughput } from "./quantity.ts";
import {
  type ActorPlacement,
  type Budget,
  type DeclaredRoute,
  DEFAULT_BASE_PORT,
  DEFAULT_NATS_SUBJECT_PREFIX,
  type Deployment,
  LOCAL_HOST,
  MONOLITH_GROUP,
  NAME_PATTERN,
  type NatsAuth,
  type NatsDelivery,
  type NatsSettings,
  type ProcessGroup,
  type SourceLocation,
  type TcpAddress,
  type Topology,
  type TopologyMode,
  type TopologyWarning,
  type TransportKind,
  type UnixAddress,
} from "./topology.ts";
import { TopologyError, type TopologyProblem } from "./topology_error.ts";

const NAME_FIX = "use letters, digits, '_' and '-', starting with a letter or '_'";
const LOOPBACK = new Set(["local", "localhost", "127.0.0.1", "::1"]);
const ENDPOINT = /^(\[[0-9A-Fa-f:.]+\]|[^:\s[\]]+):(\d{1,5})$/;
const ENDPOINT_FIX = 'write host:port, e.g. endpoint: "box-2.internal:7500"';
/** sockaddr_un holds 108 bytes on Linux and 104 on macOS, including the final NUL. */
const MAX_SOCKET_PATH = 103;

/** The fix for an endpoint that is not host:port, by what it lacks. */
function endpointFix(written: string): string {
  if (/^\d+$/.test(written)) {
    return `name the host before the port, e.g. endpoint: "127.0.0.1:${written}"`;
  }
  if (!written.includes(":")) {
    return `write host:port (the port is missing), e.g. endpoint: "${written}:${DEFAULT_BASE_PORT}"`;
  }
  if (/^[0-9A-Fa-f:.]+:\d+$/.test(written) && written.split(":").length > 2) {
    return `put an IPv6 address in brackets, e.g. endpoint: "[::1]:${DEFAULT_BASE_PORT}"`;
  }
  return ENDPOINT_FIX;
}

/** Whether `port` is one a socket can use: 1 to 65535. */
function inPortRange(port: number): boolean {
  return port >= 1 && port <= 65535;
}

function normaliseHost(host: string): string {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return LOOPBACK.has(h) ? LOCAL_HOST : h;
}

function normaliseTransport(t: string | undefined): TransportKind | undefined {
  return t === undefined ? undefined : t === "unix_socket" ? "unix" : t as TransportKind;
}

/**
 * Throws one TopologyError holding `problems`, if there are any: in file
 * order, except that actors placed nowhere come last, after the problems
 * that may explain them (a group that failed, a misspelt name).
 */
export function throwIfAny(problems: TopologyProblem[]): void {
  if (problems.length === 0) return;
  const last = (p: TopologyProblem) => p.code === "TOPOLOGY_UNPLACED_ACTOR" ? 1 : 0;
  problems.sort((a, b) => last(a) - last(b) || a.line - b.line || a.column - b.column);
  throw new TopologyError(problems as [TopologyProblem, ...TopologyProblem[]]);
}

interface GroupDraft {
  name: string;
  host: string;
  deployment: Deployment;
  actors: string[];
  transport: TransportKind | undefined;
  reason: string | undefined;
  endpoint: { host: string; port: number; path: YamlPath } | undefined;
  socket: { path: string; at: YamlPath } | undefined;
  delivery?: NatsDelivery | undefined;
  at: YamlPath;
}

/** Everything a group or distributed actor may say about where it listens. */
interface AddressFields {
  host?: string | undefined;
  endpoint?: string | undefined;
  socket?: string | undefined;
}

/** The validated data of a whole topology document. */
export type DocumentData = {
  topology: MonolithData | HybridData | DistributedData;
  performance?: Record<string, unknown> | undefined;
  nats?: NatsData | undefined;
};

const NATS_URL =
  /^(?:(nats|tls):\/\/)?(?:[^@/\s]+@)?(\[[0-9A-Fa-f:.]+\]|[^:/\s@[\]]+)(?::(\d{1,5}))?\/?$/;
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;

/** Turns validated data into the model, collecting every problem of each stage. */
export class TopologyBuilder {
  #src: YamlSource;
  #mode: TopologyMode;
  #known: Set<string> | undefined;
  #problems: TopologyProblem[] = [];
  #groups = new Map<string, GroupDraft>();
  #actors = new Map<string, { group: string; at: YamlPath }>();
  /** Per pair of groups (`pairKey`), the first declared route pinning a transport. */
  #pairPins = new Map<
    string,
    { from: string; to: string; transport: TransportKind; at: YamlPath }
  >();
  #nats: NatsSettings | undefined;

  constructor(src: YamlSource, mode: TopologyMode, known: Iterable<string> | undefined) {
    this.#src = src;
    this.#mode = mode;
    this.#known = known === undefined ? undefined : new Set(known);
  }

  /** `chooseTransport` with this topology's nats section and mode. */
  #choose(
    from: GroupFacts,
    to: GroupFacts,
    pin: TransportKind | undefined,
    pinnedBy = "the route",
  ): TransportChoice | TransportRefusal {
    return chooseTransport(
      from,
      to,
      pin,
      pinnedBy,
      this.#nats !== undefined,
      betweenFor(this.#mode),
    );
  }

  #add(code: TopologyProblem["code"], path: YamlPath, problem: string, fix: string, key = false) {
    this.#problems.push(this.#src.problem(code, path, problem, fix, key));
  }

  #loc(path: YamlPath, key = false): SourceLocation {
    const { line, column } = this.#src.positionOf(path, key);
    return { line, column, path: formatPath(path) };
  }

  build(doc: DocumentData): Topology {
    const t = doc.topology;
    if (t.mode === "monolith") this.#monolith(t as MonolithData);
    else if (t.mode === "hybrid") this.#hybrid(t as HybridData);
    else this.#distributed(t as DistributedData);
    this.#checkKnown();
    this.#nats = doc.nats === undefined ? undefined : this.#natsSection(doc.nats);
    this.#natsPins();
    throwIfAny(this.#problems);

    const routes = (t.routes ?? []).map((r, i) => this.#route(r, i));
    const performance = this.#performance(doc.performance ?? {});
    throwIfAny(this.#problems);

    const addresses = this.#hostAddresses(t.hosts ?? {});
    const groups = this.#addresses(t.socket_dir, t.base_port ?? DEFAULT_BASE_PORT, addresses);
    throwIfAny(this.#problems);
    const warnings = [
      ...this.#warnings(groups, addresses, t.hosts !== undefined),
      ...this.#unixAcrossHosts(routes),
    ].sort((a, b) => a.line - b.line || a.column - b.column);

    const actors = new Map<string, ActorPlacement>();
    for (const [name, a] of this.#actors) {
      const host = this.#groups.get(a.group)?.host ?? LOCAL_HOST;
      actors.set(name, { name, group: a.group, host, at: this.#loc(a.at) });
    }
    const hosts = [...new Set([...groups.values()].map((g) => g.host))]
      .sort((a, b) => a === LOCAL_HOST ? -1 : b === LOCAL_HOST ? 1 : 0);
    return {
      file: this.#src.file,
      mode: this.#mode,
      socketDir: t.socket_dir,
      hosts,
      groups,
      actors,
      routes,
      performance,
      warnings,
      nats: this.#nats,
    };
  }

  // ---- nats ----------------------------------------------------------------

  #natsSection(n: NatsData): NatsSettings {
    const at: YamlPath = ["nats"];
    const written = typeof n.servers === "string" ? [n.servers] : n.servers;
    const servers: string[] = [];
    written.forEach((url, i) => {
      const path: YamlPath = typeof n.servers === "string" ? [...at, "servers"] : [
        ...at,
        "servers",
        i,
      ];
      const m = NATS_URL.exec(url.trim());
      if (m === null) {
        this.#add(
          "TOPOLOGY_INVALID",
          path,
          `'${url}' is not a NATS server URL`,
          'write nats://host:port (or tls://host:port), e.g. "nats://10.0.0.5:4222"',
        );
      } else if (m[3] !== undefined && !inPortRange(Number(m[3]))) {
        this.#add(
          "TOPOLOGY_INVALID",
          path,
          `port ${m[3]} of '${url}' is out of range`,
          `use a port from 1 to 65535, e.g. "${m[1] ?? "nats"}://${m[2]}:4222"`,
        );
      } else {
        servers.push(url.trim().includes("://") ? url.trim() : `nats://${url.trim()}`);
      }
    });
    const ways = (["token", "user", "nkey", "creds"] as const).filter((k) => n[k] !== undefined);
    if (n.password !== undefined && n.user === undefined) {
      this.#add(
        "TOPOLOGY_INVALID",
        [...at, "password"],
        "password: is written without user:",
        "add user: beside it, or remove password:",
        true,
      );
    }
    if (ways.length > 1) {
      this.#add(
        "TOPOLOGY_INVALID",
        [...at, ways[1]!],
        `${ways.join(" and ")} are two ways to authenticate; a connection uses one`,
        `keep one of ${ways.join(", ")} and remove the others`,
        true,
      );
    }
    let auth: NatsAuth | undefined;
    if (n.token !== undefined) auth = { kind: "token", token: n.token };
    else if (n.user !== undefined) {
      if (n.password === undefined) {
        this.#add(
          "TOPOLOGY_INVALID",
          [...at, "user"],
          "user: is written without password:",
          "add password: beside it (a user without a password is refused by the servers)",
          true,
        );
      }
      auth = { kind: "user", user: n.user, password: n.password ?? "" };
    } else if (n.nkey !== undefined) auth = { kind: "nkey", seedFile: n.nkey };
    else if (n.creds !== undefined) auth = { kind: "creds", credsFile: n.creds };
    const prefix = n.subject_prefix ?? DEFAULT_NATS_SUBJECT_PREFIX;
    if (!prefix.split(".").every((t) => SUBJECT_TOKEN.test(t))) {
      this.#add(
        "TOPOLOGY_INVALID",
        [...at, "subject_prefix"],
        `'${prefix}' is not a subject prefix`,
        "use tokens of letters, digits, '_' and '-' joined by dots (no '*', '>' or spaces), " +
          "e.g. acme.prod",
      );
    }
    const tls = n.tls === undefined || n.tls === false
      ? undefined
      : n.tls === true
      ? { caFile: undefined, certFile: undefined, keyFile: undefined }
      : { caFile: n.tls.ca, certFile: n.tls.cert, keyFile: n.tls.key };
    if (tls !== undefined && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      this.#add(
        "TOPOLOGY_INVALID",
        ["nats", "tls", tls.certFile === undefined ? "key" : "cert"],
        "a client certificate needs both cert: and key:",
        tls.certFile === undefined ? "add cert: beside key:" : "add key: beside cert:",
        true,
      );
    }
    const jetstream = n.jetstream === undefined || n.jetstream === false ? undefined : {
      stream: `MYCELIUM_${prefix.replace(/[.-]/g, "_").toUpperCase()}`,
      replicas: n.jetstream === true ? 1 : n.jetstream.replicas ?? 1,
      at: this.#loc([...at, "jetstream"], true),
    };
    return {
      servers,
      auth,
      tls,
      subjectPrefix: prefix,
      ...(jetstream === undefined ? {} : { jetstream }),
      at: this.#loc(at, true),
    };
  }

  /** A group asking for nats (or JetStream) needs the cluster the `nats:` section names. */
  #natsPins(): void {
    for (const g of this.#groups.values()) {
      if (g.delivery !== "jetstream" || this.#nats?.jetstream !== undefined) continue;
      this.#add(
        "TOPOLOGY_TRANSPORT_CONFLICT",
        [...g.at, "delivery"],
        `group '${g.name}' asks for delivery: jetstream, but ` +
          (this.#nats === undefined
            ? "the topology has no nats: section"
            : "the nats: section has no jetstream:"),
        this.#nats === undefined
          ? 'add a top-level section: nats: { servers: ["nats://127.0.0.1:4222"], ' +
            "jetstream: { replicas: 3 } }"
          : "add jetstream: { replicas: 3 } under nats: (or remove delivery: jetstream)",
      );
    }
    if (this.#nats !== undefined) return;
    for (const g of this.#groups.values()) {
      if (g.transport !== "nats") continue;
      this.#add(
        "TOPOLOGY_TRANSPORT_CONFLICT",
        [...g.at, "transport"],
        `group '${g.name}' asks for nats, but the topology has no nats: section`,
        'add a top-level section: nats: { servers: ["nats://127.0.0.1:4222"] }',
      );
    }
  }

  #warnings(
    groups: ReadonlyMap<string, ProcessGroup>,
    hostAddresses: ReadonlyMap<string, string>,
    hostsWritten: boolean,
  ): TopologyWarning[] {
    const out: TopologyWarning[] = [];
    const remote = [...new Set([...groups.values()].map((g) => g.host))]
      .filter((h) => h !== LOCAL_HOST);
    const dialledLocally = [...groups.values()]
      .filter((g) =>
        g.host === LOCAL_HOST && g.tcp !== undefined &&
        this.#groups.get(g.name)?.endpoint === undefined
      )
      .map((g) => g.name);
    if (remote.length > 0 && dialledLocally.length > 0 && !hostAddresses.has(LOCAL_HOST)) {
      const path: YamlPath = hostsWritten ? ["topology", "hosts"] : ["topology"];
      out.push({
        ...this.#loc(path, true),
        problem: `${dialledLocally.map((g) => `group '${g}'`).join(", ")} ${
          dialledLocally.length === 1 ? "is" : "are"
        } dialled at 127.0.0.1, which ${remote.join(", ")} cannot reach`,
        fix:
          'give this machine\'s address: hosts: { local: "10.0.0.5" } (or an endpoint per group)',
      });
    }
    return out;
  }

  /**
   * In mode distributed a written `transport: unix` departs from the tcp
   * default, so an actor that asks for it but is reached from another host
   * (where a Unix socket cannot go) is told which actors reach it otherwise.
   * Declared routes decide who talks to whom; without any, every actor does.
   */
  #unixAcrossHosts(routes: readonly DeclaredRoute[]): TopologyWarning[] {
    if (this.#mode !== "distributed") return [];
    const out: TopologyWarning[] = [];
    for (const g of this.#groups.values()) {
      if (g.transport !== "unix") continue;
      const partners = routes.length === 0
        ? [...this.#groups.keys()]
        : routes.flatMap((r) => r.from === g.name ? [r.to] : r.to === g.name ? [r.from] : []);
      // Another host, no pin: never unix (see chooseTransport).
      const far = new Map<GroupDraft, TransportKind>();
      for (const name of partners) {
        const other = this.#groups.get(name);
        if (other === undefined || other === g || other.host === g.host) continue;
        if (this.#pairPins.has(pairKey(g.name, other.name))) continue; // a route says how
        const c = this.#choose(other, g, undefined);
        if ("transport" in c) far.set(other, c.transport);
      }
      if (far.size === 0) continue;
      const names = [...far.keys()].map((o) => o.name);
      const hosts = [...new Set([...far.keys()].map((o) => o.host))];
      const used = [...new Set(far.values())].join(" or ");
      out.push({
        ...this.#loc([...g.at, "transport"]),
        problem: `actor '${g.name}' asks for unix, but ${
          names.map((n) => `'${n}'`).join(", ")
        } on ${hosts.length === 1 ? "host" : "hosts"} ${hosts.join(", ")} cannot reach it by ` +
          `Unix socket (it works only on host ${g.host}): ${used} is used instead`,
        fix: `place ${names.length === 1 ? "it" : "them"} on host ${g.host}, or write ` +
          `transport: tcp for '${g.name}' to say so`,
      });
    }
    return out;
  }

  // ---- placement ---------------------------------------------------------

  #place(actor: string, group: string, at: YamlPath, key: boolean): void {
    if (!NAME_PATTERN.test(actor)) {
      this.#add("TOPOLOGY_INVALID", at, `'${actor}' is not a valid actor name`, NAME_FIX, key);
      return;
    }
    const before = this.#actors.get(actor);
    if (before !== undefined) {
      const where = this.#src.positionOf(before.at);
      this.#add(
        "TOPOLOGY_DUPLICATE_ACTOR",
        at,
        `actor '${actor}' is already placed in group '${before.group}' (line ${where.line})`,
        "place each actor in exactly one process group: remove one of the two",
        key,
      );
      return;
    }
    this.#actors.set(actor, { group, at });
  }

  #groupName(name: string, at: YamlPath): boolean {
    if (NAME_PATTERN.test(name)) return true;
    this.#add("TOPOLOGY_INVALID", at, `'${name}' is not a valid group name`, NAME_FIX, true);
    return false;
  }

  #monolith(t: MonolithData): void {
    const at: YamlPath = ["topology", "actors"];
    const actors: string[] = [];
    for (const [name, spec] of Object.entries(t.actors)) {
      const path = [...at, name];
      const transport = normaliseTransport(spec?.transport);
      if (transport !== undefined && transport !== "channel") {
        this.#add(
          "TOPOLOGY_TRANSPORT_CONFLICT",
          [...path, "transport"],
          `'${spec?.transport}' cannot be used in mode monolith, where every actor shares one process`,
          "use channel, or set mode: hybrid and give this actor its own process group",
        );
      }
      this.#place(name, MONOLITH_GROUP, path, true);
      actors.push(name);
    }
    this.#groups.set(MONOLITH_GROUP, {
      name: MONOLITH_GROUP,
      host: LOCAL_HOST,
      deployment: "same_process",
      actors,
      transport: "channel",
      reason: undefined,
      endpoint: undefined,
      socket: undefined,
      at,
    });
  }

  #hybrid(t: HybridData): void {
    for (const [name, g] of Object.entries(t.process_groups)) {
      const at: YamlPath = ["topology", "process_groups", name];
      if (!this.#groupName(name, at)) continue;
      const transport = normaliseTransport(g.transport);
      // Whatever it says (same_process or isolated_process), a group runs in an OS process of
      // its own: one that says nothing is shown as what it gets.
      const deployment = (g.deployment ?? "isolated_process") as Deployment;
      const draft = this.#hosted(name, at, g, deployment, transport);
      // A group on another host that does not say how it is deployed is on a separate machine.
      if (g.deployment === undefined && draft.host !== LOCAL_HOST) {
        draft.deployment = "separate_machine";
      }
      draft.reason = g.reason;
      draft.delivery = g.delivery;
      g.actors.forEach((actor, i) => {
        this.#place(actor, name, [...at, "actors", i], false);
        draft.actors.push(actor);
      });
      this.#groups.set(name, draft);
    }
    for (const [name] of this.#groups) {
      if (this.#actors.has(name)) {
        this.#add(
          "TOPOLOGY_INVALID",
          ["topology", "process_groups", name],
          `group '${name}' has the name of an actor, so performance.${name}_latency would be ambiguous`,
          "rename the group",
          true,
        );
      }
    }
  }

  #distributed(t: DistributedData): void {
    for (const [name, written] of Object.entries(t.actors)) {
      // A bare `name:` places the actor with every default, as in mode monolith.
      const a = written ?? {};
      const at: YamlPath = ["topology", "actors", name];
      // Not written: tcp by default (chooseTransport's `between`), which is no request.
      const transport = normaliseTransport(a.transport);
      if (transport === "channel") {
        this.#add(
          "TOPOLOGY_TRANSPORT_CONFLICT",
          [...at, "transport"],
          "'channel' cannot reach an actor of mode distributed, which runs in its own process",
          "use tcp or unix, or set mode: hybrid and share a process group",
        );
      }
      if (!NAME_PATTERN.test(name)) {
        this.#add("TOPOLOGY_INVALID", at, `'${name}' is not a valid actor name`, NAME_FIX, true);
        continue;
      }
      const draft = this.#hosted(name, at, a, "isolated_process", transport);
      if (draft.host !== LOCAL_HOST) draft.deployment = "separate_machine";
      draft.delivery = a.delivery;
      draft.actors.push(name);
      this.#place(name, name, at, true);
      this.#groups.set(name, draft);
    }
  }

  /** A group draft with its host, endpoint and socket checked. */
  #hosted(
    name: string,
    at: YamlPath,
    fields: AddressFields,
    deployment: Deployment,
    transport: TransportKind | undefined,
  ): GroupDraft {
    let endpoint: GroupDraft["endpoint"];
    if (fields.endpoint !== undefined) {
      const m = ENDPOINT.exec(fields.endpoint.trim());
      const port = Number(m?.[2]);
      if (m === null) {
        this.#add(
          "TOPOLOGY_INVALID",
          [...at, "endpoint"],
          `'${fields.endpoint}' is not an endpoint`,
          endpointFix(fields.endpoint.trim()),
        );
      } else if (!inPortRange(port)) {
        this.#add(
          "TOPOLOGY_INVALID",
          [...at, "endpoint"],
          `port ${m[2]} of '${fields.endpoint}' is out of range`,
          `use a port from 1 to 65535, e.g. endpoint: "${m[1]}:${DEFAULT_BASE_PORT}"`,
        );
      } else {
        endpoint = {
          host: m[1]?.replace(/^\[(.*)\]$/, "$1") ?? "",
          port,
          path: [...at, "endpoint"],
        };
      }
    }
    let host: string;
    if (fields.host !== undefined) {
      host = normaliseHost(fields.host);
      if (endpoint !== undefined && normaliseHost(endpoint.host) !== host) {
        this.#add(
          "TOPOLOGY_INVALID",
          [...at, "endpoint"],
          `the endpoint's host '${endpoint.host}' is not the group's host '${fields.host}'`,
          "make them the same, or drop host: and let the endpoint name the host",
        );
      }
    } else if (endpoint !== undefined) host = normaliseHost(endpoint.host);
    else host = deployment === "separate_machine" ? normaliseHost(name) : LOCAL_HOST;
    if (deployment === "separate_machine" && host === LOCAL_HOST) {
      this.#add(
        "TOPOLOGY_INVALID",
        [...at, fields.host !== undefined ? "host" : "endpoint"],
        "deployment separate_machine needs another machine, but this names the local one",
        "name the other machine (host: or endpoint:), or use deployment: isolated_process",
      );
    }
    let socket: GroupDraft["socket"];
    if (fields.socket !== undefined) socket = { path: fields.socket, at: [...at, "socket"] };
    return {
      name,
      host,
      deployment,
      actors: [],
      transport,
      reason: undefined,
      endpoint,
      socket,
      at,
    };
  }

  #checkKnown(): void {
    if (this.#known === undefined) return;
    const known = this.#known;
    const unplaced = [...known].filter((name) => !this.#actors.has(name));
    // An actor placed nowhere because its name is misspelt elsewhere is told with the misspelling.
    const explained = new Set<string>();
    for (const [name, a] of this.#actors) {
      if (known.has(name)) continue;
      const meant = closest(name, unplaced.filter((n) => !explained.has(n)));
      if (meant !== undefined) explained.add(meant);
      // An actor placed nowhere is the one meant, when one is close (then it is what to write).
      const hint = didYouMean(name, meant === undefined ? known : [meant]) +
        (meant === undefined ? "" : `write ${meant} here; `);
      this.#add(
        "TOPOLOGY_UNKNOWN_ACTOR",
        a.at,
        `'${name}' is not an actor of this application` +
          (meant === undefined ? "" : `, and actor '${meant}' is placed nowhere`),
        `${hint}its actors are: ${[...known].join(", ")}`,
        typeof a.at[a.at.length - 1] === "string",
      );
    }
    const where: YamlPath = this.#mode === "hybrid"
      ? ["topology", "process_groups"]
      : ["topology", "actors"];
    for (const name of unplaced) {
      if (explained.has(name)) continue;
      const fix = this.#mode === "hybrid"
        ? `add ${name} to the actors list of a process group (e.g. ${
          [...this.#groups.keys()][0] ?? "a new group"
        }) or of a new group`
        : this.#mode === "monolith"
        ? `add '${name}: { transport: channel }' under topology.actors`
        : `add '${name}: { transport: tcp, endpoint: "host:port" }' under topology.actors`;
      this.#add("TOPOLOGY_UNPLACED_ACTOR", where, `actor '${name}' is placed nowhere`, fix, true);
    }
  }

  // ---- references --------------------------------------------------------

  #actorRef(name: string, path: YamlPath): boolean {
    if (this.#actors.has(name)) return true;
    this.#add(
      "TOPOLOGY_UNKNOWN_ACTOR",
      path,
      `'${name}' is not placed in this topology`,
      `${didYouMean(name, this.#actors.keys())}placed actors are: ${
        [...this.#actors.keys()].join(", ")
      }`,
    );
    return false;
  }

  #facts(actor: string): GroupFacts {
    const group = this.#groups.get(this.#actors.get(actor)?.group ?? "");
    if (group === undefined) throw new Error(`unplaced actor ${actor}`);
    return group;
  }

  #budget(kind: "latency" | "throughput", value: unknown, path: YamlPath): Budget | undefined {
    const at = this.#loc(path);
    const where = { file: this.#src.file, line: at.line, column: at.column, path: at.path };
    try {
      const v = kind === "latency" ? parseLatency(value, where) : parseThroughput(value, where);
      return { value: v, key: at.path, at };
    } catch (e) {
      if (!(e instanceof TopologyError)) throw e;
      this.#problems.push(...e.problems);
      return undefined;
    }
  }

  #route(r: NonNullable<HybridData["routes"]>[number], i: number): DeclaredRoute {
    const at: YamlPath = ["topology", "routes", i];
    const transport = normaliseTransport(r.transport);
    const fromPlaced = this.#actorRef(r.from, [...at, "from"]);
    const toPlaced = this.#actorRef(r.to, [...at, "to"]);
    if (fromPlaced && toPlaced) {
      const from = this.#facts(r.from);
      const to = this.#facts(r.to);
      const choice = this.#choose(from, to, transport);
      if ("refused" in choice) {
        this.#add("TOPOLOGY_TRANSPORT_CONFLICT", [...at, "transport"], choice.refused, choice.fix);
      } else if (transport !== undefined && from.name !== to.name) {
        // One link joins two groups, both ways: its routes cannot pin two transports.
        const key = pairKey(from.name, to.name);
        const before = this.#pairPins.get(key);
        if (before === undefined) {
          this.#pairPins.set(key, { from: r.from, to: r.to, transport, at });
        } else if (before.transport !== transport) {
          this.#add(
            "TOPOLOGY_TRANSPORT_CONFLICT",
            [...at, "transport"],
            `process groups '${from.name}' and '${to.name}' share one link, and route ` +
              `${before.from} → ${before.to} (line ${
                this.#src.positionOf([...before.at, "transport"]).line
              }) pins it to ${before.transport}`,
            `pin both routes to the same transport, or drop one of the pins`,
          );
        }
      }
    }
    return {
      from: r.from,
      to: r.to,
      transport,
      latency: r.latency === undefined
        ? undefined
        : this.#budget("latency", r.latency, [...at, "latency"]),
      throughput: r.throughput === undefined
        ? undefined
        : this.#budget("throughput", r.throughput, [...at, "throughput"]),
      at: this.#loc(at),
    };
  }

  #performance(section: Record<string, unknown>) {
    let latency: Budget | undefined;
    let throughput: Budget | undefined;
    const latencyFor = new Map<string, Budget>();
    const throughputFor = new Map<string, Budget>();
    const names = [...new Set([...this.#groups.keys(), ...this.#actors.keys()])];
    for (const [key, value] of Object.entries(section)) {
      const path: YamlPath = ["performance", key];
      if (key === "expected_latency") latency = this.#budget("latency", value, path);
      else if (key === "expected_throughput") throughput = this.#budget("throughput", value, path);
      else {
        const m = /^(.+)_(latency|throughput)$/.exec(key);
        if (m === null) {
          this.#add(
            "TOPOLOGY_INVALID",
            path,
            `unknown key '${key}'`,
            `${
              didYouMean(key, ["expected_latency", "expected_throughput"])
            }use expected_latency, expected_throughput, <group or actor>_latency or <group or actor>_throughput`,
            true,
          );
          continue;
        }
        const [, name = "", kind] = m;
        if (!names.includes(name)) {
          this.#add(
            "TOPOLOGY_UNKNOWN_ACTOR",
            path,
            `'${name}' in '${key}' is neither a process group nor an actor`,
            `${didYouMean(name, names)}name one of: ${names.join(", ")}`,
            true,
          );
          continue;
        }
        const b = this.#budget(kind === "latency" ? "latency" : "throughput", value, path);
        if (b !== undefined) (kind === "latency" ? latencyFor : throughputFor).set(name, b);
      }
    }
    return { latency, throughput, latencyFor, throughputFor };
  }

  // ---- addresses ---------------------------------------------------------

  #hostAddresses(hosts: Record<string, string>): Map<string, string> {
    const used = new Set([...this.#groups.values()].map((g) => g.host));
    const out = new Map<string, string>();
    for (const [name, address] of Object.entries(hosts)) {
      const host = normaliseHost(name);
      if (!used.has(host)) {
        this.#add(
          "TOPOLOGY_INVALID",
          ["topology", "hosts", name],
          `host '${name}' runs no process group`,
          `${didYouMean(host, used)}hosts in use: ${[...used].join(", ")}`,
          true,
        );
      } else out.set(host, address);
    }
    return out;
  }

  #addresses(
    socketDir: string | undefined,
    basePort: number,
    hostAddresses: ReadonlyMap<string, string>,
  ): Map<string, ProcessGroup> {
    const drafts = [...this.#groups.values()];
    const needs = new Map<string, Set<TransportKind>>(drafts.map((g) => [g.name, new Set()]));
    // A group gets an address for the transport of its link with each other
    // group (the resolver's choice, the same both ways), unless it is sure to
    // dial that link: a group that asked for tcp is dialed by its neighbours.
    for (const from of drafts) {
      for (const to of drafts) {
        if (from === to) continue;
        const pin = this.#pairPins.get(pairKey(from.name, to.name))?.transport;
        const c = this.#choose(from, to, pin);
        if (!("transport" in c)) continue;
        if (pinnedListener(from, to, c.transport) !== from) needs.get(to.name)?.add(c.transport);
      }
    }

    const sockets = new Map<string, { group: string; at: YamlPath | undefined }>();
    const ports = new Map<string, { group: string; at: YamlPath | undefined }>();
    const socketKey = (host: string, path: string) => {
      const p = path.replace(/^(\.\/)+/, "");
      return `${host}\0${p.startsWith("/") || socketDir === undefined ? p : `${socketDir}/${p}`}`;
    };
    const claim = (
      table: Map<string, { group: string; at: YamlPath | undefined }>,
      key: string,
      shown: string,
      group: string,
      at: YamlPath | undefined,
    ): boolean => {
      const before = table.get(key);
      if (before === undefined) {
        table.set(key, { group, at });
        return true;
      }
      if (at === undefined && before.at !== undefined) {
        // A default runs into an address written for another group: blame the written one.
        this.#add(
          "TOPOLOGY_ADDRESS_CONFLICT",
          before.at,
          `${shown} is also the default address of group '${group}'`,
          `choose another one, or give group '${group}' its own`,
        );
        return false;
      }
      const first = before.at === undefined
        ? ""
        : ` (line ${this.#src.positionOf(before.at).line})`;
      this.#add(
        "TOPOLOGY_ADDRESS_CONFLICT",
        at ?? this.#groups.get(group)?.at ?? [],
        `${shown} is already used by group '${before.group}'${first}`,
        "give one of the two groups another address",
      );
      return false;
    };

    // Explicit addresses first, so defaults step around them.
    for (const g of drafts) {
      if (g.socket !== undefined) {
        const resolved = g.socket.path.startsWith("/") || socketDir === undefined
          ? g.socket.path
          : `${socketDir}/${g.socket.path}`;
        if (
          resolved.startsWith("/") && new TextEncoder().encode(resolved).length > MAX_SOCKET_PATH
        ) {
          this.#add(
            "TOPOLOGY_INVALID",
            g.socket.at,
            `socket path '${resolved}' is longer than ${MAX_SOCKET_PATH} bytes, the limit of Unix sockets`,
            "choose a shorter socket path or socket_dir",
          );
        }
        claim(
          sockets,
          socketKey(g.host, g.socket.path),
          `socket path '${g.socket.path}'`,
          g.name,
          g.socket.at,
        );
      }
      if (g.endpoint !== undefined) {
        claim(
          ports,
          `${g.host}\0${g.endpoint.port}`,
          `port ${g.endpoint.port} on host '${g.host}'`,
          g.name,
          g.endpoint.path,
        );
      }
    }
    const nextPort = new Map<string, number>();
    const out = new Map<string, ProcessGroup>();
    for (const g of drafts) {
      const need = needs.get(g.name) ?? new Set();
      let unix: UnixAddress | undefined;
      if (g.socket !== undefined) unix = { kind: "unix", path: g.socket.path };
      else if (need.has("unix")) {
        const path = `${g.name}.sock`;
        if (claim(sockets, socketKey(g.host, path), `socket path '${path}'`, g.name, undefined)) {
          unix = { kind: "unix", path };
        }
      }
      let tcp: TcpAddress | undefined;
      if (g.endpoint !== undefined) {
        tcp = { kind: "tcp", host: g.endpoint.host, port: g.endpoint.port };
      } else if (need.has("tcp")) {
        let port = nextPort.get(g.host) ?? basePort;
        while (ports.has(`${g.host}\0${port}`)) port++;
        if (port > 65535) {
          this.#add(
            "TOPOLOGY_INVALID",
            ["topology", "base_port"],
            `no free port left from base_port ${basePort} for group '${g.name}'`,
            "lower base_port, or give groups explicit endpoints",
          );
        } else {
          ports.set(`${g.host}\0${port}`, { group: g.name, at: undefined });
          nextPort.set(g.host, port + 1);
          const host = hostAddresses.get(g.host) ?? (g.host === LOCAL_HOST ? "127.0.0.1" : g.host);
          tcp = { kind: "tcp", host, port };
        }
      }
      out.set(g.name, {
        name: g.name,
        host: g.host,
        deployment: g.deployment,
        actors: g.actors,
        transport: g.transport,
        reason: g.reason,
        unix,
        tcp,
        ...(g.delivery === undefined ? {} : { delivery: g.delivery }),
        at: this.#loc(g.at, this.#mode !== "monolith"),
      });
    }
    return out;
  }
}
