/* audit.c — appending to, searching, verifying and exporting the audit
 * trail. The database builds the chain (trigger audit_chain); verification
 * here recomputes every hash in C from the stored fields, so the two
 * implementations check each other. */
#include "records/records-private.h"
#include "records/audit-chain.h"

#include <string.h>

#define VERIFY_PAGE 1000
#define MAX_PAGE 1000

#define ENTRY_COLUMNS "id, (extract(epoch FROM at) * 1000000)::bigint, actor_id, actor_role," \
                      " action, object_type, object_id, patient_id, result, source, detail," \
                      " encode(prev_hash, 'hex'), encode(hash, 'hex')"

void
cs_audit_entry_free (CsAuditEntry *e)
{
  if (!e)
    return;
  g_free (e->actor_role);
  g_free (e->action);
  g_free (e->object_type);
  g_free (e->object_id);
  g_free (e->result);
  g_free (e->source);
  g_free (e->detail);
  g_free (e);
}

void
cs_audit_report_free (CsAuditReport *report)
{
  if (!report)
    return;
  g_free (report->reason);
  g_free (report);
}

static CsAuditEntry *
entry_from_row (PGresult *res, int row)
{
  CsAuditEntry *e = g_new0 (CsAuditEntry, 1);
  e->id = cs_pg_int64 (res, row, 0);
  e->at = cs_pg_int64 (res, row, 1);
  e->actor_id = cs_pg_int64 (res, row, 2);
  e->actor_role = cs_pg_dup (res, row, 3);
  e->action = cs_pg_dup (res, row, 4);
  e->object_type = cs_pg_dup (res, row, 5);
  e->object_id = cs_pg_dup (res, row, 6);
  e->patient_id = cs_pg_int64 (res, row, 7);
  e->result = cs_pg_dup (res, row, 8);
  e->source = cs_pg_dup (res, row, 9);
  e->detail = cs_pg_dup (res, row, 10);
  /* Both columns are NOT NULL with a length check: always 64 hex digits. */
  cs_hex_decode (PQgetvalue (res, row, 11), e->prev_hash, 32);
  cs_hex_decode (PQgetvalue (res, row, 12), e->hash, 32);
  return e;
}

/* ---- append ------------------------------------------------------------------- */

static void
on_appended (GTask *task, PGresult *res)
{
  g_task_return_int (task, (gssize) cs_pg_int64 (res, 0, 0));
  g_object_unref (task);
}

void
cs_records_audit_append_async (CsRecords *db, const CsActor *actor, const CsAuditEvent *event,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_audit_append_async, cancellable, callback,
                             user_data);
  if (!event->action || !*event->action || !event->result || !*event->result) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_INVALID, "audit action and result required");
    return;
  }
  char aid[CS_ID_PARAM_LEN], pid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (aid, actor->user_id), cs_role_to_string (actor->role),
                           event->action, event->object_type, event->object_id,
                           cs_id_param (pid, event->patient_id), event->result, actor->source,
                           event->detail };
  cs_task_query (task, on_appended,
                 "INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 " patient_id, result, source, detail)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                 G_N_ELEMENTS (params), params);
}

gboolean
cs_records_audit_append_finish (CsRecords *db, GAsyncResult *res, gint64 *out_id, GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (res)) == cs_records_audit_append_async,
                        FALSE);
  GError *local = NULL;
  gssize id = g_task_propagate_int (G_TASK (res), &local);
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  if (out_id)
    *out_id = id;
  return TRUE;
}

/* ---- search ---------------------------------------------------------------------- */

/* Filters bind as NULL when unset; times compare as exact µs offsets. */
static const char search_sql[] =
  "SELECT " ENTRY_COLUMNS " FROM audit"
  " WHERE id > $1::bigint"
  "  AND ($2::bigint IS NULL OR actor_id = $2::bigint)"
  "  AND ($3::bigint IS NULL OR patient_id = $3::bigint)"
  "  AND ($4::text IS NULL OR action = $4::text)"
  "  AND ($5::bigint IS NULL OR at >= timestamptz 'epoch' + $5::bigint * interval '1 microsecond')"
  "  AND ($6::bigint IS NULL OR at < timestamptz 'epoch' + $6::bigint * interval '1 microsecond')"
  " ORDER BY id LIMIT $7::int";

typedef struct {
  CsAuditQuery q;
  char *action;
  CsAuditFormat format;
  GString *out;        /* export */
} Search;

static void
search_free (Search *s)
{
  g_free (s->action);
  if (s->out)
    g_string_free (s->out, TRUE);
  g_free (s);
}

static void
search_query (GTask *task, CsStep next)
{
  Search *s = g_task_get_task_data (task);
  char after[24], actor[CS_ID_PARAM_LEN], patient[CS_ID_PARAM_LEN], since[CS_ID_PARAM_LEN],
    until[CS_ID_PARAM_LEN], limit[16];
  g_snprintf (after, sizeof after, "%" G_GINT64_FORMAT, s->q.after_id);
  g_snprintf (limit, sizeof limit, "%u", s->q.limit);
  const char *params[] = { after, cs_id_param (actor, s->q.actor_id),
                           cs_id_param (patient, s->q.patient_id), s->action,
                           cs_id_param (since, s->q.since), cs_id_param (until, s->q.until),
                           limit };
  cs_task_query (task, next, search_sql, G_N_ELEMENTS (params), params);
}

