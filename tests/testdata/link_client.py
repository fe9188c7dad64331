#!/usr/bin/env python3
"""A Mycelium link client written from docs/wire_format.md and docs/link_protocol.md only.

Python 3 standard library, no Mycelium code. Used by tests/transport/python_client_test.ts.

Modes (each prints one JSON object on stdout):

  link_client.py exchange (--unix PATH | --tcp HOST:PORT) --identity ID [--key KEY]
                 [--trust] [--bad-schema]
      Dials a LinkListener, runs the keyed handshake, sends three Ping messages (two plain
      publishes, one routed `send` to actor "echo"), expects one Pong per Ping (the Pong of the
      routed Ping as a routed `reply`), checks every Pong against the Ping it answers, acknowledges,
      closes. Exit 0 on success, 2 when the link was refused, 1 on any other failure.
      --trust: do not check the listener's key proof (to see the listener refuse a bad one).
      --bad-schema: declare Ping with another field list (the listener must refuse it).

  link_client.py golden FILE [--key KEY]
      Reads a golden handshake transcript and recomputes both key proofs from the spec (empty
      without a key), and checks the boot ids the Auth and Ready frames refer to.
"""

import argparse
import hashlib
import hmac
import json
import math
import os
import random
import socket
import struct
import sys
import time

# ----------------------------------------------------------------------------- wire format

MAGIC = 0x4D
VERSION = 1
HEADER = struct.Struct("<BBHHHI")  # magic, version, type id, flags, fixed length, body length
VARIABLE = ("string", "varbytes")
SIZES = {
    "u8": 1, "u16": 2, "u32": 4, "u64": 8, "i8": 1, "i16": 2, "i32": 4, "i64": 8,
    "f32": 4, "f64": 8, "bool": 1, "u256": 32, "string": 0, "varbytes": 0,
}
PACK = {
    "u8": "<B", "u16": "<H", "u32": "<I", "u64": "<Q", "i8": "<b", "i16": "<h", "i32": "<i",
    "i64": "<q", "f32": "<f", "f64": "<d",
}


class Kind:
    """A field kind; bytes(n) carries its size."""

    def __init__(self, name, size=None):
        self.name = name
        self.size = SIZES[name] if size is None else size


def bytes_kind(n):
    return Kind("bytes", n)


class MessageType:
    """A message type: id, name and ordered fields [(name, Kind)]."""

    def __init__(self, type_id, name, fields):
        self.id = type_id
        self.name = name
        self.fields = fields
        self.fixed = [(n, k) for n, k in fields if k.name not in VARIABLE]
        self.variable = [(n, k) for n, k in fields if k.name in VARIABLE]
        self.fixed_size = sum(k.size for _, k in self.fixed)

    def fingerprint(self):
        """FNV-1a 64 of `id|name|field:kind:size|...`, 16 lower-case hex digits."""
        parts = [str(self.id), self.name] + [f"{n}:{k.name}:{k.size}" for n, k in self.fields]
        h = 0xCBF29CE484222325
        for b in "|".join(parts).encode("utf-8"):
            h = ((h ^ b) * 0x100000001B3) % (1 << 64)
        return f"{h:016x}"

    def type_line(self):
        return f"{self.id} {self.name} {self.fingerprint()}"

    def encode(self, message, flags=0):
        body = bytearray()
        for n, k in self.fixed:
            v = message[n]
            if k.name in PACK:
                body += struct.pack(PACK[k.name], v)
            elif k.name == "bool":
                body.append(1 if v else 0)
            elif k.name == "u256":
                body += v.to_bytes(32, "little")
            elif k.name == "bytes":
                assert len(v) == k.size, n
                body += v
        for n, k in self.variable:
            v = message[n]
            data = v.encode("utf-8") if k.name == "string" else bytes(v)
            body += struct.pack("<I", len(data)) + data
        return HEADER.pack(MAGIC, VERSION, self.id, flags, self.fixed_size, len(body)) + bytes(body)

    def decode(self, frame):
        """Decodes a whole frame of this type (header checked by the caller)."""
        _, _, type_id, _, fixed_len, body_len = HEADER.unpack_from(frame, 0)
        assert type_id == self.id, f"expected type {self.id}, got {type_id}"
        b = 12
        end = 12 + body_len
        out = {}
        at = 0
        for n, k in self.fixed:
            if at + k.size > fixed_len:  # an older writer: zero value
                out[n] = default(k)
            elif k.name in PACK:
                out[n] = struct.unpack_from(PACK[k.name], frame, b + at)[0]
            elif k.name == "bool":
                byte = frame[b + at]
                if byte > 1:
                    raise ValueError(f"bool field {n} holds {byte}")
                out[n] = byte == 1
            elif k.name == "u256":
                out[n] = int.from_bytes(frame[b + at:b + at + 32], "little")
            else:
                out[n] = bytes(frame[b + at:b + at + k.size])
            at += k.size
        e = b + fixed_len
        entries = []
        while e < end:
            if end - e < 4:
                raise ValueError("truncated variable entry")
            (count,) = struct.unpack_from("<I", frame, e)
            if count > end - e - 4:
                raise ValueError("variable entry runs past the frame")
            entries.append(bytes(frame[e + 4:e + 4 + count]))
            e += 4 + count
        for i, (n, k) in enumerate(self.variable):
            raw = entries[i] if i < len(entries) else b""
            out[n] = raw.decode("utf-8") if k.name == "string" else raw
        return out


