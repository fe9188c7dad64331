/**
 * The normalised topology: every YAML shape (monolith, hybrid, distributed)
 * becomes the same model of actors placed in process groups placed on hosts,
 * plus declared routes and performance budgets.
 *
 * @module
 */

/** How a topology file is laid out. */
export type TopologyMode = "monolith" | "hybrid" | "distributed";

/** The modes, in the order they are listed in messages. */
export const TOPOLOGY_MODES: readonly TopologyMode[] = ["monolith", "hybrid", "distributed"];

/**
 * How a message travels between two actors: `channel` inside one process,
 * `unix` between processes of one host, `tcp` between hosts, `nats` through
 * the NATS cluster of the topology's `nats:` section. Ordered from the
 * cheapest and most local to the most general.
 */
export type TransportKind = "channel" | "unix" | "tcp" | "nats";

/** The transports, from the most local to the most general. */
export const TRANSPORT_KINDS: readonly TransportKind[] = ["channel", "unix", "tcp", "nats"];

/** The subject prefix of a `nats:` section that names none. */
export const DEFAULT_NATS_SUBJECT_PREFIX = "mycelium";

/** How a process proves who it is to the NATS cluster (one way at most). */
export type NatsAuth =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "user"; readonly user: string; readonly password: string }
  | { readonly kind: "nkey"; readonly seedFile: string }
  | { readonly kind: "creds"; readonly credsFile: string };

/** TLS to the NATS cluster: files in PEM (relative paths are relative to the working directory). */
export interface NatsTls {
  /** CA bundle the servers' certificates must chain to; `undefined`: the system's. */
  readonly caFile: string | undefined;
  /** Client certificate, for servers that verify clients. */
  readonly certFile: string | undefined;
  /** The client certificate's key. */
  readonly keyFile: string | undefined;
}

/**
 * The top-level `nats:` section: the cluster that carries routes whose
 * transport is `nats`, and how to reach it.
 */
export interface NatsSettings {
  /** Server URLs (`nats://host:port`), in the order written; the client fails over between them. */
  readonly servers: readonly string[];
  /** Credentials, or `undefined` for a cluster without authentication. */
  readonly auth: NatsAuth | undefined;
  /** TLS settings, or `undefined` for plain TCP (unless a URL says `tls://`). */
  readonly tls: NatsTls | undefined;
  /**
   * Every subject this deployment uses starts with it, so two deployments
   * share a cluster safely. Default: {@linkcode DEFAULT_NATS_SUBJECT_PREFIX}.
   */
  readonly subjectPrefix: string;
  /**
   * `jetstream:`: the stream groups with `delivery: jetstream` receive
   * through, or `undefined` when the section has none.
   */
  readonly jetstream?: NatsJetStreamSettings | undefined;
  /** Where the section was written. */
  readonly at: SourceLocation;
}

/** The `jetstream:` key of the `nats:` section: one stream per deployment. */
export interface NatsJetStreamSettings {
  /** The stream's name: `MYCELIUM_` and the subject prefix, dots as `_`, upper case. */
  readonly stream: string;
  /** Servers holding a copy of each message. Default: 1. */
  readonly replicas: number;
  /** Where it was written. */
  readonly at: SourceLocation;
}

/**
 * How messages to a group travel through NATS: `core` at most once (losses
 * counted), `jetstream` stored by the cluster, acknowledged by the group
 * once its bus accepted them, redeliveries handled once.
 */
export type NatsDelivery = "core" | "jetstream";

/**
 * Where a process group runs. In mode hybrid, `same_process` and
 * `isolated_process` both give the group its own OS process on its host
 * (`same_process` says its actors share that process, `isolated_process` that
 * it must stay alone, e.g. for fault isolation); a group that names none is
 * `isolated_process`, or `separate_machine` (on another host) when its host
 * is not the local one. The one group of mode monolith is `same_process`:
 * every actor runs in the process that loads the file.
 */
export type Deployment = "same_process" | "isolated_process" | "separate_machine";

/** The deployments, in the order they are listed in messages. */
export const DEPLOYMENTS: readonly Deployment[] = [
  "same_process",
  "isolated_process",
  "separate_machine",
];

/** The name of the host every group runs on unless the topology says otherwise. */
export const LOCAL_HOST = "local";

/** The port the first group reached over TCP listens on, unless `base_port` says otherwise. */
export const DEFAULT_BASE_PORT = 7400;

/** The process group of every actor in mode monolith. */
export const MONOLITH_GROUP = "main";

/**
 * What the name of an actor, a process group or an application may be:
 * letters, digits, '_' and '-', starting with a letter or '_'.
 */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Where something was written in the topology file. */
export interface SourceLocation {
  /** 1-based line (0 when not from a file). */
  readonly line: number;
  /** 1-based column (0 when not from a file). */
  readonly column: number;
  /** Dotted key path, e.g. `topology.process_groups.execution`. */
  readonly path: string;
}

/**
 * A Unix socket a group listens on. A relative `path` is relative to the
 * socket directory chosen at run time (see {@linkcode Topology.socketDir}).
 */
export interface UnixAddress {
  /** Discriminant. */
  readonly kind: "unix";
  /** Socket path, relative or absolute. */
  readonly path: string;
}

