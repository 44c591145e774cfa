-- 0007: read-only FHIR R4 JSON of scheduling, visits and referrals
-- (docs/fhir.md), so other hospital systems can read what is booked and
-- referred:
--   Schedule        one per doctor roster (id = the doctor's user id)
--   Slot            slots
--   Appointment     appointments
--   Encounter       one per appointment that reached in_consultation
--                   (id = the appointment id), class VR (virtual)
--   ServiceRequest  referrals
-- op_fhir_read takes {"fhir_type", "id"}, op_fhir_search {"fhir_type",
-- <search parameters as strings>}. Who sees what is the rule of the REST
-- API's own reads (0004-0006; patients also see their own referrals), and
-- every read of patient data (Appointment, Encounter, ServiceRequest) is
-- audited. FHIR JSON has no nulls and no empty arrays or objects: each
-- resource goes through jsonb_strip_nulls and optional arrays are NULL
-- when empty.

-- ---- shared pieces ---------------------------------------------------------------

CREATE FUNCTION fhir_ref(rtype text, rid bigint, display text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN rid IS NOT NULL THEN jsonb_strip_nulls(
                jsonb_build_object('reference', rtype || '/' || rid, 'display', display)) END
$$;

CREATE FUNCTION fhir_user_ref(rtype text, uid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT fhir_ref(rtype, u.id, u.display_name) FROM users u WHERE u.id = uid
$$;

-- A CodeableConcept that is only text; NULL for no text.
CREATE FUNCTION fhir_text(t text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN btrim(t) <> '' THEN jsonb_build_object('text', t) END
$$;

-- HL7 v2 table 0276: a follow-up visit or a routine one; the text is our
-- visit type (video, audio, follow_up).
CREATE FUNCTION fhir_appointment_type(visit_type text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('coding', jsonb_build_array(jsonb_build_object(
           'system', 'http://terminology.hl7.org/CodeSystem/v2-0276',
           'code', CASE visit_type WHEN 'follow_up' THEN 'FOLLOWUP' ELSE 'ROUTINE' END)),
         'text', visit_type)
$$;

-- A participant type of the encounter-participant-type value set.
CREATE FUNCTION fhir_participation(code text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_array(jsonb_build_object('coding', jsonb_build_array(jsonb_build_object(
           'system', 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'code', code,
           'display', CASE code WHEN 'PPRF' THEN 'primary performer' WHEN 'REF' THEN 'referrer'
                                WHEN 'CON' THEN 'consultant' ELSE 'Participation' END))))
$$;

CREATE FUNCTION fhir_appointment_status(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE s WHEN 'booked' THEN 'booked' WHEN 'waiting' THEN 'arrived'
                -- "fulfilled: the planning stages are complete, the
                -- Encounter tracks further status changes" (R4)
                WHEN 'in_consultation' THEN 'fulfilled' WHEN 'completed' THEN 'fulfilled'
                WHEN 'cancelled' THEN 'cancelled' WHEN 'no_show' THEN 'noshow' END
$$;

CREATE FUNCTION fhir_encounter_status(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE s WHEN 'in_consultation' THEN 'in-progress' WHEN 'completed' THEN 'finished' END
$$;

-- request-status: the referral is live until the report is back; a
-- declined or cancelled one is revoked.
CREATE FUNCTION fhir_request_status(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN s IN ('requested', 'accepted', 'scheduled', 'in_consultation') THEN 'active'
              WHEN s IN ('report_returned', 'closed') THEN 'completed'
              WHEN s IN ('declined', 'cancelled') THEN 'revoked' END
$$;

CREATE FUNCTION fhir_slot_status(s slots) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE slot_json(s)->>'status' WHEN 'blocked' THEN 'busy-unavailable'
                                      WHEN 'booked' THEN 'busy' ELSE 'free' END
$$;

-- ---- resources -------------------------------------------------------------------

-- A resource of @rtype: id, meta.lastUpdated and @body, nulls dropped.
CREATE FUNCTION fhir_resource(rtype text, rid bigint, updated timestamptz, body jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object('resourceType', rtype, 'id', rid::text,
           'meta', CASE WHEN updated IS NOT NULL
                        THEN jsonb_build_object('lastUpdated', cs_ts(updated)) END) || body)
$$;

CREATE FUNCTION fhir_schedule(doctor bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT fhir_resource('Schedule', r.doctor_id, r.updated_at, jsonb_build_object(
    'active', NOT u.disabled,
    'serviceType', (SELECT jsonb_agg(fhir_text(vt) ORDER BY vt) FROM (
                      SELECT visit_type FROM roster_templates WHERE doctor_id = r.doctor_id
                      UNION SELECT visit_type FROM roster_exceptions
                            WHERE doctor_id = r.doctor_id AND kind = 'extra') x (vt)),
    'specialty', CASE WHEN d.specialty IS NOT NULL THEN jsonb_build_array(fhir_text(d.specialty)) END,
    'actor', jsonb_build_array(fhir_ref('Practitioner', u.id, u.display_name)),
    -- the period the slots referring to this schedule cover
    'planningHorizon', (SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object(
                          'start', cs_ts(min(s.starts_at)), 'end', cs_ts(max(s.ends_at))) END
                        FROM slots s WHERE s.doctor_id = r.doctor_id),
    'comment', 'weekly roster in time zone ' || r.timezone))
  FROM rosters r JOIN users u ON u.id = r.doctor_id
  LEFT JOIN doctor_profiles d ON d.user_id = u.id
  WHERE r.doctor_id = doctor
$$;

CREATE FUNCTION fhir_slot(s slots) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('resourceType', 'Slot', 'id', s.id::text,
           'serviceType', jsonb_build_array(fhir_text(s.visit_type)),
           'appointmentType', fhir_appointment_type(s.visit_type),
           'schedule', fhir_ref('Schedule', s.doctor_id),
           'status', fhir_slot_status(s),
           'start', cs_ts(s.starts_at), 'end', cs_ts(s.ends_at))
$$;

-- The clinicians of a visit with their participation type: the doctor
-- (primary performer), then the referring doctor, specialists and
-- account-holding invitees. Staff accounts are Practitioners; anyone else
-- (a family member with a patient account) is named but not referenced.
CREATE FUNCTION fhir_visit_clinicians(a appointments) RETURNS TABLE (who jsonb, code text)
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN u.role IN ('doctor', 'specialist', 'clinic_staff')
              THEN fhir_ref('Practitioner', u.id, u.display_name)
              ELSE jsonb_build_object('display', u.display_name) END, x.code
  FROM (SELECT a.doctor_id AS uid, 'PPRF' AS code, 0::bigint AS ord
        UNION ALL
        SELECT p.user_id, CASE p.kind WHEN 'referrer' THEN 'REF' WHEN 'specialist' THEN 'CON'
                                      ELSE 'PART' END, p.user_id
        FROM appointment_participants p WHERE p.appointment_id = a.id) x
  JOIN users u ON u.id = x.uid
  ORDER BY x.ord
$$;

CREATE FUNCTION fhir_appointment(a appointments) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT fhir_resource('Appointment', a.id, greatest(a.booked_at, a.checked_in_at, a.admitted_at,
                                                    a.ended_at, a.cancelled_at, a.no_show_at),
    jsonb_build_object(
    'status', fhir_appointment_status(a.status),
    'cancelationReason', CASE WHEN a.status = 'cancelled' THEN fhir_text(a.cancel_reason) END,
    'serviceType', jsonb_build_array(fhir_text(a.visit_type)),
    'appointmentType', fhir_appointment_type(a.visit_type),
    'reasonCode', CASE WHEN fhir_text(a.reason) IS NOT NULL THEN jsonb_build_array(fhir_text(a.reason)) END,
    'start', cs_ts(a.starts_at), 'end', cs_ts(a.ends_at),
    'created', cs_ts(a.booked_at),
    'slot', CASE WHEN a.slot_id IS NOT NULL THEN jsonb_build_array(fhir_ref('Slot', a.slot_id)) END,
    'basedOn', (SELECT jsonb_agg(fhir_ref('ServiceRequest', r.id)) FROM referrals r
                WHERE r.appointment_id = a.id),
    'participant', jsonb_build_array(jsonb_build_object('actor', fhir_user_ref('Patient', a.patient_id),
                     'required', 'required', 'status', 'accepted'))
                   || (SELECT jsonb_agg(jsonb_build_object('type', fhir_participation(c.code),
                         'actor', c.who, 'required', 'required', 'status', 'accepted'))
                       FROM fhir_visit_clinicians(a) c)))
$$;

CREATE FUNCTION fhir_encounter(a appointments) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT fhir_resource('Encounter', a.id, greatest(a.admitted_at, a.ended_at, e.written_at),
    jsonb_build_object(
    'status', fhir_encounter_status(a.status),
    'class', jsonb_build_object('system', 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
                                'code', 'VR', 'display', 'virtual'),
    'serviceType', fhir_text(a.visit_type),
    'subject', fhir_user_ref('Patient', a.patient_id),
    'basedOn', (SELECT jsonb_agg(fhir_ref('ServiceRequest', r.id)) FROM referrals r
                WHERE r.appointment_id = a.id),
    'participant', (SELECT jsonb_agg(jsonb_build_object('type', fhir_participation(c.code),
                      'individual', c.who)) FROM fhir_visit_clinicians(a) c),
    'appointment', jsonb_build_array(fhir_ref('Appointment', a.id)),
    'period', jsonb_build_object('start', cs_ts(a.admitted_at), 'end', cs_ts(a.ended_at)),
    'reasonCode', CASE WHEN fhir_text(a.reason) IS NOT NULL THEN jsonb_build_array(fhir_text(a.reason)) END,
    -- the summary's diagnosis is free text: a Reference with display only
    'diagnosis', CASE WHEN e.diagnosis IS NOT NULL THEN jsonb_build_array(jsonb_build_object(
                   'condition', jsonb_build_object('display', e.diagnosis), 'rank', 1)) END,
    'serviceProvider', (SELECT fhir_ref('Organization', i.id, i.name) FROM users u
                        JOIN institutions i ON i.id = u.institution_id WHERE u.id = a.doctor_id)))
  FROM (SELECT 1) one LEFT JOIN encounters e ON e.appointment_id = a.id
$$;

CREATE FUNCTION fhir_service_request(r referrals) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT fhir_resource('ServiceRequest', r.id, r.updated_at, jsonb_build_object(
    'basedOn', CASE WHEN r.parent_id IS NOT NULL
                    THEN jsonb_build_array(fhir_ref('ServiceRequest', r.parent_id)) END,
    'status', fhir_request_status(r.status),
    'intent', 'order',
    'priority', CASE r.urgency WHEN 'emergency' THEN 'stat' ELSE r.urgency END,
    'code', jsonb_build_object('coding', jsonb_build_array(jsonb_build_object(
              'system', 'http://snomed.info/sct', 'code', '3457005', 'display', 'Patient referral')),
              'text', CASE r.direction WHEN 'down' THEN 'down-referral' ELSE 'referral' END),
    'subject', fhir_user_ref('Patient', r.patient_id),
    'occurrencePeriod', (SELECT jsonb_build_object('start', cs_ts(a.starts_at), 'end', cs_ts(a.ends_at))
                         FROM appointments a WHERE a.id = r.appointment_id),
    'authoredOn', cs_ts(r.created_at),
    'requester', fhir_user_ref('Practitioner', r.from_doctor_id),
    'performerType', (SELECT fhir_text(d.name) FROM departments d WHERE d.id = r.to_department_id),
    'performer', (SELECT jsonb_agg(x ORDER BY n) FROM (VALUES
                    (1, fhir_user_ref('Practitioner', coalesce(r.assigned_to, r.to_specialist_id))),
                    (2, (SELECT fhir_ref('Organization', i.id, i.name) FROM institutions i
                         WHERE i.id = r.to_institution_id))) v (n, x)
                  WHERE x IS NOT NULL),
    'reasonCode', jsonb_build_array(fhir_text(r.reason)),
    -- why it was declined or cancelled (the history's notes), then the report
    'note', (SELECT jsonb_agg(x ORDER BY t) FROM (
               SELECT e.at, jsonb_build_object('authorReference', fhir_user_ref('Practitioner', e.actor_id),
                        'time', cs_ts(e.at), 'text', e.to_status || ': ' || e.note)
               FROM referral_events e WHERE e.referral_id = r.id AND e.note IS NOT NULL
               UNION ALL
               SELECT r.report_at, jsonb_build_object('authorReference', fhir_user_ref('Practitioner', r.report_by),
                        'time', cs_ts(r.report_at), 'text', r.report)
               WHERE r.report IS NOT NULL) v (t, x))))
$$;

-- ---- who sees what -------------------------------------------------------------------

-- Auditors read the audit trail, not the records.
CREATE FUNCTION fhir_check_actor(req jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF cs_actor(req) IS NULL OR cs_actor_role(req) NOT IN ('patient', 'doctor', 'specialist',
                                                          'clinic_staff', 'admin') THEN
    PERFORM cs_fail('CS403', 'forbidden', 'your role may not read clinical records');
  END IF;
END $$;

-- As GET /doctors/{id}/slots: free future slots for everyone, all of them
-- for whoever manages the doctor, plus the slot of a visit one is party to.
CREATE FUNCTION fhir_slot_visible(req jsonb, s slots) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT fhir_slot_status(s) = 'free' AND s.starts_at > now()
      OR cs_may_manage_doctor(req, s.doctor_id)
      OR EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled'
                   AND cs_appointment_party(req, a))
$$;

-- As cs_referral_get (0006), and the patient their own.
CREATE FUNCTION fhir_referral_visible(req jsonb, r referrals) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT cs_actor_role(req) = 'admin' OR cs_actor(req) = r.patient_id
      OR cs_referral_sender(req, r) OR cs_referral_receiver(req, r)
      OR EXISTS (SELECT 1 FROM appointment_participants p
                 WHERE p.appointment_id = r.appointment_id AND p.user_id = cs_actor(req))
$$;

-- ---- search parameters (strings from the query) ----------------------------------------

CREATE FUNCTION fhir_param(req jsonb, name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT nullif(req->'args'->>name, '') $$;

-- Refuses any parameter the type does not take: a silently ignored filter
-- would return more than the client asked for.
CREATE FUNCTION fhir_check_params(req jsonb, rtype text, allowed text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE k text;
BEGIN
  FOR k IN SELECT jsonb_object_keys(req->'args') LOOP
    IF k <> 'fhir_type' AND NOT k = ANY (allowed || ARRAY['_id', '_count', '_offset', '_format']) THEN
      PERFORM cs_fail('CS400', 'unknown-parameter',
                      format('%s searches take %s; not "%s"', rtype,
                             array_to_string(allowed || ARRAY['_id', '_count', '_offset'], ', '), k));
    END IF;
  END LOOP;
  IF fhir_param(req, '_format') !~ 'json$' THEN
    PERFORM cs_fail('CS400', 'bad-request', 'only JSON is served (_format=json)');
  END IF;
END $$;

-- A reference parameter: comma-separated "Type/id" or "id" (any of them
-- matches); NULL when absent.
CREATE FUNCTION fhir_ref_param(req jsonb, name text, rtype text) RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v text := fhir_param(req, name);
  pat text := '^' || CASE WHEN rtype IS NULL THEN '' ELSE '(?:' || rtype || '/)?' END
              || '([1-9][0-9]{0,17})$';
  part text;
  m text[];
  ids bigint[] := '{}';
BEGIN
  IF v IS NULL THEN
    RETURN NULL;
  END IF;
  FOREACH part IN ARRAY string_to_array(v, ',') LOOP
    m := regexp_match(btrim(part), pat);
    IF m IS NULL OR cardinality(ids) >= 100 THEN
      PERFORM cs_fail('CS400', 'bad-request', format('"%s" takes up to 100 comma-separated %s',
                      name, CASE WHEN rtype IS NULL THEN 'ids' ELSE rtype || '/<id> or <id>' END));
    END IF;
    ids := ids || m[1]::bigint;
  END LOOP;
  RETURN ids;
END $$;

-- A token parameter: comma-separated codes, an optional "system|" dropped.
CREATE FUNCTION fhir_codes(req jsonb, name text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(regexp_replace(btrim(c), '^.*\|', ''))
  FROM unnest(string_to_array(fhir_param(req, name), ',')) c
$$;

CREATE FUNCTION fhir_int_param(req jsonb, name text, def int, max int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE v text := fhir_param(req, name);
BEGIN
  IF v IS NULL THEN
    RETURN def;
  END IF;
  IF v !~ '^[0-9]{1,7}$' OR v::int > max THEN
    PERFORM cs_fail('CS400', 'bad-request', format('"%s" must be an integer from 0 to %s', name, max));
  END IF;
  RETURN v::int;
END $$;

-- A date parameter: prefix eq|ne|gt|ge|lt|le (default eq) and a date or
-- time whose precision makes the range [lo, hi): 2026-11 is the month,
-- 2026-11-23T09:00Z the minute. Dates without a time are UTC days.
CREATE TYPE fhir_when AS (op text, lo timestamptz, hi timestamptz);

CREATE FUNCTION fhir_date_param(req jsonb, name text) RETURNS fhir_when
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v text := fhir_param(req, name);
  m text[];
  lo timestamptz;
  step interval;
BEGIN
  IF v IS NULL THEN
    RETURN NULL;
  END IF;
  m := regexp_match(v, '^(eq|ne|gt|ge|lt|le)?([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})'
                       '(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|[+-][0-9]{2}:[0-9]{2}))?)?)?$');
  BEGIN
    IF m IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_datetime_format';
    ELSIF m[5] IS NOT NULL THEN
      lo := format('%s-%s-%sT%s:%s:%s%s', m[2], m[3], m[4], m[5], m[6], coalesce(m[7], '00'),
                   m[8])::timestamptz;
      step := CASE WHEN m[7] IS NULL THEN interval '1 minute' ELSE interval '1 second' END;
    ELSE
      lo := make_timestamptz(m[2]::int, coalesce(m[3]::int, 1), coalesce(m[4]::int, 1), 0, 0, 0, 'UTC');
      step := CASE WHEN m[4] IS NOT NULL THEN interval '1 day'
                   WHEN m[3] IS NOT NULL THEN interval '1 month' ELSE interval '1 year' END;
    END IF;
  EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    PERFORM cs_fail('CS400', 'bad-request', format('"%s" must be [eq|ne|gt|ge|lt|le]YYYY[-MM[-DD'
                    '[Thh:mm[:ss](Z|+hh:mm)]]], e.g. ge2026-11-23', name));
  END;
  RETURN ROW (coalesce(m[1], 'eq'), lo, lo + step)::fhir_when;
END $$;

CREATE FUNCTION fhir_when_ok(t timestamptz, w fhir_when) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE (w).op WHEN 'eq' THEN t >= (w).lo AND t < (w).hi
                     WHEN 'ne' THEN NOT (t >= (w).lo AND t < (w).hi)
                     WHEN 'gt' THEN t >= (w).hi
                     WHEN 'ge' THEN t >= (w).lo
                     WHEN 'lt' THEN t < (w).lo
                     WHEN 'le' THEN t < (w).hi
                     ELSE true END
$$;

-- ---- searches: (total matches, the page's entries, the page's patients) -------------------

CREATE FUNCTION fhir_entry(rtype text, rid bigint, resource jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('fullUrl', '/api/v1/fhir/' || rtype || '/' || rid,
                            'resource', resource, 'search', jsonb_build_object('mode', 'match'))
$$;

CREATE FUNCTION fhir_search_schedules(req jsonb, lim int, skip int)
RETURNS TABLE (total bigint, entries jsonb, patients bigint[])
LANGUAGE sql STABLE AS $$
  WITH p AS (SELECT fhir_ref_param(req, '_id', NULL) AS ids,
                    fhir_ref_param(req, 'actor', 'Practitioner') AS actor),
  hits AS (SELECT r.doctor_id AS id FROM rosters r, p
           WHERE (p.ids IS NULL OR r.doctor_id = ANY (p.ids))
             AND (p.actor IS NULL OR r.doctor_id = ANY (p.actor))),
  page AS (SELECT id FROM hits ORDER BY id LIMIT lim OFFSET skip)
  SELECT (SELECT count(*) FROM hits),
         (SELECT jsonb_agg(fhir_entry('Schedule', id, fhir_schedule(id)) ORDER BY id) FROM page),
         NULL::bigint[]
$$;

CREATE FUNCTION fhir_search_slots(req jsonb, lim int, skip int)
RETURNS TABLE (total bigint, entries jsonb, patients bigint[])
LANGUAGE sql STABLE AS $$
  WITH p AS (SELECT fhir_ref_param(req, '_id', NULL) AS ids,
                    fhir_ref_param(req, 'schedule', 'Schedule') AS sched,
                    fhir_date_param(req, 'start') AS w,
                    fhir_codes(req, 'status') AS st),
  hits AS (SELECT s FROM slots s, p
           WHERE (p.ids IS NULL OR s.id = ANY (p.ids))
             AND (p.sched IS NULL OR s.doctor_id = ANY (p.sched))
             AND fhir_when_ok(s.starts_at, p.w)
             AND (p.st IS NULL OR fhir_slot_status(s) = ANY (p.st))
             AND fhir_slot_visible(req, s)),
  page AS (SELECT s FROM hits ORDER BY (s).starts_at, (s).id LIMIT lim OFFSET skip)
  SELECT (SELECT count(*) FROM hits),
         (SELECT jsonb_agg(fhir_entry('Slot', (s).id, fhir_slot(s)) ORDER BY (s).starts_at, (s).id)
          FROM page),
         NULL::bigint[]
$$;

-- Appointments, or with @enc the Encounters of the visits that began
-- (their date is when the doctor admitted the patient).
CREATE FUNCTION fhir_search_visits(req jsonb, enc boolean, lim int, skip int)
RETURNS TABLE (total bigint, entries jsonb, patients bigint[])
LANGUAGE sql STABLE AS $$
  WITH p AS (SELECT fhir_ref_param(req, '_id', NULL) AS ids,
                    coalesce(fhir_ref_param(req, 'patient', 'Patient'),
                             fhir_ref_param(req, 'subject', 'Patient')) AS pat,
                    fhir_ref_param(req, 'practitioner', 'Practitioner') AS doc,
                    fhir_ref_param(req, 'appointment', 'Appointment') AS appt,
                    fhir_date_param(req, 'date') AS d,
                    fhir_codes(req, 'status') AS st),
  hits AS (SELECT a FROM appointments a, p
           WHERE (NOT enc OR a.status IN ('in_consultation', 'completed'))
             AND (p.ids IS NULL OR a.id = ANY (p.ids))
             AND (p.appt IS NULL OR a.id = ANY (p.appt))
             AND (p.pat IS NULL OR a.patient_id = ANY (p.pat))
             AND (p.doc IS NULL OR a.doctor_id = ANY (p.doc)
                  OR EXISTS (SELECT 1 FROM appointment_participants x
                             WHERE x.appointment_id = a.id AND x.user_id = ANY (p.doc)))
             AND fhir_when_ok(CASE WHEN enc THEN a.admitted_at ELSE a.starts_at END, p.d)
             AND (p.st IS NULL OR CASE WHEN enc THEN fhir_encounter_status(a.status)
                                       ELSE fhir_appointment_status(a.status) END = ANY (p.st))
             AND cs_appointment_party(req, a)),
  page AS (SELECT a FROM hits ORDER BY (a).starts_at, (a).id LIMIT lim OFFSET skip)
  SELECT (SELECT count(*) FROM hits),
         (SELECT jsonb_agg(CASE WHEN enc THEN fhir_entry('Encounter', (a).id, fhir_encounter(a))
                                ELSE fhir_entry('Appointment', (a).id, fhir_appointment(a)) END
                           ORDER BY (a).starts_at, (a).id) FROM page),
         (SELECT array_agg(DISTINCT (a).patient_id) FROM page)
$$;

CREATE FUNCTION fhir_search_requests(req jsonb, lim int, skip int)
RETURNS TABLE (total bigint, entries jsonb, patients bigint[])
LANGUAGE sql STABLE AS $$
  WITH p AS (SELECT fhir_ref_param(req, '_id', NULL) AS ids,
                    coalesce(fhir_ref_param(req, 'patient', 'Patient'),
                             fhir_ref_param(req, 'subject', 'Patient')) AS pat,
                    fhir_ref_param(req, 'requester', 'Practitioner') AS requester,
                    fhir_date_param(req, 'authored') AS authored,
                    fhir_codes(req, 'status') AS st),
  hits AS (SELECT r FROM referrals r, p
           WHERE (p.ids IS NULL OR r.id = ANY (p.ids))
             AND (p.pat IS NULL OR r.patient_id = ANY (p.pat))
             AND (p.requester IS NULL OR r.from_doctor_id = ANY (p.requester))
             AND fhir_when_ok(r.created_at, p.authored)
             AND (p.st IS NULL OR fhir_request_status(r.status) = ANY (p.st))
             AND fhir_referral_visible(req, r)),
  page AS (SELECT r FROM hits ORDER BY (r).id LIMIT lim OFFSET skip)
  SELECT (SELECT count(*) FROM hits),
         (SELECT jsonb_agg(fhir_entry('ServiceRequest', (r).id, fhir_service_request(r)) ORDER BY (r).id)
          FROM page),
         (SELECT array_agg(DISTINCT (r).patient_id) FROM page)
$$;

-- The search's query string (parameters sorted, values percent-encoded),
-- without _offset: Bundle links and the audit detail.
CREATE FUNCTION fhir_query(req jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(string_agg(k || '=' || (
           SELECT string_agg(CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90
                                   OR b BETWEEN 97 AND 122 OR b IN (45, 46, 95, 126) THEN chr(b)
                                  ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END, '' ORDER BY i)
           FROM (SELECT i, get_byte(convert_to(v, 'UTF8'), i) AS b
                 FROM generate_series(0, octet_length(convert_to(v, 'UTF8')) - 1) i) x), '&' ORDER BY k), '')
  FROM jsonb_each_text(req->'args') e (k, v)
  WHERE k NOT IN ('fhir_type', '_offset') AND v <> ''
$$;

-- ---- operations ------------------------------------------------------------------------

CREATE FUNCTION op_fhir_read(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  rtype text := cs_arg_text(req, 'fhir_type', 40, true);
  rid bigint := cs_arg_id(req, 'id');
  out jsonb;
  patient bigint;
  s slots;
  a appointments;
  r referrals;
BEGIN
  PERFORM fhir_check_actor(req);
  CASE rtype
  WHEN 'Schedule' THEN
    out := fhir_schedule(rid);
  WHEN 'Slot' THEN
    SELECT * INTO s FROM slots WHERE id = rid;
    IF s.id IS NOT NULL AND fhir_slot_visible(req, s) THEN
      out := fhir_slot(s);
    END IF;
  WHEN 'Appointment', 'Encounter' THEN
    SELECT * INTO a FROM appointments WHERE id = rid;
    -- Not a party: the same answer as a missing one, so ids cannot be probed.
    IF a.id IS NOT NULL AND cs_appointment_party(req, a) THEN
      IF rtype = 'Appointment' THEN
        out := fhir_appointment(a);
      ELSIF a.status IN ('in_consultation', 'completed') THEN
        out := fhir_encounter(a);
      END IF;
      patient := a.patient_id;
    END IF;
  WHEN 'ServiceRequest' THEN
    SELECT * INTO r FROM referrals WHERE id = rid;
    IF r.id IS NOT NULL AND fhir_referral_visible(req, r) THEN
      out := fhir_service_request(r);
      patient := r.patient_id;
    END IF;
  ELSE
    NULL;
  END CASE;
  IF out IS NULL THEN
    PERFORM cs_fail('CS404', 'not-found', format('no %s %s', rtype, rid));
  END IF;
  IF patient IS NOT NULL THEN
    PERFORM cs_audit(req, 'fhir.read', rtype, rid, patient);
  END IF;
  RETURN out;
END $$;

-- A searchset Bundle with the total number of matches and up to _count
-- (default 50, at most 200) entries from _offset on; links to the next
-- and previous pages. Searches of patient data write one audit record per
-- patient on the page (one without a patient when the page is empty).
CREATE FUNCTION op_fhir_search(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  rtype text := cs_arg_text(req, 'fhir_type', 40, true);
  lim int := fhir_int_param(req, '_count', 50, 200);
  skip int := fhir_int_param(req, '_offset', 0, 1000000);
  res record;
  base text;
  q text;
BEGIN
  PERFORM fhir_check_actor(req);
  CASE rtype
  WHEN 'Schedule' THEN
    PERFORM fhir_check_params(req, rtype, ARRAY['actor']);
    SELECT * INTO res FROM fhir_search_schedules(req, lim, skip);
  WHEN 'Slot' THEN
    PERFORM fhir_check_params(req, rtype, ARRAY['schedule', 'start', 'status']);
    SELECT * INTO res FROM fhir_search_slots(req, lim, skip);
  WHEN 'Appointment' THEN
    PERFORM fhir_check_params(req, rtype, ARRAY['patient', 'practitioner', 'date', 'status']);
    SELECT * INTO res FROM fhir_search_visits(req, false, lim, skip);
  WHEN 'Encounter' THEN
    PERFORM fhir_check_params(req, rtype, ARRAY['patient', 'subject', 'practitioner', 'appointment',
                                                'date', 'status']);
    SELECT * INTO res FROM fhir_search_visits(req, true, lim, skip);
  WHEN 'ServiceRequest' THEN
    PERFORM fhir_check_params(req, rtype, ARRAY['patient', 'subject', 'requester', 'authored', 'status']);
    SELECT * INTO res FROM fhir_search_requests(req, lim, skip);
  ELSE
    PERFORM cs_fail('CS404', 'not-found', format('no resource type %s', rtype));
  END CASE;
  q := fhir_query(req);
  IF rtype IN ('Appointment', 'Encounter', 'ServiceRequest') THEN
    PERFORM cs_audit(req, 'fhir.search', rtype, NULL, p, 'ok', left(rtype || '?' || q, 1000))
    FROM unnest(coalesce(res.patients, ARRAY[NULL::bigint])) p;
  END IF;
  base := '/api/v1/fhir/' || rtype || '?' || q || CASE WHEN q = '' THEN '' ELSE '&' END || '_offset=';
  RETURN jsonb_strip_nulls(jsonb_build_object('resourceType', 'Bundle', 'type', 'searchset',
    'total', res.total,
    'link', jsonb_build_array(jsonb_build_object('relation', 'self', 'url', base || skip))
            || CASE WHEN skip + lim < res.total AND lim > 0
                    THEN jsonb_build_array(jsonb_build_object('relation', 'next', 'url', base || (skip + lim)))
                    ELSE '[]' END
            || CASE WHEN skip > 0
                    THEN jsonb_build_array(jsonb_build_object('relation', 'previous',
                                                              'url', base || greatest(skip - lim, 0)))
                    ELSE '[]' END,
    'entry', res.entries));
END $$;
