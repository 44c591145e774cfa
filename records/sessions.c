/* sessions.c — bearer sessions: validation with idle timeout, logout,
 * revoke-all. Tokens are 32 random bytes (64 hex digits) held only by the
 * client; the database keeps their SHA-256, so a database leak yields no
 * usable token. */
#include "records/records-private.h"

#include <string.h>

CsSession *cs_session_from_row (PGresult *res, int row);  /* login.c */

/* Rejects anything that is not 64 hex digits before touching the DB. */
static gboolean
token_well_formed (const char *token)
{
  guint8 raw[32];
  return token && cs_hex_decode (token, raw, sizeof raw);
}

static void
on_validated (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "session invalid or expired");
    return;
  }
  g_task_return_pointer (task, cs_session_from_row (res, 0), (GDestroyNotify) cs_session_free);
  g_object_unref (task);
}

void
cs_records_session_validate_async (CsRecords *db, const char *token, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_session_validate_async, cancellable, callback,
                             user_data);
  if (!token_well_formed (token)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "session invalid or expired");
    return;
  }
  g_autofree char *hash = cs_token_hash_hex (token);
  char idle[16];
  g_snprintf (idle, sizeof idle, "%u", db->cfg.session_idle_seconds);
  const char *params[] = { hash, idle };
  /* Checking and touching in one UPDATE: an idle session cannot be revived
   * by a request racing its expiry. */
  cs_task_query (task, on_validated,
                 "UPDATE sessions s SET last_seen_at = now()"
                 " FROM users u"
                 " WHERE s.token_hash = decode($1, 'hex') AND u.id = s.user_id"
                 "  AND s.revoked_at IS NULL AND s.expires_at > now()"
                 "  AND s.last_seen_at > now() - make_interval(secs => $2::int)"
                 "  AND NOT u.disabled"
                 " RETURNING s.id, u.id, u.role, u.institution_id,"
                 "  (extract(epoch FROM s.expires_at) * 1000000)::bigint,"
                 "  u.totp_secret IS NOT NULL",
                 G_N_ELEMENTS (params), params);
}

CsSession *
cs_records_session_validate_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_session_validate_async, error);
}

static void
on_logged_out (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "session invalid or expired");
    return;
  }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
cs_records_logout_async (CsRecords *db, const char *token, const char *source,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_logout_async, cancellable, callback, user_data);
  if (!token_well_formed (token)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "session invalid or expired");
    return;
  }
  g_autofree char *hash = cs_token_hash_hex (token);
  const char *params[] = { hash, source };
  cs_task_query (task, on_logged_out,
                 "WITH s AS ("
                 "  UPDATE sessions SET revoked_at = now()"
                 "  WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL"
                 "  RETURNING id, user_id),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT s.user_id, u.role, 'logout', 'session', s.id::text, 'ok', $2"
                 "  FROM s JOIN users u ON u.id = s.user_id)"
                 " SELECT id FROM s",
                 G_N_ELEMENTS (params), params);
}

gboolean
cs_records_logout_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_logout_async, error);
}

static void
on_revoked_all (GTask *task, PGresult *res)
{
  g_task_return_int (task, cs_pg_int64 (res, 0, 0));
  g_object_unref (task);
}

void
cs_records_sessions_revoke_all_async (CsRecords *db, const CsActor *actor, gint64 user_id,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_sessions_revoke_all_async, cancellable, callback,
                             user_data);
  if (actor->user_id == 0 || (actor->user_id != user_id && actor->role != CS_ROLE_ADMIN)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN,
                              "only the user or an admin may revoke sessions");
    return;
  }
  char uid[CS_ID_PARAM_LEN], aid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (uid, user_id), cs_id_param (aid, actor->user_id),
                           cs_role_to_string (actor->role), actor->source };
  cs_task_query (task, on_revoked_all,
                 "WITH s AS ("
                 "  UPDATE sessions SET revoked_at = now()"
                 "  WHERE user_id = $1 AND revoked_at IS NULL RETURNING id),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source, detail)"
                 "  VALUES ($2, $3, 'sessions.revoke_all', 'user', $1::text, 'ok', $4,"
                 "   (SELECT count(*) FROM s)::text || ' revoked'))"
                 " SELECT count(*) FROM s",
                 G_N_ELEMENTS (params), params);
}

gboolean
cs_records_sessions_revoke_all_finish (CsRecords *db, GAsyncResult *res, guint *out_count,
                                       GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (res))
                          == cs_records_sessions_revoke_all_async, FALSE);
  GError *local = NULL;
  gssize n = g_task_propagate_int (G_TASK (res), &local);
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  if (out_count)
    *out_count = (guint) n;
  return TRUE;
}
