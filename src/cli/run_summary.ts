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

/** Share of an actor's timed deliveries that met a queue. */
function queuedShare(a: ActorReport): string {
  const all = a.hop.samples + a.queued.samples;
  if (all === 0) return "-";
  return `${Math.round((100 * a.queued.samples) / all)}%`;
}

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
        "hop p50",
        "hop p99",
        "queued",
        "queued p99",
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
        latency(a.hop.p50Ns),
        latency(a.hop.p99Ns),
        queuedShare(a),
        latency(a.queued.p99Ns),
      ]),
    ]),
    "  (hop: send to handler start of deliveries that found the mailbox empty and the actor idle,",
    "   what the hop itself costs; queued: share of deliveries that waited behind others, and their",
    "   send to handler start, waiting included; one delivery in 8 is timed. direct: called inside",
    "   the sender's send or publish, no hop to time)",
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
  /**
   * The receiver's hop times (send to handler start, nothing queued ahead):
   * what the budget is compared with. 0 when none was timed.
   */
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** Hop samples behind the figures. */
  readonly samples: number;
  /** The receiver's deliveries that waited behind others, send to handler start, p99 (0: none). */
  readonly queuedP99Ns: number;
  /**
   * `ok`: hop p99 within the budget; `over`: not, on at least
   * {@linkcode MIN_HOP_SAMPLES} hop samples; `direct`: the receiver is
   * called directly (no hop); `bounded`: no delivery found the receiver
   * idle, or too few did and their p99 was over, but even those that queued
   * started within the budget; `few`: fewer than `MIN_HOP_SAMPLES` found it
   * idle, their p99 over the budget (a first, cold delivery, say), and
   * queued ones took longer too: not shown to be within, not judged over;
   * `unknown`: none found it idle and queued ones took longer.
   */
  readonly verdict: "ok" | "over" | "direct" | "bounded" | "few" | "unknown";
  /** Whether the route is shown to be within its budget (`ok`, `bounded` or `direct`). */
  readonly ok: boolean;
}

/**
 * Hop samples a route needs before a hop p99 over its budget counts as
 * `OVER`: at full load a receiver may find its mailbox empty only on its
 * first delivery, whose time includes compiling the handler; one such sample
 * says nothing of the hop. (Within the budget, any number of samples shows
 * the hop can be: a quiet route may never collect ten, one delivery in eight
 * being timed.)
 */
export const MIN_HOP_SAMPLES = 10;

/**
 * Compares each declared route that has a latency budget with the hop times
 * measured at its receiving actor: deliveries that found nothing queued
 * ahead, so the figure is the transport's cost, not the load's. Deliveries
 * that waited behind others are reported beside it, not judged.
 */
export function checkBudgets(topology: Topology, actors: readonly ActorReport[]): BudgetCheck[] {
  const byActor = new Map(actors.map((a) => [a.name, a]));
  const checks: BudgetCheck[] = [];
  for (const route of new TopologyResolver(topology).routeTable()) {
    const measured = byActor.get(route.to);
    if (route.latencyBudget === undefined || measured === undefined) continue;
    const budget = route.latencyBudget.value;
    const hop = measured.hop;
    const queued = measured.queued;
    const verdict: BudgetCheck["verdict"] = measured.delivery === "direct"
      ? "direct"
      : hop.samples > 0 && hop.p99Ns <= budget
      ? "ok"
      : hop.samples >= MIN_HOP_SAMPLES
      ? "over"
      : queued.samples > 0 && queued.p99Ns <= budget
      ? "bounded"
      : hop.samples > 0
      ? "few"
      : "unknown";
    checks.push({
      from: route.from,
      to: route.to,
      transport: route.transport,
      budgetNs: budget,
      budgetKey: route.latencyBudget.key,
      p50Ns: hop.p50Ns,
      p99Ns: hop.p99Ns,
      samples: hop.samples,
      queuedP99Ns: measured.queued.p99Ns,
      verdict,
      ok: verdict === "ok" || verdict === "bounded" || verdict === "direct",
    });
  }
  return checks;
}

const VERDICT: Readonly<Record<BudgetCheck["verdict"], string>> = {
  ok: "ok",
  over: "OVER",
  direct: "direct call",
  bounded: "ok (queued p99)",
  few: "too few idle samples",
  unknown: "no idle sample",
};

/** The budgets table. `paced`: the run was not at full load. */
export function formatBudgets(checks: readonly BudgetCheck[], paced: boolean): string {
  if (checks.length === 0) return "budgets: the topology declares no latency budget for its routes";
  const within = checks.filter((c) => c.ok).length;
  const direct = checks.filter((c) => c.verdict === "direct").length;
  const unknown = checks.filter((c) => c.verdict === "unknown").length;
  const few = checks.filter((c) => c.verdict === "few").length;
  const notes = [
    ...(direct > 0 ? [`${direct} of them direct calls (no hop)`] : []),
    ...(unknown > 0
      ? [`${unknown} never found the receiver idle (every timed delivery queued: pace the run)`]
      : []),
    ...(few > 0
      ? [
        `${few} found the receiver idle fewer than ${MIN_HOP_SAMPLES} times, too few to judge ` +
        `(pace the run)`,
      ]
      : []),
  ];
  return [
    `budgets: ${within} of ${checks.length} declared routes within their latency budget` +
    (notes.length === 0 ? "" : `; ${notes.join("; ")}`),
    `  (compared: hop p99 at the receiver, send to handler start when nothing was queued ahead;${
      paced ? "" : " at full load"
    }`,
    "   queued p99: the same for deliveries that waited behind others, load not transport, not judged)",
    formatTable([
      [
        "from",
        "to",
        "config transport",
        "budget",
        "set by",
        "hop p50",
        "hop p99",
        "queued p99",
        "verdict",
      ],
      ...checks.map((c) => [
        c.from,
        c.to,
        c.transport,
        latency(c.budgetNs),
        c.budgetKey,
        latency(c.p50Ns),
        latency(c.p99Ns),
        latency(c.queuedP99Ns),
        VERDICT[c.verdict],
      ]),
    ]),
  ].join("\n");
}
