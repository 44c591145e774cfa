/* api-support.c — see api-support.h. Kept apart from users.c and
 * institutions.c so the REST layer's additions are easy to review and to
 * fold in later. */
#include "records/api-support.h"
#include "records/records-private.h"

#include <string.h>

#define USER_COLUMNS "id, email, display_name, role, institution_id," \
                     " totp_secret IS NOT NULL AS totp_enabled, disabled"
#define USER_FIELDS "id, email, display_name, role, institution_id, totp_enabled, disabled"
#define MAX_PAGE 1000

static CsUser *
user_from_row (PGresult *res, int row)
{
  CsUser *u = g_new0 (CsUser, 1);
  u->id = cs_pg_int64 (res, row, 0);
  u->email = cs_pg_dup (res, row, 1);
  u->display_name = cs_pg_dup (res, row, 2);
  u->role = cs_role_from_string (PQgetvalue (res, row, 3));
  u->institution_id = cs_pg_int64 (res, row, 4);
  u->totp_enabled = cs_pg_bool (res, row, 5);
  u->disabled = cs_pg_bool (res, row, 6);
  return u;
}

static void
return_users (GTask *task, PGresult *res)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_user_free);
  for (int i = 0; i < PQntuples (res); i++)
    g_ptr_array_add (out, user_from_row (res, i));
  g_task_return_pointer (task, out, (GDestroyNotify) g_ptr_array_unref);
  g_object_unref (task);
}

static const char *
limit_param (char buf[CS_ID_PARAM_LEN], guint limit)
{
  g_snprintf (buf, CS_ID_PARAM_LEN, "%u", CLAMP (limit, 1, MAX_PAGE));
  return buf;
}

void
cs_records_users_list_async (CsRecords *db, const CsActor *actor, CsRole role, gint64 after_id,
                             guint limit, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_users_list_async, cancellable, callback, user_data);
  if (actor->role != CS_ROLE_ADMIN || actor->user_id == 0) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN, "only admins list accounts");
    return;
  }
  char after[CS_ID_PARAM_LEN], lim[CS_ID_PARAM_LEN], aid[CS_ID_PARAM_LEN];
  g_snprintf (after, sizeof after, "%" G_GINT64_FORMAT, MAX (after_id, 0));
  const char *params[] = { after, limit_param (lim, limit),
                           role == CS_ROLE_INVALID ? NULL : cs_role_to_string (role),
                           cs_id_param (aid, actor->user_id), actor->source };
  /* The admin check and the audit record ride in the same statement, as in
   * users.c: no listing without its trace, none for a demoted admin. */
  cs_task_query (task, return_users,
                 "WITH ok AS (SELECT 1 FROM users WHERE id = $4 AND role = 'admin'"
                 "   AND NOT disabled),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, result, source,"
                 "   detail)"
                 "  SELECT $4, 'admin', 'user.list', 'user', 'ok', $5, coalesce($3, 'all') FROM ok)"
                 " SELECT " USER_COLUMNS " FROM users"
                 " WHERE EXISTS (SELECT 1 FROM ok) AND id > $1::bigint"
                 "  AND ($3::text IS NULL OR role = $3)"
                 " ORDER BY id LIMIT $2::int",
                 G_N_ELEMENTS (params), params);
}

GPtrArray *
cs_records_users_list_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_users_list_async, error);
}

static void
return_institutions (GTask *task, PGresult *res)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_institution_free);
  for (int i = 0; i < PQntuples (res); i++) {
    CsInstitution *inst = g_new0 (CsInstitution, 1);
    inst->id = cs_pg_int64 (res, i, 0);
    inst->name = cs_pg_dup (res, i, 1);
    inst->kind = strcmp (PQgetvalue (res, i, 2), "hospital") == 0
                   ? CS_INSTITUTION_HOSPITAL : CS_INSTITUTION_PRIMARY_CLINIC;
    g_ptr_array_add (out, inst);
  }
  g_task_return_pointer (task, out, (GDestroyNotify) g_ptr_array_unref);
  g_object_unref (task);
}

void
cs_records_institutions_list_async (CsRecords *db, gint64 after_id, guint limit,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_institutions_list_async, cancellable, callback,
                             user_data);
  char after[CS_ID_PARAM_LEN], lim[CS_ID_PARAM_LEN];
  g_snprintf (after, sizeof after, "%" G_GINT64_FORMAT, MAX (after_id, 0));
  const char *params[] = { after, limit_param (lim, limit) };
  cs_task_query (task, return_institutions,
                 "SELECT id, name, kind FROM institutions WHERE id > $1::bigint"
                 " ORDER BY id LIMIT $2::int",
                 G_N_ELEMENTS (params), params);
}

GPtrArray *
cs_records_institutions_list_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_institutions_list_async, error);
}

typedef struct {
  char *email, *display_name, *source;
} Bootstrap;

static void
bootstrap_free (Bootstrap *b)
{
  g_free (b->email);
  g_free (b->display_name);
  g_free (b->source);
  g_free (b);
}

static void
return_admin (GTask *task, PGresult *res)
{
  g_task_return_pointer (task, user_from_row (res, 0), (GDestroyNotify) cs_user_free);
  g_object_unref (task);
}

static void
on_admin_hashed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Bootstrap *b = g_task_get_task_data (task);
  g_autofree char *hash = cs_password_hash_finish (task, result);
  if (!hash)
    return;
  const char *params[] = { b->email, b->display_name, hash, b->source };
  cs_task_query (task, return_admin,
                 "WITH u AS ("
                 "  INSERT INTO users (email, display_name, role, password_hash)"
                 "  VALUES ($1, $2, 'admin', $3)"
                 "  RETURNING " USER_COLUMNS "),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT u.id, 'admin', 'user.bootstrap', 'user', u.id::text, 'ok', $4 FROM u)"
                 " SELECT " USER_FIELDS " FROM u",
                 G_N_ELEMENTS (params), params);
}

void
cs_records_bootstrap_admin_async (CsRecords *db, const CsNewUser *user, const char *source,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_bootstrap_admin_async, cancellable, callback,
                             user_data);
  GError *error = NULL;
  if (!cs_check_email (user->email, &error) || !cs_check_password (user->password, &error)
      || !cs_check_text ("display name", user->display_name, 200, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  Bootstrap *b = g_new0 (Bootstrap, 1);
  b->email = g_strdup (user->email);
  b->display_name = g_strdup (user->display_name);
  b->source = g_strdup (source);
  g_task_set_task_data (task, b, (GDestroyNotify) bootstrap_free);
  cs_password_hash_async (db, user->password, on_admin_hashed, task);
}

CsUser *
cs_records_bootstrap_admin_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_bootstrap_admin_async, error);
}
