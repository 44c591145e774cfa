/* api-clinic.c — the scheduling, visit and referral endpoints. Each maps to
 * one records operation (CsOp) whose arguments are the body's fields, the
 * route's path ids and the query parameters; the operation checks the
 * caller against the record and writes the audit trail. A few endpoints
 * add something around the operation: room tokens, invite links, files. */
#include "signaling/api-private.h"
#include "signaling/signaling.h"

#include <string.h>

#define DB(call) ((call)->api->records)
#define MAX_TOKEN_NAME 128   /* chars; docs/signaling.md's limit on "name" */

static const struct {
  CsOp op;
  guint status;   /* on success */
} clinic_ops[CS_API_N_ENDPOINTS] = {
  [CS_API_DEPARTMENTS_LIST] = { CS_OP_DEPARTMENTS_LIST, 200 },
  [CS_API_DEPARTMENT_CREATE] = { CS_OP_DEPARTMENT_CREATE, 201 },
  [CS_API_DOCTOR_DEPARTMENT] = { CS_OP_DOCTOR_DEPARTMENT, 200 },
  [CS_API_DOCTORS_SEARCH] = { CS_OP_DOCTORS_SEARCH, 200 },
  [CS_API_ROSTER_GET] = { CS_OP_ROSTER_GET, 200 },
  [CS_API_ROSTER_SET] = { CS_OP_ROSTER_SET, 200 },
  [CS_API_ROSTER_EXCEPTION_ADD] = { CS_OP_ROSTER_EXCEPTION_ADD, 201 },
  [CS_API_SLOTS_LIST] = { CS_OP_SLOTS_LIST, 200 },
  [CS_API_DOCTOR_QUEUE] = { CS_OP_DOCTOR_QUEUE, 200 },
  [CS_API_SLOT_BLOCK] = { CS_OP_SLOT_BLOCK, 200 },
  [CS_API_SLOT_RELEASE] = { CS_OP_SLOT_RELEASE, 200 },
  [CS_API_APPOINTMENTS_LIST] = { CS_OP_APPOINTMENTS_LIST, 200 },
  [CS_API_APPOINTMENT_BOOK] = { CS_OP_APPOINTMENT_BOOK, 201 },
  [CS_API_APPOINTMENT_GET] = { CS_OP_APPOINTMENT_GET, 200 },
  [CS_API_APPOINTMENT_CANCEL] = { CS_OP_APPOINTMENT_CANCEL, 200 },
  [CS_API_APPOINTMENT_RESCHEDULE] = { CS_OP_APPOINTMENT_RESCHEDULE, 201 },
  [CS_API_APPOINTMENT_CHECK_IN] = { CS_OP_APPOINTMENT_CHECK_IN, 200 },
  [CS_API_APPOINTMENT_ADMIT] = { CS_OP_APPOINTMENT_ADMIT, 200 },
  [CS_API_APPOINTMENT_COMPLETE] = { CS_OP_APPOINTMENT_COMPLETE, 200 },
  [CS_API_APPOINTMENT_NO_SHOW] = { CS_OP_APPOINTMENT_NO_SHOW, 200 },
  [CS_API_APPOINTMENT_ROOM_TOKEN] = { CS_OP_ROOM_ACCESS, 201 },
  [CS_API_INVITE_CREATE] = { CS_OP_INVITE_CREATE, 201 },
  [CS_API_INVITE_REDEEM] = { CS_OP_INVITE_REDEEM, 201 },
  [CS_API_CHAT_LIST] = { CS_OP_CHAT_LIST, 200 },
  [CS_API_VISIT_FILES_LIST] = { CS_OP_VISIT_FILES_LIST, 200 },
  [CS_API_VISIT_FILE_UPLOAD] = { CS_OP_VISIT_FILE_UPLOAD, 201 },
  [CS_API_VISIT_FILE_GET] = { CS_OP_FILE_GET, 200 },
  [CS_API_NOTIFICATIONS_LIST] = { CS_OP_NOTIFICATIONS_LIST, 200 },
  [CS_API_NOTIFICATION_READ] = { CS_OP_NOTIFICATION_READ, 204 },
  [CS_API_NO_SHOW_STATS] = { CS_OP_NO_SHOW_STATS, 200 },
  [CS_API_REFERRALS_LIST] = { CS_OP_REFERRALS_LIST, 200 },
  [CS_API_REFERRAL_CREATE] = { CS_OP_REFERRAL_CREATE, 201 },
  [CS_API_REFERRAL_GET] = { CS_OP_REFERRAL_GET, 200 },
  [CS_API_REFERRAL_ACCEPT] = { CS_OP_REFERRAL_ACCEPT, 200 },
  [CS_API_REFERRAL_DECLINE] = { CS_OP_REFERRAL_DECLINE, 200 },
  [CS_API_REFERRAL_SCHEDULE] = { CS_OP_REFERRAL_SCHEDULE, 200 },
  [CS_API_REFERRAL_REPORT] = { CS_OP_REFERRAL_REPORT, 200 },
  [CS_API_REFERRAL_CLOSE] = { CS_OP_REFERRAL_CLOSE, 200 },
  [CS_API_REFERRAL_CANCEL] = { CS_OP_REFERRAL_CANCEL, 200 },
  [CS_API_REFERRAL_DOCUMENT_UPLOAD] = { CS_OP_REFERRAL_DOCUMENT_UPLOAD, 201 },
  [CS_API_REFERRAL_DOCUMENT_GET] = { CS_OP_FILE_GET, 200 },
  [CS_API_FHIR_SCHEDULE_SEARCH] = { CS_OP_FHIR_SEARCH, 200 },
  [CS_API_FHIR_SCHEDULE_READ] = { CS_OP_FHIR_READ, 200 },
  [CS_API_FHIR_SLOT_SEARCH] = { CS_OP_FHIR_SEARCH, 200 },
  [CS_API_FHIR_SLOT_READ] = { CS_OP_FHIR_READ, 200 },
  [CS_API_FHIR_APPOINTMENT_SEARCH] = { CS_OP_FHIR_SEARCH, 200 },
  [CS_API_FHIR_APPOINTMENT_READ] = { CS_OP_FHIR_READ, 200 },
  [CS_API_FHIR_ENCOUNTER_SEARCH] = { CS_OP_FHIR_SEARCH, 200 },
  [CS_API_FHIR_ENCOUNTER_READ] = { CS_OP_FHIR_READ, 200 },
  [CS_API_FHIR_SERVICE_REQUEST_SEARCH] = { CS_OP_FHIR_SEARCH, 200 },
  [CS_API_FHIR_SERVICE_REQUEST_READ] = { CS_OP_FHIR_READ, 200 },
};

