/**
 * The one rule deciding the transport of a route, shared by validation (which
 * refuses impossible pins at load) and the resolver.
 *
 * @module
 */
import type { TopologyMode, TransportKind } from "./topology.ts";

/** The group-level facts the rule needs. */
export interface GroupFacts {
  readonly name: string;
  readonly host: string;
  readonly transport: TransportKind | undefined;
}

/** The transport chosen and, in a few words, why. */
export interface TransportChoice {
  readonly transport: TransportKind;
  readonly reason: string;
}

/** Why a pinned transport cannot carry a route, and what to do instead. */
export interface TransportRefusal {
  readonly refused: string;
  readonly fix: string;
}

/**
 * Same group → channel; other group on the same host → unix; other host → tcp,
 * or nats when the topology has a `nats:` section (`natsPresent`). A group
 * pinned to `nats` is reached through NATS from every other group (and
 * reaches them that way); a route pinned to `nats` uses it too. A `tcp` pin
 * (route or group) wins over the nats default between hosts.
 * A pin on a route wins when it can carry the route and is refused when it
 * cannot. A group pinned to `tcp` raises `unix` to `tcp` for every route to
 * or from it (e.g. a compliance group reached by TCP even from its own host):
 * the two groups share one link, which carries both directions, so both
 * directions must use the same transport. A `unix` pin on a group is raised
 * to `tcp` for groups on other hosts, since a Unix socket cannot leave its
 * host.
 *
 * `between` is the transport two groups that ask for none use between
 * themselves: `unix` (hybrid), or `tcp` in mode distributed, where every
 * actor is its own service. It is a default, not a request: a group that
 * asks for `unix` gets it from the groups of its host that ask for nothing,
 * and the nats default between hosts applies only when `between` is `unix`
 * (in mode distributed, tcp stays the default there as well).
 *
 * `pinnedBy` names the route whose pin this is, when it is not the route
 * being resolved (another route between the same two groups: see
 * {@linkcode pairKey}).
 */
export function chooseTransport(
  from: GroupFacts,
  to: GroupFacts,
  routePin: TransportKind | undefined,
  pinnedBy = "the route",
  natsPresent = false,
  between: "unix" | "tcp" = "unix",
): TransportChoice | TransportRefusal {
  if (from.name === to.name) {
    if (routePin !== undefined && routePin !== "channel") {
      return {
        refused:
          `both actors are in process group '${to.name}', so the message never leaves its process and cannot use ${routePin}`,
        fix: "drop the pin (channel is used), or move one of the actors to another process group",
      };
    }
    return { transport: "channel", reason: `same group ${to.name}` };
  }
  if (routePin === "channel") {
    return {
      refused: `channel cannot cross from process group '${from.name}' to '${to.name}'`,
      fix: from.host === to.host
        ? "use unix or tcp, or put both actors in one process group"
        : "use tcp, or put both actors in one process group",
    };
  }
  if (
    (routePin === "nats" || from.transport === "nats" || to.transport === "nats") && !natsPresent
  ) {
    return {
      refused: `nats is asked for between '${from.name}' and '${to.name}', but the topology ` +
        `has no nats: section`,
      fix: 'add a top-level section: nats: { servers: ["nats://127.0.0.1:4222"] }',
    };
  }
  if (routePin === undefined) {
    if (to.transport === "nats") {
      return { transport: "nats", reason: `group ${to.name} asks for nats` };
    }
    if (from.transport === "nats") {
      return { transport: "nats", reason: `group ${from.name} asks for nats` };
    }
  }
  if (from.host === to.host) {
    if (routePin !== undefined) return { transport: routePin, reason: `pinned by ${pinnedBy}` };
    if (to.transport === "tcp") {
      return { transport: "tcp", reason: `group ${to.name} asks for tcp` };
    }
    if (from.transport === "tcp") {
      return { transport: "tcp", reason: `group ${from.name} asks for tcp` };
    }
    if (between === "tcp") {
      // A written unix wins over the mode's default.
      if (to.transport === "unix") {
        return { transport: "unix", reason: `group ${to.name} asks for unix` };
      }
      if (from.transport === "unix") {
        return { transport: "unix", reason: `group ${from.name} asks for unix` };
      }
      return { transport: "tcp", reason: "mode distributed: tcp unless unix is asked for" };
    }
    return { transport: "unix", reason: `other group, same host ${to.host}` };
  }
  if (routePin === "unix") {
    return {
      refused: `unix cannot cross from host '${from.host}' to host '${to.host}'`,
      fix: "use tcp, or put both process groups on one host",
    };
  }
  if (routePin === "tcp" || routePin === "nats") {
    return { transport: routePin, reason: `pinned by ${pinnedBy}` };
  }
  if (natsPresent && between !== "tcp" && to.transport !== "tcp" && from.transport !== "tcp") {
    return { transport: "nats", reason: `other host ${to.host}, through the nats cluster` };
  }
  const asked = to.transport === "unix" ? to : from.transport === "unix" ? from : undefined;
  if (between === "tcp" && asked !== undefined) {
    const other = asked === to ? from : to;
    return {
      transport: "tcp",
      reason: `group ${asked.name} asks for unix, which cannot reach host ${other.host}`,
    };
  }
  return { transport: "tcp", reason: `other host ${to.host}` };
}

/**
 * What two groups asking for no transport use between themselves in `mode`
 * (the `between` of {@linkcode chooseTransport}): tcp in mode distributed,
 * where every actor is its own service, unix otherwise.
 */
export function betweenFor(mode: TopologyMode): "unix" | "tcp" {
  return mode === "distributed" ? "tcp" : "unix";
}

/**
 * The key of an unordered pair of process groups. Two groups share one link
 * whichever way a message goes, so a transport pinned on any declared route
 * between them (the first, in file order) is the pin of every route between
 * them, and two routes of one pair may not pin different transports.
 */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\0${b}` : `${b}\0${a}`;
}

/**
 * The group that must listen for the link between `a` and `b` over
 * `transport` because it asked for it: on one host, the group pinned to tcp
 * when the other is not (its pin is what made the link tcp, and the endpoint
 * that goes with it is the one to dial; the other group needs no tcp
 * address). `undefined` when names decide (see {@linkcode linkListener}).
 */
export function pinnedListener<G extends GroupFacts>(
  a: G,
  b: G,
  transport: TransportKind,
): G | undefined {
  if (transport !== "tcp" || a.host !== b.host) return undefined;
  if (a.transport === "tcp" && b.transport !== "tcp") return a;
  if (b.transport === "tcp" && a.transport !== "tcp") return b;
  return undefined;
}

/**
 * Which of two linked groups listens for their link over `transport`, the
 * other dialing it: the {@linkcode pinnedListener} if any, otherwise the
 * group whose name sorts last (the first dials).
 */
export function linkListener<G extends GroupFacts>(a: G, b: G, transport: TransportKind): G {
  return pinnedListener(a, b, transport) ?? (a.name < b.name ? b : a);
}
