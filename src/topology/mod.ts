/**
 * Topology: where actors run (process groups on hosts), how each route
 * travels (channel, unix, tcp) and what it is expected to cost.
 *
 * ```ts
 * import { parseTopology, TopologyResolver } from "./mod.ts";
 * const topology = parseTopology("topology:\n  mode: monolith\n  actors:\n    a: {}\n    b: {}\n");
 * const [route] = new TopologyResolver(topology).routeTable([["a", "b"]]);
 * if (route?.transport !== "channel") throw new Error();
 * ```
 *
 * @module
 */
export { loadTopology, type LoadTopologyOptions } from "./load_topology.ts";
export { parseTopology, type ParseTopologyOptions } from "./parse_topology.ts";
export {
  formatLatency,
  formatThroughput,
  parseLatency,
  parseThroughput,
  type QuantityLocation,
} from "./quantity.ts";
export {
  type ActorPlacement,
  type Budget,
  type DeclaredRoute,
  DEFAULT_BASE_PORT,
  DEFAULT_NATS_SUBJECT_PREFIX,
  type Deployment,
  DEPLOYMENTS,
  LOCAL_HOST,
  MONOLITH_GROUP,
  type NatsAuth,
  type NatsDelivery,
  type NatsJetStreamSettings,
  type NatsSettings,
  type NatsTls,
  type PerformanceBudgets,
  type ProcessGroup,
  type SourceLocation,
  type TcpAddress,
  type Topology,
  TOPOLOGY_MODES,
  type TopologyMode,
  type TopologyWarning,
  TRANSPORT_KINDS,
  type TransportKind,
  type UnixAddress,
} from "./topology.ts";
export {
  formatTopologyProblem,
  TopologyError,
  type TopologyErrorCode,
  type TopologyProblem,
} from "./topology_error.ts";
export {
  DEFAULT_TRANSPORT_COSTS,
  type ResolvedLink,
  type ResolvedRoute,
  TopologyResolver,
  type TopologyResolverOptions,
  type TransportCosts,
} from "./topology_resolver.ts";
