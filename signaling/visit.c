/* visit.c — what a visit adds to a room (docs/signaling.md, "The visit"):
 * host controls (admit from the lobby, mute, remove), chat stored with the
 * consultation, notices of shared files, and in-app notifications for
 * subscribed account pages. Requests that need the database run one at a
 * time per connection, so their answers keep the order they were sent in;
 * an answer finds its connection again by id, and is dropped once the
 * server stops. */
#include "signaling/signaling-private.h"

#include <string.h>

/* Requests of one connection waiting for the database, beyond the one
 * running; more are refused rather than queued without bound. */
#define MAX_DB_QUEUE 16

typedef struct {
  CsSignaling *sig;
  GCancellable *alive;          /* sig->alive (a reference) */
  char conn[18];                /* the requesting connection */
  CsSigId id;
  CsSigMsgType type;
  char *room;
  gint64 appointment_id;
  char *sub;                    /* the requester, from its verified token */
  char *name;
  char *role;
  char *source;                 /* its address, for the audit trail */
  char *target;                 /* admit: the user to let in */
  char *text;                   /* chat: the message; subscribe: the session token */
  gint64 file_id;               /* file-shared */
} DbRequest;

static void
db_request_free (DbRequest *r)
{
  g_object_unref (r->alive);
  g_free (r->room);
  g_free (r->sub);
  g_free (r->name);
  g_free (r->role);
  g_free (r->source);
  g_free (r->target);
  g_free (r->text);
  g_free (r);
}

static DbRequest *
db_request_new (CsSession *s, const CsSigRequest *req)
{
  DbRequest *r = g_new0 (DbRequest, 1);
  r->sig = s->sig;
  r->alive = g_object_ref (s->sig->alive);
  memcpy (r->conn, s->id, sizeof r->conn);
  r->id = req->id;
  r->type = req->type;
  if (s->room) {
    r->room = g_strdup (s->room->id);
    r->appointment_id = s->room->appointment_id;
  }
  r->sub = g_strdup (s->user);
  r->name = g_strdup (s->name);
  r->role = g_strdup (s->role);
  char source[64] = "";
  if (s->wsi)
    lws_get_peer_simple (s->wsi, source, sizeof source);
  r->source = source[0] ? g_strdup (source) : NULL;
  return r;
}

static void db_start (DbRequest *r);

static void
db_next (CsSession *s)
{
  DbRequest *r = g_queue_pop_head (&s->db_queue);
  s->db_busy = r != NULL;
  if (r)
    db_start (r);
}

static void
db_submit (CsSession *s, DbRequest *r)
{
  if (g_queue_get_length (&s->db_queue) >= MAX_DB_QUEUE) {
    cs_session_send_error (s, &r->id, CS_SIG_ERR_BAD_STATE,
                           "too many requests are waiting for the database");
    db_request_free (r);
    return;
  }
  g_queue_push_tail (&s->db_queue, r);
  if (!s->db_busy)
    db_next (s);
}

void
cs_visit_session_closed (CsSession *s)
{
  DbRequest *r;
  while ((r = g_queue_pop_head (&s->db_queue)))
    db_request_free (r);
}

/* The requester, if still connected (NULL otherwise). */
static CsSession *
requester (DbRequest *r)
{
  return g_hash_table_lookup (r->sig->sessions, r->conn);
}

static void
reply_ok (CsSession *s, DbRequest *r)
{
  if (s)
    cs_session_send (s, cs_sig_build_ok (&r->id));
}

static void
reply_failed (CsSession *s, DbRequest *r, const char *code, const char *message)
{
  if (s)
    cs_session_send_error_reason (s, &r->id, code, message);
}

static void
broadcast (DbRequest *r, char *json)
{
  CsSigRoom *room = r->room ? g_hash_table_lookup (r->sig->rooms, r->room) : NULL;
  if (room)
    cs_sig_room_broadcast (room, NULL, json);
  else
    g_free (json);
}

/* ---- answers */

static void
admit_done (DbRequest *r, CsSession *s, json_t *result)
{
  CsSigRoom *room = g_hash_table_lookup (r->sig->rooms, r->room);
  if (room)
    cs_sig_room_admit_user (room, r->target, r->sig->max_participants);
  reply_ok (s, r);
}

static void
chat_done (DbRequest *r, CsSession *s, json_t *result)
{
  /* The stored message, as GET /appointments/{id}/messages lists it. */
  CsSigChat chat = {
    .id = json_integer_value (json_object_get (result, "id")),
    .sender_id = json_integer_value (json_object_get (result, "sender_id")),
    .participant = r->conn,
    .name = json_string_value (json_object_get (result, "name")),
    .role = json_string_value (json_object_get (result, "role")),
    .text = json_string_value (json_object_get (result, "text")),
    .sent_at = json_string_value (json_object_get (result, "sent_at")),
  };
  broadcast (r, cs_sig_build_chat (&chat));
  reply_ok (s, r);
}

