/* institution-patients.c — which patients an institution looks after: its
 * clinic staff may read them (can_access_patient, 0003_institution_patients
 * .sql). Managed like care relationships: revoked, never deleted, and every
 * change written in one statement with its audit record. */
#include "records/records-private.h"

typedef struct {
  gint64 actor_id, institution_id, patient_id;
  char *role, *source;
  const char *action;   /* static */
} Link;

static void
link_free (Link *l)
{
  g_free (l->role);
  g_free (l->source);
  g_free (l);
}

/* The actor's right is checked against their current account row, not the
 * session's snapshot: a disabled account or one moved to another
 * institution loses it at once. */
#define MAY_MANAGE \
  "ok AS (SELECT 1 FROM users WHERE id = $3::bigint AND NOT disabled" \
  "  AND (role = 'admin' OR (role = 'clinic_staff' AND institution_id = $1::bigint)))"

#define AUDIT_CHANGE(action) \
  " a AS (" \
  "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id, patient_id," \
  "   result, source)" \
  "  SELECT $3, $4, '" action "', 'institution', institution_id::text, patient_id, 'ok', $5" \
  "  FROM l)" \
  " SELECT EXISTS (SELECT 1 FROM ok), EXISTS (SELECT 1 FROM l)"

static void
on_changed (GTask *task, PGresult *res)
{
  Link *l = g_task_get_task_data (task);
  if (!cs_pg_bool (res, 0, 0)) {
    char id[CS_ID_PARAM_LEN];
    CsAuditNote note = { .actor_id = l->actor_id, .actor_role = l->role, .action = l->action,
                         .object_type = "institution",
                         .object_id = cs_id_param (id, l->institution_id),
                         .patient_id = l->patient_id, .result = "denied", .source = l->source,
                         .detail = "not staff of this institution" };
    cs_task_fail_audited (task, &note,
                          g_error_new (CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN,
                                       "only admins and the institution's own staff manage "
                                       "its patients"));
    return;
  }
  if (!cs_pg_bool (res, 0, 1)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND,
                              "the patient is not linked to this institution");
    return;
  }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Shared by add and remove: the C-side role check, then @sql with
 * $1 institution, $2 patient, $3 actor, $4 actor role, $5 source. */
static void
change_link (GTask *task, const CsActor *actor, gint64 institution_id, gint64 patient_id,
             const char *action, const char *sql)
{
  if (actor->user_id == 0
      || (actor->role != CS_ROLE_ADMIN && actor->role != CS_ROLE_CLINIC_STAFF)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN,
                              "only admins and clinic staff manage institution patients");
    return;
  }
  Link *l = g_new0 (Link, 1);
  l->actor_id = actor->user_id;
  l->institution_id = institution_id;
  l->patient_id = patient_id;
  l->role = g_strdup (cs_role_to_string (actor->role));
  l->source = g_strdup (actor->source);
  l->action = action;
  g_task_set_task_data (task, l, (GDestroyNotify) link_free);

  char iid[CS_ID_PARAM_LEN], pid[CS_ID_PARAM_LEN], aid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (iid, institution_id), cs_id_param (pid, patient_id),
                           cs_id_param (aid, actor->user_id), l->role, l->source };
  cs_task_query (task, on_changed, sql, G_N_ELEMENTS (params), params);
}

void
cs_records_institution_patient_add_async (CsRecords *db, const CsActor *actor,
                                          gint64 institution_id, gint64 patient_id,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_institution_patient_add_async, cancellable,
                             callback, user_data);
  change_link (task, actor, institution_id, patient_id, "institution.patient_add",
               "WITH " MAY_MANAGE ","
               " l AS ("
               "  INSERT INTO institution_patients (institution_id, patient_id, granted_by)"
               "  SELECT $1::bigint, $2::bigint, $3::bigint FROM ok"
               "  ON CONFLICT (institution_id, patient_id) DO UPDATE SET revoked_at = NULL,"
               "   granted_by = EXCLUDED.granted_by, granted_at = now()"
               "  RETURNING institution_id, patient_id),"
               AUDIT_CHANGE ("institution.patient_add"));
}

gboolean
cs_records_institution_patient_add_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_institution_patient_add_async, error);
}

void
cs_records_institution_patient_remove_async (CsRecords *db, const CsActor *actor,
                                             gint64 institution_id, gint64 patient_id,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_institution_patient_remove_async, cancellable,
                             callback, user_data);
  change_link (task, actor, institution_id, patient_id, "institution.patient_remove",
               "WITH " MAY_MANAGE ","
               " l AS ("
               "  UPDATE institution_patients SET revoked_at = now()"
               "  WHERE institution_id = $1::bigint AND patient_id = $2::bigint"
               "   AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM ok)"
               "  RETURNING institution_id, patient_id),"
               AUDIT_CHANGE ("institution.patient_remove"));
}

gboolean
cs_records_institution_patient_remove_finish (CsRecords *db, GAsyncResult *res,
                                              GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_institution_patient_remove_async, error);
}
