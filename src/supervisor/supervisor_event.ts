/**
 * What the supervisor reports about its children, and a one-line text for
 * each report.
 *
 * @module
 */
import type { SupervisorError } from "./supervisor_error.ts";

/** A child process was started (for the first time, or again after a crash). */
export interface ChildStartedEvent {
  /** Discriminant. */
  readonly type: "started";
  /** The child's name. */
  readonly child: string;
  /** Its process id. */
  readonly pid: number;
  /** How many times this child has been started so far, this one included (1 = first start). */
  readonly run: number;
}

/** A child process ended, for whatever reason. */
export interface ChildExitedEvent {
  /** Discriminant. */
  readonly type: "exited";
  /** The child's name. */
  readonly child: string;
  /** Its process id. */
  readonly pid: number;
  /** The exit code (128 + the signal's number when a signal ended it). */
  readonly code: number;
  /** The signal that ended it, or `null` when it exited by itself. */
  readonly signal: Deno.Signal | null;
  /** How long this run lasted, in milliseconds. */
  readonly uptimeMs: number;
  /** `true` when the supervisor asked it to stop (it was closing), so the exit is not a crash. */
  readonly requested: boolean;
}

/** A child exited with code 0 on its own: its work is done and it is not restarted. */
export interface ChildCompletedEvent {
  /** Discriminant. */
  readonly type: "completed";
  /** The child's name. */
  readonly child: string;
}

/** A child crashed and will be started again after `delayMs`. */
export interface ChildRestartingEvent {
  /** Discriminant. */
  readonly type: "restarting";
  /** The child's name. */
  readonly child: string;
  /** The backoff before the next start, in milliseconds. */
  readonly delayMs: number;
  /** This restart's number within the policy's window (1 = first). */
  readonly restart: number;
  /** The most restarts the window allows. */
  readonly maxRestarts: number;
}

/** The supervisor gave up on a child (too many restarts, or it cannot be spawned) and fails. */
export interface ChildGaveUpEvent {
  /** Discriminant. */
  readonly type: "gave-up";
  /** The child's name. */
  readonly child: string;
  /** Why: `SUPERVISOR_CHILD_FAILED` or `SUPERVISOR_SPAWN`. */
  readonly error: SupervisorError;
}

/** The supervisor sent a child a signal to stop it. */
export interface ChildStoppingEvent {
  /** Discriminant. */
  readonly type: "stopping";
  /** The child's name. */
  readonly child: string;
  /** Its process id. */
  readonly pid: number;
  /** `SIGTERM` to ask, `SIGKILL` once the deadline has passed. */
  readonly signal: "SIGTERM" | "SIGKILL";
}

/** Every child has ended and nothing will be restarted: the last event. */
export interface SupervisorFinishedEvent {
  /** Discriminant. */
  readonly type: "finished";
  /** How it ended (see {@linkcode SupervisorOutcome}). */
  readonly reason: "completed" | "closed" | "failed";
}

/** Everything {@linkcode Supervisor} reports through `onEvent`. */
export type SupervisorEvent =
  | ChildStartedEvent
  | ChildExitedEvent
  | ChildCompletedEvent
  | ChildRestartingEvent
  | ChildGaveUpEvent
  | ChildStoppingEvent
  | SupervisorFinishedEvent;

/**
 * One line of text for an event, for a logger or a terminal.
 *
 * @example
 * ```ts
 * import { formatSupervisorEvent } from "./supervisor_event.ts";
 * const text = formatSupervisorEvent({
 *   type: "restarting", child: "execution", delayMs: 400, restart: 2, maxRestarts: 5,
 * });
 * if (text !== "execution: restarting in 400 ms (restart 2 of at most 5)") throw new Error(text);
 * ```
 */
export function formatSupervisorEvent(event: SupervisorEvent): string {
  switch (event.type) {
    case "started":
      return `${event.child}: started (pid ${event.pid}, run ${event.run})`;
    case "exited": {
      const how = event.signal === null ? `code ${event.code}` : `signal ${event.signal}`;
      return `${event.child}: exited with ${how} after ${Math.round(event.uptimeMs)} ms${
        event.requested ? " (asked to stop)" : ""
      }`;
    }
    case "completed":
      return `${event.child}: completed`;
    case "restarting":
      return `${event.child}: restarting in ${event.delayMs} ms (restart ${event.restart} of at most ${event.maxRestarts})`;
    case "gave-up":
      return `${event.child}: gave up: ${event.error.message}`;
    case "stopping":
      return `${event.child}: sending ${event.signal} to pid ${event.pid}`;
    case "finished":
      return `supervisor: finished (${event.reason})`;
  }
}
