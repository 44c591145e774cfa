#!/usr/bin/env python3
"""Regenerates the seed corpus of tests/fuzz/fuzz-http.c in this folder: one
file per request, "METHOD PATH" on the first line and the body after it.
Paths come from the route table of docs/api.md (every endpoint, plus wrong
methods, bad ids and unknown paths); bodies are each endpoint's valid body
and the invalid shapes the decoder refuses, serialised by Python's json.
Run: python3 tests/fuzz/corpus/http/generate.py"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
PW = "correct horse battery staple"

endpoints = {
    "register": ("POST", "/api/v1/auth/register", {"email": "a@example.org", "password": PW, "display_name": "Ann"}),
    "login": ("POST", "/api/v1/auth/login", {"email": "a@example.org", "password": PW}),
    "login-totp": ("POST", "/api/v1/auth/login", {"email": "a@example.org", "password": PW, "totp_code": "123456"}),
    "logout": ("POST", "/api/v1/auth/logout", None),
    "reset-request": ("POST", "/api/v1/auth/password-reset/request", {"email": "a@example.org"}),
    "reset": ("POST", "/api/v1/auth/password-reset", {"token": "ab" * 32, "password": PW}),
    "me": ("GET", "/api/v1/me", None),
    "me-password": ("POST", "/api/v1/me/password", {"old_password": PW, "new_password": PW + "!"}),
    "me-totp": ("POST", "/api/v1/me/totp", None),
    "me-totp-confirm": ("POST", "/api/v1/me/totp/confirm", {"code": "123456"}),
    "users-list": ("GET", "/api/v1/admin/users", None),
    "users-create": ("POST", "/api/v1/admin/users", {"email": "d@example.org", "password": PW, "display_name": "Dr Li 李",
                                                     "role": "clinic_staff", "institution_id": 3}),
    "institutions-list": ("GET", "/api/v1/institutions", None),
    "institutions-create": ("POST", "/api/v1/institutions", {"name": "Ruijin", "kind": "hospital"}),
    "doctor-get": ("GET", "/api/v1/doctors/12", None),
    "doctor-profile": ("PUT", "/api/v1/doctors/12/profile", {"licence_number": "110-42", "specialty": "cardiology"}),
    "doctor-verify": ("POST", "/api/v1/doctors/12/verify", {"verdict": "verified"}),
    "care-grant": ("POST", "/api/v1/doctors/12/patients/7", None),
    "care-revoke": ("DELETE", "/api/v1/doctors/12/patients/7", None),
    "patient-get": ("GET", "/api/v1/patients/9223372036854775807", None),
    "audit": ("GET", "/api/v1/audit", None),
    "audit-export": ("GET", "/api/v1/audit/export", None),
    "audit-verify": ("GET", "/api/v1/audit/verify", None),
    "room-token": ("POST", "/api/v1/room-tokens", {"room": "consult-1"}),
}

odd_paths = {
    "wrong-method": ("DELETE", "/api/v1/institutions"),
    "patch": ("PATCH", "/api/v1/me"),
    "id-leading-zero": ("GET", "/api/v1/patients/007"),
    "id-zero": ("GET", "/api/v1/patients/0"),
    "id-negative": ("GET", "/api/v1/patients/-1"),
    "id-overflow": ("GET", "/api/v1/patients/9223372036854775808"),
    "id-20-digits": ("GET", "/api/v1/patients/99999999999999999999"),
    "id-empty": ("GET", "/api/v1/patients/"),
    "id-trailing-slash": ("GET", "/api/v1/doctors/12/"),
    "three-ids": ("POST", "/api/v1/doctors/1/patients/2/3"),
    "unknown": ("GET", "/api/v1/nope"),
    "prefix-only": ("GET", "/api/v1"),
    "prefix-lookalike": ("GET", "/api/v10/me"),
    "dot-segments": ("GET", "/api/v1/../me"),
    "no-method": ("", "/api/v1/me"),
}

bad_bodies = {
    "truncated": '{"email": "a@example.org", ',
    "array": "[1, 2]",
    "scalar": "42",
    "empty": "",
    "wrong-type": json.dumps({"email": 42, "password": PW}),
    "null-field": json.dumps({"email": None, "password": PW}),
    "missing": json.dumps({"email": "a@example.org"}),
    "unknown-field": json.dumps({"email": "a@example.org", "password": PW, "is_admin": True}),
    "unknown-field-cjk": json.dumps({"email": "a@example.org", "password": PW, "管理员" * 30: 1}, ensure_ascii=False),
    "duplicate": '{"email": "a@example.org", "email": "b@example.org", "password": "%s"}' % PW,
    "nul": '{"email": "a\\u0000@example.org", "password": "%s"}' % PW,
    "sql": json.dumps({"email": "x'; DROP TABLE users;--@example.org", "password": "' OR 1=1 --"}),
    "deep": "[" * 3000,
    "float-id": json.dumps({"email": "d@example.org", "password": PW, "display_name": "D", "role": "doctor", "institution_id": 1.5}),
    "big-id": '{"email": "d@example.org", "password": "%s", "display_name": "D", "role": "doctor", "institution_id": 99999999999999999999}' % PW,
}


def write(name, method, path, body):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(f"{method} {path}\n".encode() if method else f"{path}\n".encode())
        if body is not None:
            f.write(body.encode() if isinstance(body, str) else body)


for name, (method, path, body) in endpoints.items():
    write("ok-" + name, method, path, json.dumps(body, ensure_ascii=False) if body is not None else None)
for name, (method, path) in odd_paths.items():
    write("path-" + name, method, path, None)
for name, body in bad_bodies.items():
    write("body-" + name, "POST", "/api/v1/auth/login" if "id" not in name else "/api/v1/admin/users", body)
write("body-invalid-utf8", "POST", "/api/v1/auth/login", b'{"email": "\xff\xfe", "password": "x"}')
