/* api-doctors.c — doctor profiles and verification, care relationships,
 * and reading a patient (docs/api.md, Doctors and care relationships,
 * Patients). */
#include "signaling/api-private.h"

#include <string.h>

#define DB(call) ((call)->api->records)

static const char *
verification_string (CsVerification v)
{
  return v == CS_VERIFICATION_VERIFIED ? "verified"
       : v == CS_VERIFICATION_REJECTED ? "rejected" : "pending";
}

static gboolean
is_doctor_role (CsRole role)
{
  return role == CS_ROLE_DOCTOR || role == CS_ROLE_SPECIALIST;
}

/* The licence number is for the doctor and admins, not for patients. */
static json_t *
doctor_json (CsApiCall *call, const CsUser *user, const CsDoctorProfile *p)
{
  json_t *d = json_pack ("{s:I, s:s, s:s, s:o, s:s}", "id", (json_int_t) user->id,
                         "display_name", user->display_name, "role", cs_role_to_string (user->role),
                         "specialty", p ? json_string (p->specialty) : json_null (),
                         "verification", p ? verification_string (p->verification) : "none");
  if (call->actor.role == CS_ROLE_ADMIN || call->actor.user_id == user->id)
    json_object_set_new (d, "licence_number", p ? json_string (p->licence_number) : json_null ());
  return d;
}

/* GET /doctors/{id}, and the answer of profile and verify: the user, then
 * their profile. */
typedef struct {
  CsApiCall *call;
  CsUser *user;
  CsDoctorProfile *profile;    /* known already (after set/verify), or NULL */
  guint status;
} DoctorReply;

static void
doctor_reply_free (DoctorReply *r)
{
  cs_user_free (r->user);
  cs_doctor_profile_free (r->profile);
  g_free (r);
}

static void
on_doctor_profile (GObject *source, GAsyncResult *res, gpointer user_data)
{
  DoctorReply *r = user_data;
  CsApiCall *call = r->call;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsDoctorProfile) p = cs_records_doctor_profile_get_finish (DB (call), res, &error);
  if (!p && !g_error_matches (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_NOT_FOUND)) {
    doctor_reply_free (r);
    cs_api_fail_error (call, error);
    return;
  }
  json_t *body = json_pack ("{s:o}", "doctor", doctor_json (call, r->user, p));
  guint status = r->status;
  doctor_reply_free (r);
  cs_api_reply (call, status, body);
}

static void
on_doctor_user (GObject *source, GAsyncResult *res, gpointer user_data)
{
  DoctorReply *r = user_data;
  CsApiCall *call = r->call;
  g_autoptr (GError) error = NULL;
  r->user = cs_records_user_get_finish (DB (call), res, &error);
  if (!r->user || !is_doctor_role (r->user->role)) {
    doctor_reply_free (r);
    if (error && !g_error_matches (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_NOT_FOUND))
      cs_api_fail_error (call, error);
    else
      cs_api_fail (call, 404, "not-found", "no such doctor");
    return;
  }
  if (r->profile) {
    json_t *body = json_pack ("{s:o}", "doctor", doctor_json (call, r->user, r->profile));
    guint status = r->status;
    doctor_reply_free (r);
    cs_api_reply (call, status, body);
    return;
  }
  cs_records_doctor_profile_get_async (DB (call), r->user->id, call->cancellable,
                                       on_doctor_profile, r);
}

static void
reply_doctor (CsApiCall *call, gint64 id, CsDoctorProfile *profile)
{
  DoctorReply *r = g_new0 (DoctorReply, 1);
  r->call = call;
  r->profile = profile;
  r->status = 200;
  cs_records_user_get_async (DB (call), id, call->cancellable, on_doctor_user, r);
}

void
cs_api_doctor_get (CsApiCall *call)
{
  reply_doctor (call, call->match.ids[0], NULL);
}

static void
on_profile_set (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  CsDoctorProfile *p = cs_records_doctor_profile_set_finish (DB (call), res, &error);
  if (!p) {
    cs_api_fail_error (call, error);
    return;
  }
  reply_doctor (call, call->match.ids[0], p);
}

