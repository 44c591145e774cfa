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
    # clinical operations (docs/consultations.md)
    "departments": ("GET", "/api/v1/departments", None),
    "department-create": ("POST", "/api/v1/departments", {"institution_id": 2, "name": "心内科 Cardiology"}),
    "doctor-department": ("PUT", "/api/v1/doctors/12/department", {"department_id": 3}),
    "doctors-search": ("GET", "/api/v1/doctors", None),
    "roster-get": ("GET", "/api/v1/doctors/12/roster", None),
    "roster-set": ("PUT", "/api/v1/doctors/12/roster", {"timezone": "Asia/Shanghai", "templates": [
        {"weekday": 1, "start": "09:00", "end": "12:00", "slot_minutes": 15, "visit_type": "video"}]}),
    "roster-exception": ("POST", "/api/v1/doctors/12/roster/exceptions", {"kind": "extra",
        "starts_at": "2026-12-01T01:00:00Z", "ends_at": "2026-12-01T02:00:00Z", "slot_minutes": 20,
        "visit_type": "follow_up", "note": "flu season"}),
    "slots": ("GET", "/api/v1/doctors/12/slots", None),
    "queue": ("GET", "/api/v1/doctors/12/queue", None),
    "slot-block": ("POST", "/api/v1/slots/40/block", None),
    "slot-release": ("POST", "/api/v1/slots/40/release", None),
    "appointments": ("GET", "/api/v1/appointments", None),
    "book": ("POST", "/api/v1/appointments", {"slot_id": 40, "reason": "胸痛 chest pain"}),
    "book-for": ("POST", "/api/v1/appointments", {"slot_id": 40, "patient_id": 9}),
    "appointment": ("GET", "/api/v1/appointments/5", None),
    "cancel": ("POST", "/api/v1/appointments/5/cancel", {"reason": "better"}),
    "reschedule": ("POST", "/api/v1/appointments/5/reschedule", {"slot_id": 41}),
    "check-in": ("POST", "/api/v1/appointments/5/check-in", None),
    "admit": ("POST", "/api/v1/appointments/5/admit", None),
    "complete": ("POST", "/api/v1/appointments/5/complete", {"diagnosis": "x", "advice": "y"}),
    "no-show": ("POST", "/api/v1/appointments/5/no-show", None),
    "visit-room-token": ("POST", "/api/v1/appointments/5/room-token", None),
    "invite": ("POST", "/api/v1/appointments/5/invites", {"role": "interpreter", "label": "Cantonese"}),
    "redeem": ("POST", "/api/v1/invites/redeem", {"token": "ab" * 32, "name": "Mr Chan"}),
    "messages": ("GET", "/api/v1/appointments/5/messages", None),
    "files": ("GET", "/api/v1/appointments/5/files", None),
    "file": ("GET", "/api/v1/appointments/5/files/8", None),
    "notifications": ("GET", "/api/v1/notifications", None),
    "notification-read": ("POST", "/api/v1/notifications/3/read", None),
    "no-shows": ("GET", "/api/v1/admin/no-shows", None),
    "referrals": ("GET", "/api/v1/referrals", None),
    "referral-create": ("POST", "/api/v1/referrals", {"patient_id": 9, "to_institution_id": 2,
        "to_department_id": 3, "reason": "exertional chest pain", "urgency": "urgent"}),
    "referral": ("GET", "/api/v1/referrals/4", None),
    "referral-accept": ("POST", "/api/v1/referrals/4/accept", {}),
    "referral-decline": ("POST", "/api/v1/referrals/4/decline", {"reason": "no capacity"}),
    "referral-schedule": ("POST", "/api/v1/referrals/4/schedule", {"slot_id": 40, "specialist_ids": [13, 14]}),
    "referral-schedule-bad": ("POST", "/api/v1/referrals/4/schedule", {"slot_id": 40, "specialist_ids": 13}),
    "referral-report": ("POST", "/api/v1/referrals/4/report", {"report": "PCI advised"}),
    "referral-close": ("POST", "/api/v1/referrals/4/close", {}),
    "referral-cancel": ("POST", "/api/v1/referrals/4/cancel", {"reason": "resolved"}),
    "referral-document": ("GET", "/api/v1/referrals/4/documents/8", None),
    "fhir-slot-search": ("GET", "/api/v1/fhir/Slot", None),
    "fhir-appointment": ("GET", "/api/v1/fhir/Appointment/5", None),
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