/* Body fields, then path ids, then query parameters (as strings; the
 * operation parses and checks them) where the body did not set them. */
static json_t *
call_args (CsApiCall *call)
{
  json_t *args = call->json ? json_deep_copy (call->json) : json_object ();
  const CsApiRoute *route = call->match.route;
  for (guint i = 0; i < G_N_ELEMENTS (route->ids); i++)
    if (route->ids[i])
      json_object_set_new (args, route->ids[i], json_integer (call->match.ids[i]));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, call->query);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!json_object_get (args, k) && g_utf8_validate (v, -1, NULL))
      json_object_set_new (args, k, json_string (v));
  return args;
}

static guint
ok_status (CsApiCall *call)
{
  return clinic_ops[call->match.route->endpoint].status;
}

/* The operation's JSON (transfer full), or NULL once the error is answered. */
static json_t *
finish_op (CsApiCall *call, GAsyncResult *res)
{
  g_autoptr (GError) error = NULL;
  json_t *out = cs_records_op_finish (DB (call), res, &error);
  if (!out)
    cs_api_fail_error (call, error);
  return out;
}

/* The database's JSON text goes out as it is: decoding and encoding it
 * again cost more than the rest of the request (docs/performance.md). */
static void
on_op (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  GBytes *out = cs_records_op_finish_text (DB (call), res, &error);
  if (!out) {
    cs_api_fail_error (call, error);
    return;
  }
  guint status = ok_status (call);
  if (status == 204) {
    g_bytes_unref (out);
    cs_api_reply (call, 204, NULL);
    return;
  }
  cs_api_reply_bytes (call, status, "application/json", out);
}

static void
run_op (CsApiCall *call, json_t *args, GAsyncReadyCallback done)
{
  cs_records_op_async (DB (call), &call->actor, clinic_ops[call->match.route->endpoint].op, args,
                       call->cancellable, done, call);
  json_decref (args);
}

