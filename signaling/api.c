/* api.c — serving one REST call: routing, body checks, the database
 * availability check, session validation and the role check, then the
 * endpoint's handler; replies in the one error shape of docs/api.md. */
#include "signaling/api-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BEARER 256

static const CsApiHandler handlers[CS_API_N_ENDPOINTS] = {
  [CS_API_REGISTER] = cs_api_register,
  [CS_API_LOGIN] = cs_api_login,
  [CS_API_LOGOUT] = cs_api_logout,
  [CS_API_RESET_REQUEST] = cs_api_reset_request,
  [CS_API_RESET] = cs_api_reset,
  [CS_API_ME] = cs_api_me,
  [CS_API_ME_PASSWORD] = cs_api_me_password,
  [CS_API_ME_TOTP] = cs_api_me_totp,
  [CS_API_ME_TOTP_CONFIRM] = cs_api_me_totp_confirm,
  [CS_API_USERS_LIST] = cs_api_users_list,
  [CS_API_USERS_CREATE] = cs_api_users_create,
  [CS_API_INSTITUTIONS_LIST] = cs_api_institutions_list,
  [CS_API_INSTITUTIONS_CREATE] = cs_api_institutions_create,
  [CS_API_INSTITUTION_PATIENT_ADD] = cs_api_institution_patient_add,
  [CS_API_INSTITUTION_PATIENT_REMOVE] = cs_api_institution_patient_remove,
  [CS_API_DOCTOR_GET] = cs_api_doctor_get,
  [CS_API_DOCTOR_PROFILE] = cs_api_doctor_profile,
  [CS_API_DOCTOR_VERIFY] = cs_api_doctor_verify,
  [CS_API_CARE_GRANT] = cs_api_care_grant,
  [CS_API_CARE_REVOKE] = cs_api_care_revoke,
  [CS_API_PATIENT_GET] = cs_api_patient_get,
  [CS_API_AUDIT_SEARCH] = cs_api_audit_search,
  [CS_API_AUDIT_EXPORT] = cs_api_audit_export,
  [CS_API_AUDIT_VERIFY] = cs_api_audit_verify,
  [CS_API_ROOM_TOKEN] = cs_api_room_token,
  [CS_API_DEPARTMENTS_LIST] = cs_api_clinic_op,
  [CS_API_DEPARTMENT_CREATE] = cs_api_clinic_op,
  [CS_API_DOCTOR_DEPARTMENT] = cs_api_clinic_op,
  [CS_API_DOCTORS_SEARCH] = cs_api_clinic_op,
  [CS_API_ROSTER_GET] = cs_api_clinic_op,
  [CS_API_ROSTER_SET] = cs_api_clinic_op,
  [CS_API_ROSTER_EXCEPTION_ADD] = cs_api_clinic_op,
  [CS_API_SLOTS_LIST] = cs_api_clinic_op,
  [CS_API_DOCTOR_QUEUE] = cs_api_clinic_op,
  [CS_API_SLOT_BLOCK] = cs_api_clinic_op,
  [CS_API_SLOT_RELEASE] = cs_api_clinic_op,
  [CS_API_APPOINTMENTS_LIST] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_BOOK] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_GET] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_CANCEL] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_RESCHEDULE] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_CHECK_IN] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_ADMIT] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_COMPLETE] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_NO_SHOW] = cs_api_clinic_op,
  [CS_API_INVITE_CREATE] = cs_api_clinic_op,
  [CS_API_CHAT_LIST] = cs_api_clinic_op,
  [CS_API_VISIT_FILES_LIST] = cs_api_clinic_op,
  [CS_API_NOTIFICATIONS_LIST] = cs_api_clinic_op,
  [CS_API_NOTIFICATION_READ] = cs_api_clinic_op,
  [CS_API_NO_SHOW_STATS] = cs_api_clinic_op,
  [CS_API_REFERRALS_LIST] = cs_api_clinic_op,
  [CS_API_REFERRAL_CREATE] = cs_api_clinic_op,
  [CS_API_REFERRAL_GET] = cs_api_clinic_op,
  [CS_API_REFERRAL_ACCEPT] = cs_api_clinic_op,
  [CS_API_REFERRAL_DECLINE] = cs_api_clinic_op,
  [CS_API_REFERRAL_SCHEDULE] = cs_api_clinic_op,
  [CS_API_REFERRAL_REPORT] = cs_api_clinic_op,
  [CS_API_REFERRAL_CLOSE] = cs_api_clinic_op,
  [CS_API_REFERRAL_CANCEL] = cs_api_clinic_op,
  [CS_API_APPOINTMENT_ROOM_TOKEN] = cs_api_appointment_room_token,
  [CS_API_INVITE_REDEEM] = cs_api_invite_redeem,
  [CS_API_VISIT_FILE_UPLOAD] = cs_api_file_upload,
  [CS_API_REFERRAL_DOCUMENT_UPLOAD] = cs_api_file_upload,
  [CS_API_VISIT_FILE_GET] = cs_api_file_get,
  [CS_API_REFERRAL_DOCUMENT_GET] = cs_api_file_get,
  [CS_API_FHIR_SCHEDULE_SEARCH] = cs_api_fhir,
  [CS_API_FHIR_SCHEDULE_READ] = cs_api_fhir,
  [CS_API_FHIR_SLOT_SEARCH] = cs_api_fhir,
  [CS_API_FHIR_SLOT_READ] = cs_api_fhir,
  [CS_API_FHIR_APPOINTMENT_SEARCH] = cs_api_fhir,
  [CS_API_FHIR_APPOINTMENT_READ] = cs_api_fhir,
  [CS_API_FHIR_ENCOUNTER_SEARCH] = cs_api_fhir,
  [CS_API_FHIR_ENCOUNTER_READ] = cs_api_fhir,
  [CS_API_FHIR_SERVICE_REQUEST_SEARCH] = cs_api_fhir,
  [CS_API_FHIR_SERVICE_REQUEST_READ] = cs_api_fhir,
};

