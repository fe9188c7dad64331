/**
 * Field descriptors for message types: what a field holds, how many bytes it
 * takes on the wire and which TypeScript type it has.
 *
 * @module
 */

/** The kinds of fields a message type can hold. */
export type FieldKind =
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "i8"
  | "i16"
  | "i32"
  | "i64"
  | "f32"
  | "f64"
  | "bool"
  | "u256"
  | "bytes"
  | "string"
  | "varbytes";

/**
 * A field descriptor. `V` is the TypeScript type of the field's value; it
 * exists only for the type checker.
 */
export interface Field<V = unknown> {
  /** What the field holds. */
  readonly kind: FieldKind;
  /** Bytes in the fixed block, or 0 for variable-length fields. */
  readonly size: number;
  /** Phantom: the value type. Never set at run time. */
  readonly __value?: V;
}

/** The fields of a message type, in wire order. */
export type Fields = Readonly<Record<string, Field>>;

/** The TypeScript value type of a field descriptor. */
export type FieldValue<F> = F extends Field<infer V> ? V : never;

/** The plain-object type described by a set of fields. */
export type Infer<F extends Fields> = { -readonly [K in keyof F]: FieldValue<F[K]> };

function fixed<V>(kind: FieldKind, size: number): Field<V> {
  return Object.freeze({ kind, size });
}

/** Largest byte length of a fixed-size `bytes(n)` field. */
export const MAX_FIXED_BYTES = 4096;

/** The builders of {@linkcode field}. */
export interface FieldBuilders {
  /** Unsigned 8-bit integer. */
  u8(): Field<number>;
  /** Unsigned 16-bit integer. */
  u16(): Field<number>;
  /** Unsigned 32-bit integer. */
  u32(): Field<number>;
  /** Unsigned 64-bit integer, as a bigint. */
  u64(): Field<bigint>;
  /** Signed 8-bit integer. */
  i8(): Field<number>;
  /** Signed 16-bit integer. */
  i16(): Field<number>;
  /** Signed 32-bit integer. */
  i32(): Field<number>;
  /** Signed 64-bit integer, as a bigint. */
  i64(): Field<bigint>;
  /** 32-bit IEEE float. */
  f32(): Field<number>;
  /** 64-bit IEEE float. */
  f64(): Field<number>;
  /** Boolean, one byte: 0 or 1. */
  bool(): Field<boolean>;
  /** Unsigned 256-bit integer, as a bigint (32 bytes, little-endian). */
  u256(): Field<bigint>;
  /** Fixed-size byte array of `length` bytes (1 to 4096), e.g. `bytes(20)` for an address. */
  bytes(length: number): Field<Uint8Array>;
  /** Variable-length UTF-8 string. */
  string(): Field<string>;
  /** Variable-length byte string. */
  varBytes(): Field<Uint8Array>;
}

/**
 * Builders for field descriptors.
 *
 * Integers up to 32 bits are `number`s; 64-bit and 256-bit integers are
 * `bigint`s; fixed-size byte arrays (`bytes(20)` for an address) and
 * variable-length byte strings are `Uint8Array`s. Every value is stored
 * little-endian.
 *
 * @example
 * ```ts
 * import { field } from "./field.ts";
 * const amount = field.u256();
 * if (amount.size !== 32) throw new Error("a u256 takes 32 bytes");
 * ```
 */
export const field: FieldBuilders = Object.freeze({
  /** Unsigned 8-bit integer. */
  u8: (): Field<number> => fixed("u8", 1),
  /** Unsigned 16-bit integer. */
  u16: (): Field<number> => fixed("u16", 2),
  /** Unsigned 32-bit integer. */
  u32: (): Field<number> => fixed("u32", 4),
  /** Unsigned 64-bit integer, as a bigint. */
  u64: (): Field<bigint> => fixed("u64", 8),
  /** Signed 8-bit integer. */
  i8: (): Field<number> => fixed("i8", 1),
  /** Signed 16-bit integer. */
  i16: (): Field<number> => fixed("i16", 2),
  /** Signed 32-bit integer. */
  i32: (): Field<number> => fixed("i32", 4),
  /** Signed 64-bit integer, as a bigint. */
  i64: (): Field<bigint> => fixed("i64", 8),
  /** 32-bit IEEE float. */
  f32: (): Field<number> => fixed("f32", 4),
  /** 64-bit IEEE float. */
  f64: (): Field<number> => fixed("f64", 8),
  /** Boolean, one byte: 0 or 1. */
  bool: (): Field<boolean> => fixed("bool", 1),
  /** Unsigned 256-bit integer, as a bigint (32 bytes, little-endian). */
  u256: (): Field<bigint> => fixed("u256", 32),
  /** Fixed-size byte array of `length` bytes (1 to 4096), e.g. `bytes(20)` for an address. */
  bytes: (length: number): Field<Uint8Array> => fixed("bytes", length),
  /** Variable-length UTF-8 string. */
  string: (): Field<string> => fixed("string", 0),
  /** Variable-length byte string. */
  varBytes: (): Field<Uint8Array> => fixed("varbytes", 0),
});

/** Whether a field kind lives in the variable-length section. */
export function isVariable(kind: FieldKind): boolean {
  return kind === "string" || kind === "varbytes";
}
