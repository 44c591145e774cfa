/* api-audit.c — the auditor's endpoints: search, export and verification
 * of the audit chain (docs/api.md, Audit trail). Entries are rendered with
 * records' own JSON-lines format, so the API and an export never differ. */
#include "signaling/api-private.h"

#include <string.h>

#define DB(call) ((call)->api->records)

/* Filters shared by search and export; FALSE after answering 400. */
static gboolean
parse_filters (CsApiCall *call, CsAuditQuery *q)
{
  memset (q, 0, sizeof *q);
  static const char *const id_params[] = { "actor", "patient" };
  gint64 *id_out[] = { &q->actor_id, &q->patient_id };
  for (guint i = 0; i < G_N_ELEMENTS (id_params); i++) {
    const char *v = cs_api_query (call, id_params[i]);
    if (v && !cs_api_parse_id (v, strlen (v), id_out[i])) {
      cs_api_fail (call, 400, "bad-request", "%s must be a user id", id_params[i]);
      return FALSE;
    }
  }
  const char *action = cs_api_query (call, "action");
  q->action = action && *action ? action : NULL;
  static const char *const time_params[] = { "since", "until" };
  gint64 *time_out[] = { &q->since, &q->until };
  for (guint i = 0; i < G_N_ELEMENTS (time_params); i++) {
    const char *v = cs_api_query (call, time_params[i]);
    if (!v)
      continue;
    g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (v, NULL);
    if (!t) {
      cs_api_fail (call, 400, "bad-request",
                   "%s must be an ISO 8601 time with a zone, e.g. 2025-01-07T00:00:00Z",
                   time_params[i]);
      return FALSE;
    }
    *time_out[i] = g_date_time_to_unix (t) * G_USEC_PER_SEC + g_date_time_get_microsecond (t);
  }
  return TRUE;
}

static json_t *
entry_json (const CsAuditEntry *e)
{
  g_autoptr (GString) line = g_string_new (NULL);
  cs_audit_entry_format (e, CS_AUDIT_FORMAT_JSONL, line);
  return json_loadb (line->str, line->len, JSON_DISABLE_EOF_CHECK, NULL);
}

static void
on_searched (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = cs_records_audit_search_finish (DB (call), res, &error);
  if (!entries) {
    cs_api_fail_error (call, error);
    return;
  }
  json_t *items = json_array ();
  gint64 last = 0;
  for (guint i = 0; i < entries->len; i++) {
    const CsAuditEntry *e = g_ptr_array_index (entries, i);
    json_t *item = entry_json (e);
    if (!item) {
      json_decref (items);
      cs_api_fail (call, 500, "internal", "an audit entry could not be rendered");
      return;
    }
    json_array_append_new (items, item);
    last = e->id;
  }
  cs_api_reply (call, 200, cs_api_page (items, call->limit, last));
}

void
cs_api_audit_search (CsApiCall *call)
{
  CsAuditQuery q;
  guint limit;
  gint64 after;
  if (!parse_filters (call, &q) || !cs_api_page_params (call, 100, 1000, &limit, &after))
    return;
  q.after_id = after;
  q.limit = call->limit = limit;
  cs_api_audit (call, "audit.search", NULL, 0, q.patient_id, "ok");
  cs_records_audit_search_async (DB (call), &q, call->cancellable, on_searched, call);
}

static void
on_exported (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  GBytes *data = cs_records_audit_export_finish (DB (call), res, &error);
  if (!data) {
    cs_api_fail_error (call, error);
    return;
  }
  gboolean csv = g_strcmp0 (cs_api_query (call, "format"), "csv") == 0;
  cs_api_reply_bytes (call, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson", data);
}

void
cs_api_audit_export (CsApiCall *call)
{
  CsAuditQuery q;
  if (!parse_filters (call, &q))
    return;
  const char *format = cs_api_query (call, "format");
  if (format && strcmp (format, "jsonl") != 0 && strcmp (format, "csv") != 0) {
    cs_api_fail (call, 400, "bad-request", "format must be jsonl or csv");
    return;
  }
  CsAuditFormat f = format && strcmp (format, "csv") == 0 ? CS_AUDIT_FORMAT_CSV
                                                          : CS_AUDIT_FORMAT_JSONL;
  cs_api_audit (call, "audit.export", NULL, 0, q.patient_id, "ok");
  cs_records_audit_export_async (DB (call), &q, f, call->cancellable, on_exported, call);
}

static void
on_verified (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsAuditReport) r = cs_records_audit_verify_finish (DB (call), res, &error);
  if (!r) {
    cs_api_fail_error (call, error);
    return;
  }
  char head[65];
  for (guint i = 0; i < 32; i++)
    g_snprintf (head + 2 * i, 3, "%02x", r->head_hash[i]);
  cs_api_reply (call, 200,
                json_pack ("{s:b, s:I, s:o, s:o, s:s}", "ok", r->first_broken_id == 0,
                           "checked", (json_int_t) r->checked,
                           "first_broken_id", cs_api_id_or_null (r->first_broken_id),
                           "reason", r->reason ? json_string (r->reason) : json_null (),
                           "head_hash", head));
}

void
cs_api_audit_verify (CsApiCall *call)
{
  /* Audited after the walk would race with it; before is fine: the new
   * record is part of the chain being verified. */
  cs_api_audit (call, "audit.verify", NULL, 0, 0, "ok");
  cs_records_audit_verify_async (DB (call), call->cancellable, on_verified, call);
}
