/* doctors.c — doctor and specialist profiles and their verification by an
 * admin. Only a verified profile lets care relationships be granted (the
 * gate is a trigger in 0001_accounts.sql, so it holds for every writer). */
#include "records/records-private.h"

#include <string.h>

#define PROFILE_COLUMNS "user_id, licence_number, specialty, verification, verified_by"

void
cs_doctor_profile_free (CsDoctorProfile *profile)
{
  if (!profile)
    return;
  g_free (profile->licence_number);
  g_free (profile->specialty);
  g_free (profile);
}

static CsVerification
verification_from_string (const char *s)
{
  if (strcmp (s, "verified") == 0)
    return CS_VERIFICATION_VERIFIED;
  if (strcmp (s, "rejected") == 0)
    return CS_VERIFICATION_REJECTED;
  return CS_VERIFICATION_PENDING;
}

static void
return_profile (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_NOT_FOUND,
                              "no such doctor or specialist profile");
    return;
  }
  CsDoctorProfile *p = g_new0 (CsDoctorProfile, 1);
  p->user_id = cs_pg_int64 (res, 0, 0);
  p->licence_number = cs_pg_dup (res, 0, 1);
  p->specialty = cs_pg_dup (res, 0, 2);
  p->verification = verification_from_string (PQgetvalue (res, 0, 3));
  p->verified_by = cs_pg_int64 (res, 0, 4);
  g_task_return_pointer (task, p, (GDestroyNotify) cs_doctor_profile_free);
  g_object_unref (task);
}

void
cs_records_doctor_profile_set_async (CsRecords *db, const CsActor *actor, gint64 doctor_id,
                                     const char *licence_number, const char *specialty,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_doctor_profile_set_async, cancellable, callback,
                             user_data);
  GError *error = NULL;
  gboolean self = actor->user_id == doctor_id
                  && (actor->role == CS_ROLE_DOCTOR || actor->role == CS_ROLE_SPECIALIST);
  if (actor->user_id == 0 || (!self && actor->role != CS_ROLE_ADMIN)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN,
                              "only the doctor or an admin edits a profile");
    return;
  }
  if (!cs_check_text ("licence number", licence_number, 64, &error)
      || !cs_check_text ("specialty", specialty, 120, &error)) {
    g_task_return_error (task, error);
    g_object_unref (task);
    return;
  }
  char did[CS_ID_PARAM_LEN], aid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (did, doctor_id), licence_number, specialty,
                           cs_id_param (aid, actor->user_id), cs_role_to_string (actor->role),
                           actor->source };
  /* A changed licence or specialty needs verifying again; resubmitting the
   * same values keeps the verdict. */
  cs_task_query (task, return_profile,
                 "WITH d AS ("
                 "  INSERT INTO doctor_profiles AS p (user_id, licence_number, specialty)"
                 "  SELECT id, $2, $3 FROM users"
                 "  WHERE id = $1 AND role IN ('doctor', 'specialist')"
                 "  ON CONFLICT (user_id) DO UPDATE SET"
                 "   licence_number = EXCLUDED.licence_number,"
                 "   specialty = EXCLUDED.specialty,"
                 "   verification = CASE WHEN (p.licence_number, p.specialty)"
                 "     = (EXCLUDED.licence_number, EXCLUDED.specialty)"
                 "     THEN p.verification ELSE 'pending' END,"
                 "   verified_by = CASE WHEN (p.licence_number, p.specialty)"
                 "     = (EXCLUDED.licence_number, EXCLUDED.specialty)"
                 "     THEN p.verified_by END,"
                 "   verified_at = CASE WHEN (p.licence_number, p.specialty)"
                 "     = (EXCLUDED.licence_number, EXCLUDED.specialty)"
                 "     THEN p.verified_at END,"
                 "   updated_at = now()"
                 "  RETURNING " PROFILE_COLUMNS "),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source)"
                 "  SELECT $4, $5, 'doctor.profile_set', 'doctor_profile', user_id::text, 'ok', $6"
                 "  FROM d)"
                 " SELECT " PROFILE_COLUMNS " FROM d",
                 G_N_ELEMENTS (params), params);
}

CsDoctorProfile *
cs_records_doctor_profile_set_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_doctor_profile_set_async, error);
}

void
cs_records_doctor_profile_get_async (CsRecords *db, gint64 doctor_id, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_doctor_profile_get_async, cancellable, callback,
                             user_data);
  char id[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (id, doctor_id) };
  cs_task_query (task, return_profile,
                 "SELECT " PROFILE_COLUMNS " FROM doctor_profiles WHERE user_id = $1", 1, params);
}

CsDoctorProfile *
cs_records_doctor_profile_get_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_doctor_profile_get_async, error);
}

void
cs_records_doctor_verify_async (CsRecords *db, const CsActor *actor, gint64 doctor_id,
                                CsVerification verdict, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_doctor_verify_async, cancellable, callback,
                             user_data);
  if (actor->role != CS_ROLE_ADMIN || actor->user_id == 0) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FORBIDDEN, "only admins verify doctors");
    return;
  }
  if (verdict != CS_VERIFICATION_VERIFIED && verdict != CS_VERIFICATION_REJECTED) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_INVALID, "verdict must be verified or rejected");
    return;
  }
  /* An admin cannot verify their own profile (should they also hold one). */
  char did[CS_ID_PARAM_LEN], aid[CS_ID_PARAM_LEN];
  const char *params[] = { cs_id_param (did, doctor_id),
                           verdict == CS_VERIFICATION_VERIFIED ? "verified" : "rejected",
                           cs_id_param (aid, actor->user_id), actor->source };
  cs_task_query (task, return_profile,
                 "WITH d AS ("
                 "  UPDATE doctor_profiles SET verification = $2, verified_by = $3,"
                 "   verified_at = now(), updated_at = now()"
                 "  WHERE user_id = $1 AND user_id <> $3 AND EXISTS (SELECT 1 FROM users"
                 "   WHERE id = $3 AND role = 'admin' AND NOT disabled)"
                 "  RETURNING " PROFILE_COLUMNS "),"
                 " a AS ("
                 "  INSERT INTO audit (actor_id, actor_role, action, object_type, object_id,"
                 "   result, source, detail)"
                 "  SELECT $3, 'admin', 'doctor.verify', 'doctor_profile', user_id::text, 'ok',"
                 "   $4, verification FROM d)"
                 " SELECT " PROFILE_COLUMNS " FROM d",
                 G_N_ELEMENTS (params), params);
}

CsDoctorProfile *
cs_records_doctor_verify_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_pointer (db, res, cs_records_doctor_verify_async, error);
}