def default(k):
    if k.name in ("f32", "f64"):
        return 0.0
    if k.name == "bool":
        return False
    if k.name == "bytes":
        return bytes(k.size)
    return 0


# ----------------------------------------------------------------------------- link protocol

PROTOCOL = 1
FLAG_ROUTED = 0x0001
FLAG_ACK_REQUEST = 0x0002
S, VB = Kind("string"), Kind("varbytes")
HELLO = MessageType(0xFF01, "Hello", [
    ("protocol", Kind("u16")), ("bootId", Kind("f64")), ("maxFrameSize", Kind("u32")),
    ("nonce", bytes_kind(32)), ("identity", S), ("types", S),
])
READY = MessageType(0xFF02, "Ready", [("received", Kind("f64")), ("ref", Kind("f64"))])
AUTH = MessageType(0xFF03, "Auth", [("received", Kind("f64")), ("ref", Kind("f64")), ("proof", VB)])
HEARTBEAT = MessageType(0xFF04, "Heartbeat", [("received", Kind("f64"))])
ANNOUNCE = MessageType(0xFF05, "Announce", [
    ("kind", Kind("u8")), ("first", Kind("u32")), ("a", S), ("b", S),
])
ENVELOPE = MessageType(0xFF06, "Envelope", [
    ("kind", Kind("u8")), ("to", Kind("u16")), ("from", Kind("u16")), ("correlation", Kind("u32")),
])
ERROR = MessageType(0xFF07, "Error", [("code", S), ("message", S), ("messageType", S)])
CLOSE = MessageType(0xFF08, "Close", [("reason", S)])
CONTROL = {t.id: t for t in (HELLO, READY, AUTH, HEARTBEAT, ANNOUNCE, ENVELOPE, ERROR, CLOSE)}
ROUTE_KINDS = {1: "publish", 2: "send", 3: "request", 4: "reply"}
DIALER_LABEL = b"mycelium-link-1 dialer proof"
ACCEPTOR_LABEL = b"mycelium-link-1 acceptor proof"


def proof(key, label, dialer_hello, acceptor_hello):
    return hmac.new(key, label + dialer_hello + acceptor_hello, hashlib.sha256).digest()


class Refused(Exception):
    """The link was refused (by either side), with a transport error code."""

    def __init__(self, code, message, by):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.by = by


