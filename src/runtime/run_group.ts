/**
 * {@linkcode runGroup}: one process group of the reference pipeline in a split
 * deployment, and {@linkcode mergeGroupSummaries}: the groups' reports summed
 * into the summary a monolith run prints.
 *
 * How the groups end together: the group hosting the audit trail publishes
 * `RunComplete` when the end of the stream reaches it (every upstream stage
 * has handled everything by then: the end marker follows the last message on
 * every hop). Each group, on `RunComplete`, waits for its actors to be idle and
 * publishes `GroupDrained`. Links keep order, so a group holding
 * `GroupDrained` from every peer has received everything they sent it; once
 * its actors are idle again, its counters are final.
 *
 * @module
 */
import { on } from "../actor/mod.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import { Registry } from "../codec/mod.ts";
import type { ShutdownReport } from "../bus/_core.ts";
import { MessageBus } from "../bus/message_bus.ts";
import { ACTOR, type AuditSink, PIPELINE_ACTORS, Produce } from "../pipeline/actors.ts";
import { PIPELINE_TYPES, StreamEnd, type V2Swap } from "../pipeline/messages.ts";
import type { ActorSummary, LedgerSummary, PipelineSummary } from "../pipeline/pipeline.ts";
import { PipelineCast } from "../pipeline/pipeline_cast.ts";
import type { Topology } from "../topology/topology.ts";
import type { TlsOptions } from "../transport/tcp.ts";
import { BusNode, type LinkReport, type LinkTuning } from "./bus_node.ts";
import { groupPlan, transportOf } from "./group_plan.ts";
import { GroupDrained, RunComplete } from "./run_messages.ts";
import { RuntimeError } from "./runtime_error.ts";

/** Options of {@linkcode runGroup}. */
export interface RunGroupOptions {
  /** The deployment. */
  topology: Topology;
  /** The process group this process runs. */
  group: string;
  /** Where the audit trail writes. Required in the group hosting `audit_trail`. */
  audit?: AuditSink;
  /** Swaps to generate. Default: 20,000. Ignored with `replay`. */
  swaps?: number;
  /** Seed of the market. Default: 1. */
  seed?: number;
  /** Swaps per second the collector produces (the collector's group). Default: as fast as the pipeline takes them. */
  rate?: number;
  /** Swaps to replay instead of generating them. */
  replay?: readonly V2Swap[];
  /** Directory of relative socket paths. Default: the topology's `socket_dir`. */
  socketDir?: string;
  /** Shared secret of the deployment's links. Default: none. */
  key?: string | Uint8Array;
  /** TLS for tcp links. Default: plain TCP. */
  tls?: TlsOptions;
  /** Host tcp listeners bind to. Default: the address's host. */
  bindHostname?: string;
  /** Link settings. */
  link?: LinkTuning;
  /** Where the bus and links log. */
  logger?: Logger;
  /** Stops the run early (the summary then says `completed: false`). */
  signal?: AbortSignal;
  /** How long to wait for every other group to be reachable, in ms. Default: 60,000. */
  readyTimeoutMs?: number;
  /** How long shutdown may drain mailboxes and links, in ms. Default: 5000. */
  drainMs?: number;
}

/**
 * What one group did: the counters of the actors it hosts (fields of actors
 * hosted elsewhere are absent), its shutdown report and its links.
 */
export interface GroupSummary {
  /** The group's name. */
  readonly group: string;
  /** Swaps produced (the collector's group). */
  readonly swaps?: number;
  /** Signals found (the strategy's group). */
  readonly signals?: number;
  /** Orders filled (the executor's group). */
  readonly fills?: number;
  /** Orders refused (the executor's group). */
  readonly refused?: number;
  /** Realised P&L in micro-units (the executor's group). */
  readonly pnlMicro?: bigint;
  /** Whether risk halted trading (the risk manager's group). */
  readonly halted?: boolean;
  /** Exposure in micro-units (the risk manager's group). */
  readonly exposureMicro?: bigint;
  /** Audit lines written (the audit trail's group). */
  readonly auditLines?: number;
  /** The audit trail's ledger (its group). */
  readonly ledger?: LedgerSummary;
  /** Approved ids never booked (the risk manager's group). */
  readonly approvedUnbooked?: readonly bigint[];
  /** Whether this group saw the run complete (and every peer drained). */
  readonly completed: boolean;
  /** Counters of the actors it hosts. */
  readonly actors: readonly ActorSummary[];
  /** Its bus's shutdown. */
  readonly shutdown: ShutdownReport;
  /** Its links' counters. */
  readonly links: readonly LinkReport[];
  /** Wall time of the group, in ms. */
  readonly elapsedMs: number;
}

