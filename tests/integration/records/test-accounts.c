/* test-accounts.c — registration, argon2id login, lockout, password change
 * and reset, staff accounts created by admins only. */
#include "fixture.h"

#include <string.h>

static void
test_register_and_login (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "ann@example.org", CS_TEST_PASSWORD, "Ann");
  g_assert_cmpint (u->role, ==, CS_ROLE_PATIENT);
  g_assert_cmpint (u->institution_id, ==, 0);

  /* Stored as argon2id in PHC form with the configured cost. */
  char id[24];
  g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, u->id);
  const char *params[] = { id };
  g_autofree char *hash = cs_test_sql_value (t, "owner",
                                             "SELECT password_hash FROM users WHERE id = $1",
                                             1, params);
  g_assert_true (g_str_has_prefix (hash, "$argon2id$v=19$m=1024,t=1,p=1$"));

  g_autoptr (GError) error = NULL;
  g_autoptr (CsSession) s = cs_test_login (t, "ANN@example.org", CS_TEST_PASSWORD, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->user_id, ==, u->id);
  g_assert_cmpint (strlen (s->token), ==, 64);
  g_assert_false (s->totp_setup_required);

  /* Only the token's SHA-256 is in the database. */
  const char *tp[] = { s->token };
  g_autofree char *n = cs_test_sql_value (
    t, "owner", "SELECT count(*) FROM sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))"
                " AND position(convert_to($1, 'UTF8') IN token_hash) = 0", 1, tp);
  g_assert_cmpstr (n, ==, "1");

  /* Duplicate email (any case) is refused. */
  CsNewUser dup = { .email = "Ann@Example.org", .password = CS_TEST_PASSWORD,
                    .display_name = "Other" };
  cs_records_register_patient_async (t->db, &dup, NULL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_assert_null (cs_records_register_patient_finish (t->db, r, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_EXISTS);
}

static void
test_bad_input (CsTestDb *t, gconstpointer data)
{
  const CsNewUser bad[] = {
    { .email = "no-at-sign", .password = CS_TEST_PASSWORD, .display_name = "x" },
    { .email = "a@b.c", .password = "short", .display_name = "x" },
    { .email = "a@b.c", .password = CS_TEST_PASSWORD, .display_name = "" },
    { .email = "a@b.c", .password = CS_TEST_PASSWORD, .display_name = "tab\there" },
    { .email = "a@b.c", .password = CS_TEST_PASSWORD, .display_name = "\xff\xfe" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    cs_records_register_patient_async (t->db, &bad[i], NULL, NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r = cs_test_wait (t);
    g_assert_null (cs_records_register_patient_finish (t->db, r, &error));
    g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID);
  }
}

static void
test_wrong_password_and_unknown_email (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "bob@example.org", CS_TEST_PASSWORD, "Bob");
  g_autoptr (GError) e1 = NULL, e2 = NULL;
  g_assert_null (cs_test_login (t, "bob@example.org", "wrong password!", NULL, &e1));
  g_assert_error (e1, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
  g_assert_null (cs_test_login (t, "nobody@example.org", CS_TEST_PASSWORD, NULL, &e2));
  g_assert_error (e2, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
  /* Same message for both: nothing to tell accounts apart. */
  g_assert_cmpstr (e1->message, ==, e2->message);
  /* Both audited as failed logins. */
  g_autofree char *n = cs_test_sql_value (
    t, "owner", "SELECT count(*) FROM audit WHERE action = 'login' AND result = 'failed'", 0, NULL);
  g_assert_cmpstr (n, ==, "2");
}

static void
test_lockout (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "cat@example.org", CS_TEST_PASSWORD, "Cat");
  /* max_failed_logins = 3 in the fixture. */
  for (int i = 0; i < 3; i++) {
    g_autoptr (GError) error = NULL;
    g_assert_null (cs_test_login (t, "cat@example.org", "not the password", NULL, &error));
    g_assert_true (error->code == CS_RECORDS_ERROR_AUTH || (i == 2 && error->code == CS_RECORDS_ERROR_LOCKED));
  }
  /* Now even the right password is refused. */
  g_autoptr (GError) error = NULL;
  g_assert_null (cs_test_login (t, "cat@example.org", CS_TEST_PASSWORD, NULL, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_LOCKED);

  /* Once the lock expires, the right password works and resets the count. */
  char id[24];
  g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, u->id);
  const char *params[] = { id };
  g_free (cs_test_sql_value (t, "owner",
                             "UPDATE users SET locked_until = now() - interval '1 second'"
                             " WHERE id = $1", 1, params));
  g_autoptr (GError) error2 = NULL;
  g_autoptr (CsSession) s = cs_test_login (t, "cat@example.org", CS_TEST_PASSWORD, NULL, &error2);
  g_assert_no_error (error2);
  g_autofree char *failed = cs_test_sql_value (t, "owner",
                                               "SELECT failed_logins FROM users WHERE id = $1",
                                               1, params);
  g_assert_cmpstr (failed, ==, "0");
}

static gboolean
session_valid (CsTestDb *t, const char *token)
{
  g_autoptr (GError) error = NULL;
  cs_records_session_validate_async (t->db, token, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_autoptr (CsSession) s = cs_records_session_validate_finish (t->db, r, &error);
  if (!s)
    g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
  return s != NULL;
}

static void
test_password_change_revokes_sessions (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "dan@example.org", CS_TEST_PASSWORD, "Dan");
  g_autoptr (CsSession) s1 = cs_test_login (t, "dan@example.org", CS_TEST_PASSWORD, NULL, NULL);
  g_autoptr (CsSession) s2 = cs_test_login (t, "dan@example.org", CS_TEST_PASSWORD, NULL, NULL);
  g_assert_true (session_valid (t, s1->token));
  CsActor me = { .user_id = u->id, .role = CS_ROLE_PATIENT, .source = "10.0.0.1" };

  g_autoptr (GError) error = NULL;
  cs_records_password_change_async (t->db, &me, "wrong old password", "a brand new password",
                                    NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r1 = cs_test_wait (t);
  g_assert_false (cs_records_password_change_finish (t->db, r1, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
  g_assert_true (session_valid (t, s1->token));

  cs_records_password_change_async (t->db, &me, CS_TEST_PASSWORD, "a brand new password", NULL,
                                    cs_test_done, t);
  g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
  g_autoptr (GError) error2 = NULL;
  g_assert_true (cs_records_password_change_finish (t->db, r2, &error2));
  g_assert_no_error (error2);
  g_assert_false (session_valid (t, s1->token));
  g_assert_false (session_valid (t, s2->token));

  g_autoptr (GError) e3 = NULL, e4 = NULL;
  g_assert_null (cs_test_login (t, "dan@example.org", CS_TEST_PASSWORD, NULL, &e3));
  g_autoptr (CsSession) s3 = cs_test_login (t, "dan@example.org", "a brand new password", NULL,
                                            &e4);
  g_assert_no_error (e4);
}

static void
test_reset_token_single_use (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) u = cs_test_register (t, "eve@example.org", CS_TEST_PASSWORD, "Eve");
  g_autoptr (CsSession) s = cs_test_login (t, "eve@example.org", CS_TEST_PASSWORD, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL, *none = NULL;

  /* Unknown email: success, no token. */
  cs_records_password_reset_request_async (t->db, "ghost@example.org", NULL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r0 = cs_test_wait (t);
  g_assert_true (cs_records_password_reset_request_finish (t->db, r0, &none, &error));
  g_assert_null (none);

  cs_records_password_reset_request_async (t->db, "eve@example.org", NULL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r1 = cs_test_wait (t);
  g_assert_true (cs_records_password_reset_request_finish (t->db, r1, &token, &error));
  g_assert_nonnull (token);

  cs_records_password_reset_async (t->db, token, "reset password one", NULL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
  g_assert_true (cs_records_password_reset_finish (t->db, r2, &error));
  g_assert_no_error (error);
  g_assert_false (session_valid (t, s->token));

  /* Spent. */
  cs_records_password_reset_async (t->db, token, "reset password two", NULL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r3 = cs_test_wait (t);
  g_assert_false (cs_records_password_reset_finish (t->db, r3, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
  g_clear_error (&error);
  g_autoptr (CsSession) s2 = cs_test_login (t, "eve@example.org", "reset password one", NULL,
                                            &error);
  g_assert_no_error (error);

  /* Expired tokens do not work either. */
  g_autofree char *token2 = NULL;
  cs_records_password_reset_request_async (t->db, "eve@example.org", NULL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r4 = cs_test_wait (t);
  g_assert_true (cs_records_password_reset_request_finish (t->db, r4, &token2, &error));
  g_free (cs_test_sql_value (t, "owner",
                             "UPDATE password_resets SET expires_at = now() - interval '1 s'"
                             " WHERE used_at IS NULL", 0, NULL));
  cs_records_password_reset_async (t->db, token2, "reset password three", NULL, NULL,
                                   cs_test_done, t);
  g_autoptr (GAsyncResult) r5 = cs_test_wait (t);
  g_assert_false (cs_records_password_reset_finish (t->db, r5, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH);
}

static void
test_staff_created_by_admin_only (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) admin = cs_test_bootstrap_admin (t);
  g_autoptr (CsUser) patient = cs_test_register (t, "pat@example.org", CS_TEST_PASSWORD, "Pat");
  CsActor as_admin = { .user_id = admin->id, .role = CS_ROLE_ADMIN, .source = "10.0.0.2" };
  CsActor as_patient = { .user_id = patient->id, .role = CS_ROLE_PATIENT };
  /* A patient claiming to be admin is caught by the SQL check. */
  CsActor liar = { .user_id = patient->id, .role = CS_ROLE_ADMIN };

  cs_records_institution_create_async (t->db, &as_admin, "General Hospital",
                                       CS_INSTITUTION_HOSPITAL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r0 = cs_test_wait (t);
  g_autoptr (GError) error = NULL;
  g_autoptr (CsInstitution) inst = cs_records_institution_create_finish (t->db, r0, &error);
  g_assert_no_error (error);

  g_autoptr (CsUser) staff = cs_test_create_user (t, &as_admin, "nurse@example.org",
                                                  CS_ROLE_CLINIC_STAFF, inst->id);
  g_assert_cmpint (staff->institution_id, ==, inst->id);

  const CsActor *refused[] = { &as_patient, &liar };
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++) {
    CsNewUser nu = { .email = "x@example.org", .password = CS_TEST_PASSWORD,
                     .display_name = "X", .role = CS_ROLE_DOCTOR };
    cs_records_create_user_async (t->db, refused[i], &nu, NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r = cs_test_wait (t);
    g_assert_null (cs_records_create_user_finish (t->db, r, &error));
    g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN);
    g_clear_error (&error);
  }
  /* Clinic staff without institution is invalid. */
  CsNewUser orphan = { .email = "o@example.org", .password = CS_TEST_PASSWORD,
                       .display_name = "O", .role = CS_ROLE_CLINIC_STAFF };
  cs_records_create_user_async (t->db, &as_admin, &orphan, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
  g_assert_null (cs_records_create_user_finish (t->db, r2, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID);

  /* Staff must set up TOTP: the session says so. */
  g_clear_error (&error);
  g_autoptr (CsSession) s = cs_test_login (t, "nurse@example.org", CS_TEST_PASSWORD, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (s->totp_setup_required);
  g_assert_cmpint (s->institution_id, ==, inst->id);
}

static void
test_default_argon2_cost (CsTestDb *t, gconstpointer data)
{
  /* The production defaults, once: 64 MiB, 3 passes. */
  CsRecordsConfig cfg;
  cs_records_config_init (&cfg);
  g_autoptr (GError) error = NULL;
  extern char *cs_password_hash_sync (const CsRecordsConfig *, const char *, GError **);
  g_autofree char *h = cs_password_hash_sync (&cfg, "some password", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (h, "$argon2id$v=19$m=65536,t=3,p=1$"));
}

static void
test_free_while_busy (CsTestDb *t, gconstpointer data)
{
  /* Registration starts on an argon2 thread, login in the pool: freeing
   * the handle under both completes them with CANCELLED, nothing leaks. */
  CsNewUser nu = { .email = "late@example.org", .password = CS_TEST_PASSWORD,
                   .display_name = "Late" };
  GAsyncResult *results[2] = { NULL, NULL };
  CsTestDb a = { 0 }, b = { 0 };
  cs_records_register_patient_async (t->db, &nu, NULL, NULL, cs_test_done, &a);
  cs_records_login_async (t->db, "x@example.org", CS_TEST_PASSWORD, NULL, NULL, NULL,
                          cs_test_done, &b);
  g_clear_pointer (&t->db, cs_records_free);
  results[0] = cs_test_wait (&a);
  results[1] = cs_test_wait (&b);
  g_autoptr (GError) e1 = NULL, e2 = NULL;
  g_assert_null (cs_records_register_patient_finish (NULL, results[0], &e1));
  g_assert_error (e1, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (cs_records_login_finish (NULL, results[1], &e2));
  g_assert_error (e2, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (results[0]);
  g_object_unref (results[1]);
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/accounts/register-and-login", test_register_and_login);
  cs_test_add ("/records/accounts/bad-input", test_bad_input);
  cs_test_add ("/records/accounts/wrong-password-unknown-email",
               test_wrong_password_and_unknown_email);
  cs_test_add ("/records/accounts/lockout", test_lockout);
  cs_test_add ("/records/accounts/password-change-revokes-sessions",
               test_password_change_revokes_sessions);
  cs_test_add ("/records/accounts/reset-token-single-use", test_reset_token_single_use);
  cs_test_add ("/records/accounts/staff-created-by-admin-only", test_staff_created_by_admin_only);
  cs_test_add ("/records/accounts/default-argon2-cost", test_default_argon2_cost);
  cs_test_add ("/records/accounts/free-while-busy", test_free_while_busy);
  return g_test_run ();
}