void
cs_api_doctor_profile (CsApiCall *call)
{
  if (call->actor.role != CS_ROLE_ADMIN && call->actor.user_id != call->match.ids[0]) {
    cs_api_fail_forbidden (call, "doctors edit only their own profile");
    return;
  }
  cs_records_doctor_profile_set_async (DB (call), &call->actor, call->match.ids[0],
                                       cs_api_body_string (call, "licence_number"),
                                       cs_api_body_string (call, "specialty"),
                                       call->cancellable, on_profile_set, call);
}

static void
on_verified (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  CsDoctorProfile *p = cs_records_doctor_verify_finish (DB (call), res, &error);
  if (!p) {
    cs_api_fail_error (call, error);
    return;
  }
  reply_doctor (call, call->match.ids[0], p);
}

void
cs_api_doctor_verify (CsApiCall *call)
{
  const char *verdict = cs_api_body_string (call, "verdict");
  CsVerification v;
  if (strcmp (verdict, "verified") == 0)
    v = CS_VERIFICATION_VERIFIED;
  else if (strcmp (verdict, "rejected") == 0)
    v = CS_VERIFICATION_REJECTED;
  else {
    cs_api_fail (call, 400, "bad-request", "verdict must be verified or rejected");
    return;
  }
  cs_records_doctor_verify_async (DB (call), &call->actor, call->match.ids[0], v,
                                  call->cancellable, on_verified, call);
}

/* ---- care relationships ------------------------------------------------ */

static void
on_care_changed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = call->method == CS_HTTP_DELETE
                  ? cs_records_care_revoke_finish (DB (call), res, &error)
                  : cs_records_care_grant_finish (DB (call), res, &error);
  cs_api_reply_done (call, ok, error);
}

void
cs_api_care_grant (CsApiCall *call)
{
  cs_records_care_grant_async (DB (call), &call->actor, call->match.ids[0], call->match.ids[1],
                               call->cancellable, on_care_changed, call);
}

void
cs_api_care_revoke (CsApiCall *call)
{
  cs_records_care_revoke_async (DB (call), &call->actor, call->match.ids[0],
                                call->match.ids[1], call->cancellable, on_care_changed, call);
}

/* ---- patients ------------------------------------------------------------ */

static void
on_patient (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsUser) user = cs_records_user_get_finish (DB (call), res, &error);
  gint64 pid = call->match.ids[0];
  if (!user || user->role != CS_ROLE_PATIENT) {
    /* Access was granted, so the record exists: can_access_patient holds
     * only for patients. A failure here is the database's. */
    if (error)
      cs_api_fail_error (call, error);
    else
      cs_api_fail (call, 404, "not-found", "no such patient");
    return;
  }
  cs_api_audit (call, "patient.read", "patient", pid, pid, "ok");
  cs_api_reply (call, 200, json_pack ("{s:{s:I, s:s, s:s}}", "patient", "id", (json_int_t) pid,
                                      "display_name", user->display_name, "email", user->email));
}

static void
on_patient_access (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean allowed = FALSE;
  if (!cs_records_can_access_patient_finish (DB (call), res, &allowed, &error)) {
    cs_api_fail_error (call, error);
    return;
  }
  if (!allowed) {
    cs_api_fail_forbidden (call, "you have no care relationship with this patient");
    return;
  }
  cs_records_user_get_async (DB (call), call->match.ids[0], call->cancellable, on_patient, call);
}

void
cs_api_patient_get (CsApiCall *call)
{
  /* records' rule (can_access_patient) is the single source of truth: the
   * patient themself, a verified doctor in a live care relationship, or
   * staff of a clinic the patient is linked to. Admins manage accounts and
   * read nothing clinical: refused without asking, but still audited. */
  if (call->actor.role == CS_ROLE_ADMIN) {
    cs_api_fail_forbidden (call, "your role may not read patient records");
    return;
  }
  cs_records_can_access_patient_async (DB (call), call->actor.user_id, call->match.ids[0],
                                       call->cancellable, on_patient_access, call);
}
