/* test-sessions.c — session expiry, idle timeout, logout, revocation. Time
 * is moved by rewriting timestamps as the owner, not by sleeping. */
#include "fixture.h"

typedef struct {
  CsTestDb *t;
  CsUser *user;
  CsSession *session;
} Ctx;

static CsSession *
validate (CsTestDb *t, const char *token, GError **error)
{
  cs_records_session_validate_async (t->db, token, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  return cs_records_session_validate_finish (t->db, r, error);
}

static void
assert_invalid (CsTestDb *t, const char *token)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CsSession) s = validate (t, token, &error);
  g_assert_null (s);
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
}

static CsSession *
login (CsTestDb *t, CsUser **out_user)
{
  *out_user = cs_test_register (t, "sam@example.org", CS_TEST_PASSWORD, "Sam");
  g_autoptr (GError) error = NULL;
  CsSession *s = cs_test_login (t, "sam@example.org", CS_TEST_PASSWORD, NULL, &error);
  g_assert_no_error (error);
  return s;
}

static void
test_validate (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = NULL;
  g_autoptr (CsSession) s = login (t, &u);
  g_autoptr (GError) error = NULL;
  g_autoptr (CsSession) v = validate (t, s->token, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->id, ==, s->id);
  g_assert_cmpint (v->user_id, ==, u->id);
  g_assert_cmpint (v->role, ==, CS_ROLE_PATIENT);
  g_assert_null (v->token);
  /* Expiry ~12 h ahead. */
  gint64 ahead = v->expires_at - g_get_real_time ();
  g_assert_cmpint (ahead, >, (gint64) 11 * 3600 * G_USEC_PER_SEC);

  assert_invalid (t, "not-a-token");
  assert_invalid (t, "0000000000000000000000000000000000000000000000000000000000000000");
}

static void
test_expiry (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = NULL;
  g_autoptr (CsSession) s = login (t, &u);
  g_free (cs_test_sql_value (t, "owner",
                             "UPDATE sessions SET expires_at = now() - interval '1 second'",
                             0, NULL));
  assert_invalid (t, s->token);
}

static void
test_idle_timeout (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = NULL;
  g_autoptr (CsSession) s = login (t, &u);
  /* 29 minutes idle: still fine, and validating refreshes the timer. */
  g_free (cs_test_sql_value (t, "owner",
                             "UPDATE sessions SET last_seen_at = now() - interval '29 minutes'",
                             0, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (CsSession) v = validate (t, s->token, &error);
  g_assert_no_error (error);
  g_autofree char *idle = cs_test_sql_value (
    t, "owner", "SELECT now() - last_seen_at < interval '1 minute' FROM sessions", 0, NULL);
  g_assert_cmpstr (idle, ==, "t");
  /* 31 minutes idle (default idle timeout 30): gone. */
  g_free (cs_test_sql_value (t, "owner",
                             "UPDATE sessions SET last_seen_at = now() - interval '31 minutes'",
                             0, NULL));
  assert_invalid (t, s->token);
}

static void
test_logout (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = NULL;
  g_autoptr (CsSession) s = login (t, &u);
  g_autoptr (GError) error = NULL;
  cs_records_logout_async (t->db, s->token, "10.1.1.1", NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_assert_true (cs_records_logout_finish (t->db, r, &error));
  assert_invalid (t, s->token);
  /* Twice: the token is no longer live. */
  cs_records_logout_async (t->db, s->token, NULL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
  g_assert_false (cs_records_logout_finish (t->db, r2, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
  g_autofree char *n = cs_test_sql_value (t, "owner",
                                          "SELECT count(*) FROM audit WHERE action = 'logout'"
                                          " AND source = '10.1.1.1'", 0, NULL);
  g_assert_cmpstr (n, ==, "1");
}

static void
test_revoke_all (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = NULL;
  g_autoptr (CsSession) s1 = login (t, &u);
  g_autoptr (CsSession) s2 = cs_test_login (t, "sam@example.org", CS_TEST_PASSWORD, NULL, NULL);
  g_autoptr (CsUser) other = cs_test_register (t, "oth@example.org", CS_TEST_PASSWORD, "Oth");
  g_autoptr (GError) error = NULL;
  guint n = 0;

  /* Another patient may not revoke Sam's sessions. */
  CsActor intruder = { .user_id = other->id, .role = CS_ROLE_PATIENT };
  cs_records_sessions_revoke_all_async (t->db, &intruder, u->id, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r0 = cs_test_wait (t);
  g_assert_false (cs_records_sessions_revoke_all_finish (t->db, r0, &n, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN);
  g_clear_error (&error);

  CsActor me = { .user_id = u->id, .role = CS_ROLE_PATIENT };
  cs_records_sessions_revoke_all_async (t->db, &me, u->id, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_assert_true (cs_records_sessions_revoke_all_finish (t->db, r, &n, &error));
  g_assert_cmpuint (n, ==, 2);
  assert_invalid (t, s1->token);
  assert_invalid (t, s2->token);
}

static void
test_disabled_user (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = NULL;
  g_autoptr (CsSession) s = login (t, &u);
  g_free (cs_test_sql_value (t, "owner", "UPDATE users SET disabled = true", 0, NULL));
  assert_invalid (t, s->token);
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/sessions/validate", test_validate);
  cs_test_add ("/records/sessions/expiry", test_expiry);
  cs_test_add ("/records/sessions/idle-timeout", test_idle_timeout);
  cs_test_add ("/records/sessions/logout", test_logout);
  cs_test_add ("/records/sessions/revoke-all", test_revoke_all);
  cs_test_add ("/records/sessions/disabled-user", test_disabled_user);
  return g_test_run ();
}
