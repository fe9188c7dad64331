/**
 * Mycelium: message-passing actors whose deployment is a configuration choice.
 *
 * This entry exports the whole public API: message types and the wire codec
 * (encode into slabs, decode to objects or zero-copy views, split byte
 * streams into frames), actors and their context, the MessageBus and the
 * MonolithBus, the latency recorder, and the YAML topology with its resolver.
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
  ControlFrame,
  DecodedMessage,
  Field,
  FieldBuilders,
  FieldKind,
  Fields,
  FieldValue,
  FrameSplitterOptions,
  HeaderOffsets,
  Infer,
  Message,
  MessageOf,
  MessageTypeOptions,
  MessageView,
  RegistryOptions,
} from "./src/codec/mod.ts";
export {
  DEFAULT_BASE_PORT,
  DEFAULT_NATS_SUBJECT_PREFIX,
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
  NatsAuth,
  NatsDelivery,
  NatsJetStreamSettings,
  NatsSettings,
  NatsTls,
  ParseTopologyOptions,
  PerformanceBudgets,
  ProcessGroup,
  QuantityLocation,
  ResolvedLink,
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
export {
  consumedTypes,
  DEFAULT_SUPERVISION,
  NULL_LOGGER,
  on,
  sinkLogger,
} from "./src/actor/mod.ts";
export type {
  Actor,
  ActorFailure,
  ActorSource,
  Context,
  EscalatePolicy,
  FailureAction,
  Handler,
  HandlerResult,
  LogFields,
  Logger,
  LogLevel,
  LogRecord,
  LogSink,
  RequestOptions,
  RestartPolicy,
  SinkLoggerOptions,
  StopPolicy,
  SupervisionPolicy,
} from "./src/actor/mod.ts";
export {
  BusError,
  DEFAULT_MAILBOX_CAPACITY,
  MailboxFullError,
  MessageBus,
  MonolithBus,
  RequestTimeoutError,
} from "./src/bus/mod.ts";
export type {
  ActorRef,
  ActorStats,
  AnyMessage,
  BusErrorCode,
  BusErrorOptions,
  BusStats,
  CloseOptions,
  Emitter,
  HandlesType,
  MailboxOptions,
  MessageBusOptions,
  MonolithActorOptions,
  MonolithBusOptions,
  OverflowPolicy,
  PeerRoutes,
  RemotePeer,
  RouteTargets,
  ShutdownReport,
  SpawnOptions,
} from "./src/bus/mod.ts";
export { DeliveryTiming, LatencyRecorder } from "./src/metrics/mod.ts";
export { runCli } from "./src/cli/main.ts";
export type { CliIo } from "./src/cli/cli_io.ts";
export type { RunCliOptions } from "./src/cli/main.ts";
export type { DeliveryTimingOptions, LatencySummary } from "./src/metrics/mod.ts";
export {
  currentRuntime,
  formatSupervisorEvent,
  onShutdownSignals,
  PERMISSION_KINDS,
  permissionFlags,
  selfCommand,
  Supervisor,
  SupervisorError,
} from "./src/supervisor/mod.ts";
export type {
  ChildCompletedEvent,
  ChildExitedEvent,
  ChildGaveUpEvent,
  ChildOutputLine,
  ChildRestartingEvent,
  ChildStartedEvent,
  ChildStoppingEvent,
  ChildSummary,
  PermissionKind,
  ProcessRestartPolicy,
  SelfCommand,
  SelfCommandOptions,
  SelfRuntime,
  ShutdownReason,
  ShutdownSignal,
  ShutdownSignals,
  ShutdownSignalsOptions,
  SupervisedChild,
  SupervisorCloseOptions,
  SupervisorErrorCode,
  SupervisorErrorOptions,
  SupervisorEvent,
  SupervisorFinishedEvent,
  SupervisorOptions,
  SupervisorOutcome,
} from "./src/supervisor/mod.ts";
export {
  isTransportError,
  Link,
  LINK_PROTOCOL_VERSION,
  LinkListener,
  silentLogger,
  stderrLogger,
  TcpTransport,
  TransportError,
  UnixTransport,
  WRITE_RESULT,
} from "./src/transport/mod.ts";
export type {
  Announcement,
  ByteListener,
  ByteStream,
  ConnectOptions,
  InboundRoute,
  LinkCloseOptions,
  LinkHandler,
  LinkListenerOptions,
  LinkOptions,
  LinkState,
  LinkStats,
  LinkWritten,
  ListenerStats,
  OutboundRoute,
  ReconnectOptions,
  RouteKind,
  SendOptions,
  SocketKind,
  TcpTransportOptions,
  TlsOptions,
  Transport,
  TransportErrorCode,
  TransportErrorOptions,
  TransportLogger,
  UnixTransportOptions,
  WriteResult,
} from "./src/transport/mod.ts";
export { AppError, defaultParams, defineApp, kebabCase, param, paramArgs } from "./src/app/mod.ts";
export type {
  ActorDecl,
  ActorFactory,
  ActorInstances,
  ActorOf,
  ActorSpec,
  AnyApp,
  App,
  AppEnv,
  AppErrorCode,
  AppErrorOptions,
  AppOptions,
  AppReport,
  Built,
  FixedRoute,
  Lifecycle,
  MergeInfo,
  NumberParamOptions,
  Param,
  ParamBuilders,
  ParamKind,
  ParamOptions,
  Params,
  ParamValues,
  PathAccess,
  PathParamOptions,
  SetupEnv,
} from "./src/app/mod.ts";
export {
  appRegistry,
  BusNode,
  groupPlan,
  mergeProcessReports,
  processReportFromJson,
  processReportToJson,
  runMonitorName,
  runProcess,
  RuntimeError,
  transportOf,
} from "./src/runtime/mod.ts";
export type {
  ActorReport,
  BusNodeCloseOptions,
  BusNodeNats,
  BusNodeOptions,
  DeliveryTimes,
  DialTarget,
  GroupAddress,
  GroupPlan,
  GroupPlanOptions,
  LinkReport,
  LinkTuning,
  PlannedDial,
  ProcessReport,
  ReadyOptions,
  RestartCost,
  RunProcessOptions,
  RunReport,
  RuntimeErrorCode,
  RuntimeErrorOptions,
  TransportOfOptions,
} from "./src/runtime/mod.ts";
export { LinkPeer } from "./src/bus/link_peer.ts";
export type { LinkPeerOptions, LinkPeerStats } from "./src/bus/link_peer.ts";
export { NATS_ENVELOPE_SIZE, NatsPeer } from "./src/bus/nats_peer.ts";
export type {
  NatsJetStreamWire,
  NatsJetStreamWireMessage,
  NatsPeerJetStream,
  NatsPeerOptions,
  NatsPeerStats,
  NatsWire,
  NatsWireMessage,
} from "./src/bus/nats_peer.ts";
export { NatsTransport } from "./src/transport/nats.ts";
export { NatsJetStream } from "./src/transport/nats_jetstream.ts";
export type {
  NatsConsumeOptions,
  NatsJetStreamBacklog,
  NatsJetStreamMessage,
  NatsJetStreamOptions,
} from "./src/transport/nats_jetstream.ts";
export type {
  NatsEvent,
  NatsHandler,
  NatsMessage,
  NatsTransportOptions,
  NatsTransportStats,
} from "./src/transport/nats.ts";
