/* audit-format.c — audit export formats: JSON lines (jansson does the
 * escaping) and RFC 4180 CSV. Both carry every hashed field and the hashes,
 * so an export can be re-verified without database access. Values are
 * written verbatim; spreadsheet users should import CSV as text. */
#include "records/records-private.h"

#include <jansson.h>
#include <string.h>

static const char csv_header[] =
  "id,at,at_us,actor_id,actor_role,action,object_type,object_id,patient_id,result,source,"
  "detail,prev_hash,hash\r\n";

const char *
cs_audit_csv_header (void)
{
  return csv_header;
}

static char *
iso_time (gint64 at_us)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (at_us / G_USEC_PER_SEC);
  g_autofree char *base = g_date_time_format (t, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%06dZ", base, (int) (at_us % G_USEC_PER_SEC));
}

static json_t *
json_str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

static json_t *
json_id_or_null (gint64 v)
{
  return v ? json_integer (v) : json_null ();
}

static void
format_jsonl (const CsAuditEntry *e, GString *out)
{
  g_autofree char *at = iso_time (e->at);
  g_autofree char *prev = cs_hex_encode (e->prev_hash, 32);
  g_autofree char *hash = cs_hex_encode (e->hash, 32);
  json_t *o = json_object ();
  json_object_set_new (o, "id", json_integer (e->id));
  json_object_set_new (o, "at", json_string (at));
  json_object_set_new (o, "at_us", json_integer (e->at));
  json_object_set_new (o, "actor_id", json_id_or_null (e->actor_id));
  json_object_set_new (o, "actor_role", json_str_or_null (e->actor_role));
  json_object_set_new (o, "action", json_str_or_null (e->action));
  json_object_set_new (o, "object_type", json_str_or_null (e->object_type));
  json_object_set_new (o, "object_id", json_str_or_null (e->object_id));
  json_object_set_new (o, "patient_id", json_id_or_null (e->patient_id));
  json_object_set_new (o, "result", json_str_or_null (e->result));
  json_object_set_new (o, "source", json_str_or_null (e->source));
  json_object_set_new (o, "detail", json_str_or_null (e->detail));
  json_object_set_new (o, "prev_hash", json_string (prev));
  json_object_set_new (o, "hash", json_string (hash));
  char *line = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  g_string_append (out, line);
  g_string_append_c (out, '\n');
  free (line);
  json_decref (o);
}

static void
csv_field (GString *out, const char *v, gboolean last)
{
  /* NULL and empty differ: NULL is an empty unquoted field, "" is quoted. */
  if (v) {
    g_string_append_c (out, '"');
    for (const char *p = v; *p; p++) {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
    g_string_append_c (out, '"');
  }
  g_string_append (out, last ? "\r\n" : ",");
}

static void
csv_int (GString *out, gint64 v, gboolean zero_is_null)
{
  if (!(zero_is_null && v == 0))
    g_string_append_printf (out, "%" G_GINT64_FORMAT, v);
  g_string_append_c (out, ',');
}

static void
format_csv (const CsAuditEntry *e, GString *out)
{
  g_autofree char *at = iso_time (e->at);
  g_autofree char *prev = cs_hex_encode (e->prev_hash, 32);
  g_autofree char *hash = cs_hex_encode (e->hash, 32);
  csv_int (out, e->id, FALSE);
  g_string_append_printf (out, "%s,", at);
  csv_int (out, e->at, FALSE);
  csv_int (out, e->actor_id, TRUE);
  csv_field (out, e->actor_role, FALSE);
  csv_field (out, e->action, FALSE);
  csv_field (out, e->object_type, FALSE);
  csv_field (out, e->object_id, FALSE);
  csv_int (out, e->patient_id, TRUE);
  csv_field (out, e->result, FALSE);
  csv_field (out, e->source, FALSE);
  csv_field (out, e->detail, FALSE);
  g_string_append_printf (out, "%s,%s\r\n", prev, hash);
}

void
cs_audit_entry_format (const CsAuditEntry *entry, CsAuditFormat format, GString *out)
{
  g_return_if_fail (entry && out);
  if (format == CS_AUDIT_FORMAT_CSV)
    format_csv (entry, out);
  else
    format_jsonl (entry, out);
}
