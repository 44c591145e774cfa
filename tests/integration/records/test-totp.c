/* test-totp.c — TOTP enrolment and login: secret encrypted at rest, codes
 * within ±1 step accepted, replays refused, wrong codes count as failures. */
#include "fixture.h"
#include "records/totp.h"

#include <string.h>

static char *
code_at (GBytes *key, gint64 unix_time)
{
  gsize len;
  const guint8 *k = g_bytes_get_data (key, &len);
  return g_strdup_printf ("%06u", cs_totp_hotp (k, len, cs_totp_step (unix_time), 6));
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static GBytes *
enrol (CsTestDb *t, const CsActor *me)
{
  g_autoptr (GError) error = NULL;
  cs_records_totp_begin_async (t->db, me, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_autoptr (CsTotpSetup) setup = cs_records_totp_begin_finish (t->db, r, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (setup->uri, "otpauth://totp/Consilium:"));
  g_assert_nonnull (strstr (setup->uri, setup->secret_base32));
  GBytes *key = cs_test_base32_decode (setup->secret_base32);
  g_assert_cmpuint (g_bytes_get_size (key), ==, CS_TOTP_SECRET_LEN);

  /* At rest it is AES-GCM output, not the secret. */
  g_autofree char *stored = cs_test_sql_value (t, "owner",
                                               "SELECT encode(totp_pending, 'hex') FROM users"
                                               " WHERE totp_pending IS NOT NULL", 0, NULL);
  g_assert_cmpuint (strlen (stored), ==, 2 * (12 + CS_TOTP_SECRET_LEN + 16));

  /* A wrong code does not enable TOTP. */
  cs_records_totp_confirm_async (t->db, me, "000000", NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r1 = cs_test_wait (t);
  g_autofree char *real = code_at (key, now_s ());
  if (strcmp (real, "000000") != 0) {
    g_assert_false (cs_records_totp_confirm_finish (t->db, r1, &error));
    g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
    g_clear_error (&error);
  }
  cs_records_totp_confirm_async (t->db, me, real, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
  g_assert_true (cs_records_totp_confirm_finish (t->db, r2, &error));
  g_assert_no_error (error);
  return key;
}

static void
test_enrol_and_login (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) admin = cs_test_bootstrap_admin (t);
  CsActor as_admin = { .user_id = admin->id, .role = CS_ROLE_ADMIN };
  g_autoptr (CsUser) doc = cs_test_create_user (t, &as_admin, "doc@example.org", CS_ROLE_DOCTOR, 0);
  CsActor me = { .user_id = doc->id, .role = CS_ROLE_DOCTOR };
  g_autoptr (GBytes) key = enrol (t, &me);

  /* Password alone is not enough now. */
  g_autoptr (GError) e1 = NULL;
  g_assert_null (cs_test_login (t, "doc@example.org", CS_TEST_PASSWORD, NULL, &e1));
  g_assert_error (e1, CS_RECORDS_ERROR, CS_RECORDS_ERROR_TOTP_REQUIRED);

  /* The step used to confirm is spent; the next one (within ±1) works. */
  g_autofree char *next = code_at (key, now_s () + CS_TOTP_STEP_SECONDS);
  g_autoptr (GError) e2 = NULL;
  g_autoptr (CsSession) s = cs_test_login (t, "doc@example.org", CS_TEST_PASSWORD, next, &e2);
  g_assert_no_error (e2);
  g_assert_false (s->totp_setup_required);

  /* Replaying it is refused, as is the older code. */
  g_autoptr (GError) e3 = NULL, e4 = NULL;
  g_assert_null (cs_test_login (t, "doc@example.org", CS_TEST_PASSWORD, next, &e3));
  g_assert_error (e3, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
  g_autofree char *older = code_at (key, now_s ());
  g_assert_null (cs_test_login (t, "doc@example.org", CS_TEST_PASSWORD, older, &e4));
  g_assert_error (e4, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);

  /* Far-off codes are refused. */
  g_autoptr (GError) e5 = NULL;
  g_autofree char *far = code_at (key, now_s () + 10 * CS_TOTP_STEP_SECONDS);
  g_assert_null (cs_test_login (t, "doc@example.org", CS_TEST_PASSWORD, far, &e5));
  g_assert_nonnull (e5);
}

static void
test_wrong_codes_lock_out (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "pat@example.org", CS_TEST_PASSWORD, "Pat");
  CsActor me = { .user_id = u->id, .role = CS_ROLE_PATIENT };
  g_autoptr (GBytes) key = enrol (t, &me);
  g_autofree char *real = code_at (key, now_s () + CS_TOTP_STEP_SECONDS);
  /* A code certainly different from every code in the window. */
  const char *wrong = "12345x";
  for (int i = 0; i < 3; i++) {
    g_autoptr (GError) error = NULL;
    g_assert_null (cs_test_login (t, "pat@example.org", CS_TEST_PASSWORD, wrong, &error));
  }
  g_autoptr (GError) error = NULL;
  g_assert_null (cs_test_login (t, "pat@example.org", CS_TEST_PASSWORD, real, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_LOCKED);
}

static void
test_no_reenrol_when_enabled (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "q@example.org", CS_TEST_PASSWORD, "Q");
  CsActor me = { .user_id = u->id, .role = CS_ROLE_PATIENT };
  g_autoptr (GBytes) key = enrol (t, &me);
  g_autoptr (GError) error = NULL;
  cs_records_totp_begin_async (t->db, &me, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_assert_null (cs_records_totp_begin_finish (t->db, r, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN);
}

static void
test_secret_bound_to_user (CsTestDb *t, gconstpointer data)
{
  /* Copying one user's sealed secret onto another must not work: the
   * user id is the AEAD's associated data. */
  g_autoptr (CsUser) a = cs_test_register (t, "a@example.org", CS_TEST_PASSWORD, "A");
  g_autoptr (CsUser) b = cs_test_register (t, "b@example.org", CS_TEST_PASSWORD, "B");
  CsActor me = { .user_id = a->id, .role = CS_ROLE_PATIENT };
  g_autoptr (GBytes) key = enrol (t, &me);
  char ida[24], idb[24];
  g_snprintf (ida, sizeof ida, "%" G_GINT64_FORMAT, a->id);
  g_snprintf (idb, sizeof idb, "%" G_GINT64_FORMAT, b->id);
  const char *params[] = { ida, idb };
  g_free (cs_test_sql_value (t, "owner",
                             "UPDATE users SET totp_secret = (SELECT totp_secret FROM users"
                             " WHERE id = $1) WHERE id = $2", 2, params));
  g_autofree char *code = code_at (key, now_s () + CS_TOTP_STEP_SECONDS);
  g_autoptr (GError) error = NULL;
  g_test_expect_message ("cs-records", G_LOG_LEVEL_WARNING, "*cannot be decrypted*");
  g_assert_null (cs_test_login (t, "b@example.org", CS_TEST_PASSWORD, code, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FAILED);
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/totp/enrol-and-login", test_enrol_and_login);
  cs_test_add ("/records/totp/wrong-codes-lock-out", test_wrong_codes_lock_out);
  cs_test_add ("/records/totp/no-reenrol-when-enabled", test_no_reenrol_when_enabled);
  cs_test_add ("/records/totp/secret-bound-to-user", test_secret_bound_to_user);
  return g_test_run ();
}
