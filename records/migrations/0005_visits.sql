-- 0005: what happens in a visit. Extra participants (specialists and the
-- referring doctor, who join with their own accounts), one-time invite
-- links (family, interpreter, a specialist), room access, chat and files.

CREATE TABLE appointment_participants (
  appointment_id bigint NOT NULL REFERENCES appointments (id),
  user_id bigint NOT NULL REFERENCES users (id),
  kind text NOT NULL CHECK (kind IN ('specialist', 'referrer', 'invitee')),
  added_by bigint REFERENCES users (id),
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (appointment_id, user_id)
);
CREATE INDEX appointment_participants_by_user ON appointment_participants (user_id);

-- Participants are parties too (they read the visit, its chat and files).
CREATE OR REPLACE FUNCTION cs_appointment_party(req jsonb, a appointments) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(cs_actor_role(req) = 'admin'
      OR cs_actor(req) IN (a.patient_id, a.doctor_id)
      OR EXISTS (SELECT 1 FROM appointment_participants p
                 WHERE p.appointment_id = a.id AND p.user_id = cs_actor(req))
      OR (cs_actor_role(req) = 'clinic_staff'
          AND (cs_may_manage_doctor(req, a.doctor_id) OR can_access_patient(cs_actor(req), a.patient_id))), false)
$$;

CREATE TABLE invites (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  appointment_id bigint NOT NULL REFERENCES appointments (id),
  -- SHA-256 of the link's token; the token itself is never stored
  token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  role text NOT NULL CHECK (role IN ('family', 'interpreter', 'specialist', 'guest')),
  label text CHECK (length(label) <= 120),
  created_by bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by bigint REFERENCES users (id),
  used_name text
);

CREATE TABLE chat_messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  appointment_id bigint NOT NULL REFERENCES appointments (id),
  sender_id bigint REFERENCES users (id),   -- NULL: an invited guest without an account
  sender_name text NOT NULL CHECK (length(sender_name) BETWEEN 1 AND 128),
  sender_role text NOT NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_by_appointment ON chat_messages (appointment_id, id);

-- Files shared in a visit or attached to a referral (0006 adds the
-- referral column's foreign key).
CREATE TABLE files (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  appointment_id bigint REFERENCES appointments (id),
  referral_id bigint,
  uploader_id bigint REFERENCES users (id),
  uploader_name text NOT NULL CHECK (length(uploader_name) BETWEEN 1 AND 128),
  filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
  content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg',
                                                     'text/plain', 'application/dicom')),
  size integer NOT NULL CHECK (size > 0),
  sha256 bytea NOT NULL CHECK (octet_length(sha256) = 32),
  data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT one_owner CHECK (num_nonnulls(appointment_id, referral_id) = 1),
  CONSTRAINT size_matches CHECK (size = octet_length(data))
);
CREATE INDEX files_by_appointment ON files (appointment_id) WHERE appointment_id IS NOT NULL;
CREATE INDEX files_by_referral ON files (referral_id) WHERE referral_id IS NOT NULL;

-- ---- room access -------------------------------------------------------------

