/* audit-chain.c — canonical serialization and hash of audit records. */
#include "records/audit-chain.h"

#include <openssl/sha.h>
#include <string.h>

#define DOMAIN_TAG "consilium-audit-v1\n"

static void
field (GByteArray *out, const char *v)
{
  if (!v) {
    g_byte_array_append (out, (const guint8 *) "~", 1);
    return;
  }
  char len[24];
  gsize n = strlen (v);
  int l = g_snprintf (len, sizeof len, "%" G_GSIZE_FORMAT ":", n);
  g_byte_array_append (out, (const guint8 *) len, (guint) l);
  g_byte_array_append (out, (const guint8 *) v, (guint) n);
  g_byte_array_append (out, (const guint8 *) ",", 1);
}

static void
field_int (GByteArray *out, gint64 v, gboolean zero_is_null)
{
  char buf[24];
  if (zero_is_null && v == 0) {
    field (out, NULL);
    return;
  }
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, v);
  field (out, buf);
}

void
cs_audit_canonical (const CsAuditEntry *e, GByteArray *out)
{
  g_byte_array_append (out, (const guint8 *) DOMAIN_TAG, strlen (DOMAIN_TAG));
  field_int (out, e->id, FALSE);
  field_int (out, e->at, FALSE);
  field_int (out, e->actor_id, TRUE);
  field (out, e->actor_role);
  field (out, e->action);
  field (out, e->object_type);
  field (out, e->object_id);
  field_int (out, e->patient_id, TRUE);
  field (out, e->result);
  field (out, e->source);
  field (out, e->detail);
  g_byte_array_append (out, e->prev_hash, sizeof e->prev_hash);
}

void
cs_audit_compute_hash (const CsAuditEntry *entry, guint8 out[32])
{
  g_autoptr (GByteArray) buf = g_byte_array_sized_new (256);
  cs_audit_canonical (entry, buf);
  SHA256 (buf->data, buf->len, out);
}
