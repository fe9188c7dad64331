/**
 * {@linkcode runProcess}: runs an app's actors in this process, as the
 * topology places them: every actor (a monolith) or one process group linked
 * to the others. Nothing here knows any particular app.
 *
 * How a split run becomes ready: each group spawns its actors (their `start`
 * hooks wait), links to its peers holding what they send, waits until every
 * actor of the app is reachable, opens its run monitor, releases what it
 * held, waits for every peer's monitor, and only then runs its actors'
 * `start` hooks. So no actor sends before everything it may send to exists.
 *
 * How a job ends together: the process whose actor calls `env.done()`
 * publishes `RunComplete` to every group's monitor. Then every group runs
 * drain rounds: wait for its actors to be idle, publish `GroupDrained` with
 * how many messages they handled, collect every peer's report of that round.
 * Two rounds in a row with the same counts everywhere mean nothing was in
 * flight (links keep order, so a report follows what its group sent before),
 * so every group stops at the same round with final counters. A service ends
 * on its signal (SIGINT/SIGTERM in the CLI) and drains.
 *
 * @module
 */
import type { Actor } from "../actor/actor.ts";
import { on } from "../actor/actor.ts";
import type { AnyApp, AppEnv, SetupEnv } from "../app/app.ts";
import { defaultParams } from "../app/param.ts";
import { Registry } from "../codec/mod.ts";
import type { MessageType } from "../codec/mod.ts";
import type { ShutdownReport } from "../bus/_core.ts";
import { type ActorRef, MessageBus, type SpawnOptions } from "../bus/message_bus.ts";
import { MonolithBus } from "../bus/monolith_bus.ts";
import { type Logger, NULL_LOGGER } from "../logger.ts";
import { DeliveryTiming, type LatencyRecorder } from "../metrics/mod.ts";
import { MONOLITH_GROUP, type Topology } from "../topology/topology.ts";
import type { TlsOptions } from "../transport/tcp.ts";
import { BusNode, type LinkTuning } from "./bus_node.ts";
import { NatsTransport } from "../transport/nats.ts";
import { groupPlan, transportOf } from "./group_plan.ts";
import type { ActorReport, DeliveryTimes, ProcessReport } from "./run_report.ts";
import { DrainRounds } from "./_drain_rounds.ts";
import { GroupDrained, RunComplete } from "./run_messages.ts";
import { RuntimeError } from "./runtime_error.ts";

/** Options of {@linkcode runProcess}. */
export interface RunProcessOptions {
  /** The deployment. Without `group`, every actor runs here whatever it says. */
  topology: Topology;
  /** The process group this process runs. Default: all of them, in one process (a monolith). */
  group?: string;
  /** Parameter values (missing ones take their defaults). */
  params?: Readonly<Record<string, unknown>>;
  /** Whether a supervisor started this process (`env.supervised`). Default: false. */
  supervised?: boolean;
  /** Round-trip in-process messages through the codec (see `MessageBusOptions.faithful`). Default: false. */
  faithful?: boolean;
  /**
   * `fixed`: the app's fixed routes between actors of this process are
   * direct calls (a MonolithBus); `bus`: every message goes through the
   * MessageBus, as if the app declared no fixed route (to compare).
   * Default: `fixed`.
   */
  routing?: "fixed" | "bus";
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
  /** Where the bus, links and runtime log. Default: nowhere. */
  logger?: Logger;
  /** Stops the run (a service's normal end; a job then reports `completed: false`). */
  signal?: AbortSignal;
  /** How long to wait for every other group to be reachable, in ms. Default: 60,000. */
  readyTimeoutMs?: number;
  /** How long shutdown may drain mailboxes and links, in ms. Default: 5000. */
  drainMs?: number;
}

/** Name of a group's run monitor (it hears `RunComplete` and `GroupDrained`). */
export function runMonitorName(group: string): string {
  return `mycelium.run.${group}`;
}

/** Every message type a split run of `app` sends over links. */
export function appRegistry(app: AnyApp): Registry {
  return new Registry([...app.messages, RunComplete, GroupDrained]);
}