class Stream:
    """Whole frames from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def send(self, data):
        self.sock.sendall(data)

    def frame(self, deadline):
        while True:
            if len(self.buf) >= 12:
                magic, version, type_id, flags, fixed_len, body_len = HEADER.unpack_from(self.buf, 0)
                if magic != MAGIC or version != VERSION or fixed_len > body_len:
                    raise ValueError(f"bad frame header {bytes(self.buf[:12]).hex()}")
                if len(self.buf) >= 12 + body_len:
                    frame = bytes(self.buf[:12 + body_len])
                    del self.buf[:12 + body_len]
                    return type_id, flags, frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame in time")
            self.sock.settimeout(min(left, 0.5))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise ConnectionError("the listener closed the connection")
            self.buf += chunk


def expect(stream, want, deadline):
    type_id, flags, frame = stream.frame(deadline)
    if type_id == ERROR.id:
        e = ERROR.decode(frame)
        raise Refused(e["code"], e["message"], "listener")
    if type_id != want.id:
        raise Refused("TRANSPORT_HANDSHAKE", f"expected {want.name}, got type {type_id:#x}", "client")
    return frame


def check_types(lines, mine):
    """The spec's schema check: a type known by id or name must match in id, name and fingerprint."""
    by_id = {t.id: t for t in mine}
    by_name = {t.name: t for t in mine}
    ids = set()
    for line in lines.split("\n") if lines else []:
        id_text, name, fp = line.split(" ")
        ids.add(int(id_text))
        t = by_id.get(int(id_text)) or by_name.get(name)
        if t is not None and (t.id != int(id_text) or t.name != name or t.fingerprint() != fp):
            raise Refused("TRANSPORT_SCHEMA_MISMATCH", f"type {t.name} differs: {line}", "client")
    return ids


def handshake(stream, identity, key, types, trust, timeout=5.0):
    deadline = time.monotonic() + timeout
    boot_id = random.randint(1, (1 << 53) - 1)
    my_hello = HELLO.encode({
        "protocol": PROTOCOL,
        "bootId": float(boot_id),
        "maxFrameSize": 1 << 20,
        "nonce": os.urandom(32),
        "identity": identity,
        "types": "\n".join(t.type_line() for t in types),
    })
    stream.send(my_hello)
    peer_hello = expect(stream, HELLO, deadline)
    hello = HELLO.decode(peer_hello)
    try:
        if hello["protocol"] != PROTOCOL:
            raise Refused("TRANSPORT_VERSION", f"listener speaks {hello['protocol']}", "client")
        peer_types = check_types(hello["types"], types)
        auth = AUTH.decode(expect(stream, AUTH, deadline))
        if key is not None and not trust:
            want = proof(key, ACCEPTOR_LABEL, my_hello, peer_hello)
            if not hmac.compare_digest(want, auth["proof"]):
                raise Refused("TRANSPORT_AUTH", "the listener failed the shared-key challenge", "client")
    except Refused as e:
        if e.by == "client":
            stream.send(ERROR.encode({"code": e.code, "message": e.message, "messageType": ""}))
        raise
    my_proof = b"" if key is None else proof(key, DIALER_LABEL, my_hello, peer_hello)
    stream.send(AUTH.encode({"received": 0.0, "ref": hello["bootId"], "proof": my_proof}))
    expect(stream, READY, deadline)
    return {"identity": hello["identity"], "bootId": hello["bootId"], "types": peer_types,
            "maxFrameSize": hello["maxFrameSize"]}


# ----------------------------------------------------------------------------- the exchange


def kinds_fields():
    return [
        ("u8", Kind("u8")), ("u16", Kind("u16")), ("u32", Kind("u32")), ("u64", Kind("u64")),
        ("i8", Kind("i8")), ("i16", Kind("i16")), ("i32", Kind("i32")), ("i64", Kind("i64")),
        ("f32", Kind("f32")), ("f64", Kind("f64")), ("flag", Kind("bool")), ("u256", Kind("u256")),
        ("tag", bytes_kind(4)), ("text", Kind("string")), ("blob", Kind("varbytes")),
    ]


PING = MessageType(4001, "pyclient.Ping", [("seq", Kind("u32"))] + kinds_fields())
PONG = MessageType(4002, "pyclient.Pong", [("seq", Kind("u32"))] + kinds_fields())
BAD_PING = MessageType(4001, "pyclient.Ping", [("seq", Kind("u16"))] + kinds_fields())


