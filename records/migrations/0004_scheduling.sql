-- 0004: scheduling. Departments, weekly rosters with exceptions, slots,
-- appointments with their state machine, visit summaries (encounters) and
-- in-app notifications.
--
-- The clinical operations are SQL functions named op_<name>(req jsonb)
-- returning jsonb, called by records/ops.c with
--   req = {"actor": {"id", "role", "source"}, "args": {...}, "cfg": {...}}.
-- Each one checks the actor, changes the rows and writes its audit record
-- in one transaction, so no code path can skip a rule or the audit trail.
-- Errors are raised with SQLSTATE CS400/CS403/CS404/CS409 and a HINT that
-- is the API's machine code (e.g. slot-taken); records/pool.c maps them.
--
-- Double booking is impossible by construction: at most one appointment
-- that is not cancelled per slot (a partial unique index), and the slot row
-- is locked while it is booked, blocked or released.

CREATE FUNCTION cs_fail(state text, code text, msg text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = msg, ERRCODE = state, HINT = code;
END $$;

-- ISO 8601 UTC, seconds: the one time format of the API. STABLE like
-- to_char() itself, so the planner can inline it.
CREATE FUNCTION cs_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Strict argument readers: a missing or ill-typed argument is a 400 that
-- names it, never a NULL that slips through.
CREATE FUNCTION cs_arg_id(req jsonb, name text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE v jsonb := req->'args'->name;
BEGIN
  IF v IS NULL OR jsonb_typeof(v) <> 'number' OR (v#>>'{}')::numeric <> trunc((v#>>'{}')::numeric)
     OR (v#>>'{}')::numeric < 1 OR (v#>>'{}')::numeric > 9223372036854775807 THEN
    PERFORM cs_fail('CS400', 'bad-request', format('"%s" must be a positive integer id', name));
  END IF;
  RETURN (v#>>'{}')::bigint;
END $$;

CREATE FUNCTION cs_arg_text(req jsonb, name text, max_len int, required boolean)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE v jsonb := req->'args'->name;
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    IF required THEN
      PERFORM cs_fail('CS400', 'bad-request', format('"%s" is required', name));
    END IF;
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'string' THEN
    PERFORM cs_fail('CS400', 'bad-request', format('"%s" must be a string', name));
  END IF;
  IF length(v#>>'{}') > max_len OR (required AND btrim(v#>>'{}') = '') THEN
    PERFORM cs_fail('CS400', 'bad-request',
                    format('"%s" must be 1 to %s characters', name, max_len));
  END IF;
  RETURN v#>>'{}';
END $$;

CREATE FUNCTION cs_arg_time(req jsonb, name text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE s text := cs_arg_text(req, name, 40, true);
BEGIN
  -- Only explicit UTC or offset forms: a bare local time is ambiguous.
  IF s !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$' THEN
    PERFORM cs_fail('CS400', 'bad-request',
                    format('"%s" must be an ISO 8601 time with a zone, e.g. 2026-11-23T09:00:00Z', name));
  END IF;
  RETURN s::timestamptz;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
  PERFORM cs_fail('CS400', 'bad-request', format('"%s" is not a valid time', name));
  RETURN NULL;
END $$;

-- API dates (YYYY-MM-DD) are days in the zone of the optional "tz"
-- argument (the browser's zone), else UTC; never the session's TimeZone.
CREATE FUNCTION cs_day(d date, tz text DEFAULT 'UTC') RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT d::timestamp AT TIME ZONE tz $$;

CREATE FUNCTION cs_req_tz(req jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE tz text := coalesce(nullif(req->'args'->>'tz', ''), 'UTC');
BEGIN
  PERFORM now() AT TIME ZONE tz;
  RETURN tz;
EXCEPTION WHEN invalid_parameter_value THEN
  PERFORM cs_fail('CS400', 'bad-request', format('unknown time zone "%s"', left(tz, 64)));
  RETURN NULL;
END $$;

CREATE FUNCTION cs_actor(req jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT nullif(req->'actor'->>'id', '0')::bigint $$;
CREATE FUNCTION cs_actor_role(req jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT req->'actor'->>'role' $$;
CREATE FUNCTION cs_cfg(req jsonb, name text, def int) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce((req->'cfg'->>name)::int, def) $$;

CREATE FUNCTION cs_audit(req jsonb, action text, object_type text, object_id bigint,
                         patient bigint, result text DEFAULT 'ok', detail text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id, patient_id,
                     result, source, detail)
  VALUES (cs_actor(req), cs_actor_role(req), action, object_type, object_id::text, patient,
          result, req->'actor'->>'source', detail)
$$;

-- ---- departments --------------------------------------------------------------

CREATE TABLE departments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  institution_id bigint NOT NULL REFERENCES institutions (id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  UNIQUE (institution_id, name)
);

ALTER TABLE doctor_profiles ADD COLUMN department_id bigint REFERENCES departments (id);

-- ---- rosters and slots ----------------------------------------------------------

CREATE TABLE rosters (
  doctor_id bigint PRIMARY KEY REFERENCES users (id),
  timezone text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Weekly template: on ISO weekday (1 = Monday) from start to end, slots of
-- slot_minutes for visits of one type.
CREATE TABLE roster_templates (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  doctor_id bigint NOT NULL REFERENCES rosters (doctor_id),
  weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  start_time time NOT NULL,
  end_time time NOT NULL CHECK (end_time > start_time),
  slot_minutes smallint NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
  visit_type text NOT NULL CHECK (visit_type IN ('video', 'audio', 'follow_up'))
);
CREATE INDEX roster_templates_by_doctor ON roster_templates (doctor_id);

-- Leave removes the free slots it covers; an extra session adds slots.
CREATE TABLE roster_exceptions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  doctor_id bigint NOT NULL REFERENCES rosters (doctor_id),
  kind text NOT NULL CHECK (kind IN ('leave', 'extra')),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
  slot_minutes smallint CHECK (slot_minutes BETWEEN 5 AND 240),
  visit_type text CHECK (visit_type IN ('video', 'audio', 'follow_up')),
  note text CHECK (length(note) <= 500),
  created_by bigint REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT extra_has_shape CHECK (kind = 'leave' OR (slot_minutes IS NOT NULL AND visit_type IS NOT NULL))
);
CREATE INDEX roster_exceptions_by_doctor ON roster_exceptions (doctor_id, starts_at);

CREATE TABLE slots (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  doctor_id bigint NOT NULL REFERENCES users (id),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
  visit_type text NOT NULL CHECK (visit_type IN ('video', 'audio', 'follow_up')),
  source text NOT NULL CHECK (source IN ('template', 'extra')),
  blocked boolean NOT NULL DEFAULT false,
  UNIQUE (doctor_id, starts_at)
);
CREATE INDEX slots_by_time ON slots (starts_at);

-- ---- appointments ---------------------------------------------------------------

CREATE TABLE appointments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- NULL only once cancelled and the free slot was later removed
  slot_id bigint REFERENCES slots (id) ON DELETE SET NULL,
  doctor_id bigint NOT NULL REFERENCES users (id),
  patient_id bigint NOT NULL REFERENCES users (id),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  visit_type text NOT NULL,
  status text NOT NULL DEFAULT 'booked'
    CHECK (status IN ('booked', 'waiting', 'in_consultation', 'completed', 'cancelled', 'no_show')),
  reason text CHECK (length(reason) <= 1000),
  booked_by bigint REFERENCES users (id),
  booked_at timestamptz NOT NULL DEFAULT now(),
  checked_in_at timestamptz,
  admitted_at timestamptz,
  ended_at timestamptz,
  cancelled_at timestamptz,
  cancelled_by bigint REFERENCES users (id),
  cancel_reason text CHECK (length(cancel_reason) <= 500),
  no_show_at timestamptz,
  reminded_at timestamptz,
  rescheduled_from bigint REFERENCES appointments (id),
  CONSTRAINT live_has_slot CHECK (status = 'cancelled' OR slot_id IS NOT NULL)
);
-- The rule that makes double booking impossible.
CREATE UNIQUE INDEX appointments_one_per_slot ON appointments (slot_id)
  WHERE status <> 'cancelled';
CREATE INDEX appointments_by_patient ON appointments (patient_id, starts_at);
CREATE INDEX appointments_by_doctor ON appointments (doctor_id, starts_at);
CREATE INDEX appointments_to_remind ON appointments (starts_at)
  WHERE status = 'booked' AND reminded_at IS NULL;

-- The appointment state machine, enforced for every UPDATE whoever makes it.
CREATE FUNCTION appointment_transition_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'booked' AND NEW.status IN ('waiting', 'cancelled', 'no_show'))
    OR (OLD.status = 'waiting' AND NEW.status IN ('in_consultation', 'cancelled', 'no_show'))
    OR (OLD.status = 'in_consultation' AND NEW.status = 'completed')) THEN
    PERFORM cs_fail('CS409', 'illegal-transition',
                    format('appointment %s cannot go from %s to %s', OLD.id, OLD.status, NEW.status));
  END IF;
  IF NEW.slot_id IS DISTINCT FROM OLD.slot_id AND OLD.status <> 'cancelled' THEN
    PERFORM cs_fail('CS409', 'illegal-transition',
                    format('appointment %s cannot move to another slot; reschedule it', OLD.id));
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER appointment_transition_check BEFORE UPDATE ON appointments
  FOR EACH ROW EXECUTE FUNCTION appointment_transition_check();

-- A new appointment always starts booked.
CREATE FUNCTION appointment_insert_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'booked' THEN
    PERFORM cs_fail('CS409', 'illegal-transition', 'a new appointment starts as booked');
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER appointment_insert_check BEFORE INSERT ON appointments
  FOR EACH ROW EXECUTE FUNCTION appointment_insert_check();

-- The visit summary: written by the doctor when the visit ends, read by
-- the patient.
CREATE TABLE encounters (
  appointment_id bigint PRIMARY KEY REFERENCES appointments (id),
  diagnosis text NOT NULL CHECK (length(diagnosis) BETWEEN 1 AND 4000),
  advice text NOT NULL CHECK (length(advice) BETWEEN 1 AND 8000),
  written_by bigint NOT NULL REFERENCES users (id),
  written_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  kind text NOT NULL,
  appointment_id bigint REFERENCES appointments (id),
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  emailed_at timestamptz
);
CREATE INDEX notifications_by_user ON notifications (user_id, id);

CREATE FUNCTION cs_notify(uid bigint, kind text, appt bigint, data jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO notifications (user_id, kind, appointment_id, data) VALUES (uid, kind, appt, data)
$$;

-- ---- JSON shapes --------------------------------------------------------------

CREATE FUNCTION doctor_json(uid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'name', u.display_name, 'role', u.role,
           'specialty', d.specialty,
           'department', CASE WHEN dep.id IS NULL THEN NULL
                              ELSE jsonb_build_object('id', dep.id, 'name', dep.name) END,
           'institution', CASE WHEN i.id IS NULL THEN NULL
                               ELSE jsonb_build_object('id', i.id, 'name', i.name, 'kind', i.kind) END)
  FROM users u
  LEFT JOIN doctor_profiles d ON d.user_id = u.id
  LEFT JOIN departments dep ON dep.id = d.department_id
  LEFT JOIN institutions i ON i.id = u.institution_id
  WHERE u.id = uid
$$;

CREATE FUNCTION slot_json(s slots) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', s.id, 'doctor_id', s.doctor_id,
           'starts_at', cs_ts(s.starts_at), 'ends_at', cs_ts(s.ends_at),
           'visit_type', s.visit_type,
           'status', CASE WHEN s.blocked THEN 'blocked'
                          WHEN EXISTS (SELECT 1 FROM appointments a
                                       WHERE a.slot_id = s.id AND a.status <> 'cancelled')
                          THEN 'booked' ELSE 'free' END)
$$;

CREATE FUNCTION appointment_json(a appointments) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', a.id, 'slot_id', a.slot_id, 'status', a.status,
           'starts_at', cs_ts(a.starts_at), 'ends_at', cs_ts(a.ends_at),
           'visit_type', a.visit_type, 'room', 'appt-' || a.id,
           'doctor', doctor_json(a.doctor_id),
           'patient', (SELECT jsonb_build_object('id', p.id, 'name', p.display_name)
                       FROM users p WHERE p.id = a.patient_id),
           'reason', a.reason, 'booked_at', cs_ts(a.booked_at),
           'checked_in_at', cs_ts(a.checked_in_at), 'admitted_at', cs_ts(a.admitted_at),
           'ended_at', cs_ts(a.ended_at), 'cancelled_at', cs_ts(a.cancelled_at),
           'cancel_reason', a.cancel_reason, 'no_show_at', cs_ts(a.no_show_at),
           'rescheduled_from', a.rescheduled_from,
           'summary', (SELECT jsonb_build_object('diagnosis', e.diagnosis, 'advice', e.advice,
                                                 'written_by', e.written_by,
                                                 'written_at', cs_ts(e.written_at))
                       FROM encounters e WHERE e.appointment_id = a.id))
$$;

-- ---- who may do what ----------------------------------------------------------

-- The doctor themself, an admin, or clinic staff of the doctor's institution.
-- Access predicates never answer NULL (an anonymous actor's id is NULL):
-- NOT NULL would let a check pass.
CREATE FUNCTION cs_may_manage_doctor(req jsonb, doctor bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(cs_actor_role(req) = 'admin'
      OR (cs_actor_role(req) IN ('doctor', 'specialist') AND cs_actor(req) = doctor)
      OR (cs_actor_role(req) = 'clinic_staff' AND EXISTS (
            SELECT 1 FROM users s JOIN users d ON d.institution_id = s.institution_id
            WHERE s.id = cs_actor(req) AND d.id = doctor AND NOT s.disabled)), false)
$$;

CREATE FUNCTION cs_require_doctor(doctor bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = doctor AND role IN ('doctor', 'specialist')) THEN
    PERFORM cs_fail('CS404', 'not-found', format('no doctor %s', doctor));
  END IF;
END $$;

-- Reads one appointment for an actor allowed to see it, locked FOR UPDATE
-- when @lock. Parties: the patient, the doctor, an admin, clinic staff of
-- the doctor's institution or with the patient on their list, and the
-- visit's extra participants (0005).
CREATE FUNCTION cs_appointment_party(req jsonb, a appointments) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(cs_actor_role(req) = 'admin'
      OR cs_actor(req) IN (a.patient_id, a.doctor_id)
      OR (cs_actor_role(req) = 'clinic_staff'
          AND (cs_may_manage_doctor(req, a.doctor_id) OR can_access_patient(cs_actor(req), a.patient_id))), false)
$$;

-- An op's explicit precondition: the trigger sees only changes, so a
-- repeated step (complete twice) is caught here.
CREATE FUNCTION cs_appointment_require(a appointments, allowed text[], target text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF NOT a.status = ANY (allowed) THEN
    PERFORM cs_fail('CS409', 'illegal-transition',
                    format('appointment %s cannot go from %s to %s', a.id, a.status, target));
  END IF;
END $$;

CREATE FUNCTION cs_appointment_get(req jsonb, id bigint, lock boolean) RETURNS appointments
LANGUAGE plpgsql AS $$
DECLARE a appointments;
BEGIN
  IF lock THEN
    SELECT * INTO a FROM appointments WHERE appointments.id = cs_appointment_get.id FOR UPDATE;
  ELSE
    SELECT * INTO a FROM appointments WHERE appointments.id = cs_appointment_get.id;
  END IF;
  IF a.id IS NULL OR NOT cs_appointment_party(req, a) THEN
    -- Not a party: the same answer as a missing one, so ids cannot be probed.
    PERFORM cs_fail('CS404', 'not-found', format('no appointment %s', id));
  END IF;
  RETURN a;
END $$;

-- ---- departments ops ----------------------------------------------------------

CREATE FUNCTION op_departments_list(req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('items', coalesce(jsonb_agg(jsonb_build_object(
           'id', d.id, 'name', d.name,
           'institution', jsonb_build_object('id', i.id, 'name', i.name, 'kind', i.kind))
           ORDER BY i.name, d.name), '[]'))
  FROM departments d JOIN institutions i ON i.id = d.institution_id
$$;

CREATE FUNCTION op_department_create(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  inst bigint := cs_arg_id(req, 'institution_id');
  dep departments;
BEGIN
  IF cs_actor_role(req) <> 'admin' THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only admins create departments');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM institutions WHERE id = inst) THEN
    PERFORM cs_fail('CS404', 'not-found', format('no institution %s', inst));
  END IF;
  INSERT INTO departments (institution_id, name)
  VALUES (inst, cs_arg_text(req, 'name', 120, true)) RETURNING * INTO dep;
  PERFORM cs_audit(req, 'department.create', 'department', dep.id, NULL);
  RETURN jsonb_build_object('id', dep.id, 'name', dep.name, 'institution_id', dep.institution_id);
END $$;

-- Puts a doctor in a department of their own institution.
CREATE FUNCTION op_doctor_department(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  doctor bigint := cs_arg_id(req, 'doctor_id');
  dep bigint := cs_arg_id(req, 'department_id');
BEGIN
  IF cs_actor_role(req) NOT IN ('admin', 'clinic_staff') OR NOT cs_may_manage_doctor(req, doctor) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only admins and the institution''s staff assign departments');
  END IF;
  PERFORM cs_require_doctor(doctor);
  IF NOT EXISTS (SELECT 1 FROM departments d JOIN users u ON u.institution_id = d.institution_id
                 WHERE d.id = dep AND u.id = doctor) THEN
    PERFORM cs_fail('CS400', 'bad-request',
                    format('department %s is not in doctor %s''s institution', dep, doctor));
  END IF;
  UPDATE doctor_profiles SET department_id = dep, updated_at = now() WHERE user_id = doctor;
  IF NOT FOUND THEN
    PERFORM cs_fail('CS409', 'no-profile', format('doctor %s has no profile yet', doctor));
  END IF;
  PERFORM cs_audit(req, 'doctor.department', 'doctor', doctor, NULL, 'ok', dep::text);
  RETURN doctor_json(doctor);
END $$;

-- ---- rosters ------------------------------------------------------------------

-- The slots the roster asks for from now to @horizon days ahead: weekly
-- templates in the roster's time zone plus extra sessions, minus leave.
CREATE FUNCTION slots_wanted(doctor bigint, horizon int)
RETURNS TABLE (starts_at timestamptz, ends_at timestamptz, visit_type text, source text)
LANGUAGE sql STABLE AS $$
  WITH r AS (SELECT timezone AS tz FROM rosters WHERE doctor_id = doctor),
  w AS (
    SELECT s AS starts_at, s + make_interval(mins => t.slot_minutes) AS ends_at, t.visit_type,
           'template' AS source
    FROM r CROSS JOIN generate_series((now() AT TIME ZONE r.tz)::date,
                                      (now() AT TIME ZONE r.tz)::date + horizon,
                                      interval '1 day') AS day
    JOIN roster_templates t ON t.doctor_id = doctor AND t.weekday = extract(isodow FROM day)
    CROSS JOIN LATERAL generate_series(
        (day::date + t.start_time) AT TIME ZONE r.tz,
        (day::date + t.end_time) AT TIME ZONE r.tz - make_interval(mins => t.slot_minutes),
        make_interval(mins => t.slot_minutes)) AS s
    WHERE s > now()
    UNION ALL
    SELECT s, s + make_interval(mins => e.slot_minutes), e.visit_type, 'extra'
    FROM roster_exceptions e
    CROSS JOIN LATERAL generate_series(e.starts_at, e.ends_at - make_interval(mins => e.slot_minutes),
                                       make_interval(mins => e.slot_minutes)) AS s
    WHERE e.doctor_id = doctor AND e.kind = 'extra' AND s > now())
  SELECT * FROM w
  WHERE NOT EXISTS (SELECT 1 FROM roster_exceptions e
                    WHERE e.doctor_id = doctor AND e.kind = 'leave'
                      AND w.starts_at < e.ends_at AND w.ends_at > e.starts_at)
$$;

-- Makes the free slots of @doctor match slots_wanted(): removes free,
-- unblocked slots that no longer fit, adds missing ones that overlap no
-- existing slot. Booked and blocked slots stay.
CREATE FUNCTION slots_materialize(doctor bigint, horizon int) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM slots s
  WHERE s.doctor_id = doctor AND s.starts_at > now() AND NOT s.blocked
    AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled')
    AND NOT EXISTS (SELECT 1 FROM slots_wanted(doctor, horizon) w WHERE w.starts_at = s.starts_at
                    AND w.ends_at = s.ends_at AND w.visit_type = s.visit_type);
  INSERT INTO slots (doctor_id, starts_at, ends_at, visit_type, source)
  SELECT DISTINCT ON (w.starts_at) doctor, w.starts_at, w.ends_at, w.visit_type, w.source
  FROM slots_wanted(doctor, horizon) w
  WHERE NOT EXISTS (SELECT 1 FROM slots s WHERE s.doctor_id = doctor
                    AND s.starts_at < w.ends_at AND s.ends_at > w.starts_at)
  ORDER BY w.starts_at, w.source DESC
  ON CONFLICT (doctor_id, starts_at) DO NOTHING;
$$;

-- Run by the server every hour so the horizon moves forward.
CREATE FUNCTION slots_materialize_all(horizon int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE r record; n int := 0;
BEGIN
  FOR r IN SELECT doctor_id FROM rosters LOOP
    PERFORM slots_materialize(r.doctor_id, horizon);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

CREATE FUNCTION roster_json(doctor bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('doctor_id', doctor,
    'timezone', (SELECT timezone FROM rosters WHERE doctor_id = doctor),
    'templates', coalesce((SELECT jsonb_agg(jsonb_build_object('weekday', t.weekday,
        'start', to_char(t.start_time, 'HH24:MI'), 'end', to_char(t.end_time, 'HH24:MI'),
        'slot_minutes', t.slot_minutes, 'visit_type', t.visit_type)
        ORDER BY t.weekday, t.start_time) FROM roster_templates t WHERE t.doctor_id = doctor), '[]'),
    'exceptions', coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.id, 'kind', e.kind,
        'starts_at', cs_ts(e.starts_at), 'ends_at', cs_ts(e.ends_at),
        'slot_minutes', e.slot_minutes, 'visit_type', e.visit_type, 'note', e.note)
        ORDER BY e.starts_at) FROM roster_exceptions e
        WHERE e.doctor_id = doctor AND e.ends_at > now()), '[]'))
$$;

CREATE FUNCTION op_roster_get(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE doctor bigint := cs_arg_id(req, 'doctor_id');
BEGIN
  PERFORM cs_require_doctor(doctor);
  RETURN roster_json(doctor);
END $$;

-- Replaces the weekly template.
CREATE FUNCTION op_roster_set(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  doctor bigint := cs_arg_id(req, 'doctor_id');
  tz text := coalesce(cs_arg_text(req, 'timezone', 64, false), 'UTC');
  t jsonb;
  n int := 0;
BEGIN
  IF NOT cs_may_manage_doctor(req, doctor) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'you may not change this doctor''s roster');
  END IF;
  PERFORM cs_require_doctor(doctor);
  IF NOT EXISTS (SELECT 1 FROM doctor_profiles WHERE user_id = doctor AND verification = 'verified') THEN
    PERFORM cs_fail('CS409', 'doctor-not-verified', format('doctor %s is not verified', doctor));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = tz) THEN
    PERFORM cs_fail('CS400', 'bad-request', format('unknown time zone "%s"', tz));
  END IF;
  IF jsonb_typeof(req->'args'->'templates') IS DISTINCT FROM 'array' THEN
    PERFORM cs_fail('CS400', 'bad-request', '"templates" must be an array');
  END IF;
  IF jsonb_array_length(req->'args'->'templates') > 70 THEN
    PERFORM cs_fail('CS400', 'bad-request', 'at most 70 templates');
  END IF;
  INSERT INTO rosters (doctor_id, timezone) VALUES (doctor, tz)
  ON CONFLICT (doctor_id) DO UPDATE SET timezone = EXCLUDED.timezone, updated_at = now();
  DELETE FROM roster_templates WHERE doctor_id = doctor;
  FOR t IN SELECT * FROM jsonb_array_elements(req->'args'->'templates') LOOP
    n := n + 1;
    BEGIN
      IF jsonb_typeof(t) <> 'object' OR coalesce(t->>'weekday', '') !~ '^[1-7]$'
         OR coalesce(t->>'start', '') !~ '^\d{2}:\d{2}$' OR coalesce(t->>'end', '') !~ '^\d{2}:\d{2}$'
         OR coalesce(t->>'slot_minutes', '') !~ '^\d{1,3}$'
         OR coalesce(t->>'visit_type', '') NOT IN ('video', 'audio', 'follow_up') THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation';
      END IF;
      INSERT INTO roster_templates (doctor_id, weekday, start_time, end_time, slot_minutes, visit_type)
      VALUES (doctor, (t->>'weekday')::smallint, (t->>'start')::time, (t->>'end')::time,
              (t->>'slot_minutes')::smallint, t->>'visit_type');
    EXCEPTION WHEN check_violation OR invalid_datetime_format OR datetime_field_overflow THEN
      PERFORM cs_fail('CS400', 'bad-request', format('template %s: needs weekday 1-7, start and end '
        'as HH:MM with end after start, slot_minutes 5-240 and visit_type video, audio or follow_up', n));
    END;
  END LOOP;
  IF EXISTS (SELECT 1 FROM roster_templates a JOIN roster_templates b
             ON a.doctor_id = b.doctor_id AND a.id < b.id AND a.weekday = b.weekday
             AND a.start_time < b.end_time AND b.start_time < a.end_time
             WHERE a.doctor_id = doctor) THEN
    PERFORM cs_fail('CS400', 'bad-request', 'templates of the same weekday overlap');
  END IF;
  PERFORM slots_materialize(doctor, cs_cfg(req, 'slot_horizon_days', 28));
  PERFORM cs_audit(req, 'roster.set', 'doctor', doctor, NULL, 'ok', format('%s templates, %s', n, tz));
  RETURN roster_json(doctor);
END $$;

CREATE FUNCTION op_roster_exception_add(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  doctor bigint := cs_arg_id(req, 'doctor_id');
  kind text := cs_arg_text(req, 'kind', 10, true);
  e roster_exceptions;
  affected jsonb;
BEGIN
  IF NOT cs_may_manage_doctor(req, doctor) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'you may not change this doctor''s roster');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM rosters WHERE doctor_id = doctor) THEN
    PERFORM cs_fail('CS409', 'no-roster', format('doctor %s has no roster yet', doctor));
  END IF;
  IF kind NOT IN ('leave', 'extra') THEN
    PERFORM cs_fail('CS400', 'bad-request', '"kind" must be leave or extra');
  END IF;
  BEGIN
    INSERT INTO roster_exceptions (doctor_id, kind, starts_at, ends_at, slot_minutes, visit_type,
                                   note, created_by)
    VALUES (doctor, kind, cs_arg_time(req, 'starts_at'), cs_arg_time(req, 'ends_at'),
            CASE WHEN kind = 'extra' THEN (req->'args'->>'slot_minutes')::smallint END,
            CASE WHEN kind = 'extra' THEN req->'args'->>'visit_type' END,
            cs_arg_text(req, 'note', 500, false), cs_actor(req))
    RETURNING * INTO e;
  EXCEPTION WHEN check_violation OR invalid_text_representation OR numeric_value_out_of_range THEN
    PERFORM cs_fail('CS400', 'bad-request', 'needs ends_at after starts_at; an extra session also '
                    'needs slot_minutes 5-240 and visit_type video, audio or follow_up');
  END;
  IF e.ends_at - e.starts_at > interval '92 days' THEN
    PERFORM cs_fail('CS400', 'bad-request', 'an exception spans at most 92 days');
  END IF;
  PERFORM slots_materialize(doctor, cs_cfg(req, 'slot_horizon_days', 28));
  -- Appointments already booked inside a leave are kept: the doctor
  -- reschedules or cancels them, so they are listed in the answer.
  SELECT coalesce(jsonb_agg(appointment_json(a) ORDER BY a.starts_at), '[]') INTO affected
  FROM appointments a
  WHERE e.kind = 'leave' AND a.doctor_id = doctor AND a.status IN ('booked', 'waiting')
    AND a.starts_at < e.ends_at AND a.ends_at > e.starts_at;
  PERFORM cs_audit(req, 'roster.exception', 'doctor', doctor, NULL, 'ok', e.kind);
  RETURN jsonb_build_object('exception', jsonb_build_object('id', e.id, 'kind', e.kind,
           'starts_at', cs_ts(e.starts_at), 'ends_at', cs_ts(e.ends_at),
           'slot_minutes', e.slot_minutes, 'visit_type', e.visit_type, 'note', e.note),
         'affected_appointments', affected);
END $$;

-- ---- finding a doctor and a slot ---------------------------------------------------

CREATE FUNCTION op_doctors_search(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  dep bigint := nullif(req->'args'->>'department_id', '')::bigint;
  inst bigint := nullif(req->'args'->>'institution_id', '')::bigint;
  spec text := nullif(req->'args'->>'specialty', '');
  q text := nullif(req->'args'->>'q', '');
  day date := nullif(req->'args'->>'date', '')::date;
  tz text := cs_req_tz(req);
  from_t timestamptz := coalesce(cs_day(day, tz), now());
  to_t timestamptz := coalesce(cs_day(day + 1, tz), now() + interval '14 days');
BEGIN
  RETURN jsonb_build_object('items', coalesce((
    SELECT jsonb_agg(doctor_json(u.id) || jsonb_build_object(
             'free_slots', f.n, 'next_free', cs_ts(f.next)) ORDER BY f.next NULLS LAST, u.display_name)
    FROM users u JOIN doctor_profiles d ON d.user_id = u.id
    CROSS JOIN LATERAL (
      SELECT count(*) AS n, min(s.starts_at) AS next FROM slots s
      WHERE s.doctor_id = u.id AND NOT s.blocked AND s.starts_at > now()
        AND s.starts_at >= from_t AND s.starts_at < to_t
        AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled')) f
    WHERE u.role IN ('doctor', 'specialist') AND NOT u.disabled AND d.verification = 'verified'
      AND (dep IS NULL OR d.department_id = dep)
      AND (inst IS NULL OR u.institution_id = inst)
      AND (spec IS NULL OR d.specialty ILIKE '%' || spec || '%')
      AND (q IS NULL OR u.display_name ILIKE '%' || q || '%' OR d.specialty ILIKE '%' || q || '%')
    LIMIT 200), '[]'));
EXCEPTION WHEN invalid_text_representation OR invalid_datetime_format OR datetime_field_overflow THEN
  PERFORM cs_fail('CS400', 'bad-request', 'department_id and institution_id are ids, date is YYYY-MM-DD');
  RETURN NULL;
END $$;

-- Free slots for everyone; booked and blocked ones too for whoever manages
-- the doctor.
CREATE FUNCTION op_slots_list(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  doctor bigint := cs_arg_id(req, 'doctor_id');
  from_d date;
  to_d date;
  all_slots boolean := cs_may_manage_doctor(req, doctor);
  tz text := cs_req_tz(req);
BEGIN
  BEGIN
    from_d := coalesce(nullif(req->'args'->>'from', '')::date, (now() AT TIME ZONE tz)::date);
    to_d := coalesce(nullif(req->'args'->>'to', '')::date, from_d + 7);
  EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    PERFORM cs_fail('CS400', 'bad-request', 'from and to are dates: YYYY-MM-DD');
  END;
  IF to_d < from_d OR to_d - from_d > 62 THEN
    PERFORM cs_fail('CS400', 'bad-request', 'to must be from 0 to 62 days after from');
  END IF;
  PERFORM cs_require_doctor(doctor);
  -- One join instead of slot_json()'s per-row lookup: a day of 5-minute
  -- slots is 288 rows.
  RETURN jsonb_build_object('items', coalesce((
    SELECT jsonb_agg(jsonb_build_object('id', s.id, 'doctor_id', s.doctor_id,
             'starts_at', cs_ts(s.starts_at), 'ends_at', cs_ts(s.ends_at), 'visit_type', s.visit_type,
             'status', CASE WHEN s.blocked THEN 'blocked' WHEN a.id IS NOT NULL THEN 'booked' ELSE 'free' END)
             ORDER BY s.starts_at)
    FROM slots s LEFT JOIN appointments a ON a.slot_id = s.id AND a.status <> 'cancelled'
    WHERE s.doctor_id = doctor AND s.starts_at >= cs_day(from_d, tz) AND s.starts_at < cs_day(to_d + 1, tz)
      AND (all_slots OR (s.starts_at > now() AND NOT s.blocked AND a.id IS NULL))), '[]'));
END $$;

CREATE FUNCTION cs_slot_set_blocked(req jsonb, block boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE s slots;
BEGIN
  SELECT * INTO s FROM slots WHERE id = cs_arg_id(req, 'slot_id') FOR UPDATE;
  IF s.id IS NULL THEN
    PERFORM cs_fail('CS404', 'not-found', format('no slot %s', req->'args'->>'slot_id'));
  END IF;
  IF NOT cs_may_manage_doctor(req, s.doctor_id) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'you may not change this doctor''s slots');
  END IF;
  IF block AND EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled') THEN
    PERFORM cs_fail('CS409', 'slot-booked', format('slot %s is booked; cancel the appointment first', s.id));
  END IF;
  UPDATE slots SET blocked = block WHERE id = s.id RETURNING * INTO s;
  PERFORM cs_audit(req, CASE WHEN block THEN 'slot.block' ELSE 'slot.release' END, 'slot', s.id, NULL);
  RETURN slot_json(s);
END $$;

CREATE FUNCTION op_slot_block(req jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT cs_slot_set_blocked(req, true) $$;
CREATE FUNCTION op_slot_release(req jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT cs_slot_set_blocked(req, false) $$;

-- ---- booking ----------------------------------------------------------------

-- Books @slot for @patient. The slot row lock orders concurrent bookers;
-- the unique index is the guarantee.
CREATE FUNCTION cs_book(req jsonb, slot bigint, patient bigint, reason text,
                        from_appt bigint) RETURNS appointments
LANGUAGE plpgsql AS $$
DECLARE
  s slots;
  a appointments;
BEGIN
  SELECT * INTO s FROM slots WHERE id = slot FOR UPDATE;
  IF s.id IS NULL THEN
    PERFORM cs_fail('CS404', 'not-found', format('no slot %s', slot));
  END IF;
  IF s.blocked THEN
    PERFORM cs_fail('CS409', 'slot-blocked', format('slot %s is not open for booking', slot));
  END IF;
  IF s.starts_at <= now() THEN
    PERFORM cs_fail('CS409', 'slot-past', format('slot %s has already started', slot));
  END IF;
  IF EXISTS (SELECT 1 FROM appointments x WHERE x.slot_id = slot AND x.status <> 'cancelled') THEN
    PERFORM cs_fail('CS409', 'slot-taken', format('slot %s is already booked', slot));
  END IF;
  IF EXISTS (SELECT 1 FROM appointments x WHERE x.patient_id = patient
             AND x.status IN ('booked', 'waiting', 'in_consultation')
             AND x.id IS DISTINCT FROM from_appt
             AND x.starts_at < s.ends_at AND x.ends_at > s.starts_at) THEN
    PERFORM cs_fail('CS409', 'patient-busy', 'the patient has another visit at that time');
  END IF;
  BEGIN
    INSERT INTO appointments (slot_id, doctor_id, patient_id, starts_at, ends_at, visit_type,
                              reason, booked_by, rescheduled_from)
    VALUES (s.id, s.doctor_id, patient, s.starts_at, s.ends_at, s.visit_type, reason,
            cs_actor(req), from_appt)
    RETURNING * INTO a;
  EXCEPTION WHEN unique_violation THEN
    PERFORM cs_fail('CS409', 'slot-taken', format('slot %s is already booked', slot));
  END;
  -- The doctor may read the patient's records for the visit.
  INSERT INTO care_relationships (doctor_id, patient_id, granted_by)
  VALUES (s.doctor_id, patient, cs_actor(req))
  ON CONFLICT (doctor_id, patient_id) DO UPDATE SET revoked_at = NULL
    WHERE care_relationships.revoked_at IS NOT NULL;
  RETURN a;
END $$;

CREATE FUNCTION cs_booking_patient(req jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE patient bigint;
BEGIN
  IF cs_actor_role(req) = 'patient' THEN
    RETURN cs_actor(req);
  END IF;
  IF cs_actor_role(req) NOT IN ('clinic_staff', 'admin') THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only patients, clinic staff and admins book visits');
  END IF;
  patient := cs_arg_id(req, 'patient_id');
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = patient AND role = 'patient' AND NOT disabled) THEN
    PERFORM cs_fail('CS404', 'not-found', format('no patient %s', patient));
  END IF;
  IF cs_actor_role(req) = 'clinic_staff' AND NOT can_access_patient(cs_actor(req), patient) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'the patient is not on your institution''s list');
  END IF;
  RETURN patient;
END $$;

CREATE FUNCTION op_appointment_book(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  patient bigint := cs_booking_patient(req);
  a appointments;
BEGIN
  a := cs_book(req, cs_arg_id(req, 'slot_id'), patient, cs_arg_text(req, 'reason', 1000, false), NULL);
  PERFORM cs_audit(req, 'appointment.book', 'appointment', a.id, patient);
  PERFORM cs_notify(a.doctor_id, 'appointment.booked', a.id,
                    jsonb_build_object('starts_at', cs_ts(a.starts_at)));
  RETURN appointment_json(a);
END $$;

-- Patients may cancel or reschedule until cfg.cancel_window_minutes before
-- the start; staff at any time before the visit begins.
CREATE FUNCTION cs_check_change_window(req jsonb, a appointments) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF a.status NOT IN ('booked', 'waiting') THEN
    PERFORM cs_fail('CS409', 'illegal-transition',
                    format('appointment %s is %s and can no longer change', a.id, a.status));
  END IF;
  IF cs_actor_role(req) = 'patient' AND
     now() > a.starts_at - make_interval(mins => cs_cfg(req, 'cancel_window_minutes', 120)) THEN
    PERFORM cs_fail('CS409', 'change-window-closed',
                    format('visits can be changed until %s minutes before they start',
                           cs_cfg(req, 'cancel_window_minutes', 120)));
  END IF;
END $$;

CREATE FUNCTION op_appointment_cancel(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
BEGIN
  IF cs_actor_role(req) NOT IN ('patient', 'doctor', 'specialist', 'clinic_staff', 'admin') THEN
    PERFORM cs_fail('CS403', 'forbidden', 'your role may not cancel visits');
  END IF;
  PERFORM cs_check_change_window(req, a);
  UPDATE appointments SET status = 'cancelled', cancelled_at = now(), cancelled_by = cs_actor(req),
         cancel_reason = cs_arg_text(req, 'reason', 500, false)
  WHERE id = a.id RETURNING * INTO a;
  PERFORM cs_audit(req, 'appointment.cancel', 'appointment', a.id, a.patient_id);
  PERFORM cs_notify(uid, 'appointment.cancelled', a.id,
                    jsonb_build_object('starts_at', cs_ts(a.starts_at)))
  FROM unnest(ARRAY[a.patient_id, a.doctor_id]) uid WHERE uid IS DISTINCT FROM cs_actor(req);
  RETURN appointment_json(a);
END $$;

CREATE FUNCTION op_appointment_reschedule(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  old appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
  slot bigint := cs_arg_id(req, 'slot_id');
  a appointments;
BEGIN
  IF cs_actor_role(req) NOT IN ('patient', 'doctor', 'specialist', 'clinic_staff', 'admin') THEN
    PERFORM cs_fail('CS403', 'forbidden', 'your role may not reschedule visits');
  END IF;
  PERFORM cs_check_change_window(req, old);
  IF NOT EXISTS (SELECT 1 FROM slots WHERE id = slot AND doctor_id = old.doctor_id) THEN
    PERFORM cs_fail('CS400', 'bad-request', 'a visit moves to another slot of the same doctor');
  END IF;
  -- Book first: if the new slot is taken, nothing changes.
  a := cs_book(req, slot, old.patient_id, old.reason, old.id);
  UPDATE appointments SET status = 'cancelled', cancelled_at = now(), cancelled_by = cs_actor(req),
         cancel_reason = 'rescheduled'
  WHERE id = old.id;
  PERFORM cs_audit(req, 'appointment.reschedule', 'appointment', a.id, a.patient_id, 'ok',
                   format('from appointment %s', old.id));
  RETURN appointment_json(a);
END $$;

CREATE FUNCTION op_appointments_list(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  me bigint := cs_actor(req);
  role text := cs_actor_role(req);
  st text := nullif(req->'args'->>'status', '');
  from_t timestamptz;
  to_t timestamptz;
BEGIN
  BEGIN
    from_t := coalesce(cs_day(nullif(req->'args'->>'from', '')::date, cs_req_tz(req)), now() - interval '90 days');
    to_t := coalesce(cs_day(nullif(req->'args'->>'to', '')::date + 1, cs_req_tz(req)), now() + interval '365 days');
  EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    PERFORM cs_fail('CS400', 'bad-request', 'from and to are dates: YYYY-MM-DD');
  END;
  RETURN jsonb_build_object('items', coalesce((
    SELECT jsonb_agg(appointment_json(a) ORDER BY a.starts_at) FROM appointments a
    WHERE a.id IN (
      SELECT x.id FROM appointments x
      WHERE x.starts_at >= from_t AND x.starts_at < to_t AND (st IS NULL OR x.status = st)
        AND CASE role
              WHEN 'patient' THEN x.patient_id = me
              WHEN 'admin' THEN true
              ELSE x.doctor_id = me OR cs_appointment_party(req, x)
            END
      ORDER BY x.starts_at LIMIT 500)), '[]'));
END $$;

CREATE FUNCTION op_appointment_get(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), false);
BEGIN
  IF cs_actor(req) IS DISTINCT FROM a.patient_id THEN
    PERFORM cs_audit(req, 'appointment.read', 'appointment', a.id, a.patient_id);
  END IF;
  RETURN appointment_json(a);
END $$;

-- ---- the visit ------------------------------------------------------------------

-- The room is open from cfg.room_open_minutes before the start until
-- cfg.room_late_minutes after the end (or until the visit is completed).
CREATE FUNCTION cs_room_open(req jsonb, a appointments) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT a.status = 'in_consultation'
      OR (a.status IN ('booked', 'waiting')
          AND now() >= a.starts_at - make_interval(mins => cs_cfg(req, 'room_open_minutes', 15))
          AND now() <= a.ends_at + make_interval(mins => cs_cfg(req, 'room_late_minutes', 60)))
$$;

CREATE FUNCTION cs_check_in(req jsonb, a appointments) RETURNS appointments
LANGUAGE plpgsql AS $$
BEGIN
  IF a.status = 'booked' THEN
    IF NOT cs_room_open(req, a) THEN
      PERFORM cs_fail('CS409', 'room-not-open', format('the waiting room opens %s minutes before the visit',
                      cs_cfg(req, 'room_open_minutes', 15)));
    END IF;
    UPDATE appointments SET status = 'waiting', checked_in_at = now() WHERE id = a.id RETURNING * INTO a;
    PERFORM cs_audit(req, 'appointment.check_in', 'appointment', a.id, a.patient_id);
    PERFORM cs_notify(a.doctor_id, 'appointment.waiting', a.id, '{}');
  END IF;
  RETURN a;
END $$;

CREATE FUNCTION op_appointment_check_in(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
BEGIN
  IF cs_actor(req) IS DISTINCT FROM a.patient_id THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only the patient checks in');
  END IF;
  IF a.status <> 'booked' AND a.status <> 'waiting' THEN
    PERFORM cs_fail('CS409', 'illegal-transition',
                    format('appointment %s cannot go from %s to waiting', a.id, a.status));
  END IF;
  RETURN appointment_json(cs_check_in(req, a));
END $$;

CREATE FUNCTION cs_require_visit_doctor(req jsonb, a appointments) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF cs_actor(req) IS DISTINCT FROM a.doctor_id THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only the visit''s doctor may do this');
  END IF;
END $$;

-- One patient at a time: a doctor with a visit in progress admits nobody else.
CREATE FUNCTION op_appointment_admit(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
BEGIN
  PERFORM cs_require_visit_doctor(req, a);
  IF a.status = 'booked' THEN
    PERFORM cs_fail('CS409', 'patient-not-waiting', 'the patient has not entered the waiting room');
  END IF;
  -- Admitting again (a rejoin) is harmless; anything else is not.
  PERFORM cs_appointment_require(a, '{waiting,in_consultation}', 'in_consultation');
  -- Serialize admissions of one doctor so two at once cannot both pass.
  PERFORM pg_advisory_xact_lock(a.doctor_id);
  IF a.status = 'waiting' AND EXISTS (SELECT 1 FROM appointments x WHERE x.doctor_id = a.doctor_id
                                      AND x.status = 'in_consultation' AND x.id <> a.id) THEN
    PERFORM cs_fail('CS409', 'doctor-busy', 'finish the visit in progress before admitting the next patient');
  END IF;
  UPDATE appointments SET status = 'in_consultation', admitted_at = now()
  WHERE id = a.id RETURNING * INTO a;
  PERFORM cs_audit(req, 'appointment.admit', 'appointment', a.id, a.patient_id);
  RETURN appointment_json(a);
END $$;

CREATE FUNCTION op_appointment_complete(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
BEGIN
  PERFORM cs_require_visit_doctor(req, a);
  PERFORM cs_appointment_require(a, '{in_consultation}', 'completed');
  UPDATE appointments SET status = 'completed', ended_at = now() WHERE id = a.id RETURNING * INTO a;
  INSERT INTO encounters (appointment_id, diagnosis, advice, written_by)
  VALUES (a.id, cs_arg_text(req, 'diagnosis', 4000, true), cs_arg_text(req, 'advice', 8000, true),
          cs_actor(req));
  PERFORM cs_audit(req, 'appointment.complete', 'appointment', a.id, a.patient_id);
  PERFORM cs_notify(a.patient_id, 'visit.summary', a.id, '{}');
  RETURN appointment_json(a);
END $$;

CREATE FUNCTION op_appointment_no_show(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
BEGIN
  IF cs_actor_role(req) NOT IN ('doctor', 'specialist', 'clinic_staff', 'admin')
     OR (cs_actor_role(req) IN ('doctor', 'specialist') AND cs_actor(req) <> a.doctor_id) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only the visit''s doctor, clinic staff or an admin mark no-shows');
  END IF;
  PERFORM cs_appointment_require(a, '{booked,waiting}', 'no_show');
  IF now() < a.starts_at THEN
    PERFORM cs_fail('CS409', 'too-early', 'a visit can be marked missed only once it has started');
  END IF;
  UPDATE appointments SET status = 'no_show', no_show_at = now() WHERE id = a.id RETURNING * INTO a;
  PERFORM cs_audit(req, 'appointment.no_show', 'appointment', a.id, a.patient_id);
  RETURN appointment_json(a);
END $$;

-- The doctor's waiting queue: checked-in patients, longest wait first,
-- plus the visit in progress and the next booked ones today.
CREATE FUNCTION op_doctor_queue(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE doctor bigint := cs_arg_id(req, 'doctor_id');
BEGIN
  IF NOT cs_may_manage_doctor(req, doctor) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'you may not see this doctor''s queue');
  END IF;
  RETURN jsonb_build_object(
    'waiting', coalesce((SELECT jsonb_agg(appointment_json(a) || jsonb_build_object(
                 'wait_seconds', floor(extract(epoch FROM now() - a.checked_in_at))::bigint)
                 ORDER BY a.checked_in_at)
               FROM appointments a WHERE a.doctor_id = doctor AND a.status = 'waiting'), '[]'),
    'in_consultation', coalesce((SELECT jsonb_agg(appointment_json(a)) FROM appointments a
               WHERE a.doctor_id = doctor AND a.status = 'in_consultation'), '[]'),
    'upcoming', coalesce((SELECT jsonb_agg(appointment_json(a) ORDER BY a.starts_at) FROM appointments a
               WHERE a.doctor_id = doctor AND a.status = 'booked'
                 AND a.starts_at < now() + interval '24 hours' AND a.ends_at > now() - interval '1 hour'),
               '[]'));
END $$;

CREATE FUNCTION op_no_show_stats(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  from_t timestamptz;
  to_t timestamptz;
BEGIN
  IF cs_actor_role(req) <> 'admin' THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only admins see no-show counts');
  END IF;
  BEGIN
    from_t := coalesce(cs_day(nullif(req->'args'->>'from', '')::date, cs_req_tz(req)), now() - interval '30 days');
    to_t := coalesce(cs_day(nullif(req->'args'->>'to', '')::date + 1, cs_req_tz(req)), now());
  EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    PERFORM cs_fail('CS400', 'bad-request', 'from and to are dates: YYYY-MM-DD');
  END;
  RETURN jsonb_build_object('from', cs_ts(from_t), 'to', cs_ts(to_t),
    'no_shows', (SELECT count(*) FROM appointments WHERE status = 'no_show'
                 AND starts_at >= from_t AND starts_at < to_t),
    'visits', (SELECT count(*) FROM appointments WHERE status IN ('no_show', 'completed')
               AND starts_at >= from_t AND starts_at < to_t),
    'by_doctor', coalesce((SELECT jsonb_agg(jsonb_build_object('doctor_id', doctor_id,
                   'name', (SELECT display_name FROM users WHERE id = doctor_id), 'no_shows', n)
                   ORDER BY n DESC) FROM (SELECT doctor_id, count(*) n FROM appointments
                   WHERE status = 'no_show' AND starts_at >= from_t AND starts_at < to_t
                   GROUP BY doctor_id) x), '[]'),
    'by_patient', coalesce((SELECT jsonb_agg(jsonb_build_object('patient_id', patient_id,
                   'name', (SELECT display_name FROM users WHERE id = patient_id), 'no_shows', n)
                   ORDER BY n DESC) FROM (SELECT patient_id, count(*) n FROM appointments
                   WHERE status = 'no_show' AND starts_at >= from_t AND starts_at < to_t
                   GROUP BY patient_id) x), '[]'));
END $$;

-- ---- notifications ----------------------------------------------------------------

CREATE FUNCTION op_notifications_list(req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('items', coalesce(jsonb_agg(jsonb_build_object(
           'id', n.id, 'kind', n.kind, 'appointment_id', n.appointment_id, 'data', n.data,
           'created_at', cs_ts(n.created_at), 'read', n.read_at IS NOT NULL) ORDER BY n.id DESC), '[]'))
  FROM (SELECT * FROM notifications WHERE user_id = cs_actor(req)
        ORDER BY id DESC LIMIT 100) n
$$;

CREATE FUNCTION op_notification_read(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE notifications SET read_at = coalesce(read_at, now())
  WHERE id = cs_arg_id(req, 'notification_id') AND user_id = cs_actor(req);
  IF NOT FOUND THEN
    PERFORM cs_fail('CS404', 'not-found', 'no such notification');
  END IF;
  RETURN '{}';
END $$;

-- Reminders due: booked visits starting within cfg.reminder_minutes that
-- were not reminded yet. Marks them and returns one row per recipient for
-- the server to push (and e-mail).
CREATE FUNCTION reminders_due(lead_minutes int) RETURNS TABLE (notification_id bigint,
  user_id bigint, email text, name text, appointment jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH due AS (
    UPDATE appointments a SET reminded_at = now()
    WHERE a.status = 'booked' AND a.reminded_at IS NULL AND a.starts_at > now()
      AND a.starts_at <= now() + make_interval(mins => lead_minutes)
    RETURNING a.*),
  n AS (
    INSERT INTO notifications (user_id, kind, appointment_id, data)
    SELECT uid, 'appointment.reminder', d.id, jsonb_build_object('starts_at', cs_ts(d.starts_at))
    FROM due d CROSS JOIN LATERAL unnest(ARRAY[d.patient_id, d.doctor_id]) uid
    RETURNING notifications.id, notifications.user_id, notifications.appointment_id)
  SELECT n.id, u.id, u.email, u.display_name, appointment_json(ap)
  FROM n JOIN appointments ap ON ap.id = n.appointment_id JOIN users u ON u.id = n.user_id;
END $$;

GRANT SELECT, INSERT, UPDATE ON departments, rosters, roster_exceptions, encounters,
  notifications TO consilium_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON slots, roster_templates TO consilium_app;
GRANT SELECT, INSERT, UPDATE ON appointments TO consilium_app;
