/* login.c — password (+ TOTP) login, failure counting and lockout.
 *
 * Every attempt costs one argon2 verification, also for an unknown email
 * (against a dummy hash) and for a locked account, so response time says
 * nothing about which case happened. A failure increments the counter in
 * one atomic UPDATE; reaching max_failed_logins locks the account for
 * lockout_seconds and restarts the count. The success statement re-checks
 * the lock and the TOTP step (no code is accepted twice), resets the
 * counter, creates the session and writes the audit record at once. */
#include "records/records-private.h"
#include "records/totp.h"

#include <openssl/crypto.h>
#include <string.h>

typedef struct {
  char *email, *password, *totp_code, *source;
  char *token;
  /* from the users row */
  gint64 user_id;
  char *role;
  char *password_hash;
  char *totp_secret_hex;
  gboolean locked, disabled;
} Login;

static void
login_free (Login *l)
{
  if (l->password) {
    OPENSSL_cleanse (l->password, strlen (l->password));
    g_free (l->password);
  }
  g_free (l->email);
  g_free (l->totp_code);
  g_free (l->source);
  g_free (l->token);
  g_free (l->role);
  g_free (l->password_hash);
  g_free (l->totp_secret_hex);
  g_free (l);
}

void
cs_session_free (CsSession *session)
{
  if (!session)
    return;
  if (session->token) {
    OPENSSL_cleanse (session->token, strlen (session->token));
    g_free (session->token);
  }
  g_free (session);
}

/* Shared with sessions.c through the column order of its SELECTs:
 * session id, user id, role, institution, expiry (µs), totp enabled. */
CsSession *cs_session_from_row (PGresult *res, int row);

CsSession *
cs_session_from_row (PGresult *res, int row)
{
  CsSession *s = g_new0 (CsSession, 1);
  s->id = cs_pg_int64 (res, row, 0);
  s->user_id = cs_pg_int64 (res, row, 1);
  s->role = cs_role_from_string (PQgetvalue (res, row, 2));
  s->institution_id = cs_pg_int64 (res, row, 3);
  s->expires_at = cs_pg_int64 (res, row, 4);
  s->totp_setup_required = cs_role_requires_totp (s->role) && !cs_pg_bool (res, row, 5);
  return s;
}

static void
fail (GTask *task, const char *detail)
{
  Login *l = g_task_get_task_data (task);
  char id[CS_ID_PARAM_LEN];
  CsAuditNote note = { .actor_id = l->user_id, .actor_role = l->role, .action = "login",
                       .object_type = "user",
                       .object_id = l->user_id ? cs_id_param (id, l->user_id) : NULL,
                       .result = "failed", .source = l->source, .detail = detail };
  cs_task_fail_audited (task, &note,
                        g_error_new (CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH,
                                     "wrong email or password"));
}

static void
on_counted (GTask *task, PGresult *res)
{
  /* The failure's audit record went in with the counter update. */
  if (PQntuples (res) == 1 && cs_pg_bool (res, 0, 0))
    cs_task_return_new_error (task, CS_RECORDS_ERROR_LOCKED,
                              "too many failed logins; account locked for a while");
  else
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "wrong email or password");
}

/* A wrong password or code on an existing account. */
static void
count_failure (GTask *task, const char *detail)
{
  Login *l = g_task_get_task_data (task);
  CsRecords *db = cs_task_db (task);
  char id[CS_ID_PARAM_LEN], max[16], secs[16];
  g_snprintf (max, sizeof max, "%u", db->cfg.max_failed_logins);
  g_snprintf (secs, sizeof secs, "%u", db->cfg.lockout_seconds);
  const char *params[] = { cs_id_param (id, l->user_id), max, secs, l->source, detail };
  cs_task_query (task, on_counted,
                 "WITH u AS ("
                 "  UPDATE users SET"
                 "   failed_logins = CASE WHEN failed_logins + 1 >= $2::int THEN 0"
                 "                   ELSE failed_logins + 1 END,"
                 "   locked_until = CASE WHEN failed_logins + 1 >= $2::int"
                 "                  THEN now() + make_interval(secs => $3::int)"
                 "                  ELSE locked_until END"
                 "  WHERE id = $1 RETURNING id, role, coalesce(locked_until > now(), false) AS locked),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source, detail)"
                 "  SELECT id, role, 'login', 'user', id::text, 'failed', $4,"
                 "   CASE WHEN locked THEN $5::text || '; locked' ELSE $5::text END FROM u)"
                 " SELECT locked FROM u",
                 G_N_ELEMENTS (params), params);
}

static void
on_session (GTask *task, PGresult *res)
{
  Login *l = g_task_get_task_data (task);
  if (PQntuples (res) != 1) {
    /* Locked meanwhile by a parallel attempt, or the TOTP step was used. */
    count_failure (task, "totp code reused or account locked");
    return;
  }
  CsSession *s = cs_session_from_row (res, 0);
  s->token = g_steal_pointer (&l->token);
  g_task_return_pointer (task, s, (GDestroyNotify) cs_session_free);
  g_object_unref (task);
}

