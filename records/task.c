/* task.c — GTask glue shared by the domain files: a query step runs one
 * statement from the pool and hands the result to the next step, or returns
 * the error on the task, so each operation reads as a chain of steps. */
#include "records/records-private.h"

#include <stdlib.h>

static GQuark
db_quark (void)
{
  return g_quark_from_static_string ("cs-records-db");
}

GTask *
cs_task_new (CsRecords *db, gpointer source_tag, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  /* Source object stays NULL: CsRecords is not a GObject. The handle rides
   * on the task as qdata instead. */
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_check_cancellable (task, TRUE);
  g_atomic_ref_count_inc (&db->ref);
  g_object_set_qdata_full (G_OBJECT (task), db_quark (), db,
                           (GDestroyNotify) cs_records_unref);
  return task;
}

CsRecords *
cs_task_db (GTask *task)
{
  return g_object_get_qdata (G_OBJECT (task), db_quark ());
}

typedef struct {
  GTask *task;
  CsStep next;
  CsStepError on_error;
} StepCall;

static void
on_step_result (PGresult *res, const GError *error, gpointer user_data)
{
  StepCall *call = user_data;
  GTask *task = call->task;
  CsStep next = call->next;
  CsStepError on_error = call->on_error;
  g_free (call);

  if (error && on_error && error->domain == CS_RECORDS_ERROR) {
    on_error (task, error);
  } else if (error) {
    g_task_return_error (task, g_error_copy (error));
    g_object_unref (task);
  } else if (g_task_return_error_if_cancelled (task)) {
    g_object_unref (task);
  } else {
    next (task, res);
  }
}

void
cs_task_query (GTask *task, CsStep next, const char *sql, int n_params,
               const char *const *params)
{
  cs_task_query_or (task, next, NULL, sql, n_params, params);
}

void
cs_task_query_or (GTask *task, CsStep next, CsStepError on_error, const char *sql,
                  int n_params, const char *const *params)
{
  CsRecords *db = cs_task_db (task);
  if (db->closed) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "records closed");
    g_object_unref (task);
    return;
  }
  StepCall *call = g_new0 (StepCall, 1);
  call->task = task;
  call->next = next;
  call->on_error = on_error;
  cs_pool_query (cs_task_db (task)->pool, sql, n_params, params, on_step_result, call);
}

void
cs_task_return_new_error (GTask *task, CsRecordsError code, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_task_return_new_error (task, CS_RECORDS_ERROR, code, "%s", msg);
  g_object_unref (task);
}

gboolean
cs_task_finish_boolean (CsRecords *db, GAsyncResult *res, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (res)) == source_tag, FALSE);
  return g_task_propagate_boolean (G_TASK (res), error);
}

gpointer
cs_task_finish_pointer (CsRecords *db, GAsyncResult *res, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (res, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (res)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (res), error);
}

char *
cs_pg_dup (const PGresult *res, int row, int col)
{
  if (PQgetisnull (res, row, col))
    return NULL;
  return g_strdup (PQgetvalue (res, row, col));
}

gint64
cs_pg_int64 (const PGresult *res, int row, int col)
{
  if (PQgetisnull (res, row, col))
    return 0;
  return g_ascii_strtoll (PQgetvalue (res, row, col), NULL, 10);
}

gboolean
cs_pg_bool (const PGresult *res, int row, int col)
{
  return !PQgetisnull (res, row, col) && PQgetvalue (res, row, col)[0] == 't';
}

const char *
cs_id_param (char buf[CS_ID_PARAM_LEN], gint64 id)
{
  if (id == 0)
    return NULL;
  g_snprintf (buf, CS_ID_PARAM_LEN, "%" G_GINT64_FORMAT, id);
  return buf;
}

typedef struct {
  GTask *task;
  GError *error;
} FailAudited;

static void
on_fail_audited (PGresult *res, const GError *audit_error, gpointer user_data)
{
  FailAudited *f = user_data;
  if (audit_error && !g_error_matches (audit_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("audit record not written: %s", audit_error->message);
  g_task_return_error (f->task, f->error);
  g_object_unref (f->task);
  g_free (f);
}

void
cs_task_fail_audited (GTask *task, const CsAuditNote *note, GError *error)
{
  char id[CS_ID_PARAM_LEN], patient[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (id, note->actor_id), note->actor_role, note->action,
                           note->object_type, note->object_id,
                           cs_id_param (patient, note->patient_id), note->result,
                           note->source, note->detail };
  if (cs_task_db (task)->closed) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  FailAudited *f = g_new0 (FailAudited, 1);
  f->task = task;
  f->error = error;
  /* The record is committed before the caller hears of the failure. */
  cs_pool_query (cs_task_db (task)->pool,
                 "INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 " patient_id, result, source, detail)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                 G_N_ELEMENTS (params), params, on_fail_audited, f);
}
