/* api-rooms.c — POST /room-tokens: a room token for the SFU minted from the
 * caller's account (docs/api.md, Room tokens). */
#include "signaling/api-private.h"
#include "signaling/signaling.h"

#include <string.h>

#define DB(call) ((call)->api->records)
#define MAX_TOKEN_NAME 128   /* chars; docs/signaling.md's limit on "name" */

/* Account role → room role of docs/signaling.md; NULL: no room tokens. */
static const char *
room_role (CsRole role)
{
  switch (role) {
  case CS_ROLE_PATIENT:
    return "patient";
  case CS_ROLE_DOCTOR:
    return "doctor";
  case CS_ROLE_SPECIALIST:
    return "specialist";
  case CS_ROLE_CLINIC_STAFF:
    return "clinic";
  default:
    return NULL;
  }
}

typedef struct {
  CsApiCall *call;
  CsUser *user;
} Issue;

static void
issue (Issue *is)
{
  CsApiCall *call = is->call;
  g_autoptr (CsUser) user = g_steal_pointer (&is->user);
  g_free (is);

  const char *room = cs_api_body_string (call, "room");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *sub = g_strdup_printf ("%" G_GINT64_FORMAT, user->id);
  /* records allows longer display names than tokens carry. */
  g_autofree char *name = g_utf8_substring (user->display_name, 0,
                                            MIN (g_utf8_strlen (user->display_name, -1),
                                                 MAX_TOKEN_NAME));
  CsTokenClaims claims = {
    .room = (char *) room, .user = sub, .name = name, .role = (char *) room_role (user->role),
    .exp = now + call->api->room_token_ttl, .iat = now,
  };
  gsize key_len;
  const guint8 *key = g_bytes_get_data (call->api->token_secret, &key_len);
  g_autofree char *token = cs_token_sign (key, key_len, &claims);
  if (!token) {
    cs_api_fail (call, 400, "bad-request", "room must be 1-64 of [A-Za-z0-9_.-]");
    return;
  }
  CsAuditEvent ev = { .action = "room_token.issue", .object_type = "room", .object_id = room,
                      .result = "ok", .detail = claims.role };
  cs_api_audit_append (call->api, &call->actor, &ev);
  g_autoptr (GDateTime) exp = g_date_time_new_from_unix_utc (claims.exp);
  g_autofree char *expires = g_date_time_format_iso8601 (exp);
  cs_api_reply (call, 201, json_pack ("{s:s, s:s, s:s, s:s}", "token", token, "room", room,
                                      "role", claims.role, "expires_at", expires));
}

static void
on_profile (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Issue *is = user_data;
  CsApiCall *call = is->call;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsDoctorProfile) p = cs_records_doctor_profile_get_finish (DB (call), res, &error);
  if (!p || p->verification != CS_VERIFICATION_VERIFIED) {
    cs_user_free (is->user);
    g_free (is);
    if (p || g_error_matches (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_NOT_FOUND))
      cs_api_fail_forbidden (call, "an admin must verify your credentials first");
    else
      cs_api_fail_error (call, error);
    return;
  }
  issue (is);
}

static void
on_user (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  CsUser *user = cs_records_user_get_finish (DB (call), res, &error);
  if (!user) {
    cs_api_fail_error (call, error);
    return;
  }
  Issue *is = g_new0 (Issue, 1);
  is->call = call;
  is->user = user;
  if (user->role == CS_ROLE_DOCTOR || user->role == CS_ROLE_SPECIALIST)
    cs_records_doctor_profile_get_async (DB (call), user->id, call->cancellable, on_profile, is);
  else
    issue (is);
}

void
cs_api_room_token (CsApiCall *call)
{
  if (!room_role (call->actor.role)) {
    cs_api_fail_forbidden (call, "your role may not join calls");
    return;
  }
  /* Visit rooms are entered only through their appointment, which checks
   * who is a party and holds the patient in the lobby. */
  const char *room = cs_api_body_string (call, "room");
  if (g_str_has_prefix (room, "appt-")) {
    cs_api_fail (call, 403, "visit-room",
                 "visit rooms are entered with POST /api/v1/appointments/{id}/room-token");
    return;
  }
  cs_records_user_get_async (DB (call), call->actor.user_id, call->cancellable, on_user, call);
}
