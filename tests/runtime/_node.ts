/**
 * A process of the multi-process runtime tests, run with `Deno.Command`:
 * a MessageBus joined to others by a BusNode.
 *
 * Usage: `_node.ts '<json>'` with `{ identity, listen: Address[], dial: {identity,
 * ...Address}[] }`, Address = `{ kind: "unix", path }` or `{ kind: "tcp", port, host? }`.
 *
 * Hosts four actors, named after the identity `<id>`:
 * - `<id>.sink`: records the seq of every Tick, per sender (its `note`);
 * - `<id>.echo`: sends every Tick back to the actor its `note` names;
 * - `<id>.sub`: subscribes to Tock and records their seqs;
 * - `<id>.doubler`: answers Ask `n` with Answer `2n`.
 *
 * Prints `{"listening": [addresses]}` once started, then answers one JSON line
 * per JSON command read from stdin (see `run`). Closes when stdin ends.
 *
 * @module
 */
import { on } from "../../src/actor/mod.ts";
import { Registry } from "../../src/codec/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { BusNode } from "../../src/runtime/bus_node.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { Answer, Ask, Tick, tick, Tock } from "../bus/_messages.ts";

/** An address in a command line. */
export type Address = { kind: "unix"; path: string } | { kind: "tcp"; port: number; host?: string };

/** What `_node.ts` is told on its command line. */
export interface NodeConfig {
  identity: string;
  listen: Address[];
  dial: (Address & { identity: string })[];
}

/** Every message type the runtime tests exchange. */
export function testRegistry(): Registry {
  return new Registry([Tick, Tock, Ask, Answer]);
}

/** The transport of an address. */
export function transportOf(a: Address): Transport {
  return a.kind === "unix"
    ? new UnixTransport({ path: a.path })
    : new TcpTransport({ port: a.port, hostname: a.host ?? "127.0.0.1" });
}

interface Waiter {
  check: () => boolean;
  resolve: () => void;
}

async function main(): Promise<void> {
  const config = JSON.parse(Deno.args[0]!) as NodeConfig;
  const id = config.identity;
  const out = new TextEncoder();
  const say = (value: unknown) =>
    Deno.stdout.writeSync(out.encode(JSON.stringify(value, bigints) + "\n"));
  const sink = new Map<string, number[]>();
  const sub: number[] = [];
  const waiters = new Set<Waiter>();
  const wake = () => {
    for (const w of [...waiters]) {
      if (w.check()) {
        waiters.delete(w);
        w.resolve();
      }
    }
  };
  const until = (check: () => boolean) =>
    check() ? Promise.resolve() : new Promise<void>((resolve) => waiters.add({ check, resolve }));

  const bus = new MessageBus();
  bus.spawn(`${id}.sink`, {
    handlers: [on(Tick, (m) => {
      let seqs = sink.get(m.note);
      if (seqs === undefined) sink.set(m.note, seqs = []);
      seqs.push(m.seq);
      wake();
    })],
  }, { subscribe: [] });
  bus.spawn(`${id}.echo`, {
    handlers: [on(Tick, (m, ctx) => ctx.send(m.note, Tick, tick(m.seq, id)))],
  }, { subscribe: [] });
  bus.spawn(`${id}.sub`, {
    handlers: [on(Tock, (m) => {
      sub.push(m.seq);
      wake();
    })],
  });
  bus.spawn(`${id}.doubler`, {
    handlers: [on(Ask, (q, ctx) => ctx.reply(Answer, { n: q.n * 2 }))],
  });
  const node = await BusNode.start({
    bus,
    identity: id,
    registry: testRegistry(),
    listen: config.listen.map(transportOf),
    dial: config.dial.map((d) => ({ identity: d.identity, transport: transportOf(d) })),
    link: { reconnect: { initialMs: 20, maxMs: 200 } },
  });
  say({ listening: node.transports.map((t) => t.address) });

  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buffer = "";
  for await (const chunk of lines) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const command = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      try {
        say(await run(command));
      } catch (e) {
        say({ error: (e as { code?: string }).code ?? String(e) });
      }
    }
  }
  await bus.close();
  await node.close();

  async function run(c: Record<string, unknown>): Promise<unknown> {
    switch (c.op) {
      case "ready":
        await node.ready(c.actors as string[], { timeoutMs: 20_000 });
        return { ok: true };
      case "send": {
        const from = c.from as number;
        for (let i = from; i < from + (c.count as number); i++) {
          await bus.send(c.to as string, Tick, tick(i, (c.note as string | undefined) ?? id));
        }
        return { ok: true };
      }
      case "publish": {
        const from = c.from as number;
        for (let i = from; i < from + (c.count as number); i++) await bus.publish(Tock, { seq: i });
        return { ok: true };
      }
      case "request": {
        const answer = await bus.request(c.to as string, Ask, { n: c.n as number }, {
          reply: Answer,
          timeoutMs: c.timeoutMs as number,
        });
        return { n: answer.n };
      }
      case "waitSink":
        await until(() => (sink.get(c.sender as string)?.length ?? 0) >= (c.count as number));
        return { ok: true };
      case "waitLast":
        await until(() => (sink.get(c.sender as string)?.at(-1) ?? -1) >= (c.seq as number));
        return { ok: true };
      case "waitSub":
        await until(() => sub.length >= (c.count as number));
        return { ok: true };
      case "report":
        return { sink: Object.fromEntries(sink), sub, links: node.stats() };
      default:
        throw new Error(`unknown op ${String(c.op)}`);
    }
  }
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

if (import.meta.main) await main();
