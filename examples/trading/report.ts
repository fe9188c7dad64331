/**
 * The trading pipeline's part of the run report: what each process group
 * counts ({@linkcode TradingPart}), the run's total ({@linkcode TradingSummary})
 * and how it is printed.
 *
 * @module
 */
import type { MergeInfo } from "../../mod.ts";
import type { LedgerSummary } from "./ledger.ts";

/** What one process counted: fields of actors hosted elsewhere are absent. */
export interface TradingPart {
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
  /** Approved ids never booked (the risk manager's group). */
  readonly approvedUnbooked?: readonly bigint[];
  /** Audit lines written (the audit trail's group). */
  readonly auditLines?: number;
  /** The audit trail's ledger (its group). */
  readonly ledger?: LedgerSummary;
  /** The audit file (the audit trail's group). */
  readonly auditFile?: string;
  /** The process group of the executor, when it is this one. */
  readonly executorGroup?: string;
  /** When the collector started producing, wall clock in ms (the collector's group). */
  readonly startedAtMs?: number;
  /** When the end of the stream reached the audit trail, wall clock in ms (its group). */
  readonly endedAtMs?: number;
}

/** What a whole run did. Everything here is the same for the same seed, in every deployment. */
export interface TradingSummary {
  readonly swaps: number;
  readonly signals: number;
  readonly fills: number;
  readonly refused: number;
  readonly pnlMicro: bigint;
  readonly halted: boolean;
  readonly exposureMicro: bigint;
  readonly auditLines: number;
  /**
   * The audit trail's account of every signal: each booked once, repeats
   * (a signal handled twice after a restart) counted, lost ones named.
   */
  readonly ledger: LedgerSummary;
  /** Ids the risk manager approved but never saw an execution for. */
  readonly approvedUnbooked: readonly bigint[];
  /** The audit file, when the audit trail ran on this machine. */
  readonly auditFile: string | undefined;
  /** Whether the end of the stream reached the audit trail everywhere. */
  readonly completed: boolean;
  /** Stateful actors that restarted with their group (figures cover their last run). */
  readonly stateLost: readonly string[];
  /**
   * Whether fills, refusals and P&L come from the audit trail's ledger,
   * because the executor's own counters restarted with its process.
   */
  readonly figuresFromLedger: boolean;
  /**
   * Milliseconds from the collector's start to the end of the stream
   * reaching the audit trail (wall clocks of their processes); undefined when
   * either is missing. Depends on timing, unlike every figure above.
   */
  readonly endToEndMs: number | undefined;
}

/**
 * The groups' parts as one summary: each figure from the group hosting its
 * actor. When the executor's group restarted (and nothing stateful did), its
 * last run's counters miss what the first runs did: fills, refusals and P&L
 * then come from the audit trail's ledger, which counts each signal once.
 */
export function mergeTrading(parts: readonly TradingPart[], info: MergeInfo): TradingSummary {
  const pick = <K extends keyof TradingPart>(key: K, fallback: NonNullable<TradingPart[K]>) => {
    for (const p of parts) {
      const v = p[key];
      if (v !== undefined) return v as NonNullable<TradingPart[K]>;
    }
    return fallback;
  };
  const ledger = pick("ledger", {
    signalsSent: 0,
    executed: 0,
    fills: 0,
    refused: 0,
    pnlMicro: 0n,
    repeats: 0,
    missing: [],
  } as unknown as LedgerSummary);
  const executorGroup = parts.find((p) => p.executorGroup !== undefined)?.executorGroup;
  const executorRestarted = executorGroup !== undefined && (info.restarts[executorGroup] ?? 0) > 0;
  const fromLedger = executorRestarted && info.stateLost.length === 0;
  const started = pick("startedAtMs", 0);
  const ended = pick("endedAtMs", 0);
  return {
    swaps: pick("swaps", 0),
    signals: pick("signals", 0),
    fills: fromLedger ? ledger.fills : pick("fills", 0),
    refused: fromLedger ? ledger.refused : pick("refused", 0),
    pnlMicro: fromLedger ? ledger.pnlMicro : pick("pnlMicro", 0n),
    halted: pick("halted", false),
    exposureMicro: pick("exposureMicro", 0n),
    auditLines: pick("auditLines", 0),
    ledger,
    approvedUnbooked: pick("approvedUnbooked", []),
    auditFile: parts.find((p) => p.auditFile !== undefined)?.auditFile,
    completed: info.completed,
    stateLost: info.stateLost,
    figuresFromLedger: fromLedger,
    endToEndMs: started > 0 && ended >= started ? ended - started : undefined,
  };
}

