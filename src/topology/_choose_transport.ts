/**
 * The one rule deciding the transport of a route, shared by validation (which
 * refuses impossible pins at load) and the resolver.
 *
 * @module
 */
import type { TransportKind } from "./topology.ts";

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
 * Same group → channel; other group on the same host → unix; other host → tcp.
 * A pin on the route wins when it can carry the route and is refused when it
 * cannot. A pin on the receiving group raises `unix` to `tcp` when asked
 * (e.g. a compliance group reached by TCP even from its own host), and is
 * itself raised to `tcp` for senders on other hosts, since a Unix socket
 * cannot leave its host.
 */
export function chooseTransport(
  from: GroupFacts,
  to: GroupFacts,
  routePin: TransportKind | undefined,
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
  if (from.host === to.host) {
    if (routePin !== undefined) return { transport: routePin, reason: "pinned by the route" };
    if (to.transport === "tcp") {
      return { transport: "tcp", reason: `group ${to.name} asks for tcp` };
    }
    return { transport: "unix", reason: `other group, same host ${to.host}` };
  }
  if (routePin === "unix") {
    return {
      refused: `unix cannot cross from host '${from.host}' to host '${to.host}'`,
      fix: "use tcp, or put both process groups on one host",
    };
  }
  if (routePin === "tcp") return { transport: "tcp", reason: "pinned by the route" };
  return { transport: "tcp", reason: `other host ${to.host}` };
}
