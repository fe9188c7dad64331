/**
 * Runs the shared behaviour suite against MessageBus (plain and faithful)
 * and MonolithBus.
 *
 * @module
 */
import type { MessageType } from "../../src/codec/mod.ts";
import type { Actor, ActorFailure } from "../../src/actor/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { MonolithBus } from "../../src/bus/monolith_bus.ts";
import type { AnyMessage } from "../../src/bus/remote_peer.ts";
import { busBehaviourSuite, type Harness } from "./bus_behaviour.case.ts";

function messageBusHarness(faithful: boolean): Harness {
  const failures: ActorFailure[] = [];
  const bus = new MessageBus({ faithful, onFailure: (f) => failures.push(f) });
  const actors: [string, Actor][] = [];
  const routes = new Map<Actor, MessageType[]>();
  return {
    sharesObjects: !faithful,
    failures,
    add: (name, actor) => void actors.push([name, actor]),
    route: (type, targets) => {
      for (const a of targets) routes.set(a, [...(routes.get(a) ?? []), type]);
    },
    start: () => {
      for (const [name, actor] of actors) {
        bus.spawn(name, actor, { subscribe: routes.get(actor) ?? [] });
      }
      return Promise.resolve();
    },
    publish: async (type, message) => {
      await bus.publish(type, message as AnyMessage);
    },
    settle: () => bus.idle(),
    close: async () => {
      await bus.close();
    },
  };
}

function monolithHarness(): Harness {
  const failures: ActorFailure[] = [];
  const mono = new MonolithBus({ onFailure: (f) => failures.push(f) });
  return {
    sharesObjects: true,
    failures,
    add: (name, actor) => void mono.add(name, actor),
    route: (type, targets) => void mono.route(type, targets as never),
    start: () => mono.start(),
    publish: async (type, message) => {
      await mono.emit(type, message as AnyMessage);
    },
    settle: () => mono.bus.idle(),
    close: () => mono.close(),
  };
}

busBehaviourSuite("MessageBus", () => messageBusHarness(false));
busBehaviourSuite("MessageBus (faithful)", () => messageBusHarness(true));
busBehaviourSuite("MonolithBus", monolithHarness);
