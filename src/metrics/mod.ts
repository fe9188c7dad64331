/**
 * Metrics: the latency recorder used by applications and the runtime.
 *
 * @module
 */
export { LatencyRecorder } from "./latency_recorder.ts";
export type { LatencySummary } from "./latency_recorder.ts";
