/* test-doctors.c — doctor profiles, admin verification, and the gate: an
 * unverified doctor gets no patient, in C and in SQL. */
#include "fixture.h"

typedef struct {
  CsUser *admin, *doctor, *patient;
  CsActor as_admin, as_doctor;
} People;

static void
people_init (CsTestDb *t, People *p)
{
  p->admin = cs_test_bootstrap_admin (t);
  p->as_admin = (CsActor) { .user_id = p->admin->id, .role = CS_ROLE_ADMIN, .source = "10.9.9.9" };
  p->doctor = cs_test_create_user (t, &p->as_admin, "doc@example.org", CS_ROLE_DOCTOR, 0);
  p->as_doctor = (CsActor) { .user_id = p->doctor->id, .role = CS_ROLE_DOCTOR };
  p->patient = cs_test_register (t, "pat@example.org", CS_TEST_PASSWORD, "Pat");
}

static void
people_clear (People *p)
{
  cs_user_free (p->admin);
  cs_user_free (p->doctor);
  cs_user_free (p->patient);
}

static CsDoctorProfile *
set_profile (CsTestDb *t, const CsActor *actor, gint64 doctor, const char *licence,
             const char *specialty, GError **error)
{
  cs_records_doctor_profile_set_async (t->db, actor, doctor, licence, specialty, NULL,
                                       cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  return cs_records_doctor_profile_set_finish (t->db, r, error);
}

static CsDoctorProfile *
verify (CsTestDb *t, const CsActor *actor, gint64 doctor, CsVerification v, GError **error)
{
  cs_records_doctor_verify_async (t->db, actor, doctor, v, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  return cs_records_doctor_verify_finish (t->db, r, error);
}

static gboolean
grant (CsTestDb *t, const CsActor *actor, gint64 doctor, gint64 patient, GError **error)
{
  cs_records_care_grant_async (t->db, actor, doctor, patient, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  return cs_records_care_grant_finish (t->db, r, error);
}

static gboolean
can_access (CsTestDb *t, gint64 user, gint64 patient)
{
  gboolean allowed = TRUE;
  g_autoptr (GError) error = NULL;
  cs_records_can_access_patient_async (t->db, user, patient, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_assert_true (cs_records_can_access_patient_finish (t->db, r, &allowed, &error));
  return allowed;
}

static void
test_verification_gate (CsTestDb *t, gconstpointer data)
{
  People p;
  people_init (t, &p);
  g_autoptr (GError) error = NULL;

  g_autoptr (CsDoctorProfile) prof = set_profile (t, &p.as_doctor, p.doctor->id, "LIC-001",
                                                  "cardiology", &error);
  g_assert_no_error (error);
  g_assert_cmpint (prof->verification, ==, CS_VERIFICATION_PENDING);

  /* Pending: no patient may be granted, and the refusal is audited. */
  g_assert_false (grant (t, &p.as_admin, p.doctor->id, p.patient->id, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN);
  g_clear_error (&error);
  g_autofree char *denied = cs_test_sql_value (
    t, "owner", "SELECT count(*) FROM audit WHERE action = 'care.grant' AND result = 'denied'",
    0, NULL);
  g_assert_cmpstr (denied, ==, "1");
  /* Not even straight SQL as the app role gets past the trigger. */
  char did[24], pid[24];
  g_snprintf (did, sizeof did, "%" G_GINT64_FORMAT, p.doctor->id);
  g_snprintf (pid, sizeof pid, "%" G_GINT64_FORMAT, p.patient->id);
  const char *params[] = { did, pid };
  PGresult *res = cs_test_sql (t, "app", "INSERT INTO care_relationships (doctor_id, patient_id)"
                                         " VALUES ($1, $2)", 2, params);
  g_assert_cmpstr (PQresultErrorField (res, PG_DIAG_SQLSTATE), ==, "CS403");
  PQclear (res);

  /* Only an admin verifies; a doctor cannot verify themself. */
  g_assert_null (verify (t, &p.as_doctor, p.doctor->id, CS_VERIFICATION_VERIFIED, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN);
  g_clear_error (&error);
  g_autoptr (CsDoctorProfile) v = verify (t, &p.as_admin, p.doctor->id,
                                          CS_VERIFICATION_VERIFIED, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->verification, ==, CS_VERIFICATION_VERIFIED);
  g_assert_cmpint (v->verified_by, ==, p.admin->id);

  g_assert_false (can_access (t, p.doctor->id, p.patient->id));
  g_assert_true (grant (t, &p.as_admin, p.doctor->id, p.patient->id, &error));
  g_assert_no_error (error);
  g_assert_true (can_access (t, p.doctor->id, p.patient->id));
  g_assert_true (can_access (t, p.patient->id, p.patient->id));
  g_assert_false (can_access (t, p.admin->id, p.patient->id));

  /* Changing the licence sends the profile back to pending: access stops. */
  g_autoptr (CsDoctorProfile) changed = set_profile (t, &p.as_doctor, p.doctor->id, "LIC-002",
                                                     "cardiology", &error);
  g_assert_no_error (error);
  g_assert_cmpint (changed->verification, ==, CS_VERIFICATION_PENDING);
  g_assert_false (can_access (t, p.doctor->id, p.patient->id));

  /* Re-verified, then the relationship revoked. */
  g_autoptr (CsDoctorProfile) v2 = verify (t, &p.as_admin, p.doctor->id,
                                           CS_VERIFICATION_VERIFIED, &error);
  g_assert_true (can_access (t, p.doctor->id, p.patient->id));
  cs_records_care_revoke_async (t->db, &p.as_admin, p.doctor->id, p.patient->id, NULL,
                                cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_assert_true (cs_records_care_revoke_finish (t->db, r, &error));
  g_assert_false (can_access (t, p.doctor->id, p.patient->id));
  people_clear (&p);
}

static void
test_profile_rules (CsTestDb *t, gconstpointer data)
{
  People p;
  people_init (t, &p);
  g_autoptr (GError) error = NULL;
  /* A patient has no doctor profile, and cannot write one for a doctor. */
  CsActor as_patient = { .user_id = p.patient->id, .role = CS_ROLE_PATIENT };
  g_assert_null (set_profile (t, &as_patient, p.doctor->id, "L", "S", &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN);
  g_clear_error (&error);
  g_assert_null (set_profile (t, &p.as_admin, p.patient->id, "L", "S", &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* Licence numbers are unique. */
  g_autoptr (CsUser) d2 = cs_test_create_user (t, &p.as_admin, "d2@example.org",
                                               CS_ROLE_SPECIALIST, 0);
  g_autoptr (CsDoctorProfile) a = set_profile (t, &p.as_admin, p.doctor->id, "SAME", "S", &error);
  g_assert_no_error (error);
  g_assert_null (set_profile (t, &p.as_admin, d2->id, "SAME", "S", &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_EXISTS);
  /* Patients cannot be granted to a patient. */
  g_clear_error (&error);
  g_autoptr (CsDoctorProfile) v = verify (t, &p.as_admin, p.doctor->id,
                                          CS_VERIFICATION_VERIFIED, &error);
  g_assert_false (grant (t, &p.as_admin, p.doctor->id, p.doctor->id, &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID);
  people_clear (&p);
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/doctors/verification-gate", test_verification_gate);
  cs_test_add ("/records/doctors/profile-rules", test_profile_rules);
  return g_test_run ();
}
