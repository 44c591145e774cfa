/* migrate.c — schema migrations, embedded at build time (GResource from
 * records/migrations/NNNN_name.sql) and applied at start-up.
 *
 * Each migration runs in its own transaction and is recorded in
 * schema_migrations with the SHA-256 of its text, so a migration edited
 * after release is caught rather than silently skipped. Concurrent starters
 * are serialized by a session advisory lock. A database that is newer than
 * the binary is refused: running old code on a new schema is how data gets
 * corrupted quietly.
 *
 * Blocking libpq is fine here: this runs once, before the main loop. The
 * migration bodies are multi-statement scripts from our own binary, which
 * is the one place PQexec (no parameters) is used; everything else goes
 * through PQexecParams / PQsendQueryParams. */
#include "records/records-private.h"
#include "migrations-resource.h"  /* generated */

#include <stdlib.h>
#include <string.h>

#define MIGRATIONS_PATH "/org/consilium/records/migrations"
/* 'csmigrat' as a bigint */
#define MIGRATION_LOCK_KEY "7166191731551134068"

typedef struct {
  guint version;
  char *name;      /* "0001_accounts" */
  GBytes *sql;
  char *checksum;  /* SHA-256 hex of the file */
} Migration;

static void
migration_free (Migration *m)
{
  g_free (m->name);
  g_bytes_unref (m->sql);
  g_free (m->checksum);
  g_free (m);
}

static gint
migration_cmp (gconstpointer a, gconstpointer b)
{
  const Migration *x = *(Migration *const *) a, *y = *(Migration *const *) b;
  return x->version < y->version ? -1 : x->version > y->version;
}

/* The embedded migrations, ordered; versions must run 1, 2, 3, ... */
static GPtrArray *
load_embedded (GError **error)
{
  static gsize registered;
  /* Registration creates the GResource; once per process. */
  if (g_once_init_enter (&registered)) {
    cs_records_migrations_register_resource ();
    g_once_init_leave (&registered, 1);
  }
  GResource *res = cs_records_migrations_get_resource ();
  g_auto (GStrv) names = g_resource_enumerate_children (res, MIGRATIONS_PATH, 0, error);
  if (!names)
    return NULL;

  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) migration_free);
  for (char **n = names; *n; n++) {
    if (!g_str_has_suffix (*n, ".sql"))
      continue;
    char *end = NULL;
    guint64 v = g_ascii_strtoull (*n, &end, 10);
    if (end != *n + 4 || *end != '_' || v == 0) {
      g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FAILED,
                   "embedded migration '%s' is not named NNNN_name.sql", *n);
      return NULL;
    }
    g_autofree char *path = g_strconcat (MIGRATIONS_PATH "/", *n, NULL);
    Migration *m = g_new0 (Migration, 1);
    m->version = (guint) v;
    m->name = g_strndup (*n, strlen (*n) - 4);
    m->sql = g_resource_lookup_data (res, path, 0, error);
    g_ptr_array_add (list, m);
    if (!m->sql)
      return NULL;
    m->checksum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, m->sql);
  }
  g_ptr_array_sort (list, migration_cmp);
  for (guint i = 0; i < list->len; i++) {
    Migration *m = list->pdata[i];
    if (m->version != i + 1) {
      g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FAILED,
                   "embedded migrations are not numbered 1..N (found %s)", m->name);
      return NULL;
    }
  }
  return g_steal_pointer (&list);
}

guint
cs_records_schema_version (void)
{
  g_autoptr (GPtrArray) list = load_embedded (NULL);
  return list ? list->len : 0;
}

static void
quiet_notice (void *arg, const char *message)
{
  g_debug ("postgres: %s", message);
}

