/* records-private.h — shared between the files of records/ only. */
#pragma once

#include "records/records.h"

#include <libpq-fe.h>

/* ---- pool.c: libpq connections driven by the GLib main loop ------------- */

typedef struct _CsPool CsPool;

/* Exactly one of @res / @error is set. @res: (transfer none), cleared after
 * the callback returns. @error: domain CS_RECORDS_ERROR (or G_IO_ERROR_CANCELLED
 * when the pool is freed). */
typedef void (*CsPoolCallback) (PGresult *res, const GError *error, gpointer user_data);

CsPool *cs_pool_new (const char *conninfo, guint size, GMainContext *context);
void cs_pool_free (CsPool *pool);
gboolean cs_pool_is_available (CsPool *pool);
/* One parameterized statement, text parameters (NULL entries are SQL NULL)
 * and text results. @sql must be a string literal or otherwise outlive the
 * call; @params are copied. */
void cs_pool_query (CsPool *pool, const char *sql, int n_params,
                    const char *const *params, CsPoolCallback callback,
                    gpointer user_data);

/* Maps a failed result (or a broken connection) to a CS_RECORDS_ERROR. */
GError *cs_pg_error_from_result (const PGresult *res);

/* ---- the CsRecords handle ------------------------------------------------- */

/* Reference-counted internally: every task holds a reference, so an
 * operation still on an argon2 thread when cs_records_free() runs finds the
 * handle alive (closed) and completes with G_IO_ERROR_CANCELLED. */
struct _CsRecords {
  gatomicrefcount ref;
  gboolean closed;       /* cs_records_free() called: no new queries */
  CsRecordsConfig cfg;   /* own copy: strings owned */
  GMainContext *context;
  CsPool *pool;
  char *dummy_hash;      /* argon2 hash verified against when the email is
                          * unknown, so both paths cost the same */
};

void cs_records_unref (CsRecords *db);

/* GTask glue (task.c). Tasks carry their CsRecords; a step receives the
 * task (transfer full: it must return on it or pass it on) and a result. */
typedef void (*CsStep) (GTask *task, PGresult *res);

GTask *cs_task_new (CsRecords *db, gpointer source_tag, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data);
CsRecords *cs_task_db (GTask *task);
/* Runs one statement; on error returns it on @task, else calls @next. */
void cs_task_query (GTask *task, CsStep next, const char *sql, int n_params,
                    const char *const *params);
/* Like cs_task_query, but CS_RECORDS_ERROR failures go to @on_error (which
 * then owns the task) instead of straight back to the caller. */
typedef void (*CsStepError) (GTask *task, const GError *error);
void cs_task_query_or (GTask *task, CsStep next, CsStepError on_error, const char *sql,
                       int n_params, const char *const *params);
void cs_task_return_new_error (GTask *task, CsRecordsError code, const char *format, ...)
  G_GNUC_PRINTF (3, 4);
gboolean cs_task_finish_boolean (CsRecords *db, GAsyncResult *res, gpointer source_tag,
                                 GError **error);
gpointer cs_task_finish_pointer (CsRecords *db, GAsyncResult *res, gpointer source_tag,
                                 GError **error);

/* Result accessors: NULL / 0 / FALSE for SQL NULL. */
char *cs_pg_dup (const PGresult *res, int row, int col);
gint64 cs_pg_int64 (const PGresult *res, int row, int col);
gboolean cs_pg_bool (const PGresult *res, int row, int col);

/* Decimal text for an id parameter; 0 becomes NULL. */
#define CS_ID_PARAM_LEN 24
const char *cs_id_param (char buf[CS_ID_PARAM_LEN], gint64 id);

/* Audit record for outcomes with no data change to ride along with (failed
 * logins, denials). All strings (transfer none), nullable but action/result. */
typedef struct {
  gint64 actor_id;
  const char *actor_role;
  const char *action;
  const char *object_type;
  const char *object_id;
  gint64 patient_id;
  const char *result;
  const char *source;
  const char *detail;
} CsAuditNote;

/* Writes @note, then returns @error (transfer full) on @task. */
void cs_task_fail_audited (GTask *task, const CsAuditNote *note, GError *error);

/* ---- crypto.c --------------------------------------------------------------- */

void cs_random_bytes (guint8 *buf, gsize len);
char *cs_hex_encode (const guint8 *data, gsize len);
gboolean cs_hex_decode (const char *hex, guint8 *out, gsize len);
/* New bearer/reset token: 32 random bytes as 64 hex digits. */
char *cs_token_new (void);
/* SHA-256 of @token as 64 hex digits: what the database stores. */
char *cs_token_hash_hex (const char *token);
/* AES-256-GCM: nonce(12) || ciphertext || tag(16), as hex. @aad binds the
 * ciphertext to its row (the user id) so it cannot be moved to another. */
char *cs_secret_seal_hex (const guint8 key[32], const char *aad, const guint8 *plain,
                          gsize len);
/* Returns (transfer full) plaintext, or NULL when tampered or wrong key. */
GBytes *cs_secret_open_hex (const guint8 key[32], const char *aad, const char *hex);

/* ---- password.c: argon2id off the main loop --------------------------------- */

void cs_password_hash_async (CsRecords *db, const char *password,
                             GAsyncReadyCallback callback, gpointer user_data);
/* For a cs_password_hash_async() callback working for @task: the encoded
 * hash, or NULL once the error has been returned on @task (then unreffed). */
char *cs_password_hash_finish (GTask *task, GAsyncResult *res);
/* Succeeds with FALSE on mismatch; errors only on malformed @encoded. */
void cs_password_verify_async (CsRecords *db, const char *encoded, const char *password,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_password_verify_finish (GAsyncResult *res, gboolean *out_match, GError **error);
/* Blocking; for start-up (the dummy hash) only. */
char *cs_password_hash_sync (const CsRecordsConfig *cfg, const char *password, GError **error);

/* ---- validate.c --------------------------------------------------------------- */

gboolean cs_check_email (const char *email, GError **error);
gboolean cs_check_password (const char *password, GError **error);
gboolean cs_check_text (const char *what, const char *value, gsize max_chars, GError **error);
