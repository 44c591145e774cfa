/* passwords.c — password change and reset. Both end every session of the
 * account in the same statement that sets the new hash: whoever held a
 * session under the old password loses it. Reset tokens are random, stored
 * as SHA-256 only, expire after reset_ttl_seconds and are spent atomically
 * (the UPDATE that marks one used is the one that reads it). */
#include "records/records-private.h"

#include <openssl/crypto.h>
#include <string.h>

typedef struct {
  gint64 user_id;
  char *role;
  char *old_password, *new_password;
  char *old_hash;
  char *token_hash;
  char *source;
} Change;

static void
wipe (char *s)
{
  if (s) {
    OPENSSL_cleanse (s, strlen (s));
    g_free (s);
  }
}

static void
change_free (Change *c)
{
  wipe (c->old_password);
  wipe (c->new_password);
  g_free (c->role);
  g_free (c->old_hash);
  g_free (c->token_hash);
  g_free (c->source);
  g_free (c);
}

static void
return_if_row (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH,
                              "password changed concurrently or token not valid");
    return;
  }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_new_hash (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Change *c = g_task_get_task_data (task);
  g_autofree char *hash = cs_password_hash_finish (task, result);
  if (!hash)
    return;
  char id[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (id, c->user_id), hash, c->source, c->old_hash };
  /* Compare-and-swap on the old hash: two concurrent changes cannot both
   * pass the old-password check and then overwrite each other. */
  cs_task_query (task, return_if_row,
                 "WITH u AS ("
                 "  UPDATE users SET password_hash = $2, password_changed_at = now()"
                 "  WHERE id = $1 AND password_hash = $4 RETURNING id, role),"
                 " s AS ("
                 "  UPDATE sessions SET revoked_at = now()"
                 "  WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT id, role, 'password.change', 'user', id::text, 'ok', $3 FROM u)"
                 " SELECT id FROM u",
                 G_N_ELEMENTS (params), params);
}

static void
on_old_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Change *c = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean match = FALSE;
  if (!cs_password_verify_finish (result, &match, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  if (!match) {
    char id[CS_ID_PARAM_LEN];
    CsAuditNote note = { .actor_id = c->user_id, .actor_role = c->role,
                         .action = "password.change", .object_type = "user",
                         .object_id = cs_id_param (id, c->user_id), .result = "failed",
                         .source = c->source, .detail = "wrong current password" };
    cs_task_fail_audited (task, &note, g_error_new (CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH,
                                                    "current password is wrong"));
    return;
  }
  cs_password_hash_async (cs_task_db (task), c->new_password, on_new_hash, task);
}

static void
on_current_hash (GTask *task, PGresult *res)
{
  Change *c = g_task_get_task_data (task);
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND, "no such user");
    return;
  }
  c->old_hash = cs_pg_dup (res, 0, 0);
  cs_password_verify_async (cs_task_db (task), c->old_hash, c->old_password, on_old_verified,
                            task);
}

void
cs_records_password_change_async (CsRecords *db, const CsActor *actor,
                                  const char *old_password, const char *new_password,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_password_change_async, cancellable, callback,
                             user_data);
  GError *error = NULL;
  if (actor->user_id == 0 || !old_password) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "not logged in");
    return;
  }
  if (!cs_check_password (new_password, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  Change *c = g_new0 (Change, 1);
  c->user_id = actor->user_id;
  c->role = g_strdup (cs_role_to_string (actor->role));
  c->old_password = g_strdup (old_password);
  c->new_password = g_strdup (new_password);
  c->source = g_strdup (actor->source);
  g_task_set_task_data (task, c, (GDestroyNotify) change_free);
  char id[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (id, actor->user_id) };
  cs_task_query (task, on_current_hash,
                 "SELECT password_hash FROM users WHERE id = $1 AND NOT disabled", 1, params);
}

gboolean
cs_records_password_change_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_password_change_async, error);
}

/* ---- reset ----------------------------------------------------------------- */

