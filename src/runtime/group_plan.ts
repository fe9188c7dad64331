/**
 * {@linkcode groupPlan}: what one process group does in a split deployment:
 * the actors it hosts, the addresses it listens on, the groups it dials.
 *
 * @module
 */
import type { TcpAddress, Topology, UnixAddress } from "../topology/topology.ts";
import { TopologyResolver } from "../topology/topology_resolver.ts";
import { TcpTransport, type TlsOptions } from "../transport/tcp.ts";
import type { Transport } from "../transport/transport.ts";
import { UnixTransport } from "../transport/unix.ts";
import { RuntimeError } from "./runtime_error.ts";

/** A socket address from the topology. */
export type GroupAddress = UnixAddress | TcpAddress;

/** A group this group dials, and where. */
export interface PlannedDial {
  /** The other group's name (the identity its process presents). */
  readonly group: string;
  /** Its address for this link (unix on the same host, tcp otherwise). */
  readonly address: GroupAddress;
  /** Why this transport (from the resolver). */
  readonly reason: string;
}

/** What one process group runs, listens on and dials. */
export interface GroupPlan {
  /** The group's name: the process's identity on its links. */
  readonly group: string;
  /** The host it runs on. */
  readonly host: string;
  /** The actors it hosts, in topology order. */
  readonly actors: readonly string[];
  /** Addresses it accepts links on (one per transport some peer dials it with). */
  readonly listen: readonly GroupAddress[];
  /** Groups it dials. */
  readonly dial: readonly PlannedDial[];
  /** Every other group it is linked with (dialed, dialing or through NATS), sorted. */
  readonly peers: readonly string[];
  /**
   * Groups it reaches through the topology's NATS cluster instead of a link
   * (routes whose transport is `nats`), sorted. Empty when none.
   */
  readonly nats: readonly string[];
}

/** Options of {@linkcode groupPlan}. */
export interface GroupPlanOptions {
  /**
   * Directory of relative Unix socket paths. Default: the topology's
   * `socket_dir` (a topology with neither gets `RUNTIME_PLAN`).
   */
  socketDir?: string;
  /**
   * Which pairs of groups get a link: `"mesh"` every pair (published messages
   * reach subscribers wherever they are, whatever routes the config lists);
   * `"routes"` only pairs joined by a declared route (either way), or every
   * pair when no route is declared. Default: `"mesh"`.
   */
  links?: "mesh" | "routes";
}

/**
 * Plans process group `group` of `topology`. Every pair of linked groups gets
 * exactly one link, carrying messages both ways, as
 * {@linkcode TopologyResolver.link} describes it: over the transport every
 * route between the two groups resolves to (what `mycelium topology` shows:
 * same host unix, other host tcp, unless a route or a group pins one),
 * dialed by the group whose name sorts first, except that a group which
 * asked for tcp is dialed by one that did not (its endpoint is the one used).
 *
 * @throws {RuntimeError} `RUNTIME_PLAN`: unknown group, a peer without the
 *   address its transport needs, a relative socket path without a directory.
 *
 * @example
 * ```ts
 * import { parseTopology } from "../topology/parse_topology.ts";
 * import { groupPlan } from "./group_plan.ts";
 * const topology = parseTopology(`
 * topology:
 *   mode: hybrid
 *   process_groups:
 *     hot_path: { actors: [collector, strategy], transport: channel }
 *     execution: { actors: [executor], transport: unix_socket }
 * `);
 * const plan = groupPlan(topology, "execution", { socketDir: "/tmp/my-app" });
 * if (plan.dial.length !== 1 || plan.dial[0]!.group !== "hot_path") throw new Error();
 * ```
 */
export function groupPlan(
  topology: Topology,
  group: string,
  options: GroupPlanOptions = {},
): GroupPlan {
  const self = topology.groups.get(group);
  if (self === undefined) {
    throw new RuntimeError(
      "RUNTIME_PLAN",
      `no process group '${group}' in ${topology.file}; groups are: ${
        [...topology.groups.keys()].join(", ")
      }`,
      { peer: group },
    );
  }
  const socketDir = options.socketDir ?? topology.socketDir;
  const resolver = new TopologyResolver(
    topology,
    socketDir === undefined ? {} : { socketDir },
  );
  const linked = linkedPairs(topology, options.links ?? "mesh");
  const listen = new Map<string, GroupAddress>();
  const dial: PlannedDial[] = [];
  const peers: string[] = [];
  const nats: string[] = [];
  for (const other of topology.groups.values()) {
    if (other.name === group || !linked.has(pairKey(group, other.name))) continue;
    peers.push(other.name);
    const link = resolver.link(group, other.name);
    const { dialer, listener, address } = link;
    if (link.transport === "nats") {
      nats.push(other.name);
      continue;
    }
    if (address === undefined) {
      throw new RuntimeError(
        "RUNTIME_PLAN",
        `group '${listener}' has no ${link.transport} address for the link from ` +
          `'${dialer}' (${link.reason})`,
        { peer: listener },
      );
    }
    if (address.kind === "unix" && !address.path.startsWith("/")) {
      throw new RuntimeError(
        "RUNTIME_PLAN",
        `socket '${address.path}' of group '${listener}' is relative and no socket ` +
          `directory is set: set socket_dir in the topology or pass a directory`,
        { peer: listener },
      );
    }
    if (dialer === group) dial.push({ group: other.name, address, reason: link.reason });
    else listen.set(addressKey(address), address);
  }
  return {
    group,
    host: self.host,
    actors: [...self.actors],
    listen: [...listen.values()],
    dial,
    peers: peers.sort(),
    nats: nats.sort(),
  };
}

/** Options of {@linkcode transportOf}. */
export interface TransportOfOptions {
  /** TLS for tcp addresses. Default: plain TCP. */
  tls?: TlsOptions;
  /**
   * Host to bind a tcp listener to instead of the address's host (e.g.
   * `"0.0.0.0"`). Default: the address's host.
   */
  bindHostname?: string;
}

/**
 * The transport for a planned address.
 *
 * @example
 * ```ts
 * import { transportOf } from "./group_plan.ts";
 * const t = transportOf({ kind: "tcp", host: "127.0.0.1", port: 7401 });
 * if (t.address !== "127.0.0.1:7401") throw new Error(t.address);
 * ```
 */
export function transportOf(address: GroupAddress, options: TransportOfOptions = {}): Transport {
  if (address.kind === "unix") return new UnixTransport({ path: address.path });
  return new TcpTransport({
    hostname: options.bindHostname ?? address.host,
    port: address.port,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\0${b}` : `${b}\0${a}`;
}

function addressKey(a: GroupAddress): string {
  return a.kind === "unix" ? `unix:${a.path}` : `tcp:${a.host}:${a.port}`;
}

/** Pairs of groups that get a link. */
function linkedPairs(topology: Topology, links: "mesh" | "routes"): Set<string> {
  const pairs = new Set<string>();
  const groups = [...topology.groups.keys()];
  if (links === "routes" && topology.routes.length > 0) {
    for (const r of topology.routes) {
      const a = topology.actors.get(r.from)?.group;
      const b = topology.actors.get(r.to)?.group;
      if (a !== undefined && b !== undefined && a !== b) pairs.add(pairKey(a, b));
    }
    return pairs;
  }
  for (const a of groups) for (const b of groups) if (a !== b) pairs.add(pairKey(a, b));
  return pairs;
}