/** Every message type a split pipeline run sends over links. */
export function pipelineRegistry(): Registry {
  return new Registry([...PIPELINE_TYPES, Produce, RunComplete, GroupDrained]);
}

/** Name of a group's run monitor (it hears `RunComplete` and `GroupDrained`). */
export function runMonitorName(group: string): string {
  return `mycelium.run.${group}`;
}

/**
 * Runs process group `group` of the reference pipeline: spawns its actors,
 * links to the other groups, waits until every pipeline actor is reachable
 * before the collector (if hosted here) starts, and returns once the run
 * completed everywhere (or `signal` aborted).
 *
 * @throws {RuntimeError} `RUNTIME_PLAN` (no such group, no audit sink where
 *   the audit trail runs), `RUNTIME_NOT_READY`, `RUNTIME_DIAL_FAILED`.
 *
 * @example One process per group (what `mycelium run CONFIG --group NAME` does)
 * ```ts ignore
 * const topology = await loadTopology("config/prod.yaml", { knownActors: PIPELINE_ACTORS });
 * const summary = await runGroup({ topology, group: "execution", seed: 1, swaps: 20_000 });
 * console.log(groupSummaryToJson(summary)); // one line for the parent to merge
 * ```
 */
export async function runGroup(options: RunGroupOptions): Promise<GroupSummary> {
  const started = performance.now();
  const { topology, group } = options;
  const plan = groupPlan(
    topology,
    group,
    options.socketDir === undefined ? {} : { socketDir: options.socketDir },
  );
  const hosted = new Set(plan.actors);
  if (hosted.has(ACTOR.audit) && options.audit === undefined) {
    throw new RuntimeError(
      "RUNTIME_PLAN",
      `group '${group}' hosts ${ACTOR.audit} but no audit sink was given`,
      { peer: group },
    );
  }
  const bus = new MessageBus(options.logger === undefined ? {} : { logger: options.logger });
  const log = options.logger ?? NULL_LOGGER;
  const peers = new Set(plan.peers);
  const drainedPeers = new Set<string>();
  const complete = Promise.withResolvers<void>();
  const allDrained = Promise.withResolvers<void>();
  const checkDrained = () => {
    if ([...peers].every((p) => drainedPeers.has(p))) allDrained.resolve();
  };
  const peerMonitors = [...peers].map(runMonitorName);
  const readyOptions = {
    timeoutMs: options.readyTimeoutMs ?? 60_000,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  let node: BusNode | undefined = undefined;
  let ending: Promise<void> | undefined;
  const cast = new PipelineCast({
    ...options,
    audit: options.audit ?? { write() {} },
    onEnd: (swaps) => {
      // Once: a restarted executor may pass the end marker on again.
      if (ending !== undefined) return;
      // Every group's monitor must hear it (they all exist before the first swap).
      ending = node!.ready(peerMonitors, readyOptions)
        .then(() => bus.publish(RunComplete, { swaps }))
        .catch((e) => complete.reject(e));
    },
  });
  // The monolith's spawn order, the producer only once everything is reachable.
  for (const name of cast.actors.keys()) {
    if (hosted.has(name) && name !== ACTOR.collector) cast.spawn(bus, name);
  }

  node = await BusNode.start({
    bus,
    identity: group,
    registry: pipelineRegistry(),
    listen: plan.listen.map((a) =>
      transportOf(a, {
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.bindHostname === undefined ? {} : { bindHostname: options.bindHostname }),
      })
    ),
    dial: plan.dial.map((d) => ({
      identity: d.group,
      transport: transportOf(d.address, options.tls === undefined ? {} : { tls: options.tls }),
    })),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.link === undefined ? {} : { link: options.link }),
    // A restarted group gets what peers buffered for it the moment it links: it handles
    // none of it before it can reach everything it sends to (see the release below).
    holdInbound: true,
  });
  // A peer's new instance lost what its predecessor had acknowledged: the end-of-stream
  // markers forwarded to its actors and the end-of-run messages. They are sent again (the
  // receivers are idempotent), so a group killed near the end does not leave the run waiting.
  let runComplete: { swaps: bigint } | undefined;
  let drainedSent = false;
  const forwards: { from: { forwardedEnd: StreamEnd | undefined }; to: string }[] = [];
  if (hosted.has(ACTOR.strategy)) forwards.push({ from: cast.strategy, to: ACTOR.executor });
  if (hosted.has(ACTOR.executor)) forwards.push({ from: cast.executor, to: ACTOR.audit });
  const unwatch = node.onPeerRestart((peer) => {
    const peerActors = topology.groups.get(peer)?.actors ?? [];
    const resend = (what: string, f: () => void | Promise<void>) => {
      try {
        void Promise.resolve(f()).catch((e) => log.warn(`${what} not resent`, { peer, error: e }));
      } catch (e) {
        log.warn(`${what} not resent`, { peer, error: e });
      }
    };
    for (const { from, to } of forwards) {
      const end = from.forwardedEnd;
      if (end !== undefined && peerActors.includes(to)) {
        resend("end of stream", () => bus.send(to, StreamEnd, end));
      }
    }
    const monitor = runMonitorName(peer);
    if (runComplete !== undefined) {
      const m = runComplete;
      resend("run complete", () => bus.send(monitor, RunComplete, m));
    }
    if (drainedSent) resend("group drained", () => bus.send(monitor, GroupDrained, { group }));
  });
  let completed = false;
  const signal = options.signal;
  const aborted = Promise.withResolvers<void>();
  const onAbort = () => aborted.resolve();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    // This group can reach every pipeline actor: its monitor tells the others so.
    await node.ready(PIPELINE_ACTORS.filter((a) => a !== ACTOR.collector), readyOptions);
    bus.spawn(runMonitorName(group), {
      handlers: [
        on(RunComplete, (m) => {
          runComplete = { swaps: m.swaps };
          complete.resolve();
        }),
        on(GroupDrained, (m) => {
          drainedPeers.add(m.group);
          checkDrained();
        }),
      ],
    });
    node.release();
    log.info("every pipeline actor is reachable", { group });
    if (hosted.has(ACTOR.collector)) {
      // Every group reaches everything it sends to before the first swap.
      await node.ready(peerMonitors, readyOptions);
      cast.spawn(bus, ACTOR.collector);
    }
    await Promise.race([complete.promise, aborted.promise]);
    await ending;
    if (!signal?.aborted) {
      log.info("run complete; draining", { group });
      await bus.idle();
      await node.ready(peerMonitors, readyOptions);
      await bus.publish(GroupDrained, { group });
      drainedSent = true;
      checkDrained();
      await Promise.race([allDrained.promise, aborted.promise]);
      await bus.idle();
      log.info("every group drained", { group });
      completed = !signal?.aborted;
    }
  } catch (e) {
    await bus.close({ deadlineMs: 0 });
    await node.close({ drainMs: 0 });
    throw e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    unwatch();
  }
  const shutdown = await bus.close({ deadlineMs: options.drainMs ?? 5_000 });
  await node.close({ drainMs: options.drainMs ?? 5_000 });
  return {
    group,
    ...(hosted.has(ACTOR.collector) ? { swaps: cast.collector.sent } : {}),
    ...(hosted.has(ACTOR.strategy) ? { signals: cast.strategy.detector.signals } : {}),
    ...(hosted.has(ACTOR.executor)
      ? {
        fills: cast.executor.fills,
        refused: cast.executor.refused,
        pnlMicro: cast.executor.pnlMicro,
      }
      : {}),
    ...(hosted.has(ACTOR.risk)
      ? {
        halted: cast.risk.book.halted,
        exposureMicro: cast.risk.book.exposureMicro,
        approvedUnbooked: cast.risk.book.approvedUnbooked(),
      }
      : {}),
    ...(hosted.has(ACTOR.audit)
      ? { auditLines: cast.audit.lines, ledger: cast.audit.ledger.summary() }
      : {}),
    completed,
    actors: cast.summaries(),
    shutdown,
    links: node.stats(),
    elapsedMs: performance.now() - started,
  };
}