def ping(seq):
    return {
        "seq": seq, "u8": (seq * 50) % 256, "u16": 40000 + seq, "u32": 4_000_000_000 + seq,
        "u64": (1 << 64) - 1 - seq, "i8": -100 - seq, "i16": -30000, "i32": -2_000_000_000,
        "i64": -(1 << 63) + seq, "f32": 1.5 * seq, "f64": -0.1 * seq, "flag": seq % 2 == 1,
        "u256": (1 << 255) + seq, "tag": bytes([seq, 2, 3, 4]), "text": f"ping {seq} mÿ🍄",
        "blob": bytes(range(seq)),
    }


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def pong_of(p):
    """What the listener must answer: each field transformed, as the test defines it."""
    return {
        "seq": p["seq"], "u8": 255 - p["u8"], "u16": 65535 - p["u16"],
        "u32": 4294967295 - p["u32"], "u64": (p["u64"] * 3) % (1 << 64), "i8": -p["i8"] - 1,
        "i16": -p["i16"] - 1, "i32": -p["i32"] - 1, "i64": -p["i64"] - 1,
        "f32": f32(f32(p["f32"]) * 2), "f64": -p["f64"], "flag": not p["flag"],
        "u256": (1 << 256) - 1 - p["u256"], "tag": p["tag"][::-1], "text": "pong: " + p["text"],
        "blob": p["blob"] + b"\xff",
    }


def same(a, b):
    for k, v in a.items():
        w = b[k]
        if isinstance(v, float) and math.isnan(v) and math.isnan(w):
            continue
        if v != w:
            return f"{k}: {v!r} != {w!r}"
    return None


def exchange(args):
    key = None if args.key is None else args.key.encode("utf-8")
    if args.unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(args.unix)
    else:
        host, port = args.tcp.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
    stream = Stream(sock)
    types = [BAD_PING if args.bad_schema else PING, PONG]
    try:
        peer = handshake(stream, args.identity, key, types, args.trust)
    except Refused as e:
        print(json.dumps({"ok": False, "error": e.code, "by": e.by, "message": e.message}))
        sock.close()
        return 2
    if PING.id not in peer["types"]:
        raise RuntimeError("the listener does not know Ping")

    # Names we route with, announced before use; then our presence; then three Pings.
    out = ANNOUNCE.encode({"kind": 0, "first": 1, "a": "echo\npy-actor", "b": ""})
    out += ANNOUNCE.encode({"kind": 1, "first": 0, "a": "py-actor", "b": ""})
    out += PING.encode(ping(1)) + PING.encode(ping(2))
    out += ENVELOPE.encode({"kind": 2, "to": 1, "from": 2, "correlation": 5})
    out += PING.encode(ping(3), FLAG_ROUTED)
    stream.send(out)
    sent_frames = 4  # two plain Pings, one Envelope and its Ping

    names = [""]
    presence = None
    received = 0
    acked = 0
    pongs = {}
    envelope = None
    deadline = time.monotonic() + 10
    last_sent = time.monotonic()
    while len(pongs) < 3 or acked < sent_frames:
        type_id, flags, frame = stream.frame(deadline)
        if type_id == HEARTBEAT.id:
            acked = max(acked, int(HEARTBEAT.decode(frame)["received"]))
        elif type_id == ANNOUNCE.id:
            a = ANNOUNCE.decode(frame)
            if a["kind"] == 0:
                if a["first"] != len(names):
                    raise RuntimeError(f"names from {a['first']}, expected {len(names)}")
                names += a["a"].split("\n")
            elif a["kind"] == 1:
                presence = {"actors": a["a"].split("\n") if a["a"] else [],
                            "topics": a["b"].split("\n") if a["b"] else []}
        elif type_id == ENVELOPE.id:
            if envelope is not None:
                raise RuntimeError("two envelopes in a row")
            envelope = ENVELOPE.decode(frame)
        elif type_id == PONG.id:
            routed = bool(flags & FLAG_ROUTED)
            if routed != (envelope is not None):
                raise RuntimeError("envelope and ROUTED flag disagree")
            received += 2 if routed else 1
            p = PONG.decode(frame)
            route = None
            if routed:
                route = {"kind": ROUTE_KINDS[envelope["kind"]], "to": names[envelope["to"]],
                         "from": names[envelope["from"]], "correlation": envelope["correlation"]}
                envelope = None
            diff = same(pong_of(ping(p["seq"])), p)
            if diff is not None:
                raise RuntimeError(f"Pong {p['seq']} is wrong: {diff}")
            pongs[p["seq"]] = route
        elif type_id in (ERROR.id, CLOSE.id):
            raise RuntimeError(f"the listener closed: {CONTROL[type_id].decode(frame)}")
        else:
            raise RuntimeError(f"unexpected frame type {type_id:#x}")
        # Acknowledge, and keep the listener's peer timeout (5 s) away while we wait.
        if flags & FLAG_ACK_REQUEST or time.monotonic() - last_sent >= 1.0:
            stream.send(HEARTBEAT.encode({"received": float(received)}))
            last_sent = time.monotonic()

    # Acknowledge everything, say goodbye, close.
    stream.send(HEARTBEAT.encode({"received": float(received)}) +
                CLOSE.encode({"reason": "python client done"}))
    sock.close()
    print(json.dumps({
        "ok": True,
        "peer": peer["identity"],
        "pongs": {str(k): v for k, v in sorted(pongs.items())},
        "received": received,
        "ackedByListener": acked,
        "presence": presence,
    }))
    return 0


