/**
 * Topologies that split the trading app across processes on this
 * machine, on free loopback ports, for the split-run tests.
 */
import { tradingApp } from "../../examples/trading/app.ts";

/** The first of `n` consecutive free ports on 127.0.0.1 (bound and released at once). */
export function freePorts(n: number): number {
  for (;;) {
    const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (first.addr as Deno.NetAddr).port;
    first.close();
    try {
      for (let i = 1; i < n; i++) Deno.listen({ hostname: "127.0.0.1", port: port + i }).close();
      return port;
    } catch {
      // One of them is taken: try another range.
    }
  }
}

/** Where a split topology's sockets go; without `socketDir` the runner decides. */
export interface SplitOptions {
  /** First TCP port. */
  basePort: number;
  /** `socket_dir` of the topology. */
  socketDir?: string;
}

/**
 * Three groups: the hot path, the executor (reached over a Unix socket) and
 * compliance on a "host" mapped to this machine (reached over TCP).
 */
export function hybridTopology(options: SplitOptions): string {
  return `topology:
  mode: hybrid
${
    options.socketDir === undefined
      ? ""
      : `  socket_dir: ${options.socketDir}\n`
  }  base_port: ${options.basePort}
  hosts: { local: "127.0.0.1", compliance: "127.0.0.1" }
  process_groups:
    hot_path:
      actors: [polygon_collector, market_relay, arbitrage_strategy, metrics_collector]
      transport: channel
    execution:
      actors: [order_executor]
      transport: unix_socket
    compliance:
      actors: [audit_trail, risk_manager]
      host: compliance
`;
}

/** One process per actor, each at its own TCP endpoint on 127.0.0.1. */
export function distributedTopology(options: SplitOptions): string {
  const actors = tradingApp.actorNames.map((a, i) =>
    `    ${a}: { transport: tcp, endpoint: "127.0.0.1:${options.basePort + i}" }`
  );
  return `topology:\n  mode: distributed\n  actors:\n${actors.join("\n")}\n`;
}
