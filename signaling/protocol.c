/* protocol.c — validation of client frames and builders for server
 * messages (docs/signaling.md). Unknown fields are ignored so that clients
 * may send what the browser gives them (e.g. RTCIceCandidate.toJSON()'s
 * usernameFragment); every documented field is checked for presence and
 * type. */
#include "signaling/protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const error_codes[CS_SIG_N_ERRORS] = {
  [CS_SIG_OK] = "ok",
  [CS_SIG_ERR_BAD_JSON] = "bad-json",
  [CS_SIG_ERR_BAD_MESSAGE] = "bad-message",
  [CS_SIG_ERR_UNKNOWN_TYPE] = "unknown-type",
  [CS_SIG_ERR_MESSAGE_TOO_LARGE] = "message-too-large",
  [CS_SIG_ERR_NOT_JOINED] = "not-joined",
  [CS_SIG_ERR_ALREADY_JOINED] = "already-joined",
  [CS_SIG_ERR_INVALID_TOKEN] = "invalid-token",
  [CS_SIG_ERR_TOKEN_EXPIRED] = "token-expired",
  [CS_SIG_ERR_FORBIDDEN] = "forbidden",
  [CS_SIG_ERR_BAD_STATE] = "bad-state",
  [CS_SIG_ERR_INVALID_SDP] = "invalid-sdp",
  [CS_SIG_ERR_UNSUPPORTED_SDP] = "unsupported-sdp",
  [CS_SIG_ERR_ROOM_FULL] = "room-full",
  [CS_SIG_ERR_INTERNAL] = "internal",
  [CS_SIG_ERR_NOT_ADMITTED] = "not-admitted",
  [CS_SIG_ERR_NOT_FOUND] = "not-found",
  [CS_SIG_ERR_UNAUTHORIZED] = "unauthorized",
  [CS_SIG_ERR_UNAVAILABLE] = "unavailable",
  [CS_SIG_ERR_REFUSED] = "refused",
};

const char *
cs_sig_error_code_to_string (CsSigErrorCode code)
{
  g_return_val_if_fail (code >= 0 && code < CS_SIG_N_ERRORS, "internal");
  return error_codes[code];
}

static const char *const msg_types[CS_SIG_N_MSG_TYPES] = {
  [CS_SIG_MSG_JOIN] = "join",
  [CS_SIG_MSG_OFFER] = "offer",
  [CS_SIG_MSG_CANDIDATE] = "candidate",
  [CS_SIG_MSG_END_OF_CANDIDATES] = "end-of-candidates",
  [CS_SIG_MSG_MUTE] = "mute",
  [CS_SIG_MSG_LEAVE] = "leave",
  [CS_SIG_MSG_PING] = "ping",
  [CS_SIG_MSG_ADMIT] = "admit",
  [CS_SIG_MSG_MUTE_PARTICIPANT] = "mute-participant",
  [CS_SIG_MSG_REMOVE] = "remove",
  [CS_SIG_MSG_CHAT] = "chat",
  [CS_SIG_MSG_FILE_SHARED] = "file-shared",
  [CS_SIG_MSG_SUBSCRIBE] = "subscribe",
};

const char *
cs_sig_msg_type_to_string (CsSigMsgType type)
{
  g_return_val_if_fail (type >= 0 && type < CS_SIG_N_MSG_TYPES, "?");
  return msg_types[type];
}

static CsSigErrorCode
fail (char *err, gsize err_len, CsSigErrorCode code, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static CsSigErrorCode
fail (char *err, gsize err_len, CsSigErrorCode code, const char *fmt, ...)
{
  if (err && err_len) {
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, err_len, fmt, ap);
    va_end (ap);
  }
  return code;
}

/* Deepest bracket nesting of @data, outside strings. jansson recurses once
 * per level (up to 2048), so hostile nesting is cut off before parsing. */
