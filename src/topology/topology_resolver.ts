/**
 * (from, to) → transport, address and expected cost, for a validated
 * {@linkcode Topology}.
 *
 * @module
 */
import {
  betweenFor,
  chooseTransport,
  type GroupFacts,
  linkListener,
  pairKey,
  type TransportChoice,
  type TransportRefusal,
} from "./_choose_transport.ts";
import { didYouMean } from "./_did_you_mean.ts";
import type {
  Budget,
  DeclaredRoute,
  ProcessGroup,
  TcpAddress,
  Topology,
  TransportKind,
  UnixAddress,
} from "./topology.ts";
import { TopologyError } from "./topology_error.ts";

/** Expected one-way cost of a message per transport, in nanoseconds. */
export interface TransportCosts {
  /** In-process delivery. */
  readonly channel: number;
  /** Between processes of one host over a Unix socket. */
  readonly unix: number;
  /** Between hosts over TCP. */
  readonly tcp: number;
  /** Through a NATS cluster (one server hop on top of a TCP hop). */
  readonly nats: number;
}

/**
 * Default costs when the config sets no budget: half the round-trip floors
 * measured on the reference machine (DESIGN.md: Unix 22–27 µs, TCP loopback
 * 50–58 µs), NATS about 3.4 times the TCP round trip, and the batched
 * in-process hop (~10 ns). Pass measured figures in
 * {@linkcode TopologyResolverOptions.costs} to replace them.
 */
export const DEFAULT_TRANSPORT_COSTS: TransportCosts = {
  channel: 10,
  unix: 12_000,
  tcp: 27_000,
  nats: 90_000,
};

/** Options of {@linkcode TopologyResolver}. */
export interface TopologyResolverOptions {
  /** Cost per transport for routes without a latency budget. Default: {@linkcode DEFAULT_TRANSPORT_COSTS}. */
  costs?: Partial<TransportCosts>;
  /**
   * Directory of relative socket paths (e.g. the private directory the
   * supervisor made). Default: the topology's `socket_dir`; when neither is
   * set, relative paths are returned as written.
   */
  socketDir?: string;
}

/** One resolved route. */
export interface ResolvedRoute {
  /** Sending actor. */
  readonly from: string;
  /** Receiving actor. */
  readonly to: string;
  /** Group of the sender. */
  readonly fromGroup: string;
  /** Group of the receiver. */
  readonly toGroup: string;
  /** Host of the sender. */
  readonly fromHost: string;
  /** Host of the receiver. */
  readonly toHost: string;
  /** The transport the message travels by. */
  readonly transport: TransportKind;
  /** Why this transport, in a few words (e.g. `same group hot_path`, `pinned by the route`). */
  readonly reason: string;
  /**
   * Where the receiving group listens for this transport: `undefined` for
   * channel and nats, and when the receiving group dials the sender instead (it did
   * not ask for tcp, the sender did: see {@linkcode TopologyResolver.link}).
   */
  readonly address: UnixAddress | TcpAddress | undefined;
  /** Expected one-way latency in nanoseconds: the budget if one applies, else the transport's cost. */
  readonly expectedLatency: number;
  /** Where {@linkcode expectedLatency} comes from: a budget key or `default <transport> cost`. */
  readonly latencySource: string;
  /** The latency budget that applies, if any. */
  readonly latencyBudget: Budget | undefined;
  /** The throughput budget that applies, if any. */
  readonly throughputBudget: Budget | undefined;
}

/** The one link between two process groups, as the runtime sets it up. */
export interface ResolvedLink {
  /** The group that dials. */
  readonly dialer: string;
  /** The group that listens. */
  readonly listener: string;
  /** The transport: the one every route between the two groups resolves to, both ways. */
  readonly transport: Exclude<TransportKind, "channel">;
  /** Why this transport, in a few words. */
  readonly reason: string;
  /**
   * Where the listener listens for it: `undefined` for nats (both sides
   * connect to the cluster), or for a hand-built topology lacking it.
   */
  readonly address: UnixAddress | TcpAddress | undefined;
}

