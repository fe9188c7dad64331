/**
 * Supervision: what happens to an actor whose handler throws or rejects.
 *
 * @module
 */

/**
 * Restart the actor after a failure: call `stop`, take a fresh instance from
 * the factory (or reuse the object), call `start`, then go on with the next
 * message. The failed message is not retried.
 */
export interface RestartPolicy {
  /** Restart. */
  readonly strategy: "restart";
  /** Restarts allowed within `withinMs`; one more failure stops the actor. Default: 3. */
  readonly maxRestarts?: number;
  /** The window over which restarts are counted, in ms. Default: 10000. */
  readonly withinMs?: number;
  /** Delay before the first restart in a window, doubled for each next one. Default: 10. */
  readonly backoffMs?: number;
  /** Upper bound of the delay. Default: 1000. */
  readonly maxBackoffMs?: number;
}

/** Stop the actor at its first failure; messages still queued are counted as dropped. */
export interface StopPolicy {
  /** Stop. */
  readonly strategy: "stop";
}

/** Stop the actor and hand the failure to the runtime's escalation handler. */
export interface EscalatePolicy {
  /** Escalate. */
  readonly strategy: "escalate";
}

/**
 * A supervision policy. Default (when none is given): restart, 3 times
 * within 10 s, backoff from 10 ms doubling up to 1 s.
 */
export type SupervisionPolicy = RestartPolicy | StopPolicy | EscalatePolicy;

/** The default policy. */
export const DEFAULT_SUPERVISION: RestartPolicy = Object.freeze({
  strategy: "restart",
  maxRestarts: 3,
  withinMs: 10_000,
  backoffMs: 10,
  maxBackoffMs: 1_000,
});

/**
 * What was done about a failure: `restart`, `stop`, `escalate`, or `resume`
 * (the handler stays in place; what a `MonolithBus` sync handler gets, since
 * it has no mailbox to pause). Once the bus is shutting down no actor is
 * restarted: a failure that its policy would restart is then reported as
 * `stop` (a failed start hook) or `resume` (a failed handler; its mailbox
 * still drains), and a `restart`
 * reported just before the shutdown whose backoff has not run out is not
 * made (the actor resumes or stops as above; its `restarts` count drops).
 */
export type FailureAction = "restart" | "stop" | "escalate" | "resume";

/** A report of one failure, as given to the runtime's `onFailure`. */
export interface ActorFailure {
  /** The actor's name. */
  readonly actor: string;
  /** Where it failed. */
  readonly phase: "start" | "handle" | "stop";
  /** Name of the message type being handled (`undefined` outside `handle`). */
  readonly messageType: string | undefined;
  /** What was thrown or rejected. */
  readonly error: unknown;
  /** What the runtime did about it. */
  readonly action: FailureAction;
  /** Restarts of this actor in the current window, this one included. */
  readonly restarts: number;
}
