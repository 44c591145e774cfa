/* institutions.c — hospitals and primary clinics. */
#include "records/records-private.h"

#include <string.h>

#define INSTITUTION_COLUMNS "id, name, kind"

void
cs_institution_free (CsInstitution *inst)
{
  if (!inst)
    return;
  g_free (inst->name);
  g_free (inst);
}

static const char *
kind_to_string (CsInstitutionKind kind)
{
  return kind == CS_INSTITUTION_HOSPITAL ? "hospital" : "primary_clinic";
}

static CsInstitution *
institution_from_row (PGresult *res, int row)
{
  CsInstitution *inst = g_new0 (CsInstitution, 1);
  inst->id = cs_pg_int64 (res, row, 0);
  inst->name = cs_pg_dup (res, row, 1);
  inst->kind = strcmp (PQgetvalue (res, row, 2), "hospital") == 0
                 ? CS_INSTITUTION_HOSPITAL : CS_INSTITUTION_PRIMARY_CLINIC;
  return inst;
}

static void
return_institution (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND, "no such institution");
    return;
  }
  g_task_return_pointer (task, institution_from_row (res, 0),
                         (GDestroyNotify) cs_institution_free);
  g_object_unref (task);
}

static void
return_created (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1)
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN, "actor is not an admin");
  else
    return_institution (task, res);
}

void
cs_records_institution_create_async (CsRecords *db, const CsActor *actor, const char *name,
                                     CsInstitutionKind kind, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_institution_create_async, cancellable, callback,
                             user_data);
  GError *error = NULL;
  if (actor->role != CS_ROLE_ADMIN) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN, "only admins add institutions");
    return;
  }
  if (!cs_check_text ("name", name, 200, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  char id[CS_ID_PARAM_LEN];
  const char *params[] = { name, kind_to_string (kind), cs_id_param (id, actor->user_id),
                           actor->source };
  /* The admin check is repeated in SQL against the account's current role. */
  cs_task_query (task, return_created,
                 "WITH i AS ("
                 "  INSERT INTO institutions (name, kind)"
                 "  SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM users"
                 "    WHERE id = $3 AND role = 'admin' AND NOT disabled)"
                 "  RETURNING " INSTITUTION_COLUMNS "),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT $3, 'admin', 'institution.create', 'institution', i.id::text, 'ok', $4"
                 "  FROM i)"
                 " SELECT " INSTITUTION_COLUMNS " FROM i",
                 G_N_ELEMENTS (params), params);
}

CsInstitution *
cs_records_institution_create_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_institution_create_async, error);
}

void
cs_records_institution_get_async (CsRecords *db, gint64 id, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_institution_get_async, cancellable, callback,
                             user_data);
  char idbuf[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (idbuf, id) };
  cs_task_query (task, return_institution,
                 "SELECT " INSTITUTION_COLUMNS " FROM institutions WHERE id = $1", 1, params);
}

CsInstitution *
cs_records_institution_get_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_institution_get_async, error);
}