# ----------------------------------------------------------------------------- golden transcripts


def read_transcript(path):
    """Frames of a transcript: lines `> Name` (dialer to acceptor) or `< Name`, then hex."""
    frames = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line[0] in "<>":
            frames.append([line[0], line[1:].strip(), bytearray()])
        else:
            frames[-1][2] += bytes.fromhex(line)
    return [(d, n, bytes(b)) for d, n, b in frames]


def golden(args):
    key = None if args.key is None else args.key.encode("utf-8")
    frames = read_transcript(args.file)
    by = {(d, n): f for d, n, f in frames}
    for d, n, f in frames:
        _, _, type_id, _, _, body_len = HEADER.unpack_from(f, 0)
        assert 12 + body_len == len(f), f"{d} {n}: length"
        assert CONTROL[type_id].name == n, f"{d} {n}: type id {type_id:#x}"
    dialer_hello, acceptor_hello = by[(">", "Hello")], by[("<", "Hello")]
    acc_auth, dial_auth = AUTH.decode(by[("<", "Auth")]), AUTH.decode(by[(">", "Auth")])
    hellos = [HELLO.decode(dialer_hello), HELLO.decode(acceptor_hello)]
    def expected(label):
        return b"" if key is None else proof(key, label, dialer_hello, acceptor_hello)

    checks = {
        "acceptorProof": acc_auth["proof"] == expected(ACCEPTOR_LABEL),
        "dialerProof": dial_auth["proof"] == expected(DIALER_LABEL),
        "dialerRef": dial_auth["ref"] == hellos[1]["bootId"],
        "ready": READY.decode(by[("<", "Ready")])["ref"] == hellos[0]["bootId"],
    }
    fingerprints = []
    for h in hellos:
        for line in h["types"].split("\n") if h["types"] else []:
            fingerprints.append(line)
    print(json.dumps({"ok": all(checks.values()), "checks": checks,
                      "identities": [h["identity"] for h in hellos], "typeLines": fingerprints}))
    return 0 if all(checks.values()) else 1


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    ex = sub.add_parser("exchange")
    where = ex.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix")
    where.add_argument("--tcp")
    ex.add_argument("--identity", required=True)
    ex.add_argument("--key")
    ex.add_argument("--trust", action="store_true")
    ex.add_argument("--bad-schema", action="store_true")
    gd = sub.add_parser("golden")
    gd.add_argument("file")
    gd.add_argument("--key", help="the shared key; without it both proofs must be empty")
    args = parser.parse_args()
    return exchange(args) if args.mode == "exchange" else golden(args)


if __name__ == "__main__":
    sys.exit(main())