static guint
json_max_depth (const char *data, gsize len)
{
  guint depth = 0, max = 0;
  gboolean in_string = FALSE, escaped = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = data[i];
    if (in_string) {
      if (escaped)
        escaped = FALSE;
      else if (c == '\\')
        escaped = TRUE;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      depth++;
      max = MAX (max, depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  return max;
}

static gboolean
parse_id (json_t *v, CsSigId *id)
{
  if (json_is_integer (v)) {
    id->kind = CS_SIG_ID_INT;
    id->num = json_integer_value (v);
    return TRUE;
  }
  if (json_is_string (v)) {
    const char *s = json_string_value (v);
    gsize n = json_string_length (v);
    /* jansson guarantees UTF-8 without NUL (JSON_ALLOW_NUL is not set). */
    if (g_utf8_strlen (s, (gssize) n) > CS_SIG_MAX_ID_LEN)
      return FALSE;
    id->kind = CS_SIG_ID_STRING;
    memcpy (id->str, s, n + 1);
    return TRUE;
  }
  return FALSE;
}

/* Fetches a required string field. */
static gboolean
get_string (json_t *root, const char *key, const char **out, gsize *len)
{
  json_t *v = json_object_get (root, key);
  if (!json_is_string (v))
    return FALSE;
  *out = json_string_value (v);
  if (len)
    *len = json_string_length (v);
  return TRUE;
}

/* "kind": "audio" or "video". */
static gboolean
get_kind (json_t *root, CsSigRequest *r, char *err, gsize err_len)
{
  const char *kind;
  if (get_string (root, "kind", &kind, NULL)) {
    if (strcmp (kind, "audio") == 0) {
      r->kind = CS_MEDIA_KIND_AUDIO;
      return TRUE;
    }
    if (strcmp (kind, "video") == 0) {
      r->kind = CS_MEDIA_KIND_VIDEO;
      return TRUE;
    }
  }
  fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE, "%s: \"kind\" must be \"audio\" or \"video\"",
        msg_types[r->type]);
  return FALSE;
}

/* The server's participant ids: "p" + 16 lower-case hex digits. */
static gboolean
is_participant_id (const char *s)
{
  if (s[0] != 'p' || strlen (s) != 17)
    return FALSE;
  for (guint i = 1; i < 17; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* Empty, or only white space (jansson hands over valid UTF-8). */
static gboolean
is_blank (const char *s)
{
  for (const char *c = s; *c; c = g_utf8_next_char (c))
    if (!g_unichar_isspace (g_utf8_get_char (c)))
      return FALSE;
  return TRUE;
}

static CsSigErrorCode
parse_fields (json_t *root, CsSigRequest *r, char *err, gsize err_len)
{
  json_t *v;
  switch (r->type) {
  case CS_SIG_MSG_JOIN:
    if (!get_string (root, "token", &r->token, NULL))
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE, "join: \"token\" must be a string");
    return CS_SIG_OK;

  case CS_SIG_MSG_OFFER:
    if (!get_string (root, "sdp", &r->sdp, &r->sdp_len))
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE, "offer: \"sdp\" must be a string");
    return CS_SIG_OK;

  case CS_SIG_MSG_CANDIDATE:
    if (!get_string (root, "candidate", &r->candidate, NULL))
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                   "candidate: \"candidate\" must be a string");
    v = json_object_get (root, "sdpMid");
    if (v && !json_is_null (v) && !json_is_string (v))
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                   "candidate: \"sdpMid\" must be a string or null");
    r->sdp_mid = json_string_value (v);
    v = json_object_get (root, "sdpMLineIndex");
    if (v && !json_is_null (v) &&
        !(json_is_integer (v) && json_integer_value (v) >= 0 && json_integer_value (v) <= 65535))
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                   "candidate: \"sdpMLineIndex\" must be an integer 0..65535 or null");
    r->sdp_mline_index = json_is_integer (v) ? json_integer_value (v) : -1;
    return CS_SIG_OK;

  case CS_SIG_MSG_MUTE:
    if (!get_kind (root, r, err, err_len))
      return CS_SIG_ERR_BAD_MESSAGE;
    v = json_object_get (root, "muted");
    if (!json_is_boolean (v))
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE, "mute: \"muted\" must be a boolean");
    r->muted = json_is_true (v);
    return CS_SIG_OK;

  case CS_SIG_MSG_MUTE_PARTICIPANT:
    if (!get_kind (root, r, err, err_len))
      return CS_SIG_ERR_BAD_MESSAGE;
    G_GNUC_FALLTHROUGH;  /* and the participant */
  case CS_SIG_MSG_ADMIT:
  case CS_SIG_MSG_REMOVE:
    if (!get_string (root, "participant", &r->participant, NULL) ||
        !is_participant_id (r->participant))
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                   "%s: \"participant\" must be a participant id (p + 16 hex digits)",
                   msg_types[r->type]);
    return CS_SIG_OK;

  case CS_SIG_MSG_CHAT: {
    gsize len;
    if (!get_string (root, "text", &r->text, &len) || is_blank (r->text) ||
        g_utf8_strlen (r->text, (gssize) len) > CS_SIG_MAX_CHAT)
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                   "chat: \"text\" must be 1 to %d characters, not all blank", CS_SIG_MAX_CHAT);
    return CS_SIG_OK;
  }

  case CS_SIG_MSG_FILE_SHARED:
    v = json_object_get (root, "file_id");
    if (!json_is_integer (v) || json_integer_value (v) < 1)
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                   "file-shared: \"file_id\" must be a positive integer");
    r->file_id = json_integer_value (v);
    return CS_SIG_OK;

  case CS_SIG_MSG_SUBSCRIBE: {
    gsize len;
    if (!get_string (root, "session", &r->session, &len) || len == 0 ||
        len > CS_SIG_MAX_SESSION)
      return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                   "subscribe: \"session\" must be a session token of 1 to %d bytes",
                   CS_SIG_MAX_SESSION);
    return CS_SIG_OK;
  }

  case CS_SIG_MSG_END_OF_CANDIDATES:
  case CS_SIG_MSG_LEAVE:
  case CS_SIG_MSG_PING:
  case CS_SIG_N_MSG_TYPES:
    break;
  }
  return CS_SIG_OK;
}