static Search *
search_new (const CsAuditQuery *query)
{
  Search *s = g_new0 (Search, 1);
  s->q = *query;
  s->action = g_strdup (query->action);
  s->q.action = NULL;
  return s;
}

static void
on_page (GTask *task, PGresult *res)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_audit_entry_free);
  for (int i = 0; i < PQntuples (res); i++)
    g_ptr_array_add (entries, entry_from_row (res, i));
  g_task_return_pointer (task, entries, (GDestroyNotify) g_ptr_array_unref);
  g_object_unref (task);
}

void
cs_records_audit_search_async (CsRecords *db, const CsAuditQuery *query,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_audit_search_async, cancellable, callback,
                             user_data);
  if (query->limit > MAX_PAGE) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_INVALID, "page size above %d", MAX_PAGE);
    return;
  }
  Search *s = search_new (query);
  if (s->q.limit == 0)
    s->q.limit = 100;
  g_task_set_task_data (task, s, (GDestroyNotify) search_free);
  search_query (task, on_page);
}

GPtrArray *
cs_records_audit_search_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_audit_search_async, error);
}

/* ---- export ---------------------------------------------------------------------- */

static void
on_export_page (GTask *task, PGresult *res)
{
  Search *s = g_task_get_task_data (task);
  int n = PQntuples (res);
  for (int i = 0; i < n; i++) {
    g_autoptr (CsAuditEntry) e = entry_from_row (res, i);
    cs_audit_entry_format (e, s->format, s->out);
    s->q.after_id = e->id;
  }
  if ((guint) n == s->q.limit) {
    search_query (task, on_export_page);
    return;
  }
  GString *out = g_steal_pointer (&s->out);
  g_task_return_pointer (task, g_string_free_to_bytes (out), (GDestroyNotify) g_bytes_unref);
  g_object_unref (task);
}

void
cs_records_audit_export_async (CsRecords *db, const CsAuditQuery *query, CsAuditFormat format,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_audit_export_async, cancellable, callback,
                             user_data);
  Search *s = search_new (query);
  s->q.after_id = 0;
  s->q.limit = MAX_PAGE;
  s->format = format;
  s->out = g_string_new (format == CS_AUDIT_FORMAT_CSV ? cs_audit_csv_header () : "");
  g_task_set_task_data (task, s, (GDestroyNotify) search_free);
  search_query (task, on_export_page);
}

GBytes *
cs_records_audit_export_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_audit_export_async, error);
}

/* ---- verify ----------------------------------------------------------------------- */

typedef struct {
  gint64 after_id;
  CsAuditReport *report;
} Verify;

static void
verify_free (Verify *v)
{
  cs_audit_report_free (v->report);
  g_free (v);
}

static void verify_next_page (GTask *task);

static void
verify_done (GTask *task)
{
  Verify *v = g_task_get_task_data (task);
  g_task_return_pointer (task, g_steal_pointer (&v->report),
                         (GDestroyNotify) cs_audit_report_free);
  g_object_unref (task);
}

static void
on_verify_page (GTask *task, PGresult *res)
{
  Verify *v = g_task_get_task_data (task);
  CsAuditReport *r = v->report;
  int n = PQntuples (res);

  for (int i = 0; i < n; i++) {
    g_autoptr (CsAuditEntry) e = entry_from_row (res, i);
    guint8 computed[32];
    r->checked++;
    if (memcmp (e->prev_hash, r->head_hash, 32) != 0) {
      /* Whatever came before this row was removed, reordered or altered
       * (rehashed to hide a change). */
      r->first_broken_id = e->id;
      r->reason = g_strdup ("prev_hash does not match the previous record's hash");
    } else {
      cs_audit_compute_hash (e, computed);
      if (memcmp (computed, e->hash, 32) != 0) {
        r->first_broken_id = e->id;
        r->reason = g_strdup ("contents do not match the record's hash");
      }
    }
    if (r->first_broken_id) {
      verify_done (task);
      return;
    }
    memcpy (r->head_hash, e->hash, 32);
    v->after_id = e->id;
  }
  if (n == VERIFY_PAGE)
    verify_next_page (task);
  else
    verify_done (task);
}

static void
verify_next_page (GTask *task)
{
  Verify *v = g_task_get_task_data (task);
  char after[24], limit[16];
  g_snprintf (after, sizeof after, "%" G_GINT64_FORMAT, v->after_id);
  g_snprintf (limit, sizeof limit, "%d", VERIFY_PAGE);
  const char *params[] = { after, limit };
  cs_task_query (task, on_verify_page,
                 "SELECT " ENTRY_COLUMNS " FROM audit WHERE id > $1::bigint"
                 " ORDER BY id LIMIT $2::int",
                 G_N_ELEMENTS (params), params);
}

void
cs_records_audit_verify_async (CsRecords *db, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_audit_verify_async, cancellable, callback,
                             user_data);
  Verify *v = g_new0 (Verify, 1);
  v->report = g_new0 (CsAuditReport, 1);
  g_task_set_task_data (task, v, (GDestroyNotify) verify_free);
  verify_next_page (task);
}

CsAuditReport *
cs_records_audit_verify_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_audit_verify_async, error);
}