/* The admitted patient's connections waiting in the visit's lobby enter
 * the room (docs/signaling.md, "The lobby"). */
static void
on_admit (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  json_t *out = finish_op (call, res);
  if (!out)
    return;
  const char *room = json_string_value (json_object_get (out, "room"));
  json_int_t patient = json_integer_value (json_object_get (json_object_get (out, "patient"), "id"));
  if (room && patient > 0) {
    char user[24];
    g_snprintf (user, sizeof user, "%" JSON_INTEGER_FORMAT, patient);
    cs_signaling_room_admit_user (call->api->signaling, room, user);
  }
  cs_api_reply (call, 200, out);
}

void
cs_api_clinic_op (CsApiCall *call)
{
  gboolean admit = call->match.route->endpoint == CS_API_APPOINTMENT_ADMIT;
  run_op (call, call_args (call), admit ? on_admit : on_op);
}

/* ---- room tokens: the operation decides, the API signs ------------------- */

static void
on_room_access (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  json_auto_t *access = finish_op (call, res);
  if (!access)
    return;
  const char *name = json_string_value (json_object_get (access, "name"));
  g_autofree char *short_name = g_utf8_substring (name, 0, MIN (g_utf8_strlen (name, -1),
                                                                MAX_TOKEN_NAME));
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  CsTokenClaims claims = {
    .room = (char *) json_string_value (json_object_get (access, "room")),
    .user = (char *) json_string_value (json_object_get (access, "sub")),
    .name = short_name,
    .role = (char *) json_string_value (json_object_get (access, "role")),
    .exp = now + call->api->room_token_ttl, .iat = now,
    .lobby = json_is_true (json_object_get (access, "lobby")),
    .host = json_is_true (json_object_get (access, "host")),
  };
  gsize key_len;
  const guint8 *key = g_bytes_get_data (call->api->token_secret, &key_len);
  g_autofree char *token = cs_token_sign (key, key_len, &claims);
  if (!token) {
    g_warning ("room access for %s gave unsignable claims", claims.room);
    cs_api_fail (call, 500, "internal", "internal error");
    return;
  }
  g_autoptr (GDateTime) exp = g_date_time_new_from_unix_utc (claims.exp);
  g_autofree char *expires = g_date_time_format_iso8601 (exp);
  json_t *out = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:O?}", "token", token,
                           "room", claims.room, "role", claims.role, "sub", claims.user,
                           "name", claims.name,
                           "lobby", claims.lobby, "host", claims.host, "expires_at", expires,
                           "appointment", json_object_get (access, "appointment"));
  cs_api_reply (call, 201, out);
}

void
cs_api_appointment_room_token (CsApiCall *call)
{
  run_op (call, call_args (call), on_room_access);
}

/* Anonymous by route, but a signed-in caller (a specialist with an
 * account) is recognised so the visit keeps them as a participant. */
static void
on_redeem_session (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  if (cs_api_session_finish (call, res))
    run_op (call, call_args (call), on_room_access);
}

void
cs_api_invite_redeem (CsApiCall *call)
{
  if (!call->bearer) {
    run_op (call, call_args (call), on_room_access);
    return;
  }
  cs_records_session_validate_async (DB (call), call->bearer, call->cancellable,
                                     on_redeem_session, call);
}

/* ---- files ------------------------------------------------------------------ */

/* The body is the file itself; its type is the Content-Type and its name
 * the "name" query parameter. */
void
cs_api_file_upload (CsApiCall *call)
{
  const char *name = cs_api_query (call, "name");
  if (!name || !*name || !g_utf8_validate (name, -1, NULL)) {
    cs_api_fail (call, 400, "bad-request", "give the file name as ?name=...");
    return;
  }
  if (call->body->len == 0) {
    cs_api_fail (call, 400, "bad-request", "the file is empty");
    return;
  }
  /* "application/pdf; x=y" → "application/pdf" */
  g_autofree char *type = g_strdup (call->content_type ? call->content_type : "");
  char *semi = strchr (type, ';');
  if (semi)
    *semi = '\0';
  g_autofree char *lower = g_ascii_strdown (g_strstrip (type), -1);
  json_t *args = call_args (call);
  json_object_set_new (args, "filename", json_string (name));
  json_object_set_new (args, "content_type", json_string (lower));
  g_autofree char *b64 = g_base64_encode (call->body->data, call->body->len);
  json_object_set_new (args, "data", json_string (b64));
  run_op (call, args, on_op);
}