function usdc(micro: bigint): string {
  const sign = micro < 0n ? "-" : "+";
  const abs = micro < 0n ? -micro : micro;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, "0").slice(0, 2)}`;
}

async function sha256Hex(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `1234567` as `1,234,567`. */
function grouped(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * The run's speed end to end: swaps per second from the collector's start to
 * the end of the stream reaching the audit trail (the last stage).
 */
export function throughputLine(s: TradingSummary): string {
  const ms = s.endToEndMs;
  if (ms === undefined || !s.completed || s.swaps === 0) {
    return "  throughput    - (the end of the stream did not reach the audit trail)";
  }
  const rate = ms > 0 ? `${grouped((s.swaps * 1000) / ms)} swaps/s` : "- swaps/s";
  return `  throughput    ${rate} end to end (${s.swaps} swaps in ${
    ms.toFixed(0)
  } ms, collector start to the end marker at the audit trail)`;
}

/** At most this many ids are listed per line of the delivery report. */
const LISTED_IDS = 12;

function ids(list: readonly bigint[]): string {
  const shown = list.slice(0, LISTED_IDS).join(", ");
  return list.length > LISTED_IDS ? `${shown} and ${list.length - LISTED_IDS} more` : shown;
}

/** The summary's lines: figures, the audit file's checksum, and how every signal was accounted for. */
export async function tradingLines(s: TradingSummary): Promise<string[]> {
  const audit = s.auditFile === undefined
    ? `(audit trail runs on another host): ${s.auditLines} lines`
    : `${s.auditFile}: ${s.auditLines} lines, sha256 ${await sha256Hex(s.auditFile)}`;
  return [
    `  swaps         ${s.swaps}`,
    `  signals       ${s.signals} (filled ${s.fills}, refused by risk ${s.refused})`,
    `  P&L           ${usdc(s.pnlMicro)} USDC; open exposure ${
      usdc(s.exposureMicro).slice(1)
    } USDC; risk halted: ${s.halted ? "yes" : "no"}`,
    `  audit         ${audit}`,
    ...formatDelivery(s),
    throughputLine(s),
  ];
}

/**
 * How every signal was accounted for: one line when each signal was
 * executed exactly once, the details otherwise.
 */
export function formatDelivery(s: TradingSummary): string[] {
  const l = s.ledger;
  const pad = "                ";
  const lines: string[] = [];
  if (s.stateLost.length > 0) {
    lines.push(
      `  delivery      not accounted: ${s.stateLost.join(", ")} restarted with their process and ` +
        `lost their state (stream position, books, ledger); the figures above cover their last run only`,
    );
  } else if (!s.completed) {
    lines.push(
      `  delivery      the run stopped before the end of the stream reached the audit trail: ` +
        `${l.executed} executions booked (${l.repeats} repeats); unfinished signals not counted`,
    );
  } else if (l.repeats === 0 && l.missing.length === 0 && s.approvedUnbooked.length === 0) {
    lines.push(
      `  delivery      every signal executed once (${l.signalsSent} sent, ${l.executed} booked by the audit trail)`,
    );
  } else {
    lines.push(
      `  delivery      ${l.signalsSent} signals sent; ${l.executed} executions booked by the audit trail, each once`,
    );
    if (l.repeats > 0) {
      lines.push(
        `${pad}${l.repeats} handled again after a restart (resent, not booked twice; "repeat" lines in the audit file)`,
      );
    }
    if (l.missing.length > 0) {
      lines.push(
        `${pad}${l.missing.length} lost in flight with a stopped process, never executed: ids ${
          ids(l.missing)
        }`,
      );
    }
    if (s.approvedUnbooked.length > 0) {
      lines.push(
        `${pad}risk manager approved ${s.approvedUnbooked.length} whose execution never arrived ` +
          `(exposure still reserved): ids ${ids(s.approvedUnbooked)}`,
      );
    }
  }
  if (s.figuresFromLedger) {
    lines.push(
      `${pad}fills, refusals and P&L above come from the audit trail's ledger (the executor's ` +
        `counters restarted with its process)`,
    );
  }
  return lines;
}
