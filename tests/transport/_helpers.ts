/**
 * Shared pieces of the transport tests: message types, a logger that records
 * what it is told, transports for each kind (with a TLS certificate the tests
 * generate themselves), and small waiting helpers.
 *
 * @module
 */
import { defineMessage, field, Registry } from "../../src/codec/mod.ts";
import type { LogFields, TransportLogger } from "../../src/transport/logger.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import type { Transport } from "../../src/transport/transport.ts";
import type { TransportError } from "../../src/transport/transport_error.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { V2Swap } from "../../examples/trading/messages.ts";
import { generateTestCertificate } from "./_x509.ts";

/** A numbered message. */
export const Num = defineMessage({
  id: 101,
  name: "test.Num",
  topic: "numbers",
  fields: { n: field.u32(), note: field.string() },
});

/** The same id and name as `Num` with another schema. */
export const NumV2 = defineMessage({
  id: 101,
  name: "test.Num",
  topic: "numbers",
  fields: { n: field.u64(), note: field.string() },
});

/** Registry used by most tests. */
export function registry(): Registry {
  return new Registry([Num, V2Swap]);
}

/** One recorded log line. */
export interface LogEntry {
  level: "error" | "warn" | "info";
  message: string;
  fields: LogFields | undefined;
}

/** A logger that records lines and lets tests wait for one. */
export class RecordingLogger implements TransportLogger {
  readonly entries: LogEntry[] = [];
  #waiters: { match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }[] = [];

  error(message: string, fields?: LogFields): void {
    this.#add({ level: "error", message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.#add({ level: "warn", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.#add({ level: "info", message, fields });
  }

  /** Errors (from the `error` field) logged so far with `code`. */
  codes(): string[] {
    const codes: string[] = [];
    for (const e of this.entries) {
      const code = (e.fields?.error as TransportError | undefined)?.code;
      if (code !== undefined) codes.push(code);
    }
    return codes;
  }

  /** Resolves with the first entry (past or future) whose error has `code`. */
  waitForCode(code: string): Promise<LogEntry> {
    return this.waitFor((e) => (e.fields?.error as TransportError | undefined)?.code === code);
  }

  /** Resolves with the first entry (past or future) matching. */
  waitFor(match: (e: LogEntry) => boolean): Promise<LogEntry> {
    const found = this.entries.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  #add(e: LogEntry): void {
    this.entries.push(e);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(e)) return true;
      w.resolve(e);
      return false;
    });
  }
}

/** A transport kind the suite runs against. */
export interface Kind {
  readonly name: "unix" | "tcp" | "tls";
  /** A fresh listening address. */
  make(): Transport;
}

/** A temp dir for sockets and certs, removed by `cleanup`. */
export class Scratch {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }
  static async create(): Promise<Scratch> {
    return new Scratch(await Deno.makeTempDir({ prefix: "mycelium-transport-" }));
  }
  async cleanup(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

let counter = 0;

/** Kinds: unix, tcp and tcp+TLS (with a certificate made in `scratch`). */
export async function kinds(scratch: Scratch): Promise<Kind[]> {
  const tls = await makeTestCertificate(scratch.dir);
  return [
    { name: "unix", make: () => new UnixTransport({ path: `${scratch.dir}/s${++counter}.sock` }) },
    { name: "tcp", make: () => new TcpTransport({ port: 0 }) },
    { name: "tls", make: () => new TcpTransport({ port: 0, tls }) },
  ];
}

/** PEM files of a test CA and a certificate for 127.0.0.1/localhost signed by it. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/**
 * Writes a throwaway CA and a server certificate for 127.0.0.1/localhost
 * signed by it into `dir` (made with `crypto.subtle` and a small DER writer:
 * no `openssl` needed).
 */
export async function makeTestCertificate(dir: string): Promise<TestCertificate> {
  const { ca, cert, key } = await generateTestCertificate();
  const files = {
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server.key`,
    caFile: `${dir}/ca.pem`,
  };
  await Deno.writeTextFile(files.certFile, cert);
  await Deno.writeTextFile(files.keyFile, key, { mode: 0o600 });
  await Deno.writeTextFile(files.caFile, ca);
  return files;
}

/** A queue of values pushed by handlers that tests await one by one. */
export class Inbox<T> {
  readonly items: T[] = [];
  #waiter: (() => void) | undefined;
  push(item: T): void {
    this.items.push(item);
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
  /** Resolves once at least `n` items arrived. */
  async count(n: number): Promise<T[]> {
    while (this.items.length < n) {
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
    return this.items;
  }
}

/** A message seen by a handler, copied out of its view. */
export interface Seen {
  n: number;
  note: string;
  kind: string;
  to: string;
  from: string;
  correlation: number;
  peer: string;
}

/** A handler that records every `Num` into `inbox` (and optionally answers). */
export function recorder(
  inbox: Inbox<Seen>,
  onNum?: (seen: Seen, link: import("../../src/transport/link.ts").Link) => void,
): import("../../src/transport/link.ts").LinkHandler {
  return {
    message(view, route, link) {
      if (!Num.isView(view)) return;
      const seen = {
        n: view.n,
        note: view.note,
        kind: route.kind,
        to: route.to,
        from: route.from,
        correlation: route.correlation,
        peer: link.peer,
      };
      inbox.push(seen);
      onNum?.(seen, link);
    },
  };
}

/** `[from, from+1, …, to-1]`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
