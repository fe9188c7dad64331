/**
 * Mycelium: message-passing actors whose deployment is a configuration choice.
 *
 * This entry exports the wire codec: declare message types, encode them into
 * slabs, decode them to objects or zero-copy views, and split byte streams
 * into frames.
 *
 * @example
 * ```ts
 * import { defineMessage, field, type MessageOf } from "./mod.ts";
 *
 * const Quote = defineMessage({
 *   id: 7,
 *   name: "Quote",
 *   topic: "quotes",
 *   fields: { symbol: field.string(), bid: field.f64(), size: field.u64() },
 * });
 * type Quote = MessageOf<typeof Quote>;
 *
 * const quote: Quote = { symbol: "ETH-USDC", bid: 3120.5, size: 4n };
 * const bytes = Quote.toBytes(quote);
 * const back = Quote.decode(bytes);
 * if (back.symbol !== "ETH-USDC" || back.size !== 4n) throw new Error("round trip");
 * ```
 *
 * @module
 */
export { MyceliumError } from "./src/mycelium_error.ts";
export type { MyceliumErrorOptions } from "./src/mycelium_error.ts";
export {
  CodecError,
  CONTROL_TYPE_ID,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_SLAB_SIZE,
  defineMessage,
  field,
  FIRST_CONTROL_TYPE_ID,
  FRAME_MAGIC,
  FrameSplitter,
  HEADER_OFFSET,
  HEADER_SIZE,
  isUserTypeId,
  MAX_FIXED_BYTES,
  MessageType,
  Registry,
  WIRE_VERSION,
} from "./src/codec/mod.ts";
export type {
  CodecErrorCode,
  CodecErrorOptions,
  DecodedMessage,
  Field,
  FieldKind,
  Fields,
  FieldValue,
  FrameSplitterOptions,
  Infer,
  Message,
  MessageOf,
  MessageTypeOptions,
  MessageView,
  RegistryOptions,
} from "./src/codec/mod.ts";
export {
  DEFAULT_BASE_PORT,
  DEFAULT_TRANSPORT_COSTS,
  DEPLOYMENTS,
  formatLatency,
  formatThroughput,
  formatTopologyProblem,
  loadTopology,
  LOCAL_HOST,
  MONOLITH_GROUP,
  parseLatency,
  parseThroughput,
  parseTopology,
  TOPOLOGY_MODES,
  TopologyError,
  TopologyResolver,
  TRANSPORT_KINDS,
} from "./src/topology/mod.ts";
export type {
  ActorPlacement,
  Budget,
  DeclaredRoute,
  Deployment,
  LoadTopologyOptions,
  ParseTopologyOptions,
  PerformanceBudgets,
  ProcessGroup,
  QuantityLocation,
  ResolvedRoute,
  SourceLocation,
  TcpAddress,
  Topology,
  TopologyErrorCode,
  TopologyMode,
  TopologyProblem,
  TopologyResolverOptions,
  TopologyWarning,
  TransportCosts,
  TransportKind,
  UnixAddress,
} from "./src/topology/mod.ts";
