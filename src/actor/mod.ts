/**
 * Actors: behaviour (typed handlers per message type), lifecycle hooks, the
 * context they act through, supervision policies and the logger interface.
 * Knows codec types only; the runtimes live in `src/bus`.
 *
 * @module
 */
export { consumedTypes, on } from "./actor.ts";
export type { Actor, ActorSource, Handler, HandlerResult } from "./actor.ts";
export type { Context, RequestOptions } from "./context.ts";
export { NULL_LOGGER, sinkLogger } from "../logger.ts";
export type {
  LogFields,
  Logger,
  LogLevel,
  LogRecord,
  LogSink,
  SinkLoggerOptions,
} from "../logger.ts";
export { DEFAULT_SUPERVISION } from "./supervision.ts";
export type {
  ActorFailure,
  EscalatePolicy,
  FailureAction,
  RestartPolicy,
  StopPolicy,
  SupervisionPolicy,
} from "./supervision.ts";
