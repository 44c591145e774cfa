/* fixture.c — see fixture.h. */
#include "fixture.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Test-binary state: one cluster per process. */
static struct {
  char *dir;        /* cluster folder (inside a private temp dir) */
  char *parent;
  char *pg_sh;
  char *argv_destroy[5];  /* NULL-terminated */
  guint n_dbs;
  gboolean running;
} cluster;

static gboolean
pg_sh (const char *cmd)
{
  g_autofree char *out = NULL;  /* keep pg.sh's output off the TAP stream */
  const char *argv[] = { "/bin/bash", cluster.pg_sh, cmd, cluster.dir, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_auto (GStrv) envp = g_get_environ ();
  envp = g_environ_setenv (envp, "CS_PG_FAST", "1", TRUE);
  if (!g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error)) {
    g_printerr ("pg.sh %s: %s\n", cmd, error->message);
    return FALSE;
  }
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_printerr ("pg.sh %s failed:\n%s\n", cmd, err);
    return FALSE;
  }
  return TRUE;
}

static void
cluster_destroy (void)
{
  if (!cluster.dir)
    return;
  pg_sh ("destroy");
  g_rmdir (cluster.parent);
  g_clear_pointer (&cluster.dir, g_free);
}

/* On abort (a failed g_assert) or a crash atexit() does not run: stop the
 * cluster from here with async-signal-safe calls only, then die as asked. */
static void
on_fatal_signal (int sig)
{
  static const char msg[] = "# fixture: fatal signal, destroying the test cluster\n";
  ssize_t unused = write (STDERR_FILENO, msg, sizeof msg - 1);
  (void) unused;
  pid_t pid = fork ();
  if (pid == 0) {
    execv ("/bin/bash", cluster.argv_destroy);
    _exit (127);
  }
  while (pid > 0 && waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  rmdir (cluster.parent);
  signal (sig, SIG_DFL);
  raise (sig);
}

void
cs_test_cluster_start (void)
{
  g_assert_true (pg_sh ("start"));
  cluster.running = TRUE;
}

void
cs_test_cluster_stop (void)
{
  g_assert_true (pg_sh ("stop"));
  cluster.running = FALSE;
}

void
cs_test_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);
  const char *src = g_getenv ("CS_SOURCE_DIR");
  g_assert_nonnull (src);
  cluster.pg_sh = g_build_filename (src, "scripts", "pg.sh", NULL);
  g_autoptr (GError) error = NULL;
  cluster.parent = g_dir_make_tmp ("cs-records-test-XXXXXX", &error);
  g_assert_no_error (error);
  /* pg.sh drops to the 'consilium' user when we are root: let it through. */
  g_chmod (cluster.parent, 0711);
  cluster.dir = g_build_filename (cluster.parent, "pg", NULL);
  cluster.argv_destroy[0] = "/bin/bash";
  cluster.argv_destroy[1] = cluster.pg_sh;
  cluster.argv_destroy[2] = "destroy";
  cluster.argv_destroy[3] = cluster.dir;
  cluster.argv_destroy[4] = NULL;

  /* An inherited SIG_IGN would make waitpid() fail and the clean-up race
   * with our exit. */
  signal (SIGCHLD, SIG_DFL);
  atexit (cluster_destroy);
  int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGTERM, SIGINT, SIGTRAP };
  for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
    signal (sigs[i], on_fatal_signal);
  cs_test_cluster_start ();
}

char *
cs_test_conninfo (const char *role, const char *dbname)
{
  const char *user = strcmp (role, "admin") == 0   ? "postgres"
                     : strcmp (role, "owner") == 0 ? "consilium_owner"
                                                   : "consilium_app";
  g_autofree char *quoted_dir = g_strescape (cluster.dir, NULL);
  return g_strdup_printf ("host='%s' port=5432 dbname='%s' user=%s", quoted_dir, dbname, user);
}

static PGconn *
connect_as (const char *role, const char *dbname)
{
  g_autofree char *ci = cs_test_conninfo (role, dbname);
  PGconn *pg = PQconnectdb (ci);
  if (PQstatus (pg) != CONNECTION_OK)
    g_error ("connect %s: %s", ci, PQerrorMessage (pg));
  return pg;
}

static void
admin_exec (const char *sql)
{
  PGconn *pg = connect_as ("admin", "postgres");
  PGresult *res = PQexec (pg, sql);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    g_error ("%s: %s", sql, PQresultErrorMessage (res));
  PQclear (res);
  PQfinish (pg);
}

static gboolean
is_available (gpointer db)
{
  return cs_records_is_available (db);
}