static void
file_done (DbRequest *r, CsSession *s, json_t *result)
{
  /* The visit's own list, read as the announcer: only a file of this
   * visit that the announcer may see is announced, described by the
   * database rather than by the client. */
  size_t i;
  json_t *f;
  json_array_foreach (json_object_get (result, "items"), i, f) {
    if (json_integer_value (json_object_get (f, "id")) != r->file_id)
      continue;
    CsSigFile file = {
      .id = r->file_id,
      .filename = json_string_value (json_object_get (f, "filename")),
      .size = json_integer_value (json_object_get (f, "size")),
      .content_type = json_string_value (json_object_get (f, "content_type")),
      .uploader_id = json_integer_value (json_object_get (f, "uploader_id")),
      .uploader_name = json_string_value (json_object_get (f, "uploader_name")),
      .participant = r->conn,
    };
    broadcast (r, cs_sig_build_file_shared (&file));
    reply_ok (s, r);
    return;
  }
  reply_failed (s, r, "not-found", "no such file in this visit");
}

static void
on_op (gpointer user_data, json_t *result, const char *code, const char *message)
{
  DbRequest *r = user_data;
  if (g_cancellable_is_cancelled (r->alive)) {
    db_request_free (r);   /* the server stops: r->sig may be gone */
    return;
  }
  CsSession *s = requester (r);
  if (!result)
    reply_failed (s, r, code, message);
  else if (r->type == CS_SIG_MSG_ADMIT)
    admit_done (r, s, result);
  else if (r->type == CS_SIG_MSG_CHAT)
    chat_done (r, s, result);
  else
    file_done (r, s, result);
  if (s)
    db_next (s);
  db_request_free (r);
}

static void
on_session (gpointer user_data, gint64 user_id, const char *code, const char *message)
{
  DbRequest *r = user_data;
  if (g_cancellable_is_cancelled (r->alive)) {
    db_request_free (r);
    return;
  }
  CsSession *s = requester (r);
  if (s && user_id > 0) {
    s->subscribed_user = user_id;
    reply_ok (s, r);
  } else {
    reply_failed (s, r, code, message);
  }
  if (s)
    db_next (s);
  db_request_free (r);
}

static void
db_start (DbRequest *r)
{
  CsApi *api = r->sig->api;
  if (r->type == CS_SIG_MSG_SUBSCRIBE) {
    cs_api_ws_session (api, r->text, r->alive, on_session, r);
    return;
  }
  CsApiWsOp op;
  json_t *args = json_pack ("{s:I}", "appointment_id", (json_int_t) r->appointment_id);
  switch (r->type) {
  case CS_SIG_MSG_ADMIT:
    op = CS_API_WS_ADMIT;
    break;
  case CS_SIG_MSG_CHAT:
    /* The sender is the verified token's, never the client's say-so. */
    op = CS_API_WS_CHAT_POST;
    json_object_set_new (args, "sender_sub", json_string (r->sub));
    json_object_set_new (args, "sender_name", json_string (r->name));
    json_object_set_new (args, "sender_role", json_string (r->role));
    json_object_set_new (args, "body", json_string (r->text));
    break;
  case CS_SIG_MSG_FILE_SHARED:
    op = CS_API_WS_FILES_LIST;
    break;
  default:
    g_assert_not_reached ();
  }
  cs_api_ws_op (api, r->sub, r->role, r->source, op, args, r->alive, on_op, r);
  json_decref (args);
}

/* ---- requests */

static gboolean
require_host (CsSession *s, const CsSigRequest *req)
{
  if (s->host)
    return TRUE;
  cs_session_send_error (s, &req->id, CS_SIG_ERR_FORBIDDEN, "only a host may do this");
  return FALSE;
}

/* The room's member (or, with @lobby, waiting connection) @id. */
static CsSession *
find_target (CsSession *s, const CsSigRequest *req, gboolean lobby, gboolean *waiting)
{
  gboolean w = FALSE;
  CsSession *t = cs_sig_room_find (s->room, req->participant, &w);
  if (!t || (w && !lobby)) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_NOT_FOUND,
                           lobby ? "no such participant here" : "no such participant in the room");
    return NULL;
  }
  if (waiting)
    *waiting = w;
  return t;
}