static void
succeed (GTask *task, guint64 totp_step, gboolean with_totp)
{
  Login *l = g_task_get_task_data (task);
  CsRecords *db = cs_task_db (task);
  char id[CS_ID_PARAM_LEN], step[24], ttl[16];
  g_snprintf (step, sizeof step, "%" G_GUINT64_FORMAT, totp_step);
  g_snprintf (ttl, sizeof ttl, "%u", db->cfg.session_ttl_seconds);
  l->token = cs_token_new ();
  g_autofree char *token_hash = cs_token_hash_hex (l->token);
  const char *params[] = { cs_id_param (id, l->user_id), token_hash,
                           with_totp ? step : NULL, ttl, l->source };
  cs_task_query (task, on_session,
                 "WITH u AS ("
                 "  UPDATE users SET failed_logins = 0, locked_until = NULL,"
                 "   totp_last_step = coalesce($3::bigint, totp_last_step)"
                 "  WHERE id = $1 AND NOT disabled"
                 "   AND (locked_until IS NULL OR locked_until <= now())"
                 "   AND ($3::bigint IS NULL OR totp_last_step IS NULL"
                 "        OR totp_last_step < $3::bigint)"
                 "  RETURNING id, role, institution_id, totp_secret IS NOT NULL AS totp_on),"
                 " s AS ("
                 "  INSERT INTO sessions (user_id, token_hash, expires_at, source)"
                 "  SELECT id, decode($2, 'hex'), now() + make_interval(secs => $4::int), $5"
                 "  FROM u RETURNING id, expires_at),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT u.id, u.role, 'login', 'session', s.id::text, 'ok', $5 FROM u, s)"
                 " SELECT s.id, u.id, u.role, u.institution_id,"
                 "  (extract(epoch FROM s.expires_at) * 1000000)::bigint, u.totp_on FROM u, s",
                 G_N_ELEMENTS (params), params);
}

static void
on_verified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Login *l = g_task_get_task_data (task);
  CsRecords *db = cs_task_db (task);
  GError *error = NULL;
  gboolean match = FALSE;

  if (!cs_password_verify_finish (result, &match, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  if (l->user_id == 0) {
    fail (task, "unknown account");
    return;
  }
  if (l->disabled) {
    fail (task, "account disabled");
    return;
  }
  if (l->locked) {
    char id[CS_ID_PARAM_LEN];
    CsAuditNote note = { .actor_id = l->user_id, .actor_role = l->role, .action = "login",
                         .object_type = "user", .object_id = cs_id_param (id, l->user_id),
                         .result = "locked", .source = l->source };
    cs_task_fail_audited (task, &note,
                          g_error_new (CS_RECORDS_ERROR, CS_RECORDS_ERROR_LOCKED,
                                       "too many failed logins; account locked for a while"));
    return;
  }
  if (!match) {
    count_failure (task, "wrong password");
    return;
  }
  if (!l->totp_secret_hex) {
    succeed (task, 0, FALSE);
    return;
  }
  if (!l->totp_code) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_TOTP_REQUIRED, "one-time code required");
    return;
  }
  char aad[CS_ID_PARAM_LEN];
  g_autoptr (GBytes) secret = cs_secret_open_hex (db->cfg.totp_key,
                                                  cs_id_param (aad, l->user_id),
                                                  l->totp_secret_hex);
  if (!secret) {
    /* Wrong server key or a tampered column: loud, and no way in. */
    g_warning ("TOTP secret of user %" G_GINT64_FORMAT " cannot be decrypted", l->user_id);
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FAILED, "TOTP secret unreadable");
    return;
  }
  gsize len;
  const guint8 *key = g_bytes_get_data (secret, &len);
  guint64 step = 0;
  if (!cs_totp_check (key, len, l->totp_code, g_get_real_time () / G_USEC_PER_SEC, 1, &step))
    count_failure (task, "wrong one-time code");
  else
    succeed (task, step, TRUE);
}

static void
on_user (GTask *task, PGresult *res)
{
  Login *l = g_task_get_task_data (task);
  CsRecords *db = cs_task_db (task);
  if (PQntuples (res) == 1) {
    l->user_id = cs_pg_int64 (res, 0, 0);
    l->role = cs_pg_dup (res, 0, 1);
    l->password_hash = cs_pg_dup (res, 0, 2);
    l->locked = cs_pg_bool (res, 0, 3);
    l->disabled = cs_pg_bool (res, 0, 4);
    l->totp_secret_hex = cs_pg_dup (res, 0, 5);
  }
  cs_password_verify_async (db, l->password_hash ? l->password_hash : db->dummy_hash,
                            l->password, on_verified, task);
}

void
cs_records_login_async (CsRecords *db, const char *email, const char *password,
                        const char *totp_code, const char *source, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_login_async, cancellable, callback, user_data);
  if (!email || !password || strlen (password) > 1024 || strlen (email) > 254
      || !g_utf8_validate (email, -1, NULL)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "wrong email or password");
    return;
  }
  Login *l = g_new0 (Login, 1);
  l->email = g_strdup (email);
  l->password = g_strdup (password);
  l->totp_code = g_strdup (totp_code);
  l->source = g_strdup (source);
  g_task_set_task_data (task, l, (GDestroyNotify) login_free);
  const char *params[] = { email };
  cs_task_query (task, on_user,
                 "SELECT id, role, password_hash, coalesce(locked_until > now(), false),"
                 " disabled, encode(totp_secret, 'hex')"
                 " FROM users WHERE lower(email) = lower($1)",
                 1, params);
}

CsSession *
cs_records_login_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_login_async, error);
}
