/* test-migrate.c — migrations from empty, idempotent restarts, refusal of a
 * newer or altered schema, concurrent starters. */
#include "fixture.h"

#include <string.h>

static void
test_from_empty (CsTestDb *t, gconstpointer data)
{
  /* The fixture migrated an empty database; check what it left. */
  g_autofree char *n = cs_test_sql_value (t, "owner", "SELECT count(*) FROM schema_migrations",
                                          0, NULL);
  g_autofree char *max = cs_test_sql_value (t, "owner",
                                            "SELECT max(version) FROM schema_migrations", 0, NULL);
  g_assert_cmpuint (cs_records_schema_version (), >=, 2);
  g_assert_cmpint (atoi (n), ==, (int) cs_records_schema_version ());
  g_assert_cmpint (atoi (max), ==, (int) cs_records_schema_version ());
  g_autofree char *name = cs_test_sql_value (t, "owner",
                                             "SELECT name FROM schema_migrations WHERE version = 1",
                                             0, NULL);
  g_assert_cmpstr (name, ==, "0001_accounts");
}

static void
test_idempotent (CsTestDb *t, gconstpointer data)
{
  g_autofree char *before = cs_test_sql_value (
    t, "owner", "SELECT string_agg(version || checksum || applied_at, ',' ORDER BY version)"
                " FROM schema_migrations", 0, NULL);
  for (int i = 0; i < 3; i++) {
    g_autoptr (GError) error = NULL;
    guint version = 0;
    g_assert_true (cs_records_migrate_sync (t->owner_conninfo, &version, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (version, ==, cs_records_schema_version ());
  }
  g_autofree char *after = cs_test_sql_value (
    t, "owner", "SELECT string_agg(version || checksum || applied_at, ',' ORDER BY version)"
                " FROM schema_migrations", 0, NULL);
  g_assert_cmpstr (before, ==, after);
}

static void
test_newer_database_refused (CsTestDb *t, gconstpointer data)
{
  g_free (cs_test_sql_value (t, "owner",
                             "INSERT INTO schema_migrations (version, name, checksum)"
                             " VALUES (9999, '9999_from_the_future', 'x')", 0, NULL));
  g_autoptr (GError) error = NULL;
  g_assert_false (cs_records_migrate_sync (t->owner_conninfo, NULL, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_SCHEMA);
  g_test_message ("refusal: %s", error->message);
  g_assert_nonnull (strstr (error->message, "9999 (9999_from_the_future)"));
  g_autofree char *ours = g_strdup_printf ("version %u (", cs_records_schema_version ());
  g_assert_nonnull (strstr (error->message, ours));
}

static void
test_altered_migration_refused (CsTestDb *t, gconstpointer data)
{
  g_free (cs_test_sql_value (t, "owner",
                             "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
                             0, NULL));
  g_autoptr (GError) error = NULL;
  g_assert_false (cs_records_migrate_sync (t->owner_conninfo, NULL, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_SCHEMA);
  g_assert_nonnull (strstr (error->message, "0001_accounts"));
}

static gpointer
migrate_thread (gpointer conninfo)
{
  GError *error = NULL;
  gboolean ok = cs_records_migrate_sync (conninfo, NULL, &error);
  if (!ok)
    g_printerr ("concurrent migrate: %s\n", error->message);
  g_clear_error (&error);
  return GINT_TO_POINTER (ok);
}

static void
admin_run (const char *sql)
{
  g_autofree char *ci = cs_test_conninfo ("admin", "postgres");
  PGconn *pg = PQconnectdb (ci);
  PGresult *res = PQexec (pg, sql);
  g_assert_cmpint (PQresultStatus (res), ==, PGRES_COMMAND_OK);
  PQclear (res);
  PQfinish (pg);
}

static void
test_concurrent_starters (CsTestDb *t, gconstpointer data)
{
  g_autofree char *name = g_strconcat (t->dbname, "_race", NULL);
  g_autofree char *create = g_strdup_printf ("CREATE DATABASE %s OWNER consilium_owner", name);
  g_autofree char *drop = g_strdup_printf ("DROP DATABASE %s WITH (FORCE)", name);
  admin_run (create);
  g_autofree char *ci = cs_test_conninfo ("owner", name);

  GThread *threads[4];
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("migrate", migrate_thread, ci);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[i])));

  PGconn *pg = PQconnectdb (ci);
  PGresult *res = PQexec (pg, "SELECT count(*) FROM schema_migrations");
  g_assert_cmpint (atoi (PQgetvalue (res, 0, 0)), ==, (int) cs_records_schema_version ());
  PQclear (res);
  PQfinish (pg);
  admin_run (drop);
}

static void
test_app_role_cannot_migrate (CsTestDb *t, gconstpointer data)
{
  /* The app role owns nothing: it cannot alter the schema. */
  PGresult *res = cs_test_sql (t, "app", "ALTER TABLE users ADD COLUMN x int", 0, NULL);
  g_assert_cmpint (PQresultStatus (res), ==, PGRES_FATAL_ERROR);
  g_assert_cmpstr (PQresultErrorField (res, PG_DIAG_SQLSTATE), ==, "42501");
  PQclear (res);
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/migrate/from-empty", test_from_empty);
  cs_test_add ("/records/migrate/idempotent", test_idempotent);
  cs_test_add ("/records/migrate/newer-database-refused", test_newer_database_refused);
  cs_test_add ("/records/migrate/altered-migration-refused", test_altered_migration_refused);
  cs_test_add ("/records/migrate/concurrent-starters", test_concurrent_starters);
  cs_test_add ("/records/migrate/app-role-cannot-migrate", test_app_role_cannot_migrate);
  return g_test_run ();
}
