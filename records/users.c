/* users.c — accounts: patient self-registration, accounts created by an
 * admin, lookup. Passwords are hashed (password.c) before the INSERT, which
 * carries its audit record in the same statement. */
#include "records/records-private.h"

/* Read from users; USER_FIELDS names the same columns in a CTE's output. */
#define USER_COLUMNS "id, email, display_name, role, institution_id," \
                     " totp_secret IS NOT NULL AS totp_enabled, disabled"
#define USER_FIELDS "id, email, display_name, role, institution_id, totp_enabled, disabled"

void
cs_user_free (CsUser *user)
{
  if (!user)
    return;
  g_free (user->email);
  g_free (user->display_name);
  g_free (user);
}

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

typedef struct {
  char *email, *password, *display_name;
  CsRole role;
  gint64 institution_id;
  gint64 actor_id;     /* 0: the new user registers themself */
  char *actor_role;
  char *source;
} NewUser;

static void
new_user_free (NewUser *n)
{
  g_free (n->email);
  g_free (n->password);
  g_free (n->display_name);
  g_free (n->actor_role);
  g_free (n->source);
  g_free (n);
}

static void
return_user (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    /* create_user's SQL admin check came back empty. */
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN, "actor is not an admin");
    return;
  }
  g_task_return_pointer (task, user_from_row (res, 0), (GDestroyNotify) cs_user_free);
  g_object_unref (task);
}

static void
on_hashed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  NewUser *n = g_task_get_task_data (task);
  g_autofree char *hash = cs_password_hash_finish (task, result);
  if (!hash)
    return;
  char inst[CS_ID_PARAM_LEN], actor[CS_ID_PARAM_LEN];
  const char *params[] = { n->email, n->display_name, cs_role_to_string (n->role),
                           cs_id_param (inst, n->institution_id), hash,
                           cs_id_param (actor, n->actor_id), n->actor_role, n->source };
  /* A NULL actor ($6) is self-registration; otherwise the actor must be an
   * enabled admin at this moment, checked in the same statement. */
  cs_task_query (task, return_user,
                 "WITH u AS ("
                 "  INSERT INTO users (email, display_name, role, institution_id, password_hash)"
                 "  SELECT $1, $2, $3, $4, $5"
                 "  WHERE $6::bigint IS NULL OR EXISTS (SELECT 1 FROM users"
                 "    WHERE id = $6 AND role = 'admin' AND NOT disabled)"
                 "  RETURNING " USER_COLUMNS "),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT coalesce($6::bigint, u.id), coalesce($7, u.role),"
                 "   CASE WHEN $6::bigint IS NULL THEN 'user.register' ELSE 'user.create' END,"
                 "   'user', u.id::text, 'ok', $8 FROM u)"
                 " SELECT " USER_FIELDS " FROM u",
                 G_N_ELEMENTS (params), params);
}

static void
create (CsRecords *db, GTask *task, const CsNewUser *user, CsRole role, const CsActor *actor,
        const char *source)
{
  GError *error = NULL;
  if (!cs_check_email (user->email, &error) || !cs_check_password (user->password, &error)
      || !cs_check_text ("display name", user->display_name, 200, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  if (role == CS_ROLE_INVALID || (role == CS_ROLE_CLINIC_STAFF && user->institution_id == 0)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_INVALID,
                              role == CS_ROLE_INVALID ? "invalid role"
                                                      : "clinic staff need an institution");
    return;
  }
  NewUser *n = g_new0 (NewUser, 1);
  n->email = g_strdup (user->email);
  n->password = g_strdup (user->password);
  n->display_name = g_strdup (user->display_name);
  n->role = role;
  n->institution_id = role == CS_ROLE_PATIENT ? 0 : user->institution_id;
  n->actor_id = actor ? actor->user_id : 0;
  n->actor_role = actor ? g_strdup (cs_role_to_string (actor->role)) : NULL;
  n->source = g_strdup (source);
  g_task_set_task_data (task, n, (GDestroyNotify) new_user_free);
  cs_password_hash_async (db, n->password, on_hashed, task);
}

void
cs_records_register_patient_async (CsRecords *db, const CsNewUser *user, const char *source,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_register_patient_async, cancellable, callback,
                             user_data);
  create (db, task, user, CS_ROLE_PATIENT, NULL, source);
}

CsUser *
cs_records_register_patient_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_register_patient_async, error);
}

void
cs_records_create_user_async (CsRecords *db, const CsActor *actor, const CsNewUser *user,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_create_user_async, cancellable, callback,
                             user_data);
  if (actor->role != CS_ROLE_ADMIN || actor->user_id == 0) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN, "only admins create accounts");
    return;
  }
  create (db, task, user, user->role, actor, actor->source);
}

CsUser *
cs_records_create_user_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_create_user_async, error);
}

static void
return_found_user (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1)
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND, "no such user");
  else
    return_user (task, res);
}

void
cs_records_user_get_async (CsRecords *db, gint64 id, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_user_get_async, cancellable, callback, user_data);
  char idbuf[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (idbuf, id) };
  cs_task_query (task, return_found_user,
                 "SELECT " USER_COLUMNS " FROM users WHERE id = $1", 1, params);
}

CsUser *
cs_records_user_get_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_user_get_async, error);
}