interface Hosted {
  readonly name: string;
  instance: Actor | undefined;
  ref: ActorRef | undefined;
  timing: DeliveryTiming | undefined;
  /** How messages reach it (see `ActorReport.delivery`). */
  delivery: ActorReport["delivery"];
}

/**
 * Runs `app` in this process as `options.topology` places it, until a job is
 * done everywhere or `options.signal` aborts; then drains and reports.
 *
 * @throws {RuntimeError} `RUNTIME_PLAN` (no such group), `RUNTIME_NOT_READY`,
 *   `RUNTIME_DIAL_FAILED`; what the app's `setup` throws.
 *
 * @example A job in one process
 * ```ts
 * import { defineApp } from "../app/app.ts";
 * import { on } from "../actor/actor.ts";
 * import { defineMessage, field } from "../codec/mod.ts";
 * import { parseTopology } from "../topology/parse_topology.ts";
 * import { runProcess } from "./run_process.ts";
 *
 * const Tick = defineMessage({ id: 1, name: "Tick", fields: { n: field.u32() } });
 * const app = defineApp({
 *   name: "ticker",
 *   messages: [Tick],
 *   lifecycle: "job",
 *   actors: {
 *     source: () => ({ handlers: [], start: (ctx) => ctx.send("sink", Tick, { n: 3 }) }),
 *     sink: (env) => ({ handlers: [on(Tick, () => env.done())] }),
 *   },
 * });
 * const topology = parseTopology("topology:\n  mode: monolith\n  actors: { source:, sink: }\n");
 * const report = await runProcess(app, { topology });
 * if (!report.completed || report.actors[1]!.handled !== 1) throw new Error("not done");
 * ```
 */
