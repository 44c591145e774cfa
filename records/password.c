/* password.c — argon2id hashing (libargon2) off the main loop.
 *
 * A hash at the default cost (64 MiB, 3 passes) takes ~100 ms of CPU: far
 * too long for the loop that also runs signaling, so it runs on GTask's
 * worker threads. Hashes are stored in the PHC encoded form
 * ($argon2id$v=19$m=...,t=...,p=...$salt$hash), which carries its own
 * parameters: raising the cost later keeps old hashes verifiable. */
#include "records/records-private.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32

typedef struct {
  guint32 t_cost, m_cost, lanes;
  char *password;
  char *encoded;
} Work;

static void
work_free (Work *w)
{
  if (w->password) {
    OPENSSL_cleanse (w->password, strlen (w->password));
    g_free (w->password);
  }
  g_free (w->encoded);
  g_free (w);
}

static char *
hash_now (guint32 t_cost, guint32 m_cost, guint32 lanes, const char *password, GError **error)
{
  guint8 salt[SALT_LEN];
  cs_random_bytes (salt, sizeof salt);
  gsize len = argon2_encodedlen (t_cost, m_cost, lanes, SALT_LEN, HASH_LEN, Argon2_id);
  g_autofree char *encoded = g_malloc (len);
  int rc = argon2id_hash_encoded (t_cost, m_cost, lanes, password, strlen (password),
                                  salt, SALT_LEN, HASH_LEN, encoded, len);
  if (rc != ARGON2_OK) {
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FAILED, "argon2: %s",
                 argon2_error_message (rc));
    return NULL;
  }
  return g_steal_pointer (&encoded);
}

char *
cs_password_hash_sync (const CsRecordsConfig *cfg, const char *password, GError **error)
{
  return hash_now (cfg->argon2_t_cost, cfg->argon2_m_cost_kib, cfg->argon2_lanes, password,
                   error);
}

static void
hash_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Work *w = data;
  GError *error = NULL;
  char *encoded = hash_now (w->t_cost, w->m_cost, w->lanes, w->password, &error);
  if (encoded)
    g_task_return_pointer (task, encoded, g_free);
  else
    g_task_return_error (task, error);
}

void
cs_password_hash_async (CsRecords *db, const char *password, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  Work *w = g_new0 (Work, 1);
  w->t_cost = db->cfg.argon2_t_cost;
  w->m_cost = db->cfg.argon2_m_cost_kib;
  w->lanes = db->cfg.argon2_lanes;
  w->password = g_strdup (password);
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_task_data (task, w, (GDestroyNotify) work_free);
  g_task_run_in_thread (task, hash_thread);
  g_object_unref (task);
}

char *
cs_password_hash_finish (GTask *task, GAsyncResult *res)
{
  GError *error = NULL;
  char *hash = g_task_propagate_pointer (G_TASK (res), &error);
  if (!hash) {
    g_task_return_error (task, error);
    g_object_unref (task);
  }
  return hash;
}

static void
verify_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Work *w = data;
  int rc = argon2id_verify (w->encoded, w->password, strlen (w->password));
  if (rc == ARGON2_OK)
    g_task_return_int (task, 1);
  else if (rc == ARGON2_VERIFY_MISMATCH)
    g_task_return_int (task, 0);
  else
    g_task_return_new_error (task, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FAILED,
                             "stored password hash unusable: %s", argon2_error_message (rc));
}

void
cs_password_verify_async (CsRecords *db, const char *encoded, const char *password,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  Work *w = g_new0 (Work, 1);
  w->encoded = g_strdup (encoded);
  w->password = g_strdup (password);
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_task_data (task, w, (GDestroyNotify) work_free);
  g_task_run_in_thread (task, verify_thread);
  g_object_unref (task);
}

gboolean
cs_password_verify_finish (GAsyncResult *res, gboolean *out_match, GError **error)
{
  GError *local = NULL;
  gssize v = g_task_propagate_int (G_TASK (res), &local);
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  *out_match = v == 1;
  return TRUE;
}