/** Actors whose state a restart loses for good (see `RecoveryReport.stateLost`). */
const STATEFUL: ReadonlySet<string> = new Set([
  ACTOR.collector,
  ACTOR.strategy,
  ACTOR.risk,
  ACTOR.audit,
]);

/** Options of {@linkcode mergeGroupSummaries}. */
export interface MergeOptions {
  /**
   * Restarts per group (from the supervisor). When the executor's group
   * restarted, its last run's counters miss what the first runs did: fills,
   * refusals and P&L then come from the audit trail's ledger, which counts
   * each signal once. Default: none.
   */
  restarts?: Readonly<Record<string, number>>;
}

/**
 * The groups' summaries as one {@linkcode PipelineSummary}: each figure from
 * the group hosting its actor, actors in the monolith's order, shutdown
 * counts summed; `completed` only if every group completed; `elapsedMs` the
 * longest group's.
 *
 * @throws {RuntimeError} `RUNTIME_RUN_FAILED` when no part hosts some actor.
 *
 * @example
 * ```ts ignore
 * const parts = childOutputs.map(groupSummaryFromJson);
 * const summary = mergeGroupSummaries(parts); // the same shape runPipeline returns
 * ```
 */
export function mergeGroupSummaries(
  parts: readonly GroupSummary[],
  options: MergeOptions = {},
): PipelineSummary {
  const pick = <K extends keyof GroupSummary>(key: K): NonNullable<GroupSummary[K]> => {
    for (const p of parts) {
      const v = p[key];
      if (v !== undefined) return v as NonNullable<GroupSummary[K]>;
    }
    throw new RuntimeError(
      "RUNTIME_RUN_FAILED",
      `no group reported '${String(key)}': is every group's summary there?`,
    );
  };
  const byName = new Map(parts.flatMap((p) => p.actors).map((a) => [a.name, a]));
  const order = [
    ACTOR.relay,
    ACTOR.strategy,
    ACTOR.executor,
    ACTOR.risk,
    ACTOR.audit,
    ACTOR.metrics,
    ACTOR.collector,
  ];
  const swaps = pick("swaps");
  const signals = pick("signals");
  const ledger = pick("ledger");
  const restarts = Object.fromEntries(
    Object.entries(options.restarts ?? {}).filter(([, n]) => n > 0),
  );
  const restarted = parts.filter((p) => (restarts[p.group] ?? 0) > 0);
  const stateLost = restarted.flatMap((p) => p.actors.map((a) => a.name))
    .filter((name) => STATEFUL.has(name));
  const executorGroup = parts.find((p) => p.fills !== undefined)?.group;
  const fromLedger = executorGroup !== undefined && (restarts[executorGroup] ?? 0) > 0 &&
    stateLost.length === 0;
  return {
    swaps,
    signals,
    fills: fromLedger ? ledger.fills : pick("fills"),
    refused: fromLedger ? ledger.refused : pick("refused"),
    pnlMicro: fromLedger ? ledger.pnlMicro : pick("pnlMicro"),
    halted: pick("halted"),
    exposureMicro: pick("exposureMicro"),
    auditLines: pick("auditLines"),
    ledger,
    approvedUnbooked: pick("approvedUnbooked"),
    ...(Object.keys(restarts).length === 0 ? {} : {
      recovery: {
        restarts,
        stateLost,
        figuresFromLedger: fromLedger,
        unmatchedReplies: parts.reduce(
          (n, p) => n + p.links.reduce((m, l) => m + l.unmatchedReplies, 0),
          0,
        ),
      },
    }),
    completed: parts.length > 0 && parts.every((p) => p.completed),
    actors: order.flatMap((name) => byName.get(name) ?? []),
    shutdown: {
      drained: parts.every((p) => p.shutdown.drained),
      discarded: parts.reduce((n, p) => n + p.shutdown.discarded, 0),
      abandonedRequests: parts.reduce((n, p) => n + p.shutdown.abandonedRequests, 0),
    },
    elapsedMs: Math.max(0, ...parts.map((p) => p.elapsedMs)),
  };
}

/** A group summary as one JSON line (bigints as decimal strings), for a parent process. */
export function groupSummaryToJson(summary: GroupSummary): string {
  return JSON.stringify(summary, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
}

/**
 * Reads what {@linkcode groupSummaryToJson} wrote.
 *
 * @throws {RuntimeError} `RUNTIME_RUN_FAILED` when `text` is not such a summary.
 */
export function groupSummaryFromJson(text: string): GroupSummary {
  let value: unknown;
  try {
    value = JSON.parse(
      text,
      (_k, v) => typeof v === "string" && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
    );
  } catch (e) {
    throw new RuntimeError("RUNTIME_RUN_FAILED", `a group's summary is not JSON: ${text}`, {
      cause: e,
    });
  }
  const s = value as Partial<GroupSummary> | null;
  if (
    s === null || typeof s !== "object" || typeof s.group !== "string" ||
    !Array.isArray(s.actors) || typeof s.completed !== "boolean"
  ) {
    throw new RuntimeError("RUNTIME_RUN_FAILED", `not a group summary: ${text.slice(0, 200)}`);
  }
  return s as GroupSummary;
}
