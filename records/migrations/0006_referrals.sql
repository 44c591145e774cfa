-- 0006: referrals (双向转诊) and the joint consultations they lead to
-- (远程会诊). A referral goes requested → accepted/declined → scheduled →
-- in_consultation → report_returned → closed (or cancelled by the referrer
-- before the consultation). Up-referrals go from a primary clinic to a
-- hospital's specialists; a down-referral is the same flow back to the
-- clinic, linked to its parent. Every change is audited and kept in
-- referral_events by trigger.

CREATE TABLE referrals (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_id bigint NOT NULL REFERENCES users (id),
  direction text NOT NULL CHECK (direction IN ('up', 'down')),
  parent_id bigint REFERENCES referrals (id),
  from_doctor_id bigint NOT NULL REFERENCES users (id),
  from_institution_id bigint REFERENCES institutions (id),
  to_institution_id bigint NOT NULL REFERENCES institutions (id),
  to_department_id bigint REFERENCES departments (id),
  to_specialist_id bigint REFERENCES users (id),
  assigned_to bigint REFERENCES users (id),
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 4000),
  urgency text NOT NULL CHECK (urgency IN ('routine', 'urgent', 'emergency')),
  status text NOT NULL DEFAULT 'requested'
    CHECK (status IN ('requested', 'accepted', 'declined', 'scheduled', 'in_consultation',
                      'report_returned', 'closed', 'cancelled')),
  decline_reason text CHECK (length(decline_reason) <= 2000),
  appointment_id bigint REFERENCES appointments (id),
  report text CHECK (length(report) <= 20000),
  report_by bigint REFERENCES users (id),
  report_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referrals_by_from ON referrals (from_doctor_id);
CREATE INDEX referrals_by_to ON referrals (to_institution_id, status);
CREATE UNIQUE INDEX referrals_by_appointment ON referrals (appointment_id)
  WHERE appointment_id IS NOT NULL;

ALTER TABLE files ADD CONSTRAINT files_referral_fkey
  FOREIGN KEY (referral_id) REFERENCES referrals (id);

CREATE TABLE referral_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  referral_id bigint NOT NULL REFERENCES referrals (id),
  from_status text,
  to_status text NOT NULL,
  actor_id bigint REFERENCES users (id),
  at timestamptz NOT NULL DEFAULT now(),
  note text
);
CREATE INDEX referral_events_by_referral ON referral_events (referral_id, id);

CREATE FUNCTION referral_transition_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'requested' THEN
      PERFORM cs_fail('CS409', 'illegal-transition', 'a new referral starts as requested');
    END IF;
  ELSIF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'requested' AND NEW.status IN ('accepted', 'declined', 'cancelled'))
    OR (OLD.status = 'accepted' AND NEW.status IN ('scheduled', 'cancelled'))
    -- back to accepted when the scheduled visit is cancelled
    OR (OLD.status = 'scheduled' AND NEW.status IN ('in_consultation', 'accepted', 'cancelled'))
    OR (OLD.status = 'in_consultation' AND NEW.status = 'report_returned')
    OR (OLD.status = 'report_returned' AND NEW.status = 'closed')) THEN
    PERFORM cs_fail('CS409', 'illegal-transition',
                    format('referral %s cannot go from %s to %s', OLD.id, OLD.status, NEW.status));
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER referral_transition_check BEFORE INSERT OR UPDATE ON referrals
  FOR EACH ROW EXECUTE FUNCTION referral_transition_check();

-- The actor comes from the transaction's consilium.actor setting (set by
-- each op) so the history names who moved it even when a trigger did.
CREATE FUNCTION referral_event_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    INSERT INTO referral_events (referral_id, from_status, to_status, actor_id, note)
    VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status,
            nullif(current_setting('consilium.actor', true), '')::bigint,
            nullif(current_setting('consilium.note', true), ''));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER referral_event_log AFTER INSERT OR UPDATE ON referrals
  FOR EACH ROW EXECUTE FUNCTION referral_event_log();

-- The consultation follows its visit: admitted → in_consultation; a
-- cancelled or missed visit sends the referral back to accepted.
CREATE FUNCTION referral_follow_visit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'in_consultation' AND OLD.status <> 'in_consultation' THEN
    UPDATE referrals SET status = 'in_consultation'
    WHERE appointment_id = NEW.id AND status = 'scheduled';
  ELSIF NEW.status IN ('cancelled', 'no_show') AND OLD.status IN ('booked', 'waiting') THEN
    UPDATE referrals SET status = 'accepted', appointment_id = NULL
    WHERE appointment_id = NEW.id AND status = 'scheduled';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER referral_follow_visit AFTER UPDATE OF status ON appointments
  FOR EACH ROW EXECUTE FUNCTION referral_follow_visit();