CsSigErrorCode
cs_sig_request_parse (const char *data, gsize len, CsSigRequest *req, CsSigId *id,
                      char *err, gsize err_len)
{
  g_return_val_if_fail (data != NULL || len == 0, CS_SIG_ERR_INTERNAL);
  g_return_val_if_fail (req != NULL && id != NULL, CS_SIG_ERR_INTERNAL);

  id->kind = CS_SIG_ID_NONE;
  if (err && err_len)
    err[0] = '\0';

  if (len > CS_SIG_MAX_FRAME)
    return fail (err, err_len, CS_SIG_ERR_MESSAGE_TOO_LARGE,
                 "frame of %" G_GSIZE_FORMAT " bytes exceeds %d", len, CS_SIG_MAX_FRAME);
  if (json_max_depth (data, len) > CS_SIG_MAX_DEPTH)
    return fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE, "JSON nested deeper than %d levels",
                 CS_SIG_MAX_DEPTH);

  json_error_t jerr;
  json_t *root = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root)
    return fail (err, err_len, CS_SIG_ERR_BAD_JSON, "column %d: %s", jerr.column, jerr.text);
  if (!json_is_object (root)) {
    json_decref (root);
    return fail (err, err_len, CS_SIG_ERR_BAD_JSON, "not a JSON object");
  }

  CsSigRequest r = { .root = root, .sdp_mline_index = -1 };
  CsSigErrorCode code = CS_SIG_OK;
  json_t *idv = json_object_get (root, "id");
  if (idv && !parse_id (idv, &r.id)) {
    code = fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE,
                 "\"id\" must be an integer or a string of at most %d characters",
                 CS_SIG_MAX_ID_LEN);
    goto out;
  }
  /* From here on replies can be matched to the request. */
  *id = r.id;

  const char *type;
  if (!get_string (root, "type", &type, NULL)) {
    code = fail (err, err_len, CS_SIG_ERR_BAD_MESSAGE, "\"type\" must be a string");
    goto out;
  }
  guint t;
  for (t = 0; t < CS_SIG_N_MSG_TYPES; t++)
    if (strcmp (type, msg_types[t]) == 0)
      break;
  if (t == CS_SIG_N_MSG_TYPES) {
    /* Echo at most a short, printable prefix of what the client sent. */
    g_autofree char *shown = g_utf8_make_valid (type, MIN (strlen (type), 32));
    code = fail (err, err_len, CS_SIG_ERR_UNKNOWN_TYPE, "unknown type \"%s\"", shown);
    goto out;
  }
  r.type = (CsSigMsgType) t;
  code = parse_fields (root, &r, err, err_len);

out:
  if (code != CS_SIG_OK) {
    json_decref (root);
    return code;
  }
  *req = r;
  return CS_SIG_OK;
}

void
cs_sig_request_clear (CsSigRequest *req)
{
  if (!req)
    return;
  g_clear_pointer (&req->root, json_decref);
  memset (req, 0, sizeof *req);
}

/* ---- builders */

