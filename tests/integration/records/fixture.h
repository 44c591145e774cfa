/* fixture.h — a private PostgreSQL cluster per test binary (scripts/pg.sh,
 * started once, always destroyed: at exit, and from a handler on abort or
 * crash) and a fresh database per test case, migrated and opened with
 * cs_records_new(). */
#pragma once

#include "records/records.h"

#include <libpq-fe.h>

typedef struct {
  char *dbname;
  char *app_conninfo;
  char *owner_conninfo;
  CsRecordsConfig cfg;
  CsRecords *db;
  GAsyncResult *result;  /* filled by cs_test_done */
} CsTestDb;

/* g_test_init + cluster start. */
void cs_test_init (int *argc, char ***argv);
/* Adds a test case with CsTestDb setup/teardown. */
void cs_test_add (const char *path, void (*func) (CsTestDb *t, gconstpointer data));

/* Stops / restarts the cluster (outage tests). */
void cs_test_cluster_stop (void);
void cs_test_cluster_start (void);
/* libpq connection string for "admin" (superuser), "owner" or "app" on @dbname. */
char *cs_test_conninfo (const char *role, const char *dbname);

/* GAsyncReadyCallback storing the result in ((CsTestDb *) user_data)->result. */
void cs_test_done (GObject *source, GAsyncResult *res, gpointer user_data);
/* Iterates the main context until a result arrived; returns it (transfer full). */
GAsyncResult *cs_test_wait (CsTestDb *t);
/* Iterates the main context until @cond(@data) or @timeout_ms passed. */
gboolean cs_test_wait_until (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms);

/* Synchronous SQL on the test database as @role ("admin", "owner", "app");
 * returns the result whatever its status (caller checks, PQclear). */
PGresult *cs_test_sql (CsTestDb *t, const char *role, const char *sql, int n,
                       const char *const *params);
/* Same, asserting success, returning the first column of the first row. */
char *cs_test_sql_value (CsTestDb *t, const char *role, const char *sql, int n,
                         const char *const *params);

/* Shortcuts for the common calls; assert success. */
CsUser *cs_test_register (CsTestDb *t, const char *email, const char *password,
                          const char *name);
CsUser *cs_test_create_user (CsTestDb *t, const CsActor *admin, const char *email,
                             CsRole role, gint64 institution_id);
/* Creates an admin by SQL-free bootstrap: registers, then promotes as owner. */
CsUser *cs_test_bootstrap_admin (CsTestDb *t);
CsSession *cs_test_login (CsTestDb *t, const char *email, const char *password,
                          const char *code, GError **error);

/* RFC 4648 base32 (no padding) to bytes. */
GBytes *cs_test_base32_decode (const char *s);

#define CS_TEST_PASSWORD "correct horse battery staple"
