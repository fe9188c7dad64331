/**
 * The one table from error codes to process exit codes. Each class of error
 * has its own code so scripts can branch on `$?` without parsing text.
 *
 * @module
 */
import { MyceliumError } from "../mycelium_error.ts";
import type { TopologyErrorCode } from "../topology/mod.ts";

/**
 * Exit codes of the `mycelium` binary. Topology errors use 10–19; later
 * concepts take their own decade (codec 20, transport 30, bus 40, supervisor 50, bench 60, runtime 80, app 90) through
 * {@linkcode EXIT_CODE_BY_PREFIX}.
 */
export const EXIT_CODES = {
  /** Success. */
  OK: 0,
  /** The command ran and reports a failed result (e.g. the demo's checksums differ). */
  FAILED: 1,
  /** Bad command-line arguments (unknown command, missing value, no config given). */
  USAGE: 2,
  TOPOLOGY_READ: 10,
  TOPOLOGY_PARSE: 11,
  TOPOLOGY_INVALID: 12,
  TOPOLOGY_BAD_UNIT: 13,
  TOPOLOGY_UNKNOWN_ACTOR: 14,
  TOPOLOGY_DUPLICATE_ACTOR: 15,
  TOPOLOGY_UNPLACED_ACTOR: 16,
  TOPOLOGY_ADDRESS_CONFLICT: 17,
  TOPOLOGY_TRANSPORT_CONFLICT: 18,
  /** A peer or the NATS cluster refused this deployment's credentials (a restart will not mend it). */
  TRANSPORT_AUTH: 31,
  /** Another process holds the address a group listens on (a restart will not free it). */
  TRANSPORT_ADDRESS_IN_USE: 32,
  /** An unexpected exception: a bug in Mycelium. */
  INTERNAL: 70,
} as const satisfies Record<TopologyErrorCode, number> & Record<string, number>;

/** Exit codes of error codes not listed in {@linkcode EXIT_CODES}, by their concept prefix. */
export const EXIT_CODE_BY_PREFIX = {
  TOPOLOGY_: 19,
  CODEC_: 20,
  TRANSPORT_: 30,
  BUS_: 40,
  SUPERVISOR_: 50,
  BENCH_: 60,
  RUNTIME_: 80,
  APP_: 90,
} as const satisfies Record<string, number>;

/**
 * The exit code for an error: its own entry in {@linkcode EXIT_CODES}, else
 * its concept's, else 3 for another {@linkcode MyceliumError}, else
 * `INTERNAL`.
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "./exit_codes.ts";
 * import { MyceliumError } from "../mycelium_error.ts";
 * if (exitCodeFor(new MyceliumError("TOPOLOGY_PARSE", "x")) !== 11) throw new Error();
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof MyceliumError)) return EXIT_CODES.INTERNAL;
  const own = (EXIT_CODES as Readonly<Record<string, number>>)[error.code];
  if (own !== undefined) return own;
  for (const [prefix, code] of Object.entries(EXIT_CODE_BY_PREFIX)) {
    if (error.code.startsWith(prefix)) return code;
  }
  return 3;
}