/**
 * Resolves routes of a topology: same group → channel; another group on the
 * same host → unix; another host → tcp; a transport pinned by a declared
 * route wins (impossible pins were refused at load), and a group pinned to
 * tcp talks TCP even with groups on its own host.
 *
 * Two process groups share one link, which carries messages both ways, so
 * every route between two groups resolves to the same transport in both
 * directions: a pin on any declared route between them, or a tcp pin on
 * either group, decides for all of them. The table is what the runtime
 * uses (`groupPlan` dials each link over this transport).
 *
 * Budgets (first that applies): the route's own `latency:`; the receiving
 * actor's `<actor>_latency`; the receiving group's `<group>_latency` when the
 * route arrives over the group's written transport (or the group wrote none);
 * `expected_latency`. Throughput budgets follow the same order.
 *
 * @example
 * ```ts
 * import { parseTopology, TopologyResolver } from "./mod.ts";
 * const t = parseTopology(`
 * topology:
 *   mode: hybrid
 *   process_groups:
 *     hot_path: { actors: [relay, strategy], transport: channel }
 *     execution: { actors: [executor], transport: unix_socket }
 * performance:
 *   execution_latency: "2µs"
 * `);
 * const r = new TopologyResolver(t).resolve("strategy", "executor");
 * if (r.transport !== "unix" || r.expectedLatency !== 2000) throw new Error();
 * ```
 */
export class TopologyResolver {
  #topology: Topology;
  #costs: TransportCosts;
  #socketDir: string | undefined;
  #declared = new Map<string, DeclaredRoute>();
  /** Per pair of groups, the first declared route between them that pins a transport. */
  #pairPins = new Map<string, DeclaredRoute>();

  /** Creates a resolver over a validated topology. */
  constructor(topology: Topology, options: TopologyResolverOptions = {}) {
    this.#topology = topology;
    this.#costs = { ...DEFAULT_TRANSPORT_COSTS, ...options.costs };
    this.#socketDir = options.socketDir ?? topology.socketDir;
    for (const r of topology.routes) {
      const key = `${r.from}\0${r.to}`;
      if (!this.#declared.has(key)) this.#declared.set(key, r);
      const a = topology.actors.get(r.from)?.group;
      const b = topology.actors.get(r.to)?.group;
      if (r.transport === undefined || a === undefined || b === undefined || a === b) continue;
      if (!this.#pairPins.has(pairKey(a, b))) this.#pairPins.set(pairKey(a, b), r);
    }
  }

  /** `chooseTransport` with this topology's nats section and mode. */
  #choose(
    from: GroupFacts,
    to: GroupFacts,
    pin: TransportKind | undefined,
    pinnedBy: string,
  ): TransportChoice | TransportRefusal {
    const t = this.#topology;
    return chooseTransport(from, to, pin, pinnedBy, t.nats !== undefined, betweenFor(t.mode));
  }

  /** The topology being resolved. */
  get topology(): Topology {
    return this.#topology;
  }

  /**
   * The process group an actor runs in.
   *
   * @throws {TopologyError} `TOPOLOGY_UNKNOWN_ACTOR` when the actor is not placed.
   */
  groupOf(actor: string): ProcessGroup {
    const placement = this.#topology.actors.get(actor);
    const group = placement === undefined ? undefined : this.#topology.groups.get(placement.group);
    if (group === undefined) {
      const placed = [...this.#topology.actors.keys()];
      throw new TopologyError([{
        code: "TOPOLOGY_UNKNOWN_ACTOR",
        file: this.#topology.file,
        line: 0,
        column: 0,
        path: "",
        problem: `'${actor}' is not placed in this topology`,
        fix: `${didYouMean(actor, placed)}placed actors are: ${placed.join(", ")}`,
      }]);
    }
    return group;
  }

  /**
   * Resolves one route.
   *
   * @throws {TopologyError} `TOPOLOGY_UNKNOWN_ACTOR` when either actor is not placed.
   */
  resolve(from: string, to: string): ResolvedRoute {
    const src = this.groupOf(from);
    const dst = this.groupOf(to);
    const declared = this.#declared.get(`${from}\0${to}`);
    // The route's own pin, else the pin of another route between the same groups (same link).
    const pinned = declared?.transport !== undefined
      ? declared
      : src.name === dst.name
      ? undefined
      : this.#pairPins.get(pairKey(src.name, dst.name));
    const choice = this.#choose(
      src,
      dst,
      pinned?.transport,
      pinned === undefined || pinned === declared
        ? "the route"
        : `route ${pinned.from} → ${pinned.to}`,
    );
    // parseTopology refuses such pins, so only a hand-built Topology gets here.
    if ("refused" in choice) throw this.#conflict(pinned, choice);
    const { transport, reason } = choice;
    const perf = this.#topology.performance;
    const groupApplies = dst.transport === undefined || dst.transport === transport;
    const latencyBudget = declared?.latency ?? perf.latencyFor.get(to) ??
      (groupApplies ? perf.latencyFor.get(dst.name) : undefined) ?? perf.latency;
    const throughputBudget = declared?.throughput ?? perf.throughputFor.get(to) ??
      (groupApplies ? perf.throughputFor.get(dst.name) : undefined) ?? perf.throughput;
    return {
      from,
      to,
      fromGroup: src.name,
      toGroup: dst.name,
      fromHost: src.host,
      toHost: dst.host,
      transport,
      reason,
      address: this.#address(dst, transport),
      expectedLatency: latencyBudget?.value ?? this.#costs[transport],
      latencySource: latencyBudget?.key ?? `default ${transport} cost`,
      latencyBudget,
      throughputBudget,
    };
  }

  /** The error for a pinned transport that cannot carry a route (see `chooseTransport`). */
  #conflict(pinned: DeclaredRoute | undefined, refusal: TransportRefusal): TopologyError {
    return new TopologyError([{
      code: "TOPOLOGY_TRANSPORT_CONFLICT",
      file: this.#topology.file,
      line: pinned?.at.line ?? 0,
      column: pinned?.at.column ?? 0,
      path: pinned?.at.path ?? "",
      problem: refusal.refused,
      fix: refusal.fix,
    }]);
  }

