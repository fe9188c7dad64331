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
export function queuedShare(a: ActorReport): string {
  const all = a.hop.samples + a.queued.samples;
  if (all === 0) return "-";
  const share = (100 * a.queued.samples) / all;
  // A share that rounds to 0 % or 100 % but is not: `<1%`, `>99%` (a queued p99 stands beside it).
  if (share > 0 && share < 0.5) return "<1%";
  if (share < 100 && share >= 99.5) return ">99%";
  return `${Math.round(share)}%`;
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
    ...deliveryNotes(r.actors, r.links.length > 0),
  );
  return lines.join("\n");
}

/**
 * The actor table's footnote: what its columns mean, and each delivery shown
 * in it. `linked`: the run had links (a message from another process is timed
 * from its arrival).
 */
function deliveryNotes(actors: readonly ActorReport[], linked: boolean): string[] {
  const notes = [
    "  (hop: send to handler start of deliveries that found the mailbox empty and the actor idle,",
    "   what the hop itself costs; queued: share of deliveries that waited behind others, and their",
    "   send to handler start, waiting included; one delivery in 8 is timed.",
  ];
  if (linked) {
    notes.push(
      "   From another process, the clock starts when the link hands the message to the bus:",
      "   encoding, the socket and decoding are not in these figures.",
    );
  }
  if (actors.some((a) => a.delivery === "direct")) {
    notes.push("   direct: called inside the sender's send or publish, no hop to time.");
  }
  if (actors.some((a) => a.delivery === "direct+mailbox")) {
    notes.push(
      "   direct+mailbox: senders in its process call it directly (untimed); what other processes",
      "   send, and what finds it busy, comes through its mailbox and is timed as above (a send by",
      "   name from another process that finds it idle is called on arrival, untimed).",
    );
  }
  // The last note's full stop closes the parenthesis instead.
  notes[notes.length - 1] = notes[notes.length - 1]!.replace(/\.$/, ")");
  return notes;
}

/** One declared route's latency budget against what the run measured. */
export interface BudgetCheck {
  readonly from: string;
  readonly to: string;
  readonly transport: string;
  /** Whether sender and receiver ran in different processes in this run. */
  readonly linked: boolean;
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
   * {@linkcode MIN_HOP_SAMPLES} hop samples; `direct`: the sender runs in
   * the receiver's process, which calls the receiver directly (no hop);
   * `bounded`: no delivery found the receiver idle, or too few did and
   * their p99 was over, but even those that queued started within the
   * budget; `few`: fewer than `MIN_HOP_SAMPLES` found it idle, their p99
   * over the budget (a first, cold delivery, say), and queued ones, if any,
   * took longer too: not shown to be within, not judged over; `unknown`: none
   * found it idle and queued ones took longer; `untimed`: no delivery to
   * the receiver was timed; `in-process`: the config puts sender and
   * receiver in different processes, but this run had them in one (a
   * monolith run, `validate --measure`), so the route's transport was not
   * measured: not judged.
   */
  readonly verdict:
    | "ok"
    | "over"
    | "direct"
    | "bounded"
    | "few"
    | "unknown"
    | "untimed"
    | "in-process";
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
 * ahead, so the figure is the hop's cost, not the load's (from another
 * process, from the link's hand-over in the receiving process). Deliveries
 * that waited behind others are reported beside it, not judged. Whether a
 * route crossed processes is read from the groups the actors ran in
 * (`actors`), not from the config: a route from another process is judged
 * on the receiver's hop even when senders of its own process call it
 * directly, and a route the config sends over a link but that ran inside
 * one process is not judged at all.
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
    const sender = byActor.get(route.from);
    const sameProcess = sender === undefined
      ? route.fromGroup === route.toGroup
      : sender.group === measured.group;
    const verdict: BudgetCheck["verdict"] = sameProcess && route.transport !== "channel"
      ? "in-process"
      : sameProcess && measured.delivery !== "mailbox"
      ? "direct"
      : hop.samples > 0 && hop.p99Ns <= budget
      ? "ok"
      : hop.samples >= MIN_HOP_SAMPLES
      ? "over"
      : queued.samples > 0 && queued.p99Ns <= budget
      ? "bounded"
      : hop.samples > 0
      ? "few"
      : queued.samples > 0
      ? "unknown"
      : "untimed";
    checks.push({
      from: route.from,
      to: route.to,
      transport: route.transport,
      linked: !sameProcess,
      budgetNs: budget,
      budgetKey: route.latencyBudget.key,
      p50Ns: hop.p50Ns,
      p99Ns: hop.p99Ns,
      samples: hop.samples,
      queuedP99Ns: queued.p99Ns,
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
  untimed: "not timed",
  "in-process": "in one process: not judged",
};

/** The budgets table. `paced`: the run was not at full load. */
export function formatBudgets(checks: readonly BudgetCheck[], paced: boolean): string {
  if (checks.length === 0) return "budgets: the topology declares no latency budget for its routes";
  const within = checks.filter((c) => c.ok).length;
  const direct = checks.filter((c) => c.verdict === "direct").length;
  const unknown = checks.filter((c) => c.verdict === "unknown").length;
  const few = checks.filter((c) => c.verdict === "few").length;
  const untimed = checks.filter((c) => c.verdict === "untimed").length;
  const local = checks.filter((c) => c.verdict === "in-process");
  const notes = [
    ...(direct > 0 ? [`${direct} of them direct calls in the sender's process (no hop)`] : []),
    ...(local.length > 0
      ? [
        `${local.length} not judged: the config sends them over ${
          [...new Set(local.map((c) => c.transport))].join(", ")
        }, but this run had sender and receiver in one process, so only an in-process hop was ` +
        `measured (run the split deployment to judge them)`,
      ]
      : []),
    ...(untimed > 0 ? [`${untimed} had no timed delivery at the receiver`] : []),
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
    `  (compared${
      paced ? "" : ", the run at full load"
    }: hop p99 at the receiver, send to handler start when nothing was queued ahead;`,
    ...(checks.some((c) => c.linked)
      ? [
        "   from another process, the clock starts when the link hands the message to the bus:",
        "   encoding, the socket and decoding are not timed;",
      ]
      : []),
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
        // A direct call has no hop: the receiver's figures are other senders' deliveries.
        ...(c.verdict === "direct"
          ? ["-", "-", "-"]
          : [latency(c.p50Ns), latency(c.p99Ns), latency(c.queuedP99Ns)]),
        VERDICT[c.verdict],
      ]),
    ]),
  ].join("\n");
}