CsApi *
cs_api_new (CsSignaling *sig, CsRecords *records, GBytes *token_secret, guint room_token_ttl,
            gsize file_max_bytes)
{
  g_return_val_if_fail (token_secret != NULL, NULL);
  CsApi *api = g_new0 (CsApi, 1);
  api->signaling = sig;
  api->records = records;
  api->token_secret = g_bytes_ref (token_secret);
  api->room_token_ttl = room_token_ttl ? room_token_ttl : 3600;
  api->file_max_bytes = file_max_bytes ? file_max_bytes : 10 * 1024 * 1024;
  return api;
}

void
cs_api_set_public_url (CsApi *api, const char *url)
{
  g_return_if_fail (api != NULL);
  g_free (api->public_url);
  api->public_url = g_strdup (url);
}

void
cs_api_free (CsApi *api)
{
  if (!api)
    return;
  g_bytes_unref (api->token_secret);
  g_free (api->public_url);
  g_free (api);
}

/* ---- the call ------------------------------------------------------------ */

static char *
parse_bearer (const char *authorization)
{
  if (!authorization || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    return NULL;
  const char *t = authorization + 7;
  while (*t == ' ')
    t++;
  gsize n = strlen (t);
  while (n && t[n - 1] == ' ')
    n--;
  if (n == 0 || n > MAX_BEARER)
    return NULL;
  return g_strndup (t, n);
}

CsApiCall *
cs_api_call_new (CsApi *api, CsHttpMethod method, const char *path, const char *source,
                 const char *authorization, const char *content_type,
                 CsApiRespondFunc respond, gpointer user_data)
{
  g_return_val_if_fail (api != NULL && path != NULL && respond != NULL, NULL);
  CsApiCall *call = g_new0 (CsApiCall, 1);
  call->api = api;
  call->respond = respond;
  call->respond_data = user_data;
  call->cancellable = g_cancellable_new ();
  call->method = method;
  call->path = g_strdup (path);
  call->source = g_strdup (source);
  call->bearer = parse_bearer (authorization);
  call->content_type = g_strdup (content_type);
  call->body = g_byte_array_new ();
  /* File uploads are raw bodies of up to [clinic] file_max_bytes; the route
   * is known from the path before any of the body arrives. */
  CsApiMatch match;
  call->body_limit = cs_api_route (method, path, strlen (path), &match) == CS_API_ROUTE_OK &&
                     match.route->raw_body ? MAX (api->file_max_bytes, CS_API_MAX_BODY)
                                           : CS_API_MAX_BODY;
  call->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return call;
}

static void
call_free (CsApiCall *call)
{
  g_clear_object (&call->cancellable);
  g_free (call->path);
  g_free (call->source);
  g_free (call->bearer);
  g_free (call->content_type);
  g_byte_array_unref (call->body);
  g_hash_table_unref (call->query);
  if (call->json)
    json_decref (call->json);
  cs_session_free (call->session);
  g_free (call);
}

void
cs_api_call_add_query (CsApiCall *call, const char *name, const char *value)
{
  g_return_if_fail (call != NULL && name != NULL);
  if (!g_hash_table_contains (call->query, name))
    g_hash_table_insert (call->query, g_strdup (name), g_strdup (value ? value : ""));
}

gsize
cs_api_call_body_limit (CsApiCall *call)
{
  g_return_val_if_fail (call != NULL, 0);
  return call->body_limit;
}

gboolean
cs_api_call_append_body (CsApiCall *call, const void *data, gsize len)
{
  g_return_val_if_fail (call != NULL, FALSE);
  if (len > call->body_limit || call->body->len + len > call->body_limit) {
    cs_api_fail (call, 413, "payload-too-large", "the body exceeds %" G_GSIZE_FORMAT " bytes",
                 call->body_limit);
    return FALSE;
  }
  if (data)
    g_byte_array_append (call->body, data, (guint) len);
  return TRUE;
}

void
cs_api_call_refuse_length (CsApiCall *call)
{
  g_return_if_fail (call != NULL);
  cs_api_fail (call, 411, "length-required", "send the body with a Content-Length");
}

void
cs_api_call_abandon (CsApiCall *call)
{
  if (!call)
    return;
  call->respond = NULL;
  if (call->running)
    g_cancellable_cancel (call->cancellable);
  else
    call_free (call);
}

static void
on_audited (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsRecords *db = user_data;
  g_autoptr (GError) error = NULL;
  if (!cs_records_audit_append_finish (db, res, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("audit record not written: %s", error->message);
}

void
cs_api_audit_append (CsApi *api, const CsActor *actor, const CsAuditEvent *event)
{
  cs_records_audit_append_async (api->records, actor, event, NULL, on_audited, api->records);
}

/* ---- replies ------------------------------------------------------------- */

void
cs_api_reply_bytes (CsApiCall *call, guint status, const char *content_type, GBytes *body)
{
  if (call->respond)
    call->respond (call->respond_data, status, content_type, NULL, body);
  else
    g_bytes_unref (body);
  call_free (call);
}

void
cs_api_reply (CsApiCall *call, guint status, json_t *body)
{
  if (!body) {
    cs_api_reply_bytes (call, status, "application/json", g_bytes_new_static ("", 0));
    return;
  }
  char *text = json_dumps (body, JSON_COMPACT);
  json_decref (body);
  gsize len = strlen (text);
  /* json_dumps allocates with malloc: copy into GLib's allocator. */
  GBytes *bytes = g_bytes_new (text, len);
  free (text);
  cs_api_reply_bytes (call, status, "application/json", bytes);
}

static void
fail_with_allow (CsApiCall *call, guint status, const char *code, const char *allow,
                 const char *message)
{
  if (status >= 500)
    g_warning ("%s %s: %u %s: %s", cs_http_method_to_string (call->method), call->path, status,
               code, message);
  else
    g_debug ("%s %s: %u %s: %s", cs_http_method_to_string (call->method), call->path, status,
             code, message);
  /* Messages may quote input (a field name); json_pack wants valid UTF-8. */
  g_autofree char *valid = g_utf8_make_valid (message, -1);
  json_t *body = json_pack ("{s:{s:s, s:s}}", "error", "code", code, "message", valid);
  char *text = json_dumps (body, JSON_COMPACT);
  json_decref (body);
  GBytes *bytes = g_bytes_new (text, strlen (text));
  free (text);
  if (call->respond)
    call->respond (call->respond_data, status, "application/json", allow, bytes);
  else
    g_bytes_unref (bytes);
  call_free (call);
}

void
cs_api_fail (CsApiCall *call, guint status, const char *code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *message = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fail_with_allow (call, status, code, NULL, message);
}

void
cs_api_reply_done (CsApiCall *call, gboolean ok, const GError *error)
{
  if (ok)
    cs_api_reply (call, 204, NULL);
  else
    cs_api_fail_error (call, error);
}

void
cs_api_fail_error (CsApiCall *call, const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    /* The connection is gone (nobody hears this) or the server stops. */
    cs_api_fail (call, 503, "unavailable", "the server is shutting down");
    return;
  }
  if (error->domain != CS_RECORDS_ERROR) {
    g_warning ("%s %s: %s", cs_http_method_to_string (call->method), call->path,
               error->message);
    cs_api_fail (call, 500, "internal", "internal error");
    return;
  }
  static const struct {
    guint status;
    const char *code;
  } map[] = {
    [CS_RECORDS_ERROR_FAILED] = { 500, "internal" },
    [CS_RECORDS_ERROR_UNAVAILABLE] = { 503, "unavailable" },
    [CS_RECORDS_ERROR_INVALID] = { 400, "bad-request" },
    [CS_RECORDS_ERROR_NOT_FOUND] = { 404, "not-found" },
    [CS_RECORDS_ERROR_EXISTS] = { 409, "conflict" },
    [CS_RECORDS_ERROR_AUTH] = { 401, "unauthorized" },
    [CS_RECORDS_ERROR_TOTP_REQUIRED] = { 401, "totp-required" },
    [CS_RECORDS_ERROR_LOCKED] = { 429, "locked" },
    [CS_RECORDS_ERROR_FORBIDDEN] = { 403, "forbidden" },
    [CS_RECORDS_ERROR_SCHEMA] = { 500, "internal" },
    [CS_RECORDS_ERROR_CONFLICT] = { 409, "conflict" },
  };
  guint i = (guint) error->code;
  if (i >= G_N_ELEMENTS (map) || !map[i].code) {
    cs_api_fail (call, 500, "internal", "%s", error->message);
    return;
  }
  /* Internal details stay in the log, not in the answer. */
  if (map[i].status == 500) {
    g_warning ("%s %s: %s", cs_http_method_to_string (call->method), call->path,
               error->message);
    cs_api_fail (call, 500, "internal", "internal error");
    return;
  }
  const char *text = NULL;
  g_autofree char *reason = cs_records_error_reason (error, &text);
  guint status = map[i].status;
  if (reason && strcmp (reason, "payload-too-large") == 0)
    status = 413;
  cs_api_fail (call, status, reason ? reason : map[i].code, "%s", text);
}

void
cs_api_fail_forbidden (CsApiCall *call, const char *why)
{
  /* Refusals of a logged-in caller are part of the trail: who tried what.
   * The action is the endpoint's name (patient reads: "patient.read"). */
  if (call->session) {
    gboolean patient = call->match.route->endpoint == CS_API_PATIENT_GET;
    char oid[24];
    g_snprintf (oid, sizeof oid, "%" G_GINT64_FORMAT, call->match.ids[0]);
    g_autofree char *detail = g_strdup_printf ("%s %s", cs_http_method_to_string (call->method),
                                               call->path);
    CsAuditEvent ev = {
      .action = call->match.route->name, .object_type = patient ? "patient" : NULL,
      .object_id = patient ? oid : NULL, .patient_id = patient ? call->match.ids[0] : 0,
      .result = "denied", .detail = detail,
    };
    cs_api_audit_append (call->api, &call->actor, &ev);
  }
  cs_api_fail (call, 403, "forbidden", "%s", why);
}

/* ---- helpers ------------------------------------------------------------- */

const char *
cs_api_body_string (CsApiCall *call, const char *name)
{
  return call->json ? json_string_value (json_object_get (call->json, name)) : NULL;
}

gint64
cs_api_body_int (CsApiCall *call, const char *name)
{
  return call->json ? (gint64) json_integer_value (json_object_get (call->json, name)) : 0;
}

const char *
cs_api_query (CsApiCall *call, const char *name)
{
  return g_hash_table_lookup (call->query, name);
}

gboolean
cs_api_page_params (CsApiCall *call, guint def, guint max, guint *limit, gint64 *after_id)
{
  const char *l = cs_api_query (call, "limit"), *c = cs_api_query (call, "cursor");
  gint64 v = def;
  if (l && (!cs_api_parse_id (l, strlen (l), &v) || v > max)) {
    cs_api_fail (call, 400, "bad-request", "limit must be an integer 1..%u", max);
    return FALSE;
  }
  gint64 after = 0;
  if (c && *c && !cs_api_parse_id (c, strlen (c), &after)) {
    cs_api_fail (call, 400, "bad-request", "cursor is not one this server gave out");
    return FALSE;
  }
  *limit = (guint) v;
  *after_id = after;
  return TRUE;
}

json_t *
cs_api_page (json_t *items, guint limit, gint64 last_id)
{
  json_t *next = json_array_size (items) == limit && last_id > 0
                   ? json_sprintf ("%" G_GINT64_FORMAT, last_id) : json_null ();
  return json_pack ("{s:o, s:o}", "items", items, "next_cursor", next);
}

char *
cs_api_iso_time (gint64 us)
{
  /* g_date_time_new_from_unix_utc_usec() needs GLib 2.80. */
  g_autoptr (GDateTime) s = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  g_autoptr (GDateTime) t = s ? g_date_time_add (s, us % G_USEC_PER_SEC) : NULL;
  return t ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%S.%fZ") : g_strdup ("");
}

json_t *
cs_api_id_or_null (gint64 id)
{
  return id > 0 ? json_integer (id) : json_null ();
}

json_t *
cs_api_user_json (const CsUser *u)
{
  return json_pack ("{s:I, s:s, s:s, s:s, s:o, s:b, s:b}", "id", (json_int_t) u->id,
                    "email", u->email, "display_name", u->display_name,
                    "role", cs_role_to_string (u->role),
                    "institution_id", cs_api_id_or_null (u->institution_id),
                    "totp_enabled", u->totp_enabled, "disabled", u->disabled);
}

void
cs_api_audit (CsApiCall *call, const char *action, const char *object_type, gint64 object_id,
              gint64 patient_id, const char *result)
{
  char oid[24];
  g_snprintf (oid, sizeof oid, "%" G_GINT64_FORMAT, object_id);
  CsAuditEvent ev = {
    .action = action, .object_type = object_type, .object_id = object_id > 0 ? oid : NULL,
    .patient_id = patient_id, .result = result,
  };
  cs_api_audit_append (call->api, &call->actor, &ev);
}

void
cs_api_audit_room (CsApi *api, const char *user, const char *role, const char *room,
                   const char *action, const char *source)
{
  gint64 id;
  if (!api || !api->records || !user || !cs_api_parse_id (user, strlen (user), &id))
    return;
  /* Room roles are not account roles ("clinic"); the role travels in the
   * detail and the actor role stays the account's as far as we know it. */
  CsRole account = g_strcmp0 (role, "clinic") == 0 ? CS_ROLE_CLINIC_STAFF
                                                  : cs_role_from_string (role);
  CsActor actor = { .user_id = id, .role = account, .source = source };
  g_autofree char *detail = g_strdup_printf ("room role %s", role ? role : "?");
  CsAuditEvent ev = { .action = action, .object_type = "room", .object_id = room,
                      .result = "ok", .detail = detail };
  cs_api_audit_append (api, &actor, &ev);
}

/* ---- dispatch ------------------------------------------------------------ */

static guint
role_bit (CsRole role)
{
  switch (role) {
  case CS_ROLE_PATIENT:
    return CS_API_PATIENT;
  case CS_ROLE_DOCTOR:
  case CS_ROLE_SPECIALIST:
    return CS_API_DOCTOR;
  case CS_ROLE_CLINIC_STAFF:
    return CS_API_CLINIC;
  case CS_ROLE_ADMIN:
    return CS_API_ADMIN;
  case CS_ROLE_AUDITOR:
    return CS_API_AUDITOR;
  default:
    return 0;
  }
}

gboolean
cs_api_session_finish (CsApiCall *call, GAsyncResult *res)
{
  g_autoptr (GError) error = NULL;
  CsSession *session = cs_records_session_validate_finish (call->api->records, res, &error);
  if (!session) {
    if (g_error_matches (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_AUTH))
      cs_api_fail (call, 401, "unauthorized", "the session is unknown, expired or revoked");
    else
      cs_api_fail_error (call, error);
    return FALSE;
  }
  call->session = session;
  call->actor.user_id = session->user_id;
  call->actor.role = session->role;
  return TRUE;
}

static void
on_session (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  if (!cs_api_session_finish (call, res))
    return;
  CsSession *session = call->session;
  const CsApiRoute *route = call->match.route;
  if (!(route->access & role_bit (session->role))) {
    cs_api_fail_forbidden (call, "your role may not do this");
    return;
  }
  if (session->totp_setup_required && !(route->access & CS_API_STAFF_SETUP)) {
    cs_api_fail (call, 403, "totp-setup-required",
                 "set up two-factor authentication first (POST /api/v1/me/totp)");
    return;
  }
  handlers[route->endpoint] (call);
}

void
cs_api_call_run (CsApiCall *call)
{
  g_return_if_fail (call != NULL && !call->running);
  call->running = TRUE;
  call->actor.source = call->source;
  call->actor.role = CS_ROLE_INVALID;

  switch (cs_api_route (call->method, call->path, strlen (call->path), &call->match)) {
  case CS_API_ROUTE_NOT_FOUND:
    cs_api_fail (call, 404, "not-found", "no such API path");
    return;
  case CS_API_ROUTE_METHOD: {
    g_autofree char *allow = g_strdup (call->match.allow);
    g_autofree char *msg = g_strdup_printf ("this path accepts %s", allow);
    fail_with_allow (call, 405, "method-not-allowed", allow, msg);
    return;
  }
  case CS_API_ROUTE_OK:
    break;
  }
  const CsApiRoute *route = call->match.route;
  if (route->fields) {
    if (!cs_api_is_json_type (call->content_type)) {
      cs_api_fail (call, 415, "unsupported-media-type",
                   "the body must be sent as Content-Type: application/json");
      return;
    }
    CsApiProblem problem;
    call->json = cs_api_body_decode ((const char *) call->body->data, call->body->len,
                                     route->fields, &problem);
    if (!call->json) {
      cs_api_fail (call, g_strcmp0 (problem.code, "payload-too-large") == 0 ? 413 : 400,
                   problem.code, "%s", problem.message);
      return;
    }
  }
  /* A database that is known to be down fails fast; one that goes down
   * during the call fails from records with UNAVAILABLE, mapped alike. */
  if (!call->api->records || !cs_records_is_available (call->api->records)) {
    cs_api_fail (call, 503, "unavailable", "the database is unavailable; try again later");
    return;
  }
  if (route->access & CS_API_ANONYMOUS) {
    handlers[route->endpoint] (call);
    return;
  }
  if (!call->bearer) {
    cs_api_fail (call, 401, "unauthorized", "log in first (Authorization: Bearer <token>)");
    return;
  }
  cs_records_session_validate_async (call->api->records, call->bearer, call->cancellable,
                                     on_session, call);
}