CREATE FUNCTION cs_set_actor(req jsonb, note text) RETURNS void
LANGUAGE sql AS $$
  SELECT set_config('consilium.actor', coalesce(cs_actor(req)::text, ''), true),
         set_config('consilium.note', coalesce(note, ''), true)
$$;

-- ---- who is who in a referral -------------------------------------------------------

-- On the sending side: the referring doctor, or staff of the sending institution.
CREATE FUNCTION cs_referral_sender(req jsonb, r referrals) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(cs_actor(req) = r.from_doctor_id
      OR (cs_actor_role(req) = 'clinic_staff' AND EXISTS (
            SELECT 1 FROM users u WHERE u.id = cs_actor(req) AND NOT u.disabled
              AND u.institution_id = r.from_institution_id)), false)
$$;

-- On the receiving side: the named or assigned specialist, doctors of the
-- target department (or institution when no department is named), or
-- staff of the target institution.
CREATE FUNCTION cs_referral_receiver(req jsonb, r referrals) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(cs_actor(req) = r.to_specialist_id, false)
      OR coalesce(cs_actor(req) = r.assigned_to, false)
      OR EXISTS (SELECT 1 FROM users u LEFT JOIN doctor_profiles d ON d.user_id = u.id
                 WHERE u.id = cs_actor(req) AND NOT u.disabled
                   AND u.institution_id = r.to_institution_id
                   AND (u.role = 'clinic_staff'
                        OR (r.to_specialist_id IS NULL AND u.role IN ('doctor', 'specialist')
                            AND (r.to_department_id IS NULL OR d.department_id = r.to_department_id))))
$$;

CREATE FUNCTION cs_referral_get(req jsonb, id bigint, lock boolean) RETURNS referrals
LANGUAGE plpgsql AS $$
DECLARE r referrals;
BEGIN
  IF lock THEN
    SELECT * INTO r FROM referrals WHERE referrals.id = cs_referral_get.id FOR UPDATE;
  ELSE
    SELECT * INTO r FROM referrals WHERE referrals.id = cs_referral_get.id;
  END IF;
  IF r.id IS NULL OR NOT (cs_actor_role(req) = 'admin' OR cs_referral_sender(req, r)
                          OR cs_referral_receiver(req, r)
                          OR EXISTS (SELECT 1 FROM appointment_participants p
                                     WHERE p.appointment_id = r.appointment_id
                                       AND p.user_id = cs_actor(req))) THEN
    PERFORM cs_fail('CS404', 'not-found', format('no referral %s', id));
  END IF;
  RETURN r;
END $$;

-- An op's explicit precondition (the trigger sees only real changes).
CREATE FUNCTION cs_referral_require(r referrals, allowed text[], target text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF NOT r.status = ANY (allowed) THEN
    PERFORM cs_fail('CS409', 'illegal-transition',
                    format('referral %s cannot go from %s to %s', r.id, r.status, target));
  END IF;
END $$;

CREATE FUNCTION cs_referral_patient_for(req jsonb, id bigint) RETURNS bigint
LANGUAGE sql AS $$ SELECT (cs_referral_get(req, id, false)).patient_id $$;

CREATE FUNCTION referral_json(r referrals) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', r.id, 'status', r.status, 'direction', r.direction,
    'parent_id', r.parent_id, 'urgency', r.urgency, 'reason', r.reason,
    'patient', (SELECT jsonb_build_object('id', p.id, 'name', p.display_name) FROM users p
                WHERE p.id = r.patient_id),
    'from_doctor', doctor_json(r.from_doctor_id),
    'from_institution', (SELECT jsonb_build_object('id', i.id, 'name', i.name, 'kind', i.kind)
                         FROM institutions i WHERE i.id = r.from_institution_id),
    'to_institution', (SELECT jsonb_build_object('id', i.id, 'name', i.name, 'kind', i.kind)
                       FROM institutions i WHERE i.id = r.to_institution_id),
    'to_department', (SELECT jsonb_build_object('id', d.id, 'name', d.name) FROM departments d
                      WHERE d.id = r.to_department_id),
    'to_specialist', CASE WHEN r.to_specialist_id IS NOT NULL THEN doctor_json(r.to_specialist_id) END,
    'assigned_to', CASE WHEN r.assigned_to IS NOT NULL THEN doctor_json(r.assigned_to) END,
    'decline_reason', r.decline_reason,
    'appointment', (SELECT appointment_json(a) FROM appointments a WHERE a.id = r.appointment_id),
    'report', r.report, 'report_by', r.report_by, 'report_at', cs_ts(r.report_at),
    'created_at', cs_ts(r.created_at), 'updated_at', cs_ts(r.updated_at),
    'events', coalesce((SELECT jsonb_agg(jsonb_build_object('from', e.from_status, 'to', e.to_status,
                 'actor_id', e.actor_id, 'at', cs_ts(e.at), 'note', e.note) ORDER BY e.id)
               FROM referral_events e WHERE e.referral_id = r.id), '[]'),
    'documents', coalesce((SELECT jsonb_agg(file_json(f) ORDER BY f.id) FROM files f
                  WHERE f.referral_id = r.id), '[]'))
