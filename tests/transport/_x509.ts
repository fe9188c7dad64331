/**
 * A small X.509 writer for test certificates, so TLS tests need no `openssl`:
 * a throwaway CA and a server certificate for 127.0.0.1/localhost, ECDSA P-256
 * keys from `crypto.subtle`, DER encoded by hand.
 *
 * @module
 */

const enc = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A DER tag-length-value. */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(...content);
  const n = body.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else if (n < 0x100) len = [0x81, n];
  else if (n < 0x10000) len = [0x82, n >> 8, n & 0xff];
  else len = [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat(new Uint8Array([tag, ...len]), body);
}

const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const set = (...c: Uint8Array[]) => tlv(0x31, ...c);
const octets = (b: Uint8Array) => tlv(0x04, b);
const bits = (b: Uint8Array) => tlv(0x03, new Uint8Array([0]), b);
const bool = (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, enc.encode(s));
const explicit = (n: number, ...c: Uint8Array[]) => tlv(0xa0 | n, ...c);

/** A non-negative DER INTEGER from big-endian bytes. */
function integer(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  return tlv(0x02, (v[0]! & 0x80) !== 0 ? concat(new Uint8Array([0]), v) : v);
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(out));
}

function time(d: Date): Uint8Array {
  const p = (n: number) => String(n).padStart(2, "0");
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, enc.encode(s));
}

const name = (cn: string) => seq(set(seq(oid("2.5.4.3"), utf8(cn))));
const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const ext = (id: string, critical: boolean, value: Uint8Array) =>
  critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));

/** Turns WebCrypto's raw r||s ECDSA signature into DER. */
function derSignature(raw: Uint8Array): Uint8Array {
  return seq(integer(raw.subarray(0, 32)), integer(raw.subarray(32)));
}

function pem(label: string, der: Uint8Array): string {
  let b64 = "";
  const s = btoa(String.fromCharCode(...der));
  for (let i = 0; i < s.length; i += 64) b64 += s.slice(i, i + 64) + "\n";
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

const ALG = { name: "ECDSA", namedCurve: "P-256" } as const;

async function certificate(options: {
  subject: string;
  issuer: string;
  serial: number;
  publicKey: CryptoKey;
  signer: CryptoKey;
  ca: boolean;
}): Promise<Uint8Array> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", options.publicKey));
  const now = Date.now();
  const extensions = options.ca
    ? [
      ext("2.5.29.19", true, seq(bool(true))),
      // keyUsage: digitalSignature (bit 0) and keyCertSign (bit 5).
      ext("2.5.29.15", true, tlv(0x03, new Uint8Array([1, 0x84]))),
    ]
    : [
      ext("2.5.29.19", true, seq()),
      ext("2.5.29.15", true, tlv(0x03, new Uint8Array([7, 0x80]))),
      ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))),
      ext(
        "2.5.29.17",
        false,
        seq(tlv(0x87, new Uint8Array([127, 0, 0, 1])), tlv(0x82, enc.encode("localhost"))),
      ),
    ];
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    integer(new Uint8Array([0, 0, options.serial >> 8, options.serial & 0xff])),
    ECDSA_SHA256,
    name(options.issuer),
    seq(time(new Date(now - 3600_000)), time(new Date(now + 2 * 86400_000))),
    name(options.subject),
    spki,
    explicit(3, seq(...extensions)),
  );
  const raw = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      options.signer,
      tbs as Uint8Array<ArrayBuffer>,
    ),
  );
  return seq(tbs, ECDSA_SHA256, bits(derSignature(raw)));
}

/** PEM texts of a fresh test CA and a server certificate (with its key) signed by it. */
export async function generateTestCertificate(): Promise<
  { ca: string; cert: string; key: string }
> {
  const ca = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const server = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const caDer = await certificate({
    subject: "mycelium test CA",
    issuer: "mycelium test CA",
    serial: 1,
    publicKey: ca.publicKey,
    signer: ca.privateKey,
    ca: true,
  });
  const serverDer = await certificate({
    subject: "localhost",
    issuer: "mycelium test CA",
    serial: 2,
    publicKey: server.publicKey,
    signer: ca.privateKey,
    ca: false,
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", server.privateKey));
  return {
    ca: pem("CERTIFICATE", caDer),
    cert: pem("CERTIFICATE", serverDer),
    key: pem("PRIVATE KEY", pkcs8),
  };
}
