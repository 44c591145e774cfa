/* api-auth.c — registration, login, logout, password change and reset,
 * TOTP enrolment and GET /me (docs/api.md, Authentication, The caller). */
#include "signaling/api-private.h"

#define DB(call) ((call)->api->records)

static void
on_registered (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsUser) user = cs_records_register_patient_finish (DB (call), res, &error);
  if (!user) {
    cs_api_fail_error (call, error);
    return;
  }
  cs_api_reply (call, 201, json_pack ("{s:o}", "user", cs_api_user_json (user)));
}

void
cs_api_register (CsApiCall *call)
{
  CsNewUser nu = {
    .email = cs_api_body_string (call, "email"),
    .password = cs_api_body_string (call, "password"),
    .display_name = cs_api_body_string (call, "display_name"),
  };
  cs_records_register_patient_async (DB (call), &nu, call->source, call->cancellable,
                                     on_registered, call);
}

/* Login answers with the user too, so the client knows who it is. */
static void
on_login_user (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsUser) user = cs_records_user_get_finish (DB (call), res, &error);
  if (!user) {
    cs_api_fail_error (call, error);
    return;
  }
  g_autofree char *expires = cs_api_iso_time (call->session->expires_at);
  cs_api_reply (call, 200, json_pack ("{s:s, s:s, s:b, s:o}", "token", call->session->token,
                                      "expires_at", expires, "totp_setup_required",
                                      call->session->totp_setup_required, "user",
                                      cs_api_user_json (user)));
}

static void
on_login (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  call->session = cs_records_login_finish (DB (call), res, &error);
  if (!call->session) {
    if (g_error_matches (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH)) {
      cs_api_fail (call, 401, "unauthorized", "wrong email, password or code");
      return;
    }
    cs_api_fail_error (call, error);
    return;
  }
  cs_records_user_get_async (DB (call), call->session->user_id, call->cancellable,
                             on_login_user, call);
}

void
cs_api_login (CsApiCall *call)
{
  cs_records_login_async (DB (call), cs_api_body_string (call, "email"),
                          cs_api_body_string (call, "password"),
                          cs_api_body_string (call, "totp_code"), call->source,
                          call->cancellable, on_login, call);
}

static void
on_logout (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = cs_records_logout_finish (DB (call), res, &error);
  cs_api_reply_done (call, ok, error);
}

void
cs_api_logout (CsApiCall *call)
{
  cs_records_logout_async (DB (call), call->bearer, call->source, call->cancellable, on_logout,
                           call);
}

static void
on_reset_requested (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  if (!cs_records_password_reset_request_finish (DB (call), res, &token, &error)) {
    cs_api_fail_error (call, error);
    return;
  }
  /* No mail server yet: the operator relays the token (docs/api.md). Debug
   * level only (the email is personal data), off unless asked for. */
  if (token)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "EMAIL", cs_api_body_string (call, "email"),
                      "RESET_TOKEN", token, "MESSAGE", "password reset token issued");
  /* The same answer whether or not the account exists. */
  cs_api_reply (call, 202, json_object ());
}

void
cs_api_reset_request (CsApiCall *call)
{
  cs_records_password_reset_request_async (DB (call), cs_api_body_string (call, "email"),
                                           call->source, call->cancellable,
                                           on_reset_requested, call);
}

static void
on_reset (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = cs_records_password_reset_finish (DB (call), res, &error);
  cs_api_reply_done (call, ok, error);
}

void
cs_api_reset (CsApiCall *call)
{
  cs_records_password_reset_async (DB (call), cs_api_body_string (call, "token"),
                                   cs_api_body_string (call, "password"), call->source,
                                   call->cancellable, on_reset, call);
}

/* ---- /me ------------------------------------------------------------------ */

static json_t *
profile_json (const CsDoctorProfile *p)
{
  static const char *const verdicts[] = { "pending", "verified", "rejected" };
  return json_pack ("{s:s, s:s, s:s}", "licence_number", p->licence_number, "specialty",
                    p->specialty, "verification", verdicts[p->verification]);
}

static void
reply_me (CsApiCall *call, CsUser *user, json_t *doctor)
{
  json_t *body = json_pack ("{s:o, s:b}", "user", cs_api_user_json (user),
                            "totp_setup_required", call->session->totp_setup_required);
  if (doctor)
    json_object_set_new (body, "doctor", doctor);
  cs_api_reply (call, 200, body);
}

typedef struct {
  CsApiCall *call;
  CsUser *user;
} MeProfile;

static void
on_me_profile (GObject *source, GAsyncResult *res, gpointer user_data)
{
  MeProfile *m = user_data;
  CsApiCall *call = m->call;
  g_autoptr (CsUser) user = m->user;
  g_free (m);
  g_autoptr (GError) error = NULL;
  g_autoptr (CsDoctorProfile) p = cs_records_doctor_profile_get_finish (DB (call), res, &error);
  if (!p && !g_error_matches (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_NOT_FOUND)) {
    cs_api_fail_error (call, error);
    return;
  }
  reply_me (call, user, p ? profile_json (p) : json_null ());
}

static void
on_me_user (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsUser) user = cs_records_user_get_finish (DB (call), res, &error);
  if (!user) {
    cs_api_fail_error (call, error);
    return;
  }
  if (user->role != CS_ROLE_DOCTOR && user->role != CS_ROLE_SPECIALIST) {
    reply_me (call, user, NULL);
    return;
  }
  MeProfile *m = g_new0 (MeProfile, 1);
  m->call = call;
  m->user = g_steal_pointer (&user);
  cs_records_doctor_profile_get_async (DB (call), m->user->id, call->cancellable,
                                       on_me_profile, m);
}

void
cs_api_me (CsApiCall *call)
{
  cs_records_user_get_async (DB (call), call->actor.user_id, call->cancellable, on_me_user,
                             call);
}

static void
on_password_changed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = cs_records_password_change_finish (DB (call), res, &error);
  cs_api_reply_done (call, ok, error);
}

void
cs_api_me_password (CsApiCall *call)
{
  cs_records_password_change_async (DB (call), &call->actor,
                                    cs_api_body_string (call, "old_password"),
                                    cs_api_body_string (call, "new_password"),
                                    call->cancellable, on_password_changed, call);
}

static void
on_totp_begun (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsTotpSetup) setup = cs_records_totp_begin_finish (DB (call), res, &error);
  if (!setup) {
    /* records refuses to replace an enabled second factor. */
    if (g_error_matches (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FORBIDDEN)) {
      cs_api_fail (call, 409, "conflict", "%s", error->message);
      return;
    }
    cs_api_fail_error (call, error);
    return;
  }
  cs_api_reply (call, 200, json_pack ("{s:s, s:s}", "secret", setup->secret_base32, "uri",
                                      setup->uri));
}

void
cs_api_me_totp (CsApiCall *call)
{
  cs_records_totp_begin_async (DB (call), &call->actor, call->cancellable, on_totp_begun, call);
}

static void
on_totp_confirmed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = cs_records_totp_confirm_finish (DB (call), res, &error);
  cs_api_reply_done (call, ok, error);
}

void
cs_api_me_totp_confirm (CsApiCall *call)
{
  cs_records_totp_confirm_async (DB (call), &call->actor, cs_api_body_string (call, "code"),
                                 call->cancellable, on_totp_confirmed, call);
}
