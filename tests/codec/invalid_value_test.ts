/**
 * Encoding an invalid value fails the same typed way whatever the field kind
 * and whatever the value: `CODEC_INVALID_VALUE` naming the field, never a
 * TypeError from the generated code (a bigint mixed into integer arithmetic, a
 * Symbol converted to a number). Also through a link's `write`/`send`.
 */
import assert from "node:assert/strict";
import { CodecError } from "../../src/codec/codec_error.ts";
import { defineMessage, field, type MessageType, Registry } from "../../src/codec/mod.ts";
import { Link } from "../../src/transport/link.ts";
import { LinkListener } from "../../src/transport/listener.ts";
import { UnixTransport } from "../../src/transport/unix.ts";
import { AllKinds, randomMessage, Rng } from "./_support.ts";

/** Values that are wrong for every kind, or for families of kinds. */
const ANY_KIND: readonly unknown[] = [
  undefined,
  null,
  Symbol("s"),
  {},
  [],
  () => 1,
  new Date(0),
  { valueOf: () => 1 },
  { [Symbol.toPrimitive]: () => 1n },
  { valueOf: () => Symbol("v") },
];
const QUIET = { error() {}, warn() {}, info() {} };
const NUMBER_KINDS = ["u8", "u16", "u32", "i8", "i16", "i32", "f32", "f64"] as const;
const BIGINT_KINDS = ["u64", "i64", "u256"] as const;

/** Every invalid value tried for each field of AllKinds. */
function invalidValues(name: string): unknown[] {
  const out: unknown[] = [...ANY_KIND];
  if ((NUMBER_KINDS as readonly string[]).includes(name)) {
    out.push(1n, 0n, -1n, "1", "", true, new Number(1));
    if (name !== "f32" && name !== "f64") out.push(NaN, Infinity, -Infinity, 0.5, -0.5);
  }
  if ((BIGINT_KINDS as readonly string[]).includes(name)) out.push(1, 0, -0, 1.5, "1", true);
  if (name === "flag") out.push(0, 1, 1n, "true", new Boolean(true));
  if (name === "addr") {
    out.push(
      new Uint8Array(3),
      new Uint16Array(4),
      [1, 2, 3, 4],
      "abcd",
      4,
      4n,
      new ArrayBuffer(4),
    );
  }
  if (name === "blob" || name === "addr") out.push(detached());
  if (name === "blob") {
    out.push([1, 2], "ab", 2, 2n, new ArrayBuffer(2), new DataView(new ArrayBuffer(2)));
  }
  if (name === "text") out.push(1, 1n, ["a"], new String("a"), new Uint8Array(1), true);
  return out;
}

/** A Uint8Array whose buffer was transferred away (it reads as empty). */
function detached(): Uint8Array {
  const buffer = new ArrayBuffer(4);
  const bytes = new Uint8Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return bytes;
}

function label(v: unknown): string {
  try {
    return typeof v === "symbol" ? v.toString() : `${typeof v} ${String(v)}`;
  } catch {
    return typeof v;
  }
}

function assertInvalid(fn: () => unknown, name: string, what: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `${what}: nothing thrown`);
  assert.ok(
    thrown instanceof CodecError,
    `${what}: expected a CodecError, got ${(thrown as Error)?.name}: ${(thrown as Error)?.message}`,
  );
  assert.equal(thrown.code, "CODEC_INVALID_VALUE", `${what}: ${thrown.message}`);
  assert.equal(thrown.field, name, `${what}: ${thrown.message}`);
  assert.ok(thrown.message.includes(`'${name}'`), `${what}: ${thrown.message}`);
}

Deno.test("encode of an invalid value in any field kind is CODEC_INVALID_VALUE naming the field", () => {
  const base = randomMessage(new Rng(11), AllKinds.fields, 0);
  const slab = new Uint8Array(4096);
  let tried = 0;
  for (const name of Object.keys(AllKinds.fields)) {
    for (const bad of invalidValues(name)) {
      const m = { ...base, [name]: bad } as never;
      const what = `${name} = ${label(bad)}`;
      assertInvalid(() => AllKinds.encode(m, slab, 0), name, `encode, ${what}`);
      assertInvalid(() => AllKinds.toBytes(m), name, `toBytes, ${what}`);
      tried++;
    }
  }
  assert.ok(tried > 150, `${tried} cases`);
});

Deno.test("encode of a message that is not an object is CODEC_INVALID_VALUE", () => {
  const Fixed = defineMessage({ id: 3, name: "Fixed", fields: { n: field.u8() } });
  const types: MessageType[] = [AllKinds, Fixed];
  for (const type of types) {
    for (const bad of [undefined, null, 5, "m", Symbol("m"), 1n]) {
      for (const run of [() => type.toBytes(bad as never), () => type.encodedSize(bad as never)]) {
        let thrown: unknown;
        try {
          run();
        } catch (e) {
          thrown = e;
        }
        // encodedSize of an all-fixed type does not read the message: nothing to refuse.
        if (thrown === undefined && type === Fixed) continue;
        assert.ok(
          thrown instanceof CodecError && thrown.code === "CODEC_INVALID_VALUE",
          `${type.name} ${label(bad)}: ${String(thrown)}`,
        );
      }
    }
  }
});

Deno.test("an invalid value given to a link's write or send is a CodecError, and the link goes on", async () => {
  const Num = defineMessage({ id: 5, name: "Num", fields: { n: field.u32(), s: field.string() } });
  const registry = new Registry([Num]);
  const dir = await Deno.makeTempDir({ prefix: "mycelium_codec_" });
  const got = Promise.withResolvers<number>();
  const listener = await LinkListener.listen(new UnixTransport({ path: `${dir}/l.sock` }), {
    registry,
    identity: "receiver",
    logger: QUIET,
    handler: {
      message: (view) => {
        if (Num.isView(view) && view.s === "ok") got.resolve(view.n);
      },
    },
  });
  const link = await Link.connect(listener.transport, {
    registry,
    identity: "sender",
    logger: QUIET,
  });
  try {
    for (const bad of [1n, Symbol("x"), "1", null] as unknown[]) {
      assertInvalid(
        () => link.write(Num, { n: bad as number, s: "" }),
        "n",
        `write n=${label(bad)}`,
      );
      assertInvalid(
        () => link.write(Num, { n: bad as number, s: "" }, { kind: "send", to: "someone" }),
        "n",
        `routed write n=${label(bad)}`,
      );
      await assert.rejects(
        () => link.send(Num, { n: bad as number, s: "" }),
        (e) => e instanceof CodecError && e.code === "CODEC_INVALID_VALUE" && e.field === "n",
      );
      await assert.rejects(
        () => link.send(Num, { n: 1, s: [bad] as unknown as string }),
        (e) => e instanceof CodecError && e.code === "CODEC_INVALID_VALUE" && e.field === "s",
      );
    }
    link.write(Num, { n: 7, s: "ok" });
    assert.equal(await got.promise, 7);
  } finally {
    await link.close();
    await listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