/** A TCP endpoint a group listens on. */
export interface TcpAddress {
  /** Discriminant. */
  readonly kind: "tcp";
  /** Host name or address to connect to. */
  readonly host: string;
  /** Port, 1–65535. */
  readonly port: number;
}

/** One process group: the actors that share an OS process. */
export interface ProcessGroup {
  /** Group name (in monolith mode `main`; in distributed mode the actor's name). */
  readonly name: string;
  /** Host the group runs on ({@linkcode LOCAL_HOST} unless stated). */
  readonly host: string;
  /** Where the group runs. */
  readonly deployment: Deployment;
  /** Member actors, in the order written. */
  readonly actors: readonly string[];
  /**
   * The transport written for the group, `undefined` when none is. `channel`
   * means actors inside the group talk in-process (they always do); `unix`
   * says other groups on its host reach it by Unix socket (the default
   * anyway); `tcp` makes every other group reach it over TCP, even from its
   * own host; `nats` makes every other group reach it through the NATS
   * cluster. A route from another host uses TCP, or NATS when the topology
   * has a `nats:` section.
   */
  readonly transport: TransportKind | undefined;
  /** Why the group exists, as written in `reason:`. */
  readonly reason: string | undefined;
  /** The Unix socket it listens on, when a group on its host may reach it that way. */
  readonly unix: UnixAddress | undefined;
  /** The TCP endpoint it listens on, when some route reaches it over TCP. */
  readonly tcp: TcpAddress | undefined;
  /**
   * `delivery:` of the sends and publishes it receives through NATS
   * (`core` when not written). Requests and replies stay on core NATS.
   */
  readonly delivery?: NatsDelivery | undefined;
  /** Where the group (or the actor that forms it) was written. */
  readonly at: SourceLocation;
}

/** Where one actor runs. */
export interface ActorPlacement {
  /** Actor name. */
  readonly name: string;
  /** Its process group. */
  readonly group: string;
  /** The host of its group. */
  readonly host: string;
  /** Where it was placed in the file. */
  readonly at: SourceLocation;
}

/** A latency or throughput budget and the key that set it. */
export interface Budget {
  /** Nanoseconds for a latency budget, messages per second for a throughput budget. */
  readonly value: number;
  /** The key that set it, e.g. `performance.execution_latency`. */
  readonly key: string;
  /** Where it was written. */
  readonly at: SourceLocation;
}

/**
 * The `performance:` section. `<name>_latency` / `<name>_throughput` keys name
 * a process group or an actor:
 *
 * - an actor's budget applies to every route arriving at that actor;
 * - a group's budget applies to routes arriving at the group over the group's
 *   own transport (a `channel` group: routes inside it; a `unix` group: Unix
 *   routes into it; a `tcp` group: TCP routes into it);
 * - `expected_latency` / `expected_throughput` apply to every other route.
 */
export interface PerformanceBudgets {
  /** `expected_latency`: the default latency budget of a route. */
  readonly latency: Budget | undefined;
  /** `expected_throughput`: the default throughput budget of a route. */
  readonly throughput: Budget | undefined;
  /** `<group|actor>_latency` budgets by group or actor name. */
  readonly latencyFor: ReadonlyMap<string, Budget>;
  /** `<group|actor>_throughput` budgets by group or actor name. */
  readonly throughputFor: ReadonlyMap<string, Budget>;
}

/** A route the config declares under `topology.routes`. */
export interface DeclaredRoute {
  /** Sending actor. */
  readonly from: string;
  /** Receiving actor. */
  readonly to: string;
  /** A pinned transport, which wins over the resolver's choice when it can carry the route. */
  readonly transport: TransportKind | undefined;
  /** `latency:` budget of this route. */
  readonly latency: Budget | undefined;
  /** `throughput:` budget of this route. */
  readonly throughput: Budget | undefined;
  /** Where it was written. */
  readonly at: SourceLocation;
}

/** A validated topology, whatever shape its file had. */
export interface Topology {
  /** The file it came from (as given to the loader). */
  readonly file: string;
  /** The shape its file had. */
  readonly mode: TopologyMode;
  /**
   * `topology.socket_dir`: where relative socket paths live; `undefined` lets
   * the runtime pick a private directory.
   */
  readonly socketDir: string | undefined;
  /** Hosts, in first-use order ({@linkcode LOCAL_HOST} first when used). */
  readonly hosts: readonly string[];
  /** Process groups by name, in the order written. */
  readonly groups: ReadonlyMap<string, ProcessGroup>;
  /** Actor placements by name, in the order written. */
  readonly actors: ReadonlyMap<string, ActorPlacement>;
  /** Routes declared under `topology.routes`, in the order written. */
  readonly routes: readonly DeclaredRoute[];
  /** The `performance:` budgets. */
  readonly performance: PerformanceBudgets;
  /** The `nats:` section, or `undefined` when there is none (no route may then use nats). */
  readonly nats?: NatsSettings | undefined;
  /** Things that load but are probably not what was meant, in file order. */
  readonly warnings: readonly TopologyWarning[];
}

/** Something a topology allows but probably does not mean, with where and how to fix it. */
export interface TopologyWarning {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** Dotted key path. */
  readonly path: string;
  /** What is probably wrong. */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}
