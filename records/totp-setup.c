/* totp-setup.c — TOTP enrolment: a fresh secret is generated here, sealed
 * with AES-256-GCM under the server key (bound to the user id) and kept
 * pending until the user proves their authenticator has it. */
#include "records/records-private.h"
#include "records/totp.h"

#include <openssl/crypto.h>

void
cs_totp_setup_free (CsTotpSetup *setup)
{
  if (!setup)
    return;
  g_free (setup->secret_base32);
  g_free (setup->uri);
  g_free (setup);
}

static void
on_pending_stored (GTask *task, PGresult *res)
{
  CsTotpSetup *setup = g_task_get_task_data (task);
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN,
                              "TOTP is already enabled on this account");
    return;
  }
  g_autofree char *label = g_uri_escape_string (PQgetvalue (res, 0, 0), "@", FALSE);
  CsTotpSetup *out = g_new0 (CsTotpSetup, 1);
  out->secret_base32 = g_steal_pointer (&setup->secret_base32);
  out->uri = g_strdup_printf ("otpauth://totp/Consilium:%s?secret=%s&issuer=Consilium"
                              "&algorithm=SHA1&digits=%d&period=%d",
                              label, out->secret_base32, CS_TOTP_DIGITS, CS_TOTP_STEP_SECONDS);
  g_task_return_pointer (task, out, (GDestroyNotify) cs_totp_setup_free);
  g_object_unref (task);
}

void
cs_records_totp_begin_async (CsRecords *db, const CsActor *actor, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_totp_begin_async, cancellable, callback, user_data);
  if (actor->user_id == 0) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "not logged in");
    return;
  }
  guint8 secret[CS_TOTP_SECRET_LEN];
  cs_random_bytes (secret, sizeof secret);
  char id[CS_ID_PARAM_LEN];
  cs_id_param (id, actor->user_id);
  g_autofree char *sealed = cs_secret_seal_hex (db->cfg.totp_key, id, secret, sizeof secret);
  CsTotpSetup *setup = g_new0 (CsTotpSetup, 1);
  setup->secret_base32 = cs_base32_encode (secret, sizeof secret);
  OPENSSL_cleanse (secret, sizeof secret);
  g_task_set_task_data (task, setup, (GDestroyNotify) cs_totp_setup_free);

  const char *params[] = { id, sealed, actor->source };
  /* Replacing an active secret would let a stolen session take over the
   * second factor, so enabled accounts are refused here. */
  cs_task_query (task, on_pending_stored,
                 "WITH u AS ("
                 "  UPDATE users SET totp_pending = decode($2, 'hex')"
                 "  WHERE id = $1 AND totp_secret IS NULL AND NOT disabled"
                 "  RETURNING id, role, email),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT id, role, 'totp.begin', 'user', id::text, 'ok', $3 FROM u)"
                 " SELECT email FROM u",
                 G_N_ELEMENTS (params), params);
}

CsTotpSetup *
cs_records_totp_begin_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_totp_begin_async, error);
}

typedef struct {
  gint64 user_id;
  char *role, *code, *source;
} Confirm;

static void
confirm_free (Confirm *c)
{
  g_free (c->role);
  g_free (c->code);
  g_free (c->source);
  g_free (c);
}

static void
on_enabled (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND, "no TOTP enrolment pending");
    return;
  }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_pending (GTask *task, PGresult *res)
{
  Confirm *c = g_task_get_task_data (task);
  CsRecords *db = cs_task_db (task);
  if (PQntuples (res) != 1 || PQgetisnull (res, 0, 0)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND, "no TOTP enrolment pending");
    return;
  }
  const char *sealed = PQgetvalue (res, 0, 0);
  char id[CS_ID_PARAM_LEN];
  cs_id_param (id, c->user_id);
  g_autoptr (GBytes) secret = cs_secret_open_hex (db->cfg.totp_key, id, sealed);
  gsize len = 0;
  const guint8 *key = secret ? g_bytes_get_data (secret, &len) : NULL;
  guint64 step = 0;
  if (!key || !cs_totp_check (key, len, c->code, g_get_real_time () / G_USEC_PER_SEC, 1, &step)) {
    CsAuditNote note = { .actor_id = c->user_id, .actor_role = c->role,
                         .action = "totp.enable", .object_type = "user", .object_id = id,
                         .result = "failed", .source = c->source, .detail = "wrong code" };
    cs_task_fail_audited (task, &note, g_error_new (CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH,
                                                    "wrong one-time code"));
    return;
  }
  char stepbuf[24];
  g_snprintf (stepbuf, sizeof stepbuf, "%" G_GUINT64_FORMAT, step);
  const char *params[] = { id, stepbuf, sealed, c->source };
  /* Only the pending secret we just checked is promoted; the step that
   * confirmed it is spent, so the same code cannot also log in. */
  cs_task_query (task, on_enabled,
                 "WITH u AS ("
                 "  UPDATE users SET totp_secret = totp_pending, totp_pending = NULL,"
                 "   totp_last_step = $2::bigint"
                 "  WHERE id = $1 AND totp_pending = decode($3, 'hex')"
                 "  RETURNING id, role),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT id, role, 'totp.enable', 'user', id::text, 'ok', $4 FROM u)"
                 " SELECT id FROM u",
                 G_N_ELEMENTS (params), params);
}

void
cs_records_totp_confirm_async (CsRecords *db, const CsActor *actor, const char *code,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_totp_confirm_async, cancellable, callback,
                             user_data);
  if (actor->user_id == 0) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_AUTH, "not logged in");
    return;
  }
  Confirm *c = g_new0 (Confirm, 1);
  c->user_id = actor->user_id;
  c->role = g_strdup (cs_role_to_string (actor->role));
  c->code = g_strdup (code);
  c->source = g_strdup (actor->source);
  g_task_set_task_data (task, c, (GDestroyNotify) confirm_free);
  char id[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (id, actor->user_id) };
  cs_task_query (task, on_pending,
                 "SELECT encode(totp_pending, 'hex') FROM users WHERE id = $1 AND NOT disabled",
                 1, params);
}

gboolean
cs_records_totp_confirm_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_totp_confirm_async, error);
}