static void
on_file (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  json_auto_t *file = finish_op (call, res);
  if (!file)
    return;
  const char *b64 = json_string_value (json_object_get (file, "data"));
  const char *type = json_string_value (json_object_get (file, "content_type"));
  /* Only the types the database accepts ever come back; map them to the
   * static strings the responder wants. */
  static const char *const types[] = { "application/pdf", "image/png", "image/jpeg",
                                       "text/plain", "application/dicom" };
  const char *ctype = "application/octet-stream";
  for (guint i = 0; type && i < G_N_ELEMENTS (types); i++)
    if (strcmp (type, types[i]) == 0)
      ctype = types[i];
  gsize len = 0;
  guchar *data = g_base64_decode (b64 ? b64 : "", &len);
  cs_api_reply_bytes (call, 200, ctype, g_bytes_new_take (data, len));
}

void
cs_api_file_get (CsApiCall *call)
{
  run_op (call, call_args (call), on_file);
}

/* ---- FHIR R4, read-only (docs/fhir.md) ---------------------------------------- */

/* The operation's refusals answer as an OperationOutcome; the rest
 * (cancelled, unavailable, internal) as any other API call. */
static const struct {
  int code;
  guint status;
  const char *issue;
} fhir_outcomes[] = {
  { CS_RECORDS_ERROR_INVALID, 400, "invalid" },
  { CS_RECORDS_ERROR_FORBIDDEN, 403, "forbidden" },
  { CS_RECORDS_ERROR_NOT_FOUND, 404, "not-found" },
};

/* R4 wants absolute URLs in Bundle.entry.fullUrl and Bundle.link; the
 * database writes them relative to the server. */
static void
absolute_urls (json_t *bundle, const char *base, const char *array, const char *key)
{
  size_t i;
  json_t *item;
  json_array_foreach (json_object_get (bundle, array), i, item) {
    const char *url = json_string_value (json_object_get (item, key));
    if (url && url[0] == '/')
      json_object_set_new (item, key, json_sprintf ("%s%s", base, url));
  }
}

static void
on_fhir (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  json_t *out = cs_records_op_finish (DB (call), res, &error);
  guint status = 200;
  if (!out) {
    const char *text = NULL;
    g_autofree char *reason = cs_records_error_reason (error, &text);
    for (guint i = 0; reason && !out && i < G_N_ELEMENTS (fhir_outcomes); i++) {
      if (error->code != fhir_outcomes[i].code)
        continue;
      status = fhir_outcomes[i].status;
      g_autofree char *valid = g_utf8_make_valid (text, -1);
      out = json_pack ("{s:s, s:[{s:s, s:s, s:s, s:{s:s}}]}", "resourceType", "OperationOutcome",
                       "issue", "severity", "error", "code",
                       strcmp (reason, "unknown-parameter") == 0 ? "not-supported"
                                                                 : fhir_outcomes[i].issue,
                       "diagnostics", reason, "details", "text", valid);
    }
    if (!out) {
      cs_api_fail_error (call, error);
      return;
    }
  }
  if (call->api->public_url) {
    absolute_urls (out, call->api->public_url, "entry", "fullUrl");
    absolute_urls (out, call->api->public_url, "link", "url");
  }
  char *text = json_dumps (out, JSON_COMPACT);
  json_decref (out);
  GBytes *bytes = g_bytes_new (text, strlen (text));
  free (text);
  cs_api_reply_bytes (call, status, "application/fhir+json", bytes);
}

/* The resource type is the path's segment after /fhir/ ("Slot" of
 * "/fhir/Slot/{id}"); the operation takes it as "fhir_type". */
void
cs_api_fhir (CsApiCall *call)
{
  const char *type = call->match.route->pattern + strlen ("/fhir/");
  json_t *args = call_args (call);
  json_object_set_new (args, "fhir_type", json_stringn (type, strcspn (type, "/")));

  run_op (call, args, on_fhir);
}