export async function runProcess(
  app: AnyApp,
  options: RunProcessOptions,
): Promise<ProcessReport> {
  const started = performance.now();
  const { topology } = options;
  const group = options.group ?? MONOLITH_GROUP;
  const split = options.group !== undefined;
  const plan = split
    ? groupPlan(
      topology,
      group,
      options.socketDir === undefined ? {} : { socketDir: options.socketDir },
    )
    : undefined;
  const hostedNames = plan === undefined ? [...app.actorNames] : [...plan.actors];
  for (const name of hostedNames) {
    if (!(name in app.actors)) {
      throw new RuntimeError(
        "RUNTIME_PLAN",
        `group '${group}' places '${name}', which is not an actor of ${app.name}`,
        { peer: group, actors: [name] },
      );
    }
  }
  const hostedSet: ReadonlySet<string> = new Set(hostedNames);
  const log = options.logger ?? NULL_LOGGER;
  const done = Promise.withResolvers<void>();
  let doneCalled = false;
  let onDone = () => done.resolve();
  const restartListeners = new Set<(group: string, actors: readonly string[]) => void>();
  const params = { ...defaultParams(app.params), ...(options.params ?? {}) };
  const setupEnv: SetupEnv = Object.freeze({
    app: app.name,
    params,
    group,
    mode: split ? "group" : "monolith",
    supervised: options.supervised ?? false,
    hosted: hostedSet,
    log,
    done: () => {
      if (doneCalled || app.lifecycle !== "job") return;
      doneCalled = true;
      onDone();
    },
    onPeerRestart: (listener: (group: string, actors: readonly string[]) => void) => {
      restartListeners.add(listener);
      return () => void restartListeners.delete(listener);
    },
  });
  const shared: unknown = app.setup === undefined ? undefined : await app.setup(setupEnv);
  const env: AppEnv = Object.freeze({ ...setupEnv, shared });
  const bus = new MessageBus({
    faithful: options.faithful ?? false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });

  // Start hooks wait for the gate: nothing sends before everything it may reach exists.
  const gate = Promise.withResolvers<void>();
  const gated = (actor: Actor): Actor => {
    const start = actor.start;
    const stop = actor.stop;
    return {
      handlers: actor.handlers,
      start: async (ctx) => {
        await gate.promise;
        if (start !== undefined) await start.call(actor, ctx);
      },
      ...(stop === undefined ? {} : { stop: (ctx) => stop.call(actor, ctx) }),
    };
  };

  const hosted = new Map<string, Hosted>();
  for (const name of hostedNames) {
    hosted.set(name, {
      name,
      instance: undefined,
      ref: undefined,
      timing: undefined,
      delivery: "mailbox",
    });
  }
  const make = (name: string): Actor => {
    const a = app.actors[name]!.create(env) as Actor;
    hosted.get(name)!.instance = a;
    return a;
  };
  // Fixed routes among actors of this process become a MonolithBus's direct calls.
  // Faithful runs hand every receiver a decoded copy, which direct calls by reference would
  // not: they route through the bus.
  const routes = options.routing === "bus" || options.faithful === true ? [] : app.routes;
  const routeTargets = new Map<string, MessageType[]>();
  for (const r of app.routes) {
    for (const name of [...(r.sync ?? []), ...(r.async ?? [])]) {
      routeTargets.set(name, [...(routeTargets.get(name) ?? []), r.type]);
    }
  }
  const subscriptionsOf = (name: string): (MessageType | string)[] | undefined => {
    const spec = app.actors[name]!;
    const routed = routeTargets.get(name) ?? [];
    if (spec.subscribe === undefined) return undefined;
    return [...new Set([...spec.subscribe, ...routed])];
  };
  const localRoutes = routes
    .map((r) => ({
      type: r.type,
      sync: (r.sync ?? []).filter((n) => hostedSet.has(n)),
      async: (r.async ?? []).filter((n) => hostedSet.has(n)),
    }))
    .filter((r) => r.sync.length + r.async.length > 0);
  const members = new Set(localRoutes.flatMap((r) => [...r.sync, ...r.async]));
  // Sync targets' start hooks, too, wait for the gate (messages for them queue meanwhile).
  const mono = localRoutes.length === 0
    ? undefined
    : new MonolithBus({ bus, startAfter: gate.promise });
  // Whatever fails while placing the actors (a factory, a route whose target lacks the
  // handler) closes what was opened and reaches the caller.
  const teardown = async () => {
    try {
      if (app.teardown !== undefined) await app.teardown(shared, setupEnv);
    } catch (error) {
      log.error("the app's teardown failed", { error });
    }
  };
  try {
    const monoMembers = new Map<string, Actor>();
    for (const name of hostedNames) {
      const spec = app.actors[name]!;
      const h = hosted.get(name)!;
      const timing = new DeliveryTiming();
      h.timing = timing;
      const subscribe = subscriptionsOf(name);
      const spawn: SpawnOptions = {
        timing,
        ...(spec.supervision === undefined ? {} : { supervision: spec.supervision }),
        ...(spec.mailbox === undefined ? {} : { mailbox: spec.mailbox }),
        ...(spec.views === undefined ? {} : { views: spec.views }),
        ...(subscribe === undefined ? {} : { subscribe }),
      };
      if (mono !== undefined && members.has(name)) {
        const direct = localRoutes.some((r) => r.sync.includes(name));
        // Only a split run times a direct member's mailbox: in one process every sender calls
        // it directly (its mailbox holds only what found it busy).
        const timed = direct && split;
        if (direct) h.delivery = timed ? "direct+mailbox" : "direct";
        const actor = make(name);
        const added = direct ? actor : gated(actor);
        // As on the bus: by default every type it handles (the monolith's own default would
        // leave out routed types whose route does not name it).
        spawn.subscribe ??= actor.handlers.map((h) => h.type);
        monoMembers.set(name, added);
        mono.add(name, added, timed ? { spawn, proxyTiming: timing } : { spawn });
        continue;
      }
      h.ref = bus.spawn(name, () => gated(make(name)), spawn);
    }
    if (mono !== undefined) {
      for (const r of localRoutes) {
        const pick = (names: readonly string[]) => names.map((n) => monoMembers.get(n)!);
        // Names were checked by defineApp and handler types are checked at route time.
        (mono.route as (t: MessageType, s: readonly Actor[], a: readonly Actor[]) => void)(
          r.type,
          pick(r.sync),
          pick(r.async),
        );
      }
      await mono.start();
      for (const name of members) hosted.get(name)!.ref = bus.ref(name);
    }
  } catch (e) {
    await bus.close({ deadlineMs: 0 });
    await mono?.close();
    await teardown();
    throw e;
  }

  const readyOptions = {
    timeoutMs: options.readyTimeoutMs ?? 60_000,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const signal = options.signal;
  const aborted = Promise.withResolvers<void>();
  const onAbort = () => aborted.resolve();
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let node: BusNode | undefined;
  let nats: NatsTransport | undefined;
  let completed = false;
  let unwatch = () => {};
  try {
    if (plan === undefined) {
      gate.resolve();
      if (app.lifecycle === "job") await Promise.race([done.promise, aborted.promise]);
      else await aborted.promise;
      completed = app.lifecycle === "job" ? doneCalled : true;
    } else {
      const peers = new Set(plan.peers);
      const peerMonitors = [...peers].map(runMonitorName);
      const complete = Promise.withResolvers<void>();
      const rounds = new DrainRounds(group, [...peers]);
      const handledHere = (): bigint => {
        let n = 0;
        for (const name of hostedNames) n += actorReport(hosted.get(name)!, group, mono).handled;
        return BigInt(n);
      };
      const natsSettings = topology.nats;
      if (plan.nats.length > 0 && natsSettings !== undefined) {
        // The NATS client loads here, only for a group that reaches others through NATS.
        nats = await NatsTransport.connect({
          servers: natsSettings.servers,
          auth: natsSettings.auth,
          tls: natsSettings.tls,
          name: `${app.name}.${group}`,
          logger: log,
        });
      }
      const natsWire = nats;
      // Groups with delivery: jetstream get their sends and publishes from the deployment's stream.
      const jsGroups = [...topology.groups.values()]
        .filter((g) => g.delivery === "jetstream" && plan.nats.concat(group).includes(g.name))
        .map((g) => g.name);
      const jsSettings = natsSettings?.jetstream;
      const jetstream = natsWire === undefined || jsSettings === undefined || jsGroups.length === 0
        ? undefined
        : {
          wire: await natsWire.jetstream({
            stream: jsSettings.stream,
            subjects: [`${natsSettings!.subjectPrefix}.j.>`],
            replicas: jsSettings.replicas,
          }),
          groups: jsGroups,
        };
      node = await BusNode.start({
        bus,
        identity: group,
        ...(natsWire === undefined || natsSettings === undefined ? {} : {
          nats: {
            wire: natsWire,
            peers: plan.nats,
            groups: [...topology.groups.keys()],
            subjectPrefix: natsSettings.subjectPrefix,
            address: natsWire.address,
            counters: () => natsWire.stats(),
            events: (listener) => natsWire.onEvent(listener),
            ...(jetstream === undefined ? {} : { jetstream }),
          },
        }),
        registry: appRegistry(app),
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
      const n = node;
      let runCompleteSent = false;
      // A peer's new instance lost the end-of-run messages it had acknowledged: resend them
      // (receivers are idempotent), so a group killed near the end does not leave the run
      // waiting; then the app resends what it knows the peer's actors need.
      unwatch = n.onPeerRestart((peer) => {
        const actors = topology.groups.get(peer)?.actors ?? [];
        const monitor = runMonitorName(peer);
        const resend = (what: string, f: () => void | Promise<void>) => {
          try {
            void Promise.resolve(f()).catch((e) =>
              log.warn(`${what} not resent`, { peer, error: e })
            );
          } catch (e) {
            log.warn(`${what} not resent`, { peer, error: e });
          }
        };
        if (runCompleteSent) {
          resend("run complete", () => bus.send(monitor, RunComplete, { group }));
        }
        for (const r of rounds.sent) {
          resend("group drained", () => bus.send(monitor, GroupDrained, { group, ...r }));
        }
        for (const listener of restartListeners) {
          try {
            listener(peer, actors);
          } catch (e) {
            log.warn("a peer-restart listener failed", { peer, error: e });
          }
        }
      });
      onDone = () => {
        // Every group's monitor must hear it (they all exist before any start hook ran); this
        // group's own monitor hears it too, which ends its wait below.
        n.ready(peerMonitors, readyOptions)
          .then(() => bus.publish(RunComplete, { group }))
          .then(() => {
            runCompleteSent = true;
          })
          .catch((e) => complete.reject(e));
      };
      // `done()` may have come already (from a setup or a factory).
      if (doneCalled) onDone();
      // Every actor of the app is reachable from here: the monitor tells the others so.
      const everyActor = [...topology.groups.values()].flatMap((g) => g.actors);
      await n.ready(everyActor, readyOptions);
      bus.spawn(runMonitorName(group), {
        handlers: [
          on(RunComplete, () => complete.resolve()),
          on(GroupDrained, (m) => rounds.record(m.round, m.group, m.handled)),
        ],
      });
      n.release();
      await n.ready(peerMonitors, readyOptions);
      log.info("every actor and group is reachable", { group });
      gate.resolve();
      if (app.lifecycle === "job") {
        await Promise.race([complete.promise, aborted.promise]);
        if (!signal?.aborted) {
          log.info("run complete; draining", { group });
          completed = await rounds.run({
            idle: async () => {
              await bus.idle();
              await n.ready(peerMonitors, readyOptions);
            },
            handled: handledHere,
            publish: (round, handled) => bus.publish(GroupDrained, { group, round, handled }),
            stopped: aborted.promise,
          });
          // Every peer still runs: let them acknowledge what this group sent last.
          if (completed) await n.settled(options.drainMs ?? 5_000);
          log.info("every group drained", { group });
        }
      } else {
        await aborted.promise;
        completed = true;
      }
    }
  } catch (e) {
    // Stopped (SIGTERM, say) while waiting for the other groups: a normal, early end.
    const stopped = signal?.aborted === true && e instanceof RuntimeError &&
      e.code === "RUNTIME_ABORTED";
    if (!stopped) {
      signal?.removeEventListener("abort", onAbort);
      unwatch();
      await bus.close({ deadlineMs: 0 });
      await mono?.close();
      await node?.close({ drainMs: 0 });
      await nats?.close();
      await teardown();
      throw e;
    }
    completed = false;
  }
  signal?.removeEventListener("abort", onAbort);
  unwatch();
  gate.resolve();
  const drainMs = options.drainMs ?? 5_000;
  // The bus first: its close aborts every context's signal (producers stop), drains the
  // mailboxes, sync members' proxies included; then the monolith runs its members' stop hooks.
  const shutdown: ShutdownReport = await bus.close({ deadlineMs: drainMs });
  await mono?.close();
  await node?.close({ drainMs });
  await nats?.close();
  const instances = Object.fromEntries(
    [...hosted.values()].flatMap((h) => h.instance === undefined ? [] : [[h.name, h.instance]]),
  );
  try {
    const part = app.report?.part(instances, env);
    return {
      group,
      completed,
      actors: hostedNames.map((name) => actorReport(hosted.get(name)!, group, mono)),
      shutdown,
      links: node?.stats() ?? [],
      held: node?.heldCount ?? 0,
      elapsedMs: performance.now() - started,
      app: part,
    };
  } finally {
    if (app.teardown !== undefined) await app.teardown(shared, setupEnv);
  }
}

function actorReport(h: Hosted, group: string, mono: MonolithBus | undefined): ActorReport {
  const s = h.ref?.stats();
  const d = h.delivery === "mailbox" ? undefined : mono?.directStats(h.name);
  return {
    name: h.name,
    group,
    delivery: h.delivery,
    handled: (s?.handled ?? 0) + (d === undefined ? 0 : d.calls - d.failed),
    failed: (s?.failed ?? 0) + (d?.failed ?? 0),
    dropped: s?.dropped ?? 0,
    discarded: s?.discarded ?? 0,
    restarts: s?.restarts ?? 0,
    hop: times(h.timing?.hop),
    queued: times(h.timing?.queued),
  };
}

function times(r: LatencyRecorder | undefined): DeliveryTimes {
  if (r === undefined || r.count === 0) return NOT_TIMED;
  return { samples: r.count, p50Ns: r.percentile(0.5), p99Ns: r.percentile(0.99) };
}

const NOT_TIMED: DeliveryTimes = Object.freeze({ samples: 0, p50Ns: 0, p99Ns: 0 });
