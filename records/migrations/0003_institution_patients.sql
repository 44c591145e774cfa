-- 0003: which patients an institution looks after, so that clinic staff
-- can read their own institution's patients and nobody else's. Links are
-- granted and revoked like care relationships (revoked_at, never deleted).

CREATE TABLE institution_patients (
  institution_id bigint NOT NULL REFERENCES institutions (id),
  patient_id bigint NOT NULL REFERENCES users (id),
  granted_by bigint REFERENCES users (id),
  granted_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (institution_id, patient_id)
);
CREATE INDEX institution_patients_by_patient ON institution_patients (patient_id);

CREATE FUNCTION institution_patient_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.patient_id AND role = 'patient') THEN
    RAISE EXCEPTION 'user % is not a patient', NEW.patient_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER institution_patient_check BEFORE INSERT OR UPDATE ON institution_patients
  FOR EACH ROW EXECUTE FUNCTION institution_patient_check();

-- 0001's rule plus: enabled clinic staff of an institution with a live link
-- to the patient. CREATE OR REPLACE keeps consilium_app's EXECUTE grant.
CREATE OR REPLACE FUNCTION can_access_patient(actor bigint, patient bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM users
                 WHERE id = actor AND actor = patient AND role = 'patient' AND NOT disabled)
      OR EXISTS (SELECT 1 FROM care_relationships c
                   JOIN doctor_profiles d ON d.user_id = c.doctor_id
                   JOIN users u ON u.id = c.doctor_id
                 WHERE c.doctor_id = actor AND c.patient_id = patient
                   AND c.revoked_at IS NULL AND d.verification = 'verified'
                   AND NOT u.disabled)
      OR EXISTS (SELECT 1 FROM institution_patients ip
                   JOIN users u ON u.institution_id = ip.institution_id
                 WHERE u.id = actor AND u.role = 'clinic_staff' AND NOT u.disabled
                   AND ip.patient_id = patient AND ip.revoked_at IS NULL)
$$;

GRANT SELECT, INSERT, UPDATE ON institution_patients TO consilium_app;