static json_t *
id_to_json (const CsSigId *id)
{
  if (!id)
    return json_null ();
  switch (id->kind) {
  case CS_SIG_ID_INT:
    return json_integer (id->num);
  case CS_SIG_ID_STRING:
    return json_string (id->str);
  case CS_SIG_ID_NONE:
    break;
  }
  return json_null ();
}

/* Serialises and frees @obj. Strings reaching here are UTF-8 (they came
 * from jansson, the token checks or our own ids); json_string() returning
 * NULL on anything else would drop the member, never crash. */
static char *
finish (json_t *obj)
{
  char *s = json_dumps (obj, JSON_COMPACT);
  json_decref (obj);
  char *copy = g_strdup (s);
  free (s);
  return copy;
}

static json_t *
message (const char *type)
{
  return json_pack ("{s:s}", "type", type);
}

static json_t *
participant_to_json (const CsSigParticipant *p)
{
  return json_pack ("{s:s?, s:s?, s:s?, s:s?, s:b, s:b, s:b}", "id", p->id, "user", p->user,
                    "name", p->name, "role", p->role, "audio_muted", p->audio_muted,
                    "video_muted", p->video_muted, "host", p->host);
}

static const char *
kind_to_string (CsMediaKind kind)
{
  return kind == CS_MEDIA_KIND_AUDIO ? "audio" : "video";
}

static json_t *
streams_to_json (const CsSigStream *streams, guint n)
{
  json_t *arr = json_array ();
  for (guint i = 0; i < n; i++) {
    const CsSigStream *s = &streams[i];
    json_t *o = json_pack ("{s:s?, s:s?, s:s?}", "participant", s->participant,
                           "kind", kind_to_string (s->kind), "track", s->track);
    if (s->mid)
      json_object_set_new (o, "mid", json_string (s->mid));
    json_array_append_new (arr, o);
  }
  return arr;
}

char *
cs_sig_build_joined (const CsSigId *id, const char *room, const CsSigParticipant *self,
                     const CsSigParticipant *others, guint n_others,
                     const char *const *ice_urls)
{
  json_t *obj = message ("joined");
  json_object_set_new (obj, "id", id_to_json (id));
  json_object_set_new (obj, "room", json_string (room));
  json_object_set_new (obj, "participant", participant_to_json (self));
  json_t *arr = json_array ();
  for (guint i = 0; i < n_others; i++)
    json_array_append_new (arr, participant_to_json (&others[i]));
  json_object_set_new (obj, "participants", arr);
  json_t *servers = json_array ();
  if (ice_urls && ice_urls[0]) {
    json_t *urls = json_array ();
    for (guint i = 0; ice_urls[i]; i++)
      json_array_append_new (urls, json_string (ice_urls[i]));
    json_array_append_new (servers, json_pack ("{s:o}", "urls", urls));
  }
  json_object_set_new (obj, "ice_servers", servers);
  return finish (obj);
}

char *
cs_sig_build_answer (const CsSigId *id, const char *sdp, const CsSigStream *streams,
                     guint n_streams)
{
  json_t *obj = message ("answer");
  json_object_set_new (obj, "id", id_to_json (id));
  json_object_set_new (obj, "sdp", json_string (sdp));
  json_object_set_new (obj, "streams", streams_to_json (streams, n_streams));
  return finish (obj);
}

char *
cs_sig_build_candidate (const char *mid, const char *candidate)
{
  if (!candidate)
    return finish (message ("end-of-candidates"));
  return finish (json_pack ("{s:s, s:s, s:s?, s:i}", "type", "candidate",
                            "candidate", candidate, "sdpMid", mid, "sdpMLineIndex", 0));
}

char *
cs_sig_build_streams (const CsSigStream *streams, guint n_streams)
{
  json_t *obj = message ("streams");
  json_object_set_new (obj, "streams", streams_to_json (streams, n_streams));
  return finish (obj);
}

char *
cs_sig_build_participant_joined (const CsSigParticipant *p)
{
  json_t *obj = message ("participant-joined");
  json_object_set_new (obj, "participant", participant_to_json (p));
  return finish (obj);
}

char *
cs_sig_build_participant_updated (const CsSigParticipant *p)
{
  json_t *obj = message ("participant-updated");
  json_object_set_new (obj, "participant", participant_to_json (p));
  return finish (obj);
}

char *
cs_sig_build_participant_left (const char *participant_id)
{
  return finish (json_pack ("{s:s, s:{s:s}}", "type", "participant-left",
                            "participant", "id", participant_id));
}