$$;

-- ---- ops -------------------------------------------------------------------------------

CREATE FUNCTION op_referral_create(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  me bigint := cs_actor(req);
  patient bigint := cs_arg_id(req, 'patient_id');
  to_inst bigint := cs_arg_id(req, 'to_institution_id');
  to_dep bigint := CASE WHEN req->'args' ? 'to_department_id'
                        AND jsonb_typeof(req->'args'->'to_department_id') <> 'null'
                        THEN cs_arg_id(req, 'to_department_id') END;
  to_spec bigint := CASE WHEN req->'args' ? 'to_specialist_id'
                         AND jsonb_typeof(req->'args'->'to_specialist_id') <> 'null'
                         THEN cs_arg_id(req, 'to_specialist_id') END;
  parent bigint := CASE WHEN req->'args' ? 'parent_id'
                        AND jsonb_typeof(req->'args'->'parent_id') <> 'null'
                        THEN cs_arg_id(req, 'parent_id') END;
  urgency text := coalesce(cs_arg_text(req, 'urgency', 20, false), 'routine');
  my_inst bigint;
  r referrals;
BEGIN
  IF cs_actor_role(req) NOT IN ('doctor', 'specialist') THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only doctors refer patients');
  END IF;
  IF NOT can_access_patient(me, patient) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'you have no care relationship with this patient');
  END IF;
  SELECT institution_id INTO my_inst FROM users WHERE id = me;
  IF NOT EXISTS (SELECT 1 FROM institutions WHERE id = to_inst) THEN
    PERFORM cs_fail('CS404', 'not-found', format('no institution %s', to_inst));
  END IF;
  IF to_inst = my_inst THEN
    PERFORM cs_fail('CS400', 'bad-request', 'a referral goes to another institution');
  END IF;
  IF to_dep IS NOT NULL AND NOT EXISTS (SELECT 1 FROM departments WHERE id = to_dep AND institution_id = to_inst) THEN
    PERFORM cs_fail('CS400', 'bad-request', format('department %s is not in institution %s', to_dep, to_inst));
  END IF;
  IF to_spec IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users WHERE id = to_spec AND institution_id = to_inst
                                         AND role IN ('doctor', 'specialist') AND NOT disabled) THEN
    PERFORM cs_fail('CS400', 'bad-request', format('user %s is not a doctor of institution %s', to_spec, to_inst));
  END IF;
  IF urgency NOT IN ('routine', 'urgent', 'emergency') THEN
    PERFORM cs_fail('CS400', 'bad-request', '"urgency" must be routine, urgent or emergency');
  END IF;
  IF parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM referrals WHERE id = parent AND patient_id = patient) THEN
    PERFORM cs_fail('CS400', 'bad-request', format('referral %s is not this patient''s', parent));
  END IF;
  PERFORM cs_set_actor(req, NULL);
  INSERT INTO referrals (patient_id, direction, parent_id, from_doctor_id, from_institution_id,
                         to_institution_id, to_department_id, to_specialist_id, reason, urgency)
  VALUES (patient,
          CASE WHEN (SELECT kind FROM institutions WHERE id = to_inst) = 'primary_clinic'
               THEN 'down' ELSE 'up' END,
          parent, me, my_inst, to_inst, to_dep, to_spec, cs_arg_text(req, 'reason', 4000, true), urgency)
  RETURNING * INTO r;
  PERFORM cs_audit(req, 'referral.create', 'referral', r.id, patient, 'ok', r.direction);
  RETURN referral_json(r);
END $$;