static void
db_setup (CsTestDb *t, gconstpointer data)
{
  t->dbname = g_strdup_printf ("cs_test_%d_%u", (int) getpid (), ++cluster.n_dbs);
  /* Test-generated identifiers: the one place SQL is assembled as text. */
  g_autofree char *sql = g_strdup_printf ("CREATE DATABASE %s OWNER consilium_owner;", t->dbname);
  admin_exec (sql);
  g_free (sql);
  sql = g_strdup_printf ("GRANT CONNECT ON DATABASE %s TO consilium_app;", t->dbname);
  admin_exec (sql);

  t->app_conninfo = cs_test_conninfo ("app", t->dbname);
  t->owner_conninfo = cs_test_conninfo ("owner", t->dbname);
  g_autoptr (GError) error = NULL;
  g_assert_true (cs_records_migrate_sync (t->owner_conninfo, NULL, &error));
  g_assert_no_error (error);

  cs_records_config_init (&t->cfg);
  t->cfg.conninfo = g_strdup (t->app_conninfo);
  t->cfg.owner_conninfo = g_strdup (t->owner_conninfo);
  t->cfg.pool_size = 3;
  for (gsize i = 0; i < sizeof t->cfg.totp_key; i++)
    t->cfg.totp_key[i] = (guint8) (i * 7 + 1);
  /* Cheap hashes keep the suite fast; test-accounts checks the defaults. */
  t->cfg.argon2_t_cost = 1;
  t->cfg.argon2_m_cost_kib = 1024;
  t->cfg.max_failed_logins = 3;
  t->cfg.lockout_seconds = 600;
  t->db = cs_records_new (&t->cfg, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (cs_test_wait_until (is_available, t->db, 10000));
}

static void
db_teardown (CsTestDb *t, gconstpointer data)
{
  cs_records_free (t->db);
  /* Let cancelled callbacks run before the database goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&t->result);
  if (cluster.running) {
    g_autofree char *sql = g_strdup_printf ("DROP DATABASE %s WITH (FORCE);", t->dbname);
    admin_exec (sql);
  }
  cs_records_config_clear (&t->cfg);
  g_free (t->dbname);
  g_free (t->app_conninfo);
  g_free (t->owner_conninfo);
}

void
cs_test_add (const char *path, void (*func) (CsTestDb *t, gconstpointer data))
{
  g_test_add (path, CsTestDb, NULL, db_setup, func, db_teardown);
}

void
cs_test_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsTestDb *t = user_data;
  g_assert_null (t->result);
  t->result = g_object_ref (res);
}

GAsyncResult *
cs_test_wait (CsTestDb *t)
{
  while (!t->result)
    g_main_context_iteration (NULL, TRUE);
  return g_steal_pointer (&t->result);
}

static gboolean
on_timeout (gpointer flag)
{
  *(gboolean *) flag = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
cs_test_wait_until (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (timeout_ms, on_timeout, &expired);
  while (!cond (data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  return cond (data);
}

PGresult *
cs_test_sql (CsTestDb *t, const char *role, const char *sql, int n, const char *const *params)
{
  PGconn *pg = connect_as (role, t->dbname);
  PGresult *res = PQexecParams (pg, sql, n, NULL, params, NULL, NULL, 0);
  PQfinish (pg);
  return res;
}

char *
cs_test_sql_value (CsTestDb *t, const char *role, const char *sql, int n,
                   const char *const *params)
{
  PGresult *res = cs_test_sql (t, role, sql, n, params);
  ExecStatusType st = PQresultStatus (res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
    g_error ("%s: %s", sql, PQresultErrorMessage (res));
  char *v = PQntuples (res) > 0 && !PQgetisnull (res, 0, 0) ? g_strdup (PQgetvalue (res, 0, 0))
                                                             : NULL;
  PQclear (res);
  return v;
}

CsUser *
cs_test_register (CsTestDb *t, const char *email, const char *password, const char *name)
{
  CsNewUser nu = { .email = email, .password = password, .display_name = name };
  g_autoptr (GError) error = NULL;
  cs_records_register_patient_async (t->db, &nu, "127.0.0.1", NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  CsUser *u = cs_records_register_patient_finish (t->db, r, &error);
  g_assert_no_error (error);
  return u;
}

CsUser *
cs_test_create_user (CsTestDb *t, const CsActor *admin, const char *email, CsRole role,
                     gint64 institution_id)
{
  CsNewUser nu = { .email = email, .password = CS_TEST_PASSWORD, .display_name = email,
                   .role = role, .institution_id = institution_id };
  g_autoptr (GError) error = NULL;
  cs_records_create_user_async (t->db, admin, &nu, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  CsUser *u = cs_records_create_user_finish (t->db, r, &error);
  g_assert_no_error (error);
  return u;
}

CsUser *
cs_test_bootstrap_admin (CsTestDb *t)
{
  CsUser *u = cs_test_register (t, "root@example.org", CS_TEST_PASSWORD, "Root");
  char id[24];
  g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, u->id);
  const char *params[] = { id };
  g_free (cs_test_sql_value (t, "owner", "UPDATE users SET role = 'admin' WHERE id = $1", 1,
                             params));
  u->role = CS_ROLE_ADMIN;
  return u;
}

CsSession *
cs_test_login (CsTestDb *t, const char *email, const char *password, const char *code,
               GError **error)
{
  cs_records_login_async (t->db, email, password, code, "192.0.2.1", NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  return cs_records_login_finish (t->db, r, error);
}

GBytes *
cs_test_base32_decode (const char *s)
{
  GByteArray *out = g_byte_array_new ();
  guint32 buffer = 0;
  int bits = 0;
  for (const char *p = s; *p; p++) {
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const char *pos = strchr (alphabet, *p);
    g_assert_nonnull (pos);
    buffer = buffer << 5 | (guint32) (pos - alphabet);
    bits += 5;
    if (bits >= 8) {
      guint8 b = (guint8) (buffer >> (bits - 8));
      g_byte_array_append (out, &b, 1);
      bits -= 8;
    }
  }
  return g_byte_array_free_to_bytes (out);
}