char *
cs_sig_build_media_state (const char *state)
{
  return finish (json_pack ("{s:s, s:s}", "type", "media-state", "state", state));
}

static char *
build_reply (const char *type, const CsSigId *id)
{
  json_t *obj = message (type);
  json_object_set_new (obj, "id", id_to_json (id));
  return finish (obj);
}

char *
cs_sig_build_ok (const CsSigId *id)
{
  return build_reply ("ok", id);
}

char *
cs_sig_build_pong (const CsSigId *id)
{
  return build_reply ("pong", id);
}

char *
cs_sig_build_error (const CsSigId *id, CsSigErrorCode code, const char *message_text)
{
  return cs_sig_build_error_reason (id, cs_sig_error_code_to_string (code), message_text);
}

char *
cs_sig_build_error_reason (const CsSigId *id, const char *code, const char *message_text)
{
  json_t *obj = message ("error");
  json_object_set_new (obj, "id", id_to_json (id));
  json_object_set_new (obj, "code", json_string (code));
  /* Messages may quote client input: make sure it is valid UTF-8. */
  g_autofree char *msg = g_utf8_make_valid (message_text ? message_text : "", -1);
  json_object_set_new (obj, "message", json_string (msg));
  return finish (obj);
}

char *
cs_sig_format_time (gint64 us)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  return t ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

static json_t *
time_json (gint64 us)
{
  g_autofree char *s = cs_sig_format_time (us);
  return json_string (s);
}

static json_t *
id_or_null (gint64 id)
{
  return id > 0 ? json_integer (id) : json_null ();
}

char *
cs_sig_build_waiting (const CsSigId *id, const char *room, const CsSigParticipant *self,
                      gint64 since, guint position)
{
  json_t *obj = message ("waiting");
  json_object_set_new (obj, "id", id_to_json (id));
  json_object_set_new (obj, "room", json_string (room));
  json_object_set_new (obj, "participant", participant_to_json (self));
  json_object_set_new (obj, "since", time_json (since));
  json_object_set_new (obj, "position", json_integer (position));
  return finish (obj);
}

char *
cs_sig_build_lobby (const CsSigWaiting *waiting, guint n_waiting)
{
  json_t *arr = json_array ();
  for (guint i = 0; i < n_waiting; i++) {
    const CsSigWaiting *w = &waiting[i];
    json_t *o = json_pack ("{s:s?, s:s?, s:s?, s:s?}", "id", w->id, "user", w->user,
                           "name", w->name, "role", w->role);
    json_object_set_new (o, "since", time_json (w->since));
    json_array_append_new (arr, o);
  }
  json_t *obj = message ("lobby");
  json_object_set_new (obj, "waiting", arr);
  return finish (obj);
}

char *
cs_sig_build_muted_by_host (CsMediaKind kind)
{
  return finish (json_pack ("{s:s, s:s}", "type", "muted-by-host", "kind", kind_to_string (kind)));
}

char *
cs_sig_build_removed (gboolean from_lobby)
{
  return finish (json_pack ("{s:s, s:s}", "type", "removed",
                            "from", from_lobby ? "lobby" : "room"));
}

char *
cs_sig_build_chat (const CsSigChat *c)
{
  json_t *m = json_pack ("{s:o, s:o, s:s?, s:s?, s:s?, s:s?, s:s?}", "id", id_or_null (c->id),
                         "sender_id", id_or_null (c->sender_id), "participant", c->participant,
                         "name", c->name, "role", c->role, "text", c->text,
                         "sent_at", c->sent_at);
  return finish (json_pack ("{s:s, s:o}", "type", "chat", "message", m));
}

char *
cs_sig_build_file_shared (const CsSigFile *f)
{
  json_t *up = json_pack ("{s:o, s:s?}", "id", id_or_null (f->uploader_id),
                          "name", f->uploader_name);
  json_t *file = json_pack ("{s:I, s:s?, s:I, s:s?, s:o, s:s?}", "id", (json_int_t) f->id,
                            "filename", f->filename, "size", (json_int_t) f->size,
                            "content_type", f->content_type, "uploader", up,
                            "participant", f->participant);
  return finish (json_pack ("{s:s, s:o}", "type", "file-shared", "file", file));
}

char *
cs_sig_build_notification (json_t *notification)
{
  return finish (json_pack ("{s:s, s:O}", "type", "notification", "notification", notification));
}