static void
handle_admit (CsSession *s, const CsSigRequest *req)
{
  CsSignaling *sig = s->sig;
  CsSigRoom *room = s->room;
  gboolean waiting;
  CsSession *t;
  if (!require_host (s, req) || !(t = find_target (s, req, TRUE, &waiting)))
    return;
  if (!waiting) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_NOT_FOUND,
                           "this participant is in the room already");
    return;
  }
  if (room->members->len >= sig->max_participants) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_ROOM_FULL, "the room is full");
    return;
  }
  /* Admitting a visit's patient is the appointment's step (waiting →
   * in_consultation, one patient at a time per doctor): the database
   * decides, then the lobby opens. Anyone else waits only because a host
   * removed them, and is let back in here. */
  if (room->appointment_id && g_strcmp0 (t->role, "patient") == 0) {
    DbRequest *r = db_request_new (s, req);
    r->target = g_strdup (t->user);
    db_submit (s, r);
    return;
  }
  cs_sig_room_admit_user (room, t->user, sig->max_participants);
  cs_session_send (s, cs_sig_build_ok (&req->id));
}

static void
handle_mute_participant (CsSession *s, const CsSigRequest *req)
{
  CsSession *t;
  if (!require_host (s, req) || !(t = find_target (s, req, FALSE, NULL)))
    return;
  /* The target's client turns the track off; it may turn it on again
   * itself, as with its own "mute". */
  gboolean *flag = req->kind == CS_MEDIA_KIND_AUDIO ? &t->audio_muted : &t->video_muted;
  gboolean changed = !*flag;
  *flag = TRUE;
  cs_session_send (t, cs_sig_build_muted_by_host (req->kind));
  cs_session_send (s, cs_sig_build_ok (&req->id));
  if (changed) {
    CsSigParticipant p;
    cs_session_participant (t, &p);
    cs_sig_room_broadcast (s->room, t, cs_sig_build_participant_updated (&p));
  }
}

static void
handle_remove (CsSession *s, const CsSigRequest *req)
{
  CsSigRoom *room = s->room;
  gboolean waiting;
  CsSession *t;
  if (!require_host (s, req) || !(t = find_target (s, req, TRUE, &waiting)))
    return;
  if (t == s) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_FORBIDDEN, "send leave to go");
    return;
  }
  /* Whoever comes back with the same token waits in the lobby for a host. */
  g_hash_table_add (room->removed, g_strdup (t->user));
  g_hash_table_remove (room->admitted, t->user);
  cs_session_send (t, cs_sig_build_removed (waiting));
  cs_session_leave (t);
  cs_session_close (t, LWS_CLOSE_STATUS_NORMAL);
  cs_session_send (s, cs_sig_build_ok (&req->id));
}

static void
handle_chat (CsSession *s, const CsSigRequest *req)
{
  if (s->room->appointment_id) {
    DbRequest *r = db_request_new (s, req);
    r->text = g_strdup (req->text);
    db_submit (s, r);
    return;
  }
  /* Rooms that are not visits keep no record: the message only goes round. */
  g_autofree char *now = cs_sig_format_time (g_get_real_time ());
  gint64 sender = 0;
  if (!cs_api_parse_id (s->user, strlen (s->user), &sender))
    sender = 0;
  CsSigChat chat = {
    .sender_id = sender, .participant = s->id, .name = s->name, .role = s->role,
    .text = req->text, .sent_at = now,
  };
  cs_sig_room_broadcast (s->room, NULL, cs_sig_build_chat (&chat));
  cs_session_send (s, cs_sig_build_ok (&req->id));
}

static void
handle_file_shared (CsSession *s, const CsSigRequest *req)
{
  if (!s->room->appointment_id) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_NOT_FOUND,
                           "files are shared in visit rooms only");
    return;
  }
  DbRequest *r = db_request_new (s, req);
  r->file_id = req->file_id;
  db_submit (s, r);
}

void
cs_visit_handle (CsSession *s, const CsSigRequest *req)
{
  switch (req->type) {
  case CS_SIG_MSG_ADMIT:
    handle_admit (s, req);
    break;
  case CS_SIG_MSG_MUTE_PARTICIPANT:
    handle_mute_participant (s, req);
    break;
  case CS_SIG_MSG_REMOVE:
    handle_remove (s, req);
    break;
  case CS_SIG_MSG_CHAT:
    handle_chat (s, req);
    break;
  case CS_SIG_MSG_FILE_SHARED:
    handle_file_shared (s, req);
    break;
  case CS_SIG_MSG_SUBSCRIBE: {
    DbRequest *r = db_request_new (s, req);
    r->text = g_strdup (req->session);
    db_submit (s, r);
    break;
  }
  default:
    g_assert_not_reached ();
  }
}

/* ---- notifications */

guint
cs_signaling_notify_user (CsSignaling *sig, gint64 user_id, json_t *notification)
{
  g_return_val_if_fail (sig != NULL && notification != NULL, 0);
  if (user_id <= 0 || sig->shutting_down)
    return 0;
  g_autofree char *msg = NULL;
  guint n = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, sig->sessions);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    CsSession *s = value;
    if (s->subscribed_user != user_id || s->state == CS_SESSION_LEFT)
      continue;
    if (!msg)
      msg = cs_sig_build_notification (notification);
    cs_session_send (s, g_strdup (msg));
    n++;
  }
  return n;
}