/* Runs one parameterized statement; returns the result or sets @error. */
static PGresult *
exec (PGconn *pg, const char *sql, int n, const char *const *params, GError **error)
{
  PGresult *res = PQexecParams (pg, sql, n, NULL, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus (res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    g_propagate_error (error, cs_pg_error_from_result (res));
    PQclear (res);
    return NULL;
  }
  return res;
}

static gboolean
exec_ok (PGconn *pg, const char *sql, int n, const char *const *params, GError **error)
{
  PGresult *res = exec (pg, sql, n, params, error);
  PQclear (res);
  return res != NULL;
}

static gboolean
apply (PGconn *pg, const Migration *m, GError **error)
{
  GError *local = NULL;
  gsize len;
  const char *body = g_bytes_get_data (m->sql, &len);
  g_autofree char *sql = g_strndup (body, len);
  char version[16];
  g_snprintf (version, sizeof version, "%u", m->version);
  const char *params[] = { version, m->name, m->checksum };

  if (!exec_ok (pg, "BEGIN", 0, NULL, error))
    return FALSE;
  PGresult *res = PQexec (pg, sql);
  if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
    local = cs_pg_error_from_result (res);
  PQclear (res);
  if (!local)
    exec_ok (pg, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
             3, params, &local);
  if (!local && exec_ok (pg, "COMMIT", 0, NULL, &local))
    return TRUE;

  PQclear (PQexecParams (pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
  g_set_error (error, CS_RECORDS_ERROR,
               local->code == CS_RECORDS_ERROR_UNAVAILABLE ? CS_RECORDS_ERROR_UNAVAILABLE
                                                           : CS_RECORDS_ERROR_SCHEMA,
               "migration %s failed: %s", m->name, local->message);
  g_error_free (local);
  return FALSE;
}

/* Compares what the database has applied with what we embed. */
static gboolean
check_applied (PGresult *res, GPtrArray *list, guint *out_applied, GError **error)
{
  guint applied = 0;
  const Migration *last = list->len ? list->pdata[list->len - 1] : NULL;
  for (int i = 0; i < PQntuples (res); i++) {
    guint v = (guint) cs_pg_int64 (res, i, 0);
    const char *name = PQgetvalue (res, i, 1), *sum = PQgetvalue (res, i, 2);
    if (v > list->len) {
      g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_SCHEMA,
                   "database schema is at version %u (%s) but this consiliumd only knows "
                   "up to version %u (%s): upgrade consiliumd, do not downgrade the database",
                   (guint) cs_pg_int64 (res, PQntuples (res) - 1, 0),
                   PQgetvalue (res, PQntuples (res) - 1, 1), list->len,
                   last ? last->name : "none");
      return FALSE;
    }
    const Migration *m = list->pdata[v - 1];
    if (strcmp (m->name, name) != 0 || strcmp (m->checksum, sum) != 0) {
      g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_SCHEMA,
                   "migration %u was applied as %s (sha256 %.12s) but this binary has %s "
                   "(sha256 %.12s): released migrations must never change",
                   v, name, sum, m->name, m->checksum);
      return FALSE;
    }
    applied = MAX (applied, v);
  }
  *out_applied = applied;
  return TRUE;
}

static gboolean
migrate_locked (PGconn *pg, GPtrArray *list, guint *out_version, GError **error)
{
  if (!exec_ok (pg,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY,"
                " name text NOT NULL,"
                " checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                0, NULL, error))
    return FALSE;
  PGresult *res = exec (pg, "SELECT version, name, checksum FROM schema_migrations"
                            " ORDER BY version", 0, NULL, error);
  if (!res)
    return FALSE;
  guint applied = 0;
  gboolean ok = check_applied (res, list, &applied, error);
  PQclear (res);
  if (!ok)
    return FALSE;

  for (guint i = applied; i < list->len; i++) {
    const Migration *m = list->pdata[i];
    if (!apply (pg, m, error))
      return FALSE;
    g_message ("database migrated to %s", m->name);
  }
  if (out_version)
    *out_version = list->len;
  return TRUE;
}

gboolean
cs_records_migrate_sync (const char *owner_conninfo, guint *out_version, GError **error)
{
  g_return_val_if_fail (owner_conninfo != NULL, FALSE);

  g_autoptr (GPtrArray) list = load_embedded (error);
  if (!list)
    return FALSE;

  PGconn *pg = PQconnectdb (owner_conninfo);
  if (PQstatus (pg) != CONNECTION_OK) {
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_UNAVAILABLE,
                 "cannot connect to migrate the database: %s", PQerrorMessage (pg));
    PQfinish (pg);
    return FALSE;
  }
  PQsetNoticeProcessor (pg, quiet_notice, NULL);

  const char *key[] = { MIGRATION_LOCK_KEY };
  gboolean ok = exec_ok (pg, "SELECT pg_advisory_lock($1::bigint)", 1, key, error);
  if (ok) {
    ok = migrate_locked (pg, list, out_version, error);
    /* Also released by PQfinish; unlocking says we are done on purpose. */
    PQclear (PQexecParams (pg, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, key, NULL,
                           NULL, 0));
  }
  PQfinish (pg);
  return ok;
}
