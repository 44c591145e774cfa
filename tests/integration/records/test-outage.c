/* test-outage.c — PostgreSQL goes away: calls fail fast with UNAVAILABLE
 * (the REST layer's 503); it comes back: the pool reconnects by itself. */
#include "fixture.h"

static void
get_user (CsTestDb *t, gint64 id, GError **error)
{
  cs_records_user_get_async (t->db, id, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_autoptr (CsUser) u = cs_records_user_get_finish (t->db, r, error);
}

static gboolean
is_down (gpointer db)
{
  return !cs_records_is_available (db);
}

static gboolean
is_up (gpointer db)
{
  return cs_records_is_available (db);
}

static void
test_outage_and_recovery (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "up@example.org", CS_TEST_PASSWORD, "Up");
  g_autoptr (GError) error = NULL;
  get_user (t, u->id, &error);
  g_assert_no_error (error);

  /* The pool logs the outage once per connection. */
  g_test_expect_message ("cs-records", G_LOG_LEVEL_WARNING, "database connection * down*");
  g_test_expect_message ("cs-records", G_LOG_LEVEL_WARNING, "database connection * down*");
  g_test_expect_message ("cs-records", G_LOG_LEVEL_WARNING, "database connection * down*");
  cs_test_cluster_stop ();
  g_assert_true (cs_test_wait_until (is_down, t->db, 10000));

  /* Fails fast: well under a second, with the error the HTTP layer maps to 503. */
  for (int i = 0; i < 5; i++) {
    gint64 start = g_get_monotonic_time ();
    get_user (t, u->id, &error);
    g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_UNAVAILABLE);
    g_clear_error (&error);
    g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  }
  g_assert_null (cs_test_login (t, "up@example.org", CS_TEST_PASSWORD, NULL, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  g_test_assert_expected_messages ();

  cs_test_cluster_start ();
  /* Backoff tops out at 5 s. */
  g_assert_true (cs_test_wait_until (is_up, t->db, 15000));
  get_user (t, u->id, &error);
  g_assert_no_error (error);
  g_autoptr (CsSession) s = cs_test_login (t, "up@example.org", CS_TEST_PASSWORD, NULL, &error);
  g_assert_no_error (error);
}

static void
test_never_up (CsTestDb *t, gconstpointer data)
{
  /* A pool pointed at nothing never blocks and always says UNAVAILABLE. */
  CsRecordsConfig cfg = t->cfg;
  cfg.conninfo = (char *) "host=/nonexistent/socket/dir dbname=x user=y";
  cfg.owner_conninfo = NULL;
  g_autoptr (GError) error = NULL;
  g_test_expect_message ("cs-records", G_LOG_LEVEL_WARNING, "*down*");
  g_test_expect_message ("cs-records", G_LOG_LEVEL_WARNING, "*down*");
  g_test_expect_message ("cs-records", G_LOG_LEVEL_WARNING, "*down*");
  g_autoptr (CsRecords) db = cs_records_new (&cfg, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (cs_test_wait_until (is_down, db, 5000));
  cs_records_user_get_async (db, 1, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_autoptr (CsUser) u = cs_records_user_get_finish (db, r, &error);
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_UNAVAILABLE);
  g_test_assert_expected_messages ();
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/outage/fail-fast-and-recover", test_outage_and_recovery);
  cs_test_add ("/records/outage/never-up", test_never_up);
  return g_test_run ();
}