-- What a room token for this visit says about the caller: the room, the
-- token role, whether they wait in the lobby until admitted and whether
-- they may admit, mute and remove others. The patient is checked in on the
-- way (booked → waiting). Completed, cancelled or missed visits have no room.
CREATE FUNCTION op_room_access(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
  me bigint := cs_actor(req);
  token_role text;
  kind text;
BEGIN
  IF a.status IN ('completed', 'cancelled', 'no_show') THEN
    PERFORM cs_fail('CS409', 'visit-closed', format('visit %s is %s', a.id, a.status));
  END IF;
  IF me = a.patient_id THEN
    a := cs_check_in(req, a);
    token_role := 'patient';
  ELSIF me = a.doctor_id THEN
    IF NOT cs_room_open(req, a) THEN
      PERFORM cs_fail('CS409', 'room-not-open', format('the room opens %s minutes before the visit',
                      cs_cfg(req, 'room_open_minutes', 15)));
    END IF;
    token_role := CASE (SELECT role FROM users WHERE id = me) WHEN 'specialist' THEN 'specialist'
                    ELSE 'doctor' END;
  ELSE
    SELECT p.kind INTO kind FROM appointment_participants p
    WHERE p.appointment_id = a.id AND p.user_id = me;
    IF kind IS NULL THEN
      -- Admins and clinic staff read visits but do not enter them.
      PERFORM cs_fail('CS403', 'forbidden', 'only the visit''s participants enter its room');
    END IF;
    IF NOT cs_room_open(req, a) THEN
      PERFORM cs_fail('CS409', 'room-not-open', format('the room opens %s minutes before the visit',
                      cs_cfg(req, 'room_open_minutes', 15)));
    END IF;
    token_role := CASE (SELECT role FROM users WHERE id = me)
                    WHEN 'clinic_staff' THEN 'clinic' WHEN 'patient' THEN 'guest'
                    WHEN 'doctor' THEN CASE kind WHEN 'referrer' THEN 'clinic' ELSE 'specialist' END
                    ELSE 'specialist' END;
  END IF;
  PERFORM cs_audit(req, 'room.enter', 'appointment', a.id, a.patient_id, 'ok', token_role);
  RETURN jsonb_build_object('room', 'appt-' || a.id, 'appointment_id', a.id,
    'role', token_role, 'sub', me::text,
    'name', (SELECT display_name FROM users WHERE id = me),
    -- Until admitted the patient waits; once the visit is in progress a
    -- rejoining patient goes straight in.
    'lobby', me = a.patient_id AND a.status <> 'in_consultation',
    'host', me = a.doctor_id,
    'appointment', appointment_json(a));
END $$;

-- ---- invites -----------------------------------------------------------------

CREATE FUNCTION op_invite_create(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), true);
  role text := coalesce(cs_arg_text(req, 'role', 20, false), 'guest');
  token text := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  inv invites;
BEGIN
  PERFORM cs_require_visit_doctor(req, a);
  IF a.status NOT IN ('booked', 'waiting', 'in_consultation') THEN
    PERFORM cs_fail('CS409', 'visit-closed', format('visit %s is %s', a.id, a.status));
  END IF;
  IF role NOT IN ('family', 'interpreter', 'specialist', 'guest') THEN
    PERFORM cs_fail('CS400', 'bad-request', '"role" must be family, interpreter, specialist or guest');
  END IF;
  INSERT INTO invites (appointment_id, token_hash, role, label, created_by, expires_at)
  VALUES (a.id, sha256(convert_to(token, 'UTF8')), role, cs_arg_text(req, 'label', 120, false),
          cs_actor(req),
          greatest(now(), a.ends_at) + make_interval(mins => cs_cfg(req, 'room_late_minutes', 60)))
  RETURNING * INTO inv;
  PERFORM cs_audit(req, 'invite.create', 'appointment', a.id, a.patient_id, 'ok', role);
  RETURN jsonb_build_object('id', inv.id, 'token', token, 'role', inv.role, 'label', inv.label,
                            'expires_at', cs_ts(inv.expires_at));
END $$;

