/* test-hostile.c — SQL metacharacters and awkward Unicode in every text
 * field are stored and returned byte for byte: values are only ever bound
 * as parameters. */
#include "fixture.h"

static const char *const nasty[] = {
  "'; DROP TABLE users; --",
  "Robert'); DROP TABLE audit;--",
  "back\\slash \\' \\\\ \\x00 \\n",
  "\"double\" 'single' `tick` $1 $$dollar$$ %s %n ? :name",
  "汉字 中文名 王小明 ‮RTL override‬ emoji 🩺💉 ñ é ß",
  "-- comment /* block */ ; COMMIT; ROLLBACK;",
  "E'\\x27' U&'\\0027' \\u0000",
};

static void
test_user_fields (CsTestDb *t, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (nasty); i++) {
    g_autofree char *email = g_strdup_printf ("o'brien\"%zu\\';DROP/**/TABLE/**/users;--@ex.org", i);
    g_autofree char *password = g_strdup_printf ("%s pw", nasty[i]);
    g_autoptr (CsUser) u = cs_test_register (t, email, password, nasty[i]);
    g_assert_cmpstr (u->display_name, ==, nasty[i]);
    g_assert_cmpstr (u->email, ==, email);

    g_autoptr (GError) error = NULL;
    cs_records_user_get_async (t->db, u->id, NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r = cs_test_wait (t);
    g_autoptr (CsUser) back = cs_records_user_get_finish (t->db, r, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (back->display_name, ==, nasty[i]);
    g_assert_cmpstr (back->email, ==, email);

    g_autoptr (CsSession) s = cs_test_login (t, email, password, NULL, &error);
    g_assert_no_error (error);
  }
  g_autofree char *n = cs_test_sql_value (t, "owner", "SELECT count(*) FROM users", 0, NULL);
  g_assert_cmpint (atoi (n), ==, (int) G_N_ELEMENTS (nasty));
}

static void
test_institution_and_profile_fields (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsUser) admin = cs_test_bootstrap_admin (t);
  CsActor as_admin = { .user_id = admin->id, .role = CS_ROLE_ADMIN, .source = nasty[0] };
  for (gsize i = 0; i < G_N_ELEMENTS (nasty); i++) {
    g_autoptr (GError) error = NULL;
    cs_records_institution_create_async (t->db, &as_admin, nasty[i], CS_INSTITUTION_PRIMARY_CLINIC,
                                         NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r = cs_test_wait (t);
    g_autoptr (CsInstitution) inst = cs_records_institution_create_finish (t->db, r, &error);
    g_assert_no_error (error);
    cs_records_institution_get_async (t->db, inst->id, NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
    g_autoptr (CsInstitution) back = cs_records_institution_get_finish (t->db, r2, &error);
    g_assert_cmpstr (back->name, ==, nasty[i]);
    g_assert_cmpint (back->kind, ==, CS_INSTITUTION_PRIMARY_CLINIC);

    g_autofree char *email = g_strdup_printf ("doc%zu@example.org", i);
    g_autoptr (CsUser) doc = cs_test_create_user (t, &as_admin, email, CS_ROLE_DOCTOR, inst->id);
    g_autofree char *licence = g_strdup_printf ("%zu%.40s", i, nasty[i]);
    cs_records_doctor_profile_set_async (t->db, &as_admin, doc->id, licence, nasty[i], NULL,
                                         cs_test_done, t);
    g_autoptr (GAsyncResult) r3 = cs_test_wait (t);
    g_autoptr (CsDoctorProfile) p = cs_records_doctor_profile_set_finish (t->db, r3, &error);
    g_assert_no_error (error);
    cs_records_doctor_profile_get_async (t->db, doc->id, NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r4 = cs_test_wait (t);
    g_autoptr (CsDoctorProfile) pb = cs_records_doctor_profile_get_finish (t->db, r4, &error);
    g_assert_cmpstr (pb->licence_number, ==, licence);
    g_assert_cmpstr (pb->specialty, ==, nasty[i]);
  }
}

static void
test_audit_fields (CsTestDb *t, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (nasty); i++) {
    CsActor a = { .user_id = 5, .role = CS_ROLE_AUDITOR, .source = nasty[i] };
    CsAuditEvent ev = { .action = nasty[i], .object_type = nasty[i], .object_id = nasty[i],
                        .result = nasty[i], .detail = nasty[i] };
    g_autoptr (GError) error = NULL;
    cs_records_audit_append_async (t->db, &a, &ev, NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r = cs_test_wait (t);
    g_assert_true (cs_records_audit_append_finish (t->db, r, NULL, &error));

    /* The hostile action string is also a search filter. */
    CsAuditQuery q = { .action = nasty[i] };
    cs_records_audit_search_async (t->db, &q, NULL, cs_test_done, t);
    g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
    g_autoptr (GPtrArray) found = cs_records_audit_search_finish (t->db, r2, &error);
    g_assert_cmpuint (found->len, ==, 1);
    CsAuditEntry *e = found->pdata[0];
    g_assert_cmpstr (e->action, ==, nasty[i]);
    g_assert_cmpstr (e->object_type, ==, nasty[i]);
    g_assert_cmpstr (e->object_id, ==, nasty[i]);
    g_assert_cmpstr (e->result, ==, nasty[i]);
    g_assert_cmpstr (e->detail, ==, nasty[i]);
    g_assert_cmpstr (e->source, ==, nasty[i]);
  }
  /* Multi-byte text hashes identically in C and SQL. */
  cs_records_audit_verify_async (t->db, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_autoptr (CsAuditReport) rep = cs_records_audit_verify_finish (t->db, r, NULL);
  g_assert_cmpint (rep->first_broken_id, ==, 0);
  g_assert_cmpuint (rep->checked, ==, G_N_ELEMENTS (nasty));
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/hostile/user-fields", test_user_fields);
  cs_test_add ("/records/hostile/institution-and-profile-fields",
               test_institution_and_profile_fields);
  cs_test_add ("/records/hostile/audit-fields", test_audit_fields);
  return g_test_run ();
}
