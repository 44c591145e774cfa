-- 0002: the audit trail, append-only and hash-chained.
--
-- Every row carries the SHA-256 of its predecessor (prev_hash) and its own
-- hash over a canonical serialization of its fields plus prev_hash (format
-- in docs/records.md, checked independently by cs_records_audit_verify).
-- The BEFORE INSERT trigger assigns id, time and both hashes under a
-- transaction-scoped advisory lock, so whatever a client sends, the chain
-- stays linear and cannot be back-dated. consilium_app may INSERT and
-- SELECT only; a second trigger refuses UPDATE, DELETE and TRUNCATE even to
-- the owner unless the owner first disables it (which is what tampering
-- looks like, and what verification catches).

CREATE SEQUENCE audit_id_seq AS bigint;

CREATE TABLE audit (
  id bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  actor_id bigint,            -- NULL: anonymous (e.g. login with an unknown email)
  actor_role text,
  action text NOT NULL,
  object_type text,
  object_id text,
  patient_id bigint,
  result text NOT NULL,
  source text,
  detail text,
  prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (octet_length(hash) = 32)
);
ALTER SEQUENCE audit_id_seq OWNED BY audit.id;
CREATE INDEX audit_by_actor ON audit (actor_id, id);
CREATE INDEX audit_by_patient ON audit (patient_id, id) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_by_action ON audit (action, id);
CREATE INDEX audit_by_time ON audit (at);

-- One field: "~" for NULL, else <UTF-8 byte length> ":" <bytes> ",".
CREATE FUNCTION audit_field(v text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN v IS NULL THEN '\x7e'::bytea
         ELSE convert_to(octet_length(convert_to(v, 'UTF8'))::text || ':' || v || ',', 'UTF8')
         END
$$;

CREATE FUNCTION audit_hash(r audit) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(convert_to('consilium-audit-v1' || chr(10), 'UTF8')
    || audit_field(r.id::text)
    || audit_field(((extract(epoch FROM r.at) * 1000000)::bigint)::text)
    || audit_field(r.actor_id::text)
    || audit_field(r.actor_role)
    || audit_field(r.action)
    || audit_field(r.object_type)
    || audit_field(r.object_id)
    || audit_field(r.patient_id::text)
    || audit_field(r.result)
    || audit_field(r.source)
    || audit_field(r.detail)
    || r.prev_hash)
$$;

CREATE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  head bytea;
BEGIN
  -- The head read below must see the last committed row: only READ
  -- COMMITTED takes a fresh snapshot per statement.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit rows must be written in READ COMMITTED transactions';
  END IF;
  -- 'csaudit\0' as a bigint: one chain head, held until commit.
  PERFORM pg_advisory_xact_lock(7166178588900291584);
  SELECT hash INTO head FROM audit ORDER BY id DESC LIMIT 1;
  NEW.id := nextval('audit_id_seq');
  NEW.at := clock_timestamp();
  NEW.prev_hash := coalesce(head, decode(repeat('00', 32), 'hex'));
  NEW.hash := audit_hash(NEW);
  RETURN NEW;
END $$;

CREATE TRIGGER audit_chain BEFORE INSERT ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_chain();

CREATE FUNCTION audit_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_immutable BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_immutable();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_immutable();

REVOKE ALL ON audit FROM PUBLIC;
GRANT SELECT, INSERT ON audit TO consilium_app;
GRANT USAGE ON SEQUENCE audit_id_seq TO consilium_app;