CREATE FUNCTION op_referrals_list(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  box text := coalesce(nullif(req->'args'->>'box', ''), 'all');
  st text := nullif(req->'args'->>'status', '');
BEGIN
  IF box NOT IN ('in', 'out', 'all') THEN
    PERFORM cs_fail('CS400', 'bad-request', 'box is in, out or all');
  END IF;
  RETURN jsonb_build_object('items', coalesce((SELECT jsonb_agg(referral_json(r) ORDER BY r.id DESC)
    FROM referrals r
    WHERE (st IS NULL OR r.status = st)
      AND ((box IN ('out', 'all') AND cs_referral_sender(req, r))
        OR (box IN ('in', 'all') AND cs_referral_receiver(req, r))
        OR (box = 'all' AND cs_actor_role(req) = 'admin'))), '[]'));
END $$;

CREATE FUNCTION op_referral_get(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), false);
BEGIN
  PERFORM cs_audit(req, 'referral.read', 'referral', r.id, r.patient_id);
  RETURN referral_json(r);
END $$;

CREATE FUNCTION cs_require_receiver(req jsonb, r referrals) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT cs_referral_receiver(req, r) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only the receiving institution acts on this referral');
  END IF;
END $$;

CREATE FUNCTION op_referral_accept(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), true);
  assignee bigint;
BEGIN
  PERFORM cs_require_receiver(req, r);
  PERFORM cs_referral_require(r, '{requested}', 'accepted');
  -- A doctor accepts for themself; staff name the specialist.
  IF cs_actor_role(req) IN ('doctor', 'specialist') THEN
    assignee := cs_actor(req);
  ELSE
    assignee := cs_arg_id(req, 'specialist_id');
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = assignee AND institution_id = r.to_institution_id
                   AND role IN ('doctor', 'specialist') AND NOT disabled) THEN
      PERFORM cs_fail('CS400', 'bad-request', format('user %s is not a doctor of the receiving institution', assignee));
    END IF;
  END IF;
  PERFORM cs_set_actor(req, NULL);
  UPDATE referrals SET status = 'accepted', assigned_to = assignee WHERE id = r.id RETURNING * INTO r;
  PERFORM cs_audit(req, 'referral.accept', 'referral', r.id, r.patient_id);
  PERFORM cs_notify(r.from_doctor_id, 'referral.accepted', NULL, jsonb_build_object('referral_id', r.id));
  RETURN referral_json(r);
END $$;

CREATE FUNCTION op_referral_decline(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), true);
  why text := cs_arg_text(req, 'reason', 2000, true);
BEGIN
  PERFORM cs_require_receiver(req, r);
  PERFORM cs_referral_require(r, '{requested}', 'declined');
  PERFORM cs_set_actor(req, why);
  UPDATE referrals SET status = 'declined', decline_reason = why WHERE id = r.id RETURNING * INTO r;
  PERFORM cs_audit(req, 'referral.decline', 'referral', r.id, r.patient_id);
  PERFORM cs_notify(r.from_doctor_id, 'referral.declined', NULL, jsonb_build_object('referral_id', r.id));
  RETURN referral_json(r);
END $$;

-- Books the joint consultation in a slot of the assigned specialist: the
-- patient is booked, the referring doctor and any further specialists
-- (from any institution) join it as participants with access to the patient.
CREATE FUNCTION op_referral_schedule(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), true);
  slot bigint := cs_arg_id(req, 'slot_id');
  extra jsonb := coalesce(req->'args'->'specialist_ids', '[]');
  spec bigint;
  a appointments;