static void
on_reset_issued (GTask *task, PGresult *res)
{
  char *token = g_task_get_task_data (task);
  g_task_return_pointer (task, PQntuples (res) == 1 ? g_strdup (token) : NULL, g_free);
  g_object_unref (task);
}

void
cs_records_password_reset_request_async (CsRecords *db, const char *email, const char *source,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_password_reset_request_async, cancellable,
                             callback, user_data);
  if (!cs_check_email (email, NULL)) {
    /* Same answer as an unknown account. */
    g_task_return_pointer (task, NULL, NULL);
    g_object_unref (task);
    return;
  }
  char *token = cs_token_new ();
  g_task_set_task_data (task, token, (GDestroyNotify) wipe);
  g_autofree char *hash = cs_token_hash_hex (token);
  char ttl[16];
  g_snprintf (ttl, sizeof ttl, "%u", db->cfg.reset_ttl_seconds);
  const char *params[] = { email, hash, ttl, source };
  /* Issuing a token spends any earlier one: only the newest link works. */
  cs_task_query (task, on_reset_issued,
                 "WITH u AS ("
                 "  SELECT id, role FROM users WHERE lower(email) = lower($1) AND NOT disabled),"
                 " old AS ("
                 "  UPDATE password_resets SET used_at = now()"
                 "  WHERE user_id IN (SELECT id FROM u) AND used_at IS NULL),"
                 " r AS ("
                 "  INSERT INTO password_resets (user_id, token_hash, expires_at)"
                 "  SELECT id, decode($2, 'hex'), now() + make_interval(secs => $3::int) FROM u"
                 "  RETURNING id),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT u.id, u.role, 'password.reset_request', 'user', u.id::text, 'ok', $4"
                 "  FROM u)"
                 " SELECT id FROM r",
                 G_N_ELEMENTS (params), params);
}

gboolean
cs_records_password_reset_request_finish (CsRecords *db, GAsyncResult *res, char **out_token,
                                          GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (res))
                          == cs_records_password_reset_request_async, FALSE);
  GError *local = NULL;
  char *token = g_task_propagate_pointer (G_TASK (res), &local);
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  *out_token = token;
  return TRUE;
}

static void
on_reset_hash (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Change *c = g_task_get_task_data (task);
  g_autofree char *hash = cs_password_hash_finish (task, result);
  if (!hash)
    return;
  const char *params[] = { c->token_hash, hash, c->source };
  cs_task_query (task, return_if_row,
                 "WITH t AS ("
                 "  UPDATE password_resets SET used_at = now()"
                 "  WHERE token_hash = decode($1, 'hex') AND used_at IS NULL"
                 "   AND expires_at > now() RETURNING user_id),"
                 " u AS ("
                 "  UPDATE users SET password_hash = $2, password_changed_at = now(),"
                 "   failed_logins = 0, locked_until = NULL"
                 "  FROM t WHERE users.id = t.user_id AND NOT users.disabled"
                 "  RETURNING users.id, users.role),"
                 " s AS ("
                 "  UPDATE sessions SET revoked_at = now()"
                 "  WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT id, role, 'password.reset', 'user', id::text, 'ok', $3 FROM u)"
                 " SELECT id FROM u",
                 G_N_ELEMENTS (params), params);
}

void
cs_records_password_reset_async (CsRecords *db, const char *token, const char *new_password,
                                 const char *source, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_password_reset_async, cancellable, callback,
                             user_data);
  GError *error = NULL;
  guint8 raw[32];
  if (!token || !cs_hex_decode (token, raw, sizeof raw)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "reset token not valid");
    return;
  }
  if (!cs_check_password (new_password, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  Change *c = g_new0 (Change, 1);
  c->new_password = g_strdup (new_password);
  c->token_hash = cs_token_hash_hex (token);
  c->source = g_strdup (source);
  g_task_set_task_data (task, c, (GDestroyNotify) change_free);
  cs_password_hash_async (db, c->new_password, on_reset_hash, task);
}

gboolean
cs_records_password_reset_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_password_reset_async, error);
}
