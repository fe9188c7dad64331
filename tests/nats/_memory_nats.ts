/**
 * Core NATS held in memory, for tests of `NatsPeer` that need no server:
 * subjects match exactly or through a `*` token or a trailing `>`, and a
 * publish reaches its subscribers in a later microtask (as a server's echo
 * would arrive after the publisher's turn), with a copy of the bytes.
 */
import type { NatsWire, NatsWireMessage } from "../../src/bus/nats_peer.ts";

/** Subscriptions by subject pattern; `wire()` gives one client's view. */
export class MemoryNats {
  readonly subs = new Set<{ subject: string; handler: (m: NatsWireMessage) => void }>();

  /** A client of this in-memory server. */
  wire(): NatsWire {
    return {
      publish: (subject, data, reply) => {
        const copy = data.slice();
        queueMicrotask(() => {
          for (const s of [...this.subs]) {
            if (matches(s.subject, subject)) s.handler({ data: copy, subject, reply });
          }
        });
      },
      subscribe: (subject, handler) => {
        const s = { subject, handler };
        this.subs.add(s);
        return () => this.subs.delete(s);
      },
      flush: () => new Promise((r) => setTimeout(r, 0)),
    };
  }
}

/** Whether NATS subject `pattern` (tokens, `*`, a trailing `>`) matches `subject`. */
export function matches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
