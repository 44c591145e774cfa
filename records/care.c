/* care.c — care relationships: which doctor may see which patient. The
 * rule itself lives in SQL (can_access_patient in 0001_accounts.sql) so that
 * other modules' queries can filter with it directly. */
#include "records/records-private.h"

typedef struct {
  gint64 actor_id, doctor_id, patient_id;
  char *role, *source;
} Grant;

static void
grant_free (Grant *g)
{
  g_free (g->role);
  g_free (g->source);
  g_free (g);
}

static void
return_if_row (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND, "no such care relationship");
    return;
  }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* A refused grant (unverified doctor) is worth an audit record. */
static void
on_grant_error (GTask *task, const GError *error)
{
  Grant *g = g_task_get_task_data (task);
  if (error->code != CS_RECORDS_ERROR_FORBIDDEN) {
    g_task_return_error (task, g_error_copy (error));
    g_object_unref (task);
    return;
  }
  char id[CS_ID_PARAM_LEN];
  CsAuditNote note = { .actor_id = g->actor_id, .actor_role = g->role, .action = "care.grant",
                       .object_type = "doctor", .object_id = cs_id_param (id, g->doctor_id),
                       .patient_id = g->patient_id, .result = "denied", .source = g->source,
                       .detail = "doctor not verified" };
  cs_task_fail_audited (task, &note, g_error_copy (error));
}

static gboolean
may_manage_care (const CsActor *actor)
{
  return actor->user_id != 0
         && (actor->role == CS_ROLE_ADMIN || actor->role == CS_ROLE_CLINIC_STAFF);
}

void
cs_records_care_grant_async (CsRecords *db, const CsActor *actor, gint64 doctor_id,
                             gint64 patient_id, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_care_grant_async, cancellable, callback, user_data);
  if (!may_manage_care (actor)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN,
                              "only admins and clinic staff grant care relationships");
    return;
  }
  Grant *g = g_new0 (Grant, 1);
  g->actor_id = actor->user_id;
  g->doctor_id = doctor_id;
  g->patient_id = patient_id;
  g->role = g_strdup (cs_role_to_string (actor->role));
  g->source = g_strdup (actor->source);
  g_task_set_task_data (task, g, (GDestroyNotify) grant_free);

  char did[CS_ID_PARAM_LEN], pid[CS_ID_PARAM_LEN], aid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (did, doctor_id), cs_id_param (pid, patient_id),
                           cs_id_param (aid, actor->user_id), g->role, actor->source };
  cs_task_query_or (task, return_if_row, on_grant_error,
                    "WITH c AS ("
                    "  INSERT INTO care_relationships (doctor_id, patient_id, granted_by)"
                    "  VALUES ($1, $2, $3)"
                    "  ON CONFLICT (doctor_id, patient_id) DO UPDATE SET revoked_at = NULL,"
                    "   granted_by = EXCLUDED.granted_by, granted_at = now()"
                    "  RETURNING doctor_id, patient_id),"
                    " a AS ("
                    "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                    "   patient_id, result, source)"
                    "  SELECT $3, $4, 'care.grant', 'doctor', doctor_id::text, patient_id, 'ok',"
                    "   $5 FROM c)"
                    " SELECT 1 FROM c",
                    G_N_ELEMENTS (params), params);
}

gboolean
cs_records_care_grant_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_care_grant_async, error);
}

void
cs_records_care_revoke_async (CsRecords *db, const CsActor *actor, gint64 doctor_id,
                              gint64 patient_id, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_care_revoke_async, cancellable, callback,
                             user_data);
  if (!may_manage_care (actor)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN,
                              "only admins and clinic staff revoke care relationships");
    return;
  }
  char did[CS_ID_PARAM_LEN], pid[CS_ID_PARAM_LEN], aid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (did, doctor_id), cs_id_param (pid, patient_id),
                           cs_id_param (aid, actor->user_id), cs_role_to_string (actor->role),
                           actor->source };
  cs_task_query (task, return_if_row,
                 "WITH c AS ("
                 "  UPDATE care_relationships SET revoked_at = now()"
                 "  WHERE doctor_id = $1 AND patient_id = $2 AND revoked_at IS NULL"
                 "  RETURNING doctor_id, patient_id),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   patient_id, result, source)"
                 "  SELECT $3, $4, 'care.revoke', 'doctor', doctor_id::text, patient_id, 'ok',"
                 "   $5 FROM c)"
                 " SELECT 1 FROM c",
                 G_N_ELEMENTS (params), params);
}

gboolean
cs_records_care_revoke_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_care_revoke_async, error);
}

static void
on_access (GTask *task, PGresult *res)
{
  g_task_return_int (task, cs_pg_bool (res, 0, 0));
  g_object_unref (task);
}

void
cs_records_can_access_patient_async (CsRecords *db, gint64 user_id, gint64 patient_id,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_can_access_patient_async, cancellable, callback,
                             user_data);
  char uid[CS_ID_PARAM_LEN], pid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (uid, user_id), cs_id_param (pid, patient_id) };
  cs_task_query (task, on_access, "SELECT coalesce(can_access_patient($1, $2), false)",
                 G_N_ELEMENTS (params), params);
}

gboolean
cs_records_can_access_patient_finish (CsRecords *db, GAsyncResult *res, gboolean *out_allowed,
                                      GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (res))
                          == cs_records_can_access_patient_async, FALSE);
  GError *local = NULL;
  gssize v = g_task_propagate_int (G_TASK (res), &local);
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  *out_allowed = v == 1;
  return TRUE;
}