  /**
   * The link between process groups `a` and `b`: its transport (what every
   * route between them resolves to), who listens and who dials. The group
   * that asked for tcp listens when the other did not, so its endpoint is
   * the one dialed; otherwise the group whose name sorts first dials.
   *
   * @example
   * ```ts
   * import { parseTopology, TopologyResolver } from "./mod.ts";
   * const t = parseTopology(`
   * topology:
   *   mode: hybrid
   *   process_groups:
   *     audit: { actors: [auditor], transport: tcp, endpoint: "127.0.0.1:7911" }
   *     trading: { actors: [trader] }
   * `);
   * const link = new TopologyResolver(t).link("audit", "trading");
   * if (link.transport !== "tcp" || link.listener !== "audit") throw new Error();
   * ```
   *
   * @throws {TopologyError} `TOPOLOGY_UNKNOWN_ACTOR` when either is not a
   *   process group of the topology, or both are the same group.
   */
  link(a: string, b: string): ResolvedLink {
    const ga = this.#topology.groups.get(a);
    const gb = this.#topology.groups.get(b);
    if (ga === undefined || gb === undefined || a === b) {
      const groups = [...this.#topology.groups.keys()];
      const bad = ga === undefined ? a : gb === undefined ? b : a;
      throw new TopologyError([{
        code: "TOPOLOGY_UNKNOWN_ACTOR",
        file: this.#topology.file,
        line: 0,
        column: 0,
        path: "",
        problem: a === b && ga !== undefined
          ? `a link joins two process groups; '${a}' was given twice`
          : `'${bad}' is not a process group of this topology`,
        fix: `${didYouMean(bad, groups)}process groups are: ${groups.join(", ")}`,
      }]);
    }
    const pinned = this.#pairPins.get(pairKey(a, b));
    const pinnedBy = pinned === undefined ? "the route" : `route ${pinned.from} → ${pinned.to}`;
    const first = this.#choose(ga, gb, pinned?.transport, pinnedBy);
    if ("refused" in first) throw this.#conflict(pinned, first);
    const listener = linkListener(ga, gb, first.transport);
    const dialer = listener === ga ? gb : ga;
    // Same transport either way; the reason is told from the dialer's side.
    const choice = this.#choose(dialer, listener, pinned?.transport, pinnedBy);
    const { transport, reason } = "transport" in choice ? choice : first;
    return {
      dialer: dialer.name,
      listener: listener.name,
      transport: transport as Exclude<TransportKind, "channel">,
      reason,
      address: this.#address(listener, transport),
    };
  }

  /**
   * The route table: each (from, to) of `pairs`, or by default the routes the
   * config declares, or when it declares none every ordered pair of distinct
   * placed actors, in placement order.
   */
  routeTable(pairs?: Iterable<readonly [string, string]>): ResolvedRoute[] {
    const list: (readonly [string, string])[] = [];
    if (pairs !== undefined) list.push(...pairs);
    else if (this.#topology.routes.length > 0) {
      for (const r of this.#topology.routes) list.push([r.from, r.to]);
    } else {
      const actors = [...this.#topology.actors.keys()];
      for (const from of actors) for (const to of actors) if (from !== to) list.push([from, to]);
    }
    return list.map(([from, to]) => this.resolve(from, to));
  }

  #address(group: ProcessGroup, transport: TransportKind): UnixAddress | TcpAddress | undefined {
    if (transport === "tcp") return group.tcp;
    if (transport !== "unix" || group.unix === undefined) return undefined;
    const path = group.unix.path;
    if (path.startsWith("/") || this.#socketDir === undefined) return group.unix;
    return {
      kind: "unix",
      path: `${this.#socketDir.replace(/\/+$/, "")}/${path.replace(/^(\.\/)+/, "")}`,
    };
  }
}
