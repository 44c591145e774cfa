#!/usr/bin/env python3
"""Regenerates the seed corpus of tests/fuzz/fuzz-signaling.c in this folder:
one file per client frame, valid and invalid, covering every message type and
every error code the validator returns, plus room tokens signed (with Python's
own hmac, independently of token.c) with the fuzz target's secret.
Run: python3 tests/fuzz/corpus/signaling/generate.py"""
import base64, hashlib, hmac, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-secret-0123456789abcdef"   # as in fuzz-signaling.c
NOW = 1700000000                          # the target's clock


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(payload, header=None, secret=SECRET):
    h = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    p = b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    sig = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(sig)}"


claims = {"room": "r1", "sub": "u1", "name": "Dr Li 王", "role": "doctor", "exp": NOW + 3600, "iat": NOW}
tokens = {
    "valid": token(claims),
    "observer": token(dict(claims, role="observer")),
    "expired": token(dict(claims, exp=NOW - 1)),
    "bad-role": token(dict(claims, role="admin")),
    "bad-room": token(dict(claims, room="../r")),
    "exp-string": token(dict(claims, exp=str(NOW + 3600))),
    "no-name": token({k: v for k, v in claims.items() if k != "name"}),
    "alg-none": token(claims, {"alg": "none", "typ": "JWT"}),
    "hs512": token(claims, {"alg": "HS512", "typ": "JWT"}),
    "wrong-secret": token(claims, secret=b"another secret"),
    # visits: a patient waiting in the lobby, the doctor hosting
    "lobby": token(dict(claims, room="appt-7", sub="41", role="patient", lobby=True)),
    "host": token(dict(claims, room="appt-7", sub="12", host=True)),
    "lobby-string": token(dict(claims, lobby="true")),
    "host-number": token(dict(claims, host=1)),
}
tokens["unsigned"] = tokens["alg-none"].rsplit(".", 1)[0] + "."

# The validator does not parse SDP (media/ does, fuzz-sdp covers it); real
# offers are captured elsewhere, so only a stub is needed here.
offer = "v=0\r\n"

frames = {
    # valid, one per type
    "join": {"type": "join", "id": 1, "token": tokens["valid"]},
    "join-observer": {"type": "join", "id": "j", "token": tokens["observer"]},
    "offer": {"type": "offer", "id": 2, "sdp": offer},
    "candidate": {"type": "candidate", "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
                  "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "abcd"},
    "candidate-end": {"type": "candidate", "candidate": "", "sdpMid": None, "sdpMLineIndex": None},
    "end-of-candidates": {"type": "end-of-candidates"},
    "mute": {"type": "mute", "id": 3, "kind": "audio", "muted": True},
    "mute-video": {"type": "mute", "kind": "video", "muted": False},
    "leave": {"type": "leave", "id": 4},
    "ping": {"type": "ping", "id": 5},
    # bad-message
    "no-type": {"id": 1},
    "type-number": {"type": 1},
    "id-float": {"type": "ping", "id": 1.5},
    "id-long": {"type": "ping", "id": "x" * 65},
    "join-no-token": {"type": "join"},
    "offer-sdp-object": {"type": "offer", "sdp": {"sdp": "v=0"}},
    "candidate-bad-index": {"type": "candidate", "candidate": "c", "sdpMLineIndex": -1},
    "mute-bad-kind": {"type": "mute", "kind": "screen", "muted": True},
    "mute-bad-muted": {"type": "mute", "kind": "audio", "muted": "yes"},
    "deep": {"type": "ping", "x": [[[[[[[[[1]]]]]]]]]},
    # the visit: host controls, chat, files, notifications
    "admit": {"type": "admit", "id": 6, "participant": "p0123456789abcdef"},
    "admit-bad-id": {"type": "admit", "participant": "p0123456789ABCDEF"},
    "mute-participant": {"type": "mute-participant", "id": 7, "participant": "pfedcba9876543210",
                         "kind": "audio"},
    "mute-participant-no-kind": {"type": "mute-participant", "participant": "pfedcba9876543210"},
    "remove": {"type": "remove", "id": 8, "participant": "pfedcba9876543210"},
    "chat": {"type": "chat", "id": 9, "text": "Can you see the rash? 你好"},
    "chat-blank": {"type": "chat", "text": " \n\t"},
    "chat-long": {"type": "chat", "text": "中" * 4001},
    "file-shared": {"type": "file-shared", "id": 10, "file_id": 5},
    "file-shared-zero": {"type": "file-shared", "file_id": 0},
    "subscribe": {"type": "subscribe", "id": 11, "session": "0123456789abcdef" * 4},
    "subscribe-long": {"type": "subscribe", "session": "a" * 257},
    # unknown-type
    "unknown": {"type": "joined"},
    "unknown-lobby": {"type": "lobby"},
}
for name, tok in tokens.items():
    frames["join-token-" + name] = {"type": "join", "id": name, "token": tok}

raw = {
    "bad-json-text": b"hello",
    "bad-json-array": b'[{"type":"ping"}]',
    "bad-json-truncated": b'{"type":"ping"',
    "bad-json-duplicate": b'{"type":"ping","type":"leave"}',
    "bad-json-utf8": b'{"type":"ping","id":"\xff"}',
    "bad-json-nul": b'{"type":"ping","id":"a\\u0000b"}',
    "too-large": b'{"type":"offer","sdp":"' + b"a" * 65536 + b'"}',
}
for name, tok in tokens.items():
    raw["token-" + name] = tok.encode()

for name, obj in frames.items():
    raw["msg-" + name] = json.dumps(obj, ensure_ascii=False).encode()

for name, data in raw.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
print(f"wrote {len(raw)} inputs to {HERE}")
