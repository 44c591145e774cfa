-- 0001: institutions, users, sessions, password resets, doctor profiles and
-- care relationships. Runs as consilium_owner (which owns every object);
-- consilium_app, the role the server uses, gets only what it needs and no
-- DELETE anywhere: records are revoked or disabled, never removed.

CREATE TABLE institutions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('hospital', 'primary_clinic')),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL CHECK (octet_length(email) BETWEEN 3 AND 254),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  role text NOT NULL
    CHECK (role IN ('patient', 'doctor', 'specialist', 'clinic_staff', 'admin', 'auditor')),
  institution_id bigint REFERENCES institutions (id),
  -- argon2id, PHC encoded form
  password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  -- AES-256-GCM under the server's totp_key: nonce || ciphertext || tag
  totp_secret bytea,
  totp_pending bytea,
  -- last accepted TOTP time step: a code is good once
  totp_last_step bigint,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT staff_has_institution CHECK (role <> 'clinic_staff' OR institution_id IS NOT NULL)
);
-- Email addresses are unique regardless of case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  -- SHA-256 of the bearer token; the token itself is never stored
  token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  source text
);
CREATE INDEX sessions_live_by_user ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE password_resets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

CREATE TABLE doctor_profiles (
  user_id bigint PRIMARY KEY REFERENCES users (id),
  licence_number text NOT NULL UNIQUE CHECK (length(licence_number) BETWEEN 1 AND 64),
  specialty text NOT NULL CHECK (length(specialty) BETWEEN 1 AND 120),
  verification text NOT NULL DEFAULT 'pending'
    CHECK (verification IN ('pending', 'verified', 'rejected')),
  verified_by bigint REFERENCES users (id),
  verified_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT verdict_has_verifier
    CHECK ((verification = 'pending') = (verified_by IS NULL AND verified_at IS NULL))
);

-- Which doctor may see which patient. Appointments and referrals will add
-- rows; access checks join against it in SQL (can_access_patient below).
CREATE TABLE care_relationships (
  doctor_id bigint NOT NULL REFERENCES users (id),
  patient_id bigint NOT NULL REFERENCES users (id),
  granted_by bigint REFERENCES users (id),
  granted_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (doctor_id, patient_id)
);
CREATE INDEX care_by_patient ON care_relationships (patient_id);

-- The verification gate lives in the database too, so no code path can
-- give an unverified doctor a patient.
CREATE FUNCTION care_relationship_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revoked_at IS NULL AND NOT EXISTS (
       SELECT 1 FROM doctor_profiles d JOIN users u ON u.id = d.user_id
       WHERE d.user_id = NEW.doctor_id AND d.verification = 'verified'
         AND u.role IN ('doctor', 'specialist') AND NOT u.disabled) THEN
    RAISE EXCEPTION 'doctor % is not verified', NEW.doctor_id USING ERRCODE = 'CS403';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.patient_id AND role = 'patient') THEN
    RAISE EXCEPTION 'user % is not a patient', NEW.patient_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER care_relationship_check BEFORE INSERT OR UPDATE ON care_relationships
  FOR EACH ROW EXECUTE FUNCTION care_relationship_check();

-- The one access rule other modules' queries build on: the patient
-- themself, or a verified, enabled clinician with a live care relationship.
CREATE FUNCTION can_access_patient(actor bigint, patient bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM users
                 WHERE id = actor AND actor = patient AND role = 'patient' AND NOT disabled)
      OR EXISTS (SELECT 1 FROM care_relationships c
                   JOIN doctor_profiles d ON d.user_id = c.doctor_id
                   JOIN users u ON u.id = c.doctor_id
                 WHERE c.doctor_id = actor AND c.patient_id = patient
                   AND c.revoked_at IS NULL AND d.verification = 'verified'
                   AND NOT u.disabled)
$$;

GRANT SELECT, INSERT, UPDATE ON institutions, users, sessions, password_resets,
  doctor_profiles, care_relationships TO consilium_app;
GRANT EXECUTE ON FUNCTION can_access_patient(bigint, bigint) TO consilium_app;
