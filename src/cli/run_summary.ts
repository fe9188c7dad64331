/**
 * The printed run report: the app's lines, then the runtime's (completion,
 * shutdown, restarts, links, per-actor table) and the budgets table.
 *
 * @module
 */
import type { AnyApp } from "../app/app.ts";
import type { ActorReport, RunReport } from "../runtime/run_report.ts";
import { type Topology, TopologyResolver } from "../topology/mod.ts";
import { formatTable } from "./format_table.ts";

function latency(ns: number): string {
  if (ns === 0) return "-";
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(1)} ms`;
}

/** Options of {@linkcode formatRun}. */
export interface FormatRunOptions {
  /** Print the app's own lines (a lone group has only part of the figures). Default: true. */
  appLines?: boolean;
}

/** The run report as printed. */
export async function formatRun(
  app: AnyApp,
  r: RunReport,
  params: Readonly<Record<string, unknown>>,
  options: FormatRunOptions = {},
): Promise<string> {
  const appLines = options.appLines !== false && app.report !== undefined
    ? await app.report.lines(r.app, params)
    : [];
  const dropped = r.actors.reduce((n, a) => n + a.discarded + a.dropped, 0);
  const linkDropped = r.links.reduce((n, l) => n + l.dropped + l.undelivered, 0);
  const lines = [
    ...appLines,
    `  completed     ${
      r.completed ? "yes" : app.lifecycle === "job" ? "no (stopped early)" : "no"
    }; shutdown ${
      r.shutdown.drained ? "drained" : "hit its deadline"
    }; ${dropped} messages dropped or discarded; ${r.shutdown.abandonedRequests} requests abandoned`,
  ];
  if (r.links.length > 0) {
    const sent = r.links.reduce((n, l) => n + l.sent, 0);
    const frames = r.links.reduce((n, l) => n + l.frames, 0);
    const bytes = r.links.reduce((n, l) => n + l.bytes, 0);
    const resent = r.links.reduce((n, l) => n + l.resent, 0);
    const reconnects = r.links.reduce((n, l) => n + l.reconnects, 0);
    lines.push(
      `  links         ${r.links.length} link ends; ${sent} messages sent in ${frames} frames, ${bytes} bytes; ` +
        `${resent} frames resent; ${linkDropped} dropped or undelivered; ${reconnects} reconnects`,
    );
  }
  const rc = r.restart;
  if (rc !== undefined) {
    const restarted = Object.entries(rc.restarts).map(([g, n]) => `${g} ×${n}`).join(", ");
    lines.push(
      `  recovery      restarted: ${restarted}; peers reconnected to a new instance ${rc.peerRestarts} times ` +
        `and resent ${rc.framesResent} frames it had not acknowledged; ${rc.held} messages held until it was ready; ` +
        `state lost: ${rc.stateLost.length === 0 ? "none" : rc.stateLost.join(", ")}; ` +
        `${rc.unmatchedReplies} replies matched no pending request (meant for a stopped process, or late) and were ignored`,
    );
  }
  const seconds = r.elapsedMs / 1000;
  lines.push(`  elapsed       ${r.elapsedMs.toFixed(0)} ms`);
  lines.push(
    "",
    formatTable([
      [
        "actor",
        "group",
        "delivery",
        "handled",
        "msg/s",
        "failed",
        "dropped",
        "discarded",
        "restarts",
        "p50",
        "p99",
      ],
      ...r.actors.map((a) => [
        a.name,
        a.group,
        a.delivery,
        String(a.handled),
        seconds > 0 ? String(Math.round(a.handled / seconds)) : "-",
        String(a.failed),
        String(a.dropped),
        String(a.discarded),
        String(a.restarts),
        latency(a.p50Ns),
        latency(a.p99Ns),
      ]),
    ]),
    "  (p50/p99: time from entering the actor's mailbox to the end of its handler; direct: called inside the sender's publish, not timed)",
  );
  return lines.join("\n");
}

/** One declared route's latency budget against what the run measured. */
export interface BudgetCheck {
  readonly from: string;
  readonly to: string;
  readonly transport: string;
  /** Budget in ns, and the key that set it. */
  readonly budgetNs: number;
  readonly budgetKey: string;
  /** Measured at the receiver (mailbox wait + handling), in ns. */
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** Whether the 99th percentile is within the budget. */
  readonly ok: boolean;
}

/**
 * Compares each declared route that has a latency budget with the latency
 * measured at its receiving actor (routes to actors called directly are not
 * timed, and are left out).
 */
export function checkBudgets(topology: Topology, actors: readonly ActorReport[]): BudgetCheck[] {
  const byActor = new Map(actors.map((a) => [a.name, a]));
  const checks: BudgetCheck[] = [];
  for (const route of new TopologyResolver(topology).routeTable()) {
    const measured = byActor.get(route.to);
    if (
      route.latencyBudget === undefined || measured === undefined || measured.delivery === "direct"
    ) continue;
    checks.push({
      from: route.from,
      to: route.to,
      transport: route.transport,
      budgetNs: route.latencyBudget.value,
      budgetKey: route.latencyBudget.key,
      p50Ns: measured.p50Ns,
      p99Ns: measured.p99Ns,
      ok: measured.p99Ns <= route.latencyBudget.value,
    });
  }
  return checks;
}

/** The budgets table. `paced`: the run was not at full load. */
export function formatBudgets(checks: readonly BudgetCheck[], paced: boolean): string {
  if (checks.length === 0) return "budgets: the topology declares no latency budget for its routes";
  const over = checks.filter((c) => !c.ok).length;
  return [
    `budgets: ${
      checks.length - over
    } of ${checks.length} declared routes within their latency budget (p99 at the receiver)`,
    ...(paced ? [] : ["  (measured at full load, so queueing counts)"]),
    formatTable([
      ["from", "to", "config transport", "budget", "set by", "p50", "p99", "verdict"],
      ...checks.map((c) => [
        c.from,
        c.to,
        c.transport,
        latency(c.budgetNs),
        c.budgetKey,
        latency(c.p50Ns),
        latency(c.p99Ns),
        c.ok ? "ok" : "OVER",
      ]),
    ]),
  ].join("\n");
}