BEGIN
  PERFORM cs_require_receiver(req, r);
  PERFORM cs_referral_require(r, '{accepted}', 'scheduled');
  IF NOT EXISTS (SELECT 1 FROM slots WHERE id = slot AND doctor_id = r.assigned_to) THEN
    PERFORM cs_fail('CS400', 'bad-request', 'the consultation takes a slot of the assigned specialist');
  END IF;
  IF jsonb_typeof(extra) <> 'array' OR jsonb_array_length(extra) > 8 THEN
    PERFORM cs_fail('CS400', 'bad-request', '"specialist_ids" is an array of at most 8 ids');
  END IF;
  a := cs_book(req, slot, r.patient_id, r.reason, NULL);
  INSERT INTO appointment_participants (appointment_id, user_id, kind, added_by)
  VALUES (a.id, r.from_doctor_id, 'referrer', cs_actor(req)) ON CONFLICT DO NOTHING;
  FOR spec IN SELECT (x#>>'{}')::bigint FROM jsonb_array_elements(extra) x LOOP
    IF NOT EXISTS (SELECT 1 FROM users u JOIN doctor_profiles d ON d.user_id = u.id
                   WHERE u.id = spec AND u.role IN ('doctor', 'specialist') AND NOT u.disabled
                     AND d.verification = 'verified') THEN
      PERFORM cs_fail('CS400', 'bad-request', format('user %s is not a verified doctor', spec));
    END IF;
    IF spec <> a.doctor_id THEN
      INSERT INTO appointment_participants (appointment_id, user_id, kind, added_by)
      VALUES (a.id, spec, 'specialist', cs_actor(req)) ON CONFLICT DO NOTHING;
      INSERT INTO care_relationships (doctor_id, patient_id, granted_by)
      VALUES (spec, r.patient_id, cs_actor(req))
      ON CONFLICT (doctor_id, patient_id) DO UPDATE SET revoked_at = NULL
        WHERE care_relationships.revoked_at IS NOT NULL;
    END IF;
  END LOOP;
  PERFORM cs_set_actor(req, NULL);
  UPDATE referrals SET status = 'scheduled', appointment_id = a.id WHERE id = r.id RETURNING * INTO r;
  PERFORM cs_audit(req, 'referral.schedule', 'referral', r.id, r.patient_id, 'ok',
                   format('appointment %s', a.id));
  PERFORM cs_notify(uid, 'referral.scheduled', a.id, jsonb_build_object('referral_id', r.id,
                    'starts_at', cs_ts(a.starts_at)))
  FROM (SELECT r.from_doctor_id UNION SELECT r.patient_id
        UNION SELECT user_id FROM appointment_participants WHERE appointment_id = a.id) x(uid);
  RETURN referral_json(r);
END $$;

CREATE FUNCTION op_referral_report(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), true);
  body text := cs_arg_text(req, 'report', 20000, true);
BEGIN
  IF cs_actor(req) IS DISTINCT FROM r.assigned_to AND NOT EXISTS (
       SELECT 1 FROM appointment_participants p WHERE p.appointment_id = r.appointment_id
         AND p.user_id = cs_actor(req) AND p.kind = 'specialist') THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only the consulting specialists write the report');
  END IF;
  PERFORM cs_referral_require(r, '{in_consultation}', 'report_returned');
  PERFORM cs_set_actor(req, NULL);
  UPDATE referrals SET status = 'report_returned', report = body,
         report_by = cs_actor(req), report_at = now()
  WHERE id = r.id RETURNING * INTO r;
  PERFORM cs_audit(req, 'referral.report', 'referral', r.id, r.patient_id);
  PERFORM cs_notify(r.from_doctor_id, 'referral.report', r.appointment_id,
                    jsonb_build_object('referral_id', r.id));
  RETURN referral_json(r);
END $$;

CREATE FUNCTION op_referral_close(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), true);
BEGIN
  IF NOT cs_referral_sender(req, r) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only the referring side closes a referral');
  END IF;
  PERFORM cs_referral_require(r, '{report_returned}', 'closed');
  PERFORM cs_set_actor(req, NULL);
  UPDATE referrals SET status = 'closed' WHERE id = r.id RETURNING * INTO r;
  PERFORM cs_audit(req, 'referral.close', 'referral', r.id, r.patient_id);
  RETURN referral_json(r);
END $$;

CREATE FUNCTION op_referral_cancel(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), true);
  why text := cs_arg_text(req, 'reason', 2000, false);
BEGIN
  IF NOT cs_referral_sender(req, r) THEN
    PERFORM cs_fail('CS403', 'forbidden', 'only the referring side cancels a referral');
  END IF;
  PERFORM cs_referral_require(r, '{requested,accepted,scheduled}', 'cancelled');
  PERFORM cs_set_actor(req, why);
  UPDATE referrals SET status = 'cancelled' WHERE id = r.id RETURNING * INTO r;
  -- A booked consultation goes with it.
  UPDATE appointments SET status = 'cancelled', cancelled_at = now(), cancelled_by = cs_actor(req),
         cancel_reason = 'referral cancelled'
  WHERE id = r.appointment_id AND status IN ('booked', 'waiting');
  PERFORM cs_audit(req, 'referral.cancel', 'referral', r.id, r.patient_id);
  RETURN referral_json(r);
END $$;

CREATE FUNCTION op_referral_document_upload(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE r referrals := cs_referral_get(req, cs_arg_id(req, 'referral_id'), false);
BEGIN
  IF r.status IN ('closed', 'cancelled', 'declined') THEN
    PERFORM cs_fail('CS409', 'referral-closed', format('referral %s is %s', r.id, r.status));
  END IF;
  RETURN cs_file_store(req, NULL, r.id, r.patient_id);
END $$;

GRANT SELECT, INSERT, UPDATE ON referrals, referral_events TO consilium_app;