-- Redeems a one-time link, anonymously (a name is given) or signed in (the
-- account joins the visit's participants and may come back). The link is
-- the doctor's admission: invitees do not wait in the lobby.
CREATE FUNCTION op_invite_redeem(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  token text := cs_arg_text(req, 'token', 128, true);
  me bigint := cs_actor(req);
  name text;
  inv invites;
  a appointments;
BEGIN
  name := coalesce((SELECT display_name FROM users WHERE id = me), cs_arg_text(req, 'name', 128, false));
  IF name IS NULL OR btrim(name) = '' THEN
    PERFORM cs_fail('CS400', 'bad-request', '"name" is required without an account');
  END IF;
  UPDATE invites SET used_at = now(), used_by = me, used_name = name
  WHERE token_hash = sha256(convert_to(token, 'UTF8')) AND used_at IS NULL AND expires_at > now()
  RETURNING * INTO inv;
  IF inv.id IS NULL THEN
    PERFORM cs_audit(req, 'invite.redeem', 'invite', NULL, NULL, 'denied', 'unknown, used or expired');
    PERFORM cs_fail('CS404', 'invite-invalid', 'this invitation link is unknown, used or expired');
  END IF;
  SELECT * INTO a FROM appointments WHERE id = inv.appointment_id;
  IF a.status NOT IN ('booked', 'waiting', 'in_consultation') THEN
    PERFORM cs_fail('CS409', 'visit-closed', format('visit %s is %s', a.id, a.status));
  END IF;
  IF me IS NOT NULL AND me NOT IN (a.patient_id, a.doctor_id) THEN
    INSERT INTO appointment_participants (appointment_id, user_id, kind, added_by)
    VALUES (a.id, me, CASE WHEN inv.role = 'specialist' THEN 'specialist' ELSE 'invitee' END,
            inv.created_by)
    ON CONFLICT DO NOTHING;
    IF inv.role = 'specialist' AND EXISTS (SELECT 1 FROM doctor_profiles d
                                           WHERE d.user_id = me AND d.verification = 'verified') THEN
      INSERT INTO care_relationships (doctor_id, patient_id, granted_by)
      VALUES (me, a.patient_id, inv.created_by)
      ON CONFLICT (doctor_id, patient_id) DO UPDATE SET revoked_at = NULL
        WHERE care_relationships.revoked_at IS NOT NULL;
    END IF;
  END IF;
  PERFORM cs_audit(req, 'invite.redeem', 'appointment', a.id, a.patient_id, 'ok', inv.role);
  RETURN jsonb_build_object('room', 'appt-' || a.id, 'appointment_id', a.id,
    'role', CASE WHEN inv.role = 'specialist' THEN 'specialist' ELSE 'guest' END,
    'sub', coalesce(me::text, 'invite-' || inv.id), 'name', name,
    'lobby', false, 'host', false,
    'expires_at', cs_ts(inv.expires_at));
END $$;

-- ---- chat ------------------------------------------------------------------------

-- Called by the signaling server with the sender taken from a verified
-- room token (guests have no account), never from a client's body.
CREATE FUNCTION op_chat_post(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  appt bigint := cs_arg_id(req, 'appointment_id');
  sender bigint := CASE WHEN req->'args'->>'sender_sub' ~ '^[1-9][0-9]{0,18}$'
                        THEN (req->'args'->>'sender_sub')::bigint END;
  m chat_messages;
  patient bigint;
BEGIN
  SELECT patient_id INTO patient FROM appointments
  WHERE id = appt AND status IN ('booked', 'waiting', 'in_consultation');
  IF patient IS NULL THEN
    PERFORM cs_fail('CS409', 'visit-closed', format('visit %s is not open', appt));
  END IF;
  INSERT INTO chat_messages (appointment_id, sender_id, sender_name, sender_role, body)
  VALUES (appt, sender, cs_arg_text(req, 'sender_name', 128, true),
          cs_arg_text(req, 'sender_role', 20, true), cs_arg_text(req, 'body', 4000, true))
  RETURNING * INTO m;
  RETURN jsonb_build_object('id', m.id, 'sender_id', m.sender_id, 'name', m.sender_name,
                            'role', m.sender_role, 'text', m.body, 'sent_at', cs_ts(m.sent_at));
END $$;

CREATE FUNCTION op_chat_list(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), false);
BEGIN
  PERFORM cs_audit(req, 'chat.read', 'appointment', a.id, a.patient_id);
  RETURN jsonb_build_object('items', coalesce((SELECT jsonb_agg(jsonb_build_object('id', m.id,
           'sender_id', m.sender_id, 'name', m.sender_name, 'role', m.sender_role, 'text', m.body,
           'sent_at', cs_ts(m.sent_at)) ORDER BY m.id)
         FROM chat_messages m WHERE m.appointment_id = a.id), '[]'));
END $$;

-- ---- files ------------------------------------------------------------------------

CREATE FUNCTION file_json(f files) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', f.id, 'appointment_id', f.appointment_id,
           'referral_id', f.referral_id, 'filename', f.filename, 'content_type', f.content_type,
           'size', f.size, 'sha256', encode(f.sha256, 'hex'), 'uploader_id', f.uploader_id,
           'uploader_name', f.uploader_name, 'created_at', cs_ts(f.created_at))
$$;

-- Stores a file (base64 in args.data) against a visit or a referral;
-- @owner_col names which. The caller's right to the owner is checked by
-- the op that calls this.
CREATE FUNCTION cs_file_store(req jsonb, appt bigint, referral bigint, patient bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  ctype text := cs_arg_text(req, 'content_type', 100, true);
  fname text := cs_arg_text(req, 'filename', 200, true);
  max_bytes int := cs_cfg(req, 'file_max_bytes', 10485760);
  data bytea;
  f files;
BEGIN
  IF ctype NOT IN ('application/pdf', 'image/png', 'image/jpeg', 'text/plain', 'application/dicom') THEN
    PERFORM cs_fail('CS400', 'unsupported-type', format('files of type %s are not accepted '
      '(PDF, PNG, JPEG, plain text or DICOM)', ctype));
  END IF;
  IF fname ~ '[/\\[:cntrl:]]' THEN
    PERFORM cs_fail('CS400', 'bad-request', 'the file name may not contain slashes or control characters');
  END IF;
  BEGIN
    data := decode(req->'args'->>'data', 'base64');
  EXCEPTION WHEN OTHERS THEN
    PERFORM cs_fail('CS400', 'bad-request', 'the file data is not valid base64');
  END;
  IF data IS NULL OR octet_length(data) = 0 THEN
    PERFORM cs_fail('CS400', 'bad-request', 'the file is empty');
  END IF;
  IF octet_length(data) > max_bytes THEN
    PERFORM cs_fail('CS400', 'payload-too-large', format('files are limited to %s bytes', max_bytes));
  END IF;
  INSERT INTO files (appointment_id, referral_id, uploader_id, uploader_name, filename,
                     content_type, size, sha256, data)
  VALUES (appt, referral, cs_actor(req),
          coalesce((SELECT display_name FROM users WHERE id = cs_actor(req)),
                   cs_arg_text(req, 'uploader_name', 128, false), 'guest'),
          fname, ctype, octet_length(data), sha256(data), data)
  RETURNING * INTO f;
  PERFORM cs_audit(req, 'file.upload', 'file', f.id, patient, 'ok', ctype);
  RETURN file_json(f);
END $$;

CREATE FUNCTION op_visit_file_upload(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), false);
BEGIN
  IF a.status NOT IN ('booked', 'waiting', 'in_consultation') THEN
    PERFORM cs_fail('CS409', 'visit-closed', format('visit %s is %s', a.id, a.status));
  END IF;
  RETURN cs_file_store(req, a.id, NULL, a.patient_id);
END $$;

CREATE FUNCTION op_visit_files_list(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE a appointments := cs_appointment_get(req, cs_arg_id(req, 'appointment_id'), false);
BEGIN
  RETURN jsonb_build_object('items', coalesce((SELECT jsonb_agg(file_json(f) ORDER BY f.id)
         FROM files f WHERE f.appointment_id = a.id), '[]'));
END $$;

-- The file with its bytes (base64), for a party of its visit or referral.
CREATE FUNCTION op_file_get(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  f files;
  patient bigint;
BEGIN
  SELECT * INTO f FROM files WHERE id = cs_arg_id(req, 'file_id');
  IF f.appointment_id IS NOT NULL THEN
    patient := (cs_appointment_get(req, f.appointment_id, false)).patient_id;
  ELSIF f.referral_id IS NOT NULL THEN
    patient := cs_referral_patient_for(req, f.referral_id);
  ELSE
    PERFORM cs_fail('CS404', 'not-found', 'no such file');
  END IF;
  IF (req->'args'->>'owner_id') IS NOT NULL
     AND (req->'args'->>'owner_id')::bigint IS DISTINCT FROM coalesce(f.appointment_id, f.referral_id) THEN
    PERFORM cs_fail('CS404', 'not-found', 'no such file');
  END IF;
  PERFORM cs_audit(req, 'file.read', 'file', f.id, patient);
  RETURN file_json(f) || jsonb_build_object('data', encode(f.data, 'base64'));
END $$;

GRANT SELECT, INSERT, UPDATE ON appointment_participants, invites, chat_messages, files
  TO consilium_app;
