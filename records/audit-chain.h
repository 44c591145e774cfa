/* audit-chain.h — the audit chain's canonical form, in C (the database
 * computes the same in audit_hash(), 0002_audit.sql; docs/records.md has
 * the format for independent re-verification).
 *
 *   hash = SHA-256( "consilium-audit-v1\n"
 *                   || F(id) || F(at_us) || F(actor_id) || F(actor_role)
 *                   || F(action) || F(object_type) || F(object_id)
 *                   || F(patient_id) || F(result) || F(source) || F(detail)
 *                   || prev_hash )
 *   F(NULL) = "~";  F(v) = <byte length of v, decimal> ":" v ","
 *
 * Integers are decimal text; at_us is microseconds since the Unix epoch;
 * actor_id and patient_id are NULL when 0. prev_hash is the raw 32-byte
 * hash of the previous row (all zeros for the first). */
#pragma once

#include "records/records.h"

/* Appends the canonical bytes of @entry (prev_hash included) to @out. */
void cs_audit_canonical (const CsAuditEntry *entry, GByteArray *out);
/* Computes @entry's hash from its fields and prev_hash. */
void cs_audit_compute_hash (const CsAuditEntry *entry, guint8 out[32]);
