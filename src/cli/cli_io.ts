/**
 * Where the CLI's commands write, so they can be run in-process by tests and
 * by the binary alike.
 *
 * @module
 */

/** Output channels of a command. Each call writes one or more whole lines. */
export interface CliIo {
  /** Results, to stdout. */
  out(text: string): void;
  /** Diagnostics, to stderr. */
  err(text: string): void;
}
