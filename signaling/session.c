/* session.c — one signaling WebSocket: the connected → (waiting →) joined
 * → left state machine with the room's lobby, the media requests of
 * docs/signaling.md checked against the role, and the media engine's events
 * routed back to the participant they concern. What visits add (host
 * controls, chat, files, notifications) is in visit.c. */
#include "signaling/signaling-private.h"
#include "signaling/token-private.h"
#include "media/sdp.h"

#include <openssl/rand.h>
#include <string.h>

/* A client that reads nothing while others keep talking is cut off rather
 * than allowed to grow the server's memory without bound. */
#define MAX_QUEUED_BYTES (1024 * 1024)

typedef struct {
  gsize len;
  guint8 buf[];                 /* LWS_PRE headroom, then len bytes */
} CsOutMsg;

#define session_log(s, level, ...)                                                 \
  g_log_structured (G_LOG_DOMAIN, level, "ROOM_ID", (s)->room ? (s)->room->id : "", \
                    "PEER_ID", (s)->id, "MESSAGE", __VA_ARGS__)

static void
make_participant_id (CsSignaling *sig, char id[18])
{
  do {
    guint8 rnd[8];
    if (RAND_bytes (rnd, sizeof rnd) != 1)
      g_error ("RAND_bytes failed");  /* the CSPRNG is unusable: nothing is safe */
    id[0] = 'p';
    for (guint i = 0; i < sizeof rnd; i++)
      g_snprintf (id + 1 + 2 * i, 3, "%02x", rnd[i]);
  } while (g_hash_table_contains (sig->sessions, id));
}

CsSession *
cs_session_new (CsSignaling *sig, struct lws *wsi)
{
  CsSession *s = g_new0 (CsSession, 1);
  s->sig = sig;
  s->wsi = wsi;
  s->state = CS_SESSION_CONNECTED;
  s->rx = g_byte_array_new ();
  g_queue_init (&s->out);
  g_queue_init (&s->db_queue);
  s->published = g_array_new (FALSE, FALSE, sizeof (CsPublished));
  /* The id is the connection's from the start: answers from the database
   * find their session by it, whatever state it is in by then. */
  make_participant_id (sig, s->id);
  g_hash_table_insert (sig->sessions, s->id, s);
  sig->metrics.connections_total++;
  sig->metrics.connections++;
  return s;
}

static void
published_clear (GArray *published)
{
  for (guint i = 0; i < published->len; i++)
    g_free (g_array_index (published, CsPublished, i).track);
  g_array_set_size (published, 0);
}

void
cs_session_participant (const CsSession *s, CsSigParticipant *out)
{
  *out = (CsSigParticipant) {
    .id = s->id, .user = s->user, .name = s->name, .role = s->role,
    .audio_muted = s->audio_muted, .video_muted = s->video_muted, .host = s->host,
  };
}

void
cs_session_send (CsSession *s, char *json)
{
  if (s->close_after_flush || !s->wsi) {
    g_free (json);
    return;
  }
  gsize len = strlen (json);
  if (s->out_bytes + len > MAX_QUEUED_BYTES) {
    session_log (s, G_LOG_LEVEL_WARNING, "client not reading; dropping the connection");
    g_free (json);
    s->close_after_flush = TRUE;
    lws_set_timeout (s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    return;
  }
  CsOutMsg *m = g_malloc (sizeof *m + LWS_PRE + len);
  m->len = len;
  memcpy (m->buf + LWS_PRE, json, len);
  g_free (json);
  g_queue_push_tail (&s->out, m);
  s->out_bytes += len;
  lws_callback_on_writable (s->wsi);
}

void
cs_session_close (CsSession *s, enum lws_close_status status)
{
  s->close_after_flush = TRUE;
  s->close_status = status;
  lws_callback_on_writable (s->wsi);
}

int
cs_session_write (CsSession *s)
{
  CsOutMsg *m = g_queue_pop_head (&s->out);
  if (m) {
    int n = lws_write (s->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    s->out_bytes -= m->len;
    gboolean short_write = n < (int) m->len;
    g_free (m);
    if (short_write)
      return -1;
  }
  if (!g_queue_is_empty (&s->out)) {
    lws_callback_on_writable (s->wsi);
  } else if (s->close_after_flush) {
    lws_close_reason (s->wsi, s->close_status, NULL, 0);
    return -1;
  }
  return 0;
}

void
cs_session_send_error (CsSession *s, const CsSigId *id, CsSigErrorCode code,
                       const char *message)
{
  s->sig->metrics.errors[code]++;
  session_log (s, G_LOG_LEVEL_DEBUG, "error %s: %s", cs_sig_error_code_to_string (code),
               message);
  cs_session_send (s, cs_sig_build_error (id, code, message));
}

void
cs_session_send_error_reason (CsSession *s, const CsSigId *id, const char *code,
                              const char *message)
{
  /* Counted under its own code when it is one of ours, else as "refused". */
  CsSigErrorCode bucket = CS_SIG_ERR_REFUSED;
  for (guint c = 1; c < CS_SIG_N_ERRORS; c++)
    if (strcmp (code, cs_sig_error_code_to_string (c)) == 0)
      bucket = c;
  s->sig->metrics.errors[bucket]++;
  session_log (s, G_LOG_LEVEL_DEBUG, "error %s: %s", code, message);
  cs_session_send (s, cs_sig_build_error_reason (id, code, message));
}

/* ---- leaving */

static void
drop_room_if_empty (CsSignaling *sig, CsSigRoom *room)
{
  if (cs_sig_room_is_empty (room))
    g_hash_table_remove (sig->rooms, room->id);
}

void
cs_session_leave (CsSession *s)
{
  CsSignaling *sig = s->sig;
  CsSigRoom *room = s->room;
  if (s->state == CS_SESSION_WAITING) {
    session_log (s, G_LOG_LEVEL_INFO, "left the lobby");
    s->state = CS_SESSION_LEFT;
    g_ptr_array_remove (room->lobby, s);
    s->room = NULL;
    if (!sig->shutting_down)
      cs_sig_room_send_lobby (room, NULL);
    drop_room_if_empty (sig, room);
    return;
  }
  if (s->state != CS_SESSION_JOINED)
    return;
  session_log (s, G_LOG_LEVEL_INFO, "participant left");
  cs_session_audit_room (s, "room.leave");
  s->state = CS_SESSION_LEFT;
  g_hash_table_remove (sig->peers, s->id);
  if (sig->media)
    cs_media_peer_remove (sig->media, s->id);
  published_clear (s->published);
  s->offer_pending = FALSE;
  g_ptr_array_remove (room->members, s);
  s->room = NULL;
  if (room->members->len == 0) {
    drop_room_if_empty (sig, room);
    return;
  }
  if (sig->shutting_down)
    return;
  cs_sig_room_broadcast (room, NULL, cs_sig_build_participant_left (s->id));
  cs_sig_room_update_streams (room);
}

void
cs_session_closed (CsSession *s)
{
  if (!s)
    return;
  cs_session_leave (s);
  cs_visit_session_closed (s);
  g_hash_table_remove (s->sig->sessions, s->id);
  s->sig->metrics.connections--;
  CsOutMsg *m;
  while ((m = g_queue_pop_head (&s->out)))
    g_free (m);
  g_byte_array_unref (s->rx);
  published_clear (s->published);
  g_array_unref (s->published);
  g_free (s->streams_sent);
  g_free (s->user);
  g_free (s->name);
  g_free (s->role);
  g_free (s);
}

/* ---- requests */

void
cs_session_enter (CsSession *s)
{
  CsSignaling *sig = s->sig;
  CsSigRoom *room = s->room;
  s->state = CS_SESSION_JOINED;

  g_autoptr (GArray) others = g_array_new (FALSE, FALSE, sizeof (CsSigParticipant));
  for (guint i = 0; i < room->members->len; i++) {
    CsSigParticipant p;
    cs_session_participant (g_ptr_array_index (room->members, i), &p);
    g_array_append_val (others, p);
  }
  g_ptr_array_add (room->members, s);
  g_hash_table_insert (sig->peers, s->id, s);
  if (sig->media)
    cs_media_peer_add (sig->media, room->id, s->id);
  session_log (s, G_LOG_LEVEL_INFO, "participant joined as %s%s", s->role,
               s->host ? " (host)" : "");
  cs_session_audit_room (s, "room.join");

  CsSigParticipant self;
  cs_session_participant (s, &self);
  cs_session_send (s, cs_sig_build_joined (&s->join_id, room->id, &self,
                                           (const CsSigParticipant *) others->data,
                                           others->len, (const char *const *) sig->ice_urls));
  cs_sig_room_broadcast (room, s, cs_sig_build_participant_joined (&self));
  /* The newcomer learns the tracks already published. */
  cs_sig_room_update_streams (room);
  if (s->host)
    cs_sig_room_send_lobby (room, s);
}

static void
enter_lobby (CsSession *s)
{
  CsSigRoom *room = s->room;
  s->state = CS_SESSION_WAITING;
  s->waiting_since = g_get_real_time ();
  g_ptr_array_add (room->lobby, s);
  session_log (s, G_LOG_LEVEL_INFO, "waiting in the lobby as %s", s->role);
  CsSigParticipant self;
  cs_session_participant (s, &self);
  cs_session_send (s, cs_sig_build_waiting (&s->join_id, room->id, &self, s->waiting_since,
                                            room->lobby->len));
  cs_sig_room_send_lobby (room, NULL);
}

static void
handle_join (CsSession *s, const CsSigRequest *req)
{
  CsSignaling *sig = s->sig;
  if (s->state == CS_SESSION_JOINED) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_ALREADY_JOINED, "already joined");
    return;
  }

  g_auto (CsTokenClaims) claims = { 0 };
  gsize secret_len;
  const guint8 *secret = g_bytes_get_data (sig->token_secret, &secret_len);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  CsTokenResult res = cs_token_verify (secret, secret_len, req->token, now, &claims);
  if (res != CS_TOKEN_OK) {
    static const char *const why[] = {
      [-CS_TOKEN_MALFORMED] = "malformed token",
      [-CS_TOKEN_BAD_SIGNATURE] = "bad token signature",
      [-CS_TOKEN_BAD_CLAIMS] = "missing or invalid token claims",
      [-CS_TOKEN_EXPIRED] = "token expired",
    };
    session_log (s, G_LOG_LEVEL_INFO, "join refused: %s", why[-res]);
    s->state = CS_SESSION_LEFT;
    cs_session_send_error (s, &req->id,
                           res == CS_TOKEN_EXPIRED ? CS_SIG_ERR_TOKEN_EXPIRED
                                                   : CS_SIG_ERR_INVALID_TOKEN,
                           why[-res]);
    cs_session_close (s, LWS_CLOSE_STATUS_POLICY_VIOLATION);
    return;
  }

  /* A lobby token waits for a host, unless this user was admitted here
   * already (a reconnect); anyone a host removed comes back through the
   * lobby whatever the token says. */
  CsSigRoom *room = g_hash_table_lookup (sig->rooms, claims.room);
  gboolean removed = room && g_hash_table_contains (room->removed, claims.user);
  gboolean admitted = room && g_hash_table_contains (room->admitted, claims.user);
  gboolean lobby = removed || (claims.lobby && !admitted);
  if (room && (lobby ? room->lobby : room->members)->len >= sig->max_participants) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_ROOM_FULL,
                           lobby ? "the lobby is full" : "the room is full");
    return;
  }
  if (!room) {
    room = cs_sig_room_new (claims.room);
    g_hash_table_insert (sig->rooms, room->id, room);
  }

  s->user = g_steal_pointer (&claims.user);
  s->name = g_steal_pointer (&claims.name);
  s->role = g_steal_pointer (&claims.role);
  s->host = claims.host;
  s->can_publish = g_strcmp0 (s->role, "observer") != 0;
  s->join_id = req->id;
  s->room = room;
  if (lobby)
    enter_lobby (s);
  else
    cs_session_enter (s);
}

/* Whether @sdp offers to send anything: observers may only receive. */
static CsSigErrorCode
check_receive_only (const char *sdp, gsize len, char *err, gsize err_len)
{
  g_autofree CsSdpSession *offer = g_new (CsSdpSession, 1);
  if (cs_sdp_parse (sdp, len, offer, err, err_len) != CS_SDP_OK)
    return CS_SIG_ERR_INVALID_SDP;
  for (guint i = 0; i < offer->n_media; i++) {
    const CsSdpMedia *m = &offer->media[i];
    if (m->port != 0 &&
        (m->direction == CS_SDP_SENDONLY || m->direction == CS_SDP_SENDRECV)) {
      g_snprintf (err, err_len, "m-line %u: this role may not publish (%s)", i,
                  cs_sdp_direction_to_string (m->direction));
      return CS_SIG_ERR_FORBIDDEN;
    }
  }
  return CS_SIG_OK;
}

static void
handle_offer (CsSession *s, const CsSigRequest *req)
{
  CsSignaling *sig = s->sig;
  if (s->offer_pending) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_BAD_STATE,
                           "the previous offer is not answered yet");
    return;
  }
  if (!s->can_publish) {
    char err[160] = "";
    CsSigErrorCode code = check_receive_only (req->sdp, req->sdp_len, err, sizeof err);
    if (code != CS_SIG_OK) {
      cs_session_send_error (s, &req->id, code, err);
      return;
    }
  }
  if (!sig->media) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_INTERNAL, "media engine not available");
    return;
  }
  s->offer_pending = TRUE;
  s->offer_tag = ++sig->next_offer_tag;
  s->offer_id = req->id;
  cs_media_peer_offer (sig->media, s->id, s->offer_tag, req->sdp);
}

static void
handle_mute (CsSession *s, const CsSigRequest *req)
{
  if (!s->can_publish) {
    cs_session_send_error (s, &req->id, CS_SIG_ERR_FORBIDDEN, "this role does not publish");
    return;
  }
  gboolean *flag = req->kind == CS_MEDIA_KIND_AUDIO ? &s->audio_muted : &s->video_muted;
  gboolean changed = *flag != req->muted;
  *flag = req->muted;
  cs_session_send (s, cs_sig_build_ok (&req->id));
  if (changed) {
    CsSigParticipant self;
    cs_session_participant (s, &self);
    cs_sig_room_broadcast (s->room, s, cs_sig_build_participant_updated (&self));
  }
}

/* What each state accepts (docs/signaling.md, Sequence). */
static gboolean
check_state (CsSession *s, const CsSigRequest *req)
{
  CsSigMsgType t = req->type;
  if (t == CS_SIG_MSG_PING)
    return TRUE;
  switch (s->state) {
  case CS_SESSION_CONNECTED:
    if (t == CS_SIG_MSG_JOIN || t == CS_SIG_MSG_SUBSCRIBE)
      return TRUE;
    cs_session_send_error (s, &req->id, CS_SIG_ERR_NOT_JOINED, "send join first");
    return FALSE;
  case CS_SESSION_WAITING:
    /* "A patient who tries to enter without being admitted is held." */
    if (t == CS_SIG_MSG_LEAVE)
      return TRUE;
    cs_session_send_error (s, &req->id, CS_SIG_ERR_NOT_ADMITTED,
                           "you are in the lobby until a host admits you");
    return FALSE;
  case CS_SESSION_JOINED:
  case CS_SESSION_LEFT:
    break;
  }
  return TRUE;
}

static void
handle_request (CsSession *s, const CsSigRequest *req)
{
  CsSignaling *sig = s->sig;
  if (!check_state (s, req))
    return;
  switch (req->type) {
  case CS_SIG_MSG_JOIN:
    handle_join (s, req);
    break;
  case CS_SIG_MSG_OFFER:
    handle_offer (s, req);
    break;
  case CS_SIG_MSG_CANDIDATE:
  case CS_SIG_MSG_END_OF_CANDIDATES:
    /* Candidates before the offer are fine: media keeps them until then. */
    if (sig->media)
      cs_media_peer_candidate (sig->media, s->id,
                               req->type == CS_SIG_MSG_CANDIDATE ? req->candidate : NULL);
    break;
  case CS_SIG_MSG_MUTE:
    handle_mute (s, req);
    break;
  case CS_SIG_MSG_LEAVE:
    cs_session_send (s, cs_sig_build_ok (&req->id));
    cs_session_leave (s);
    cs_session_close (s, LWS_CLOSE_STATUS_NORMAL);
    break;
  case CS_SIG_MSG_PING:
    cs_session_send (s, cs_sig_build_pong (&req->id));
    break;
  case CS_SIG_MSG_ADMIT:
  case CS_SIG_MSG_MUTE_PARTICIPANT:
  case CS_SIG_MSG_REMOVE:
  case CS_SIG_MSG_CHAT:
  case CS_SIG_MSG_FILE_SHARED:
  case CS_SIG_MSG_SUBSCRIBE:
    cs_visit_handle (s, req);
    break;
  case CS_SIG_N_MSG_TYPES:
    g_assert_not_reached ();
  }
}

void
cs_session_handle_frame (CsSession *s, const char *data, gsize len)
{
  /* A refused or leaving client gets nothing more. */
  if (s->state == CS_SESSION_LEFT)
    return;
  g_auto (CsSigRequest) req = { 0 };
  CsSigId id;
  char err[200];
  CsSigErrorCode code = cs_sig_request_parse (data, len, &req, &id, err, sizeof err);
  if (code != CS_SIG_OK) {
    cs_session_send_error (s, &id, code, err);
    return;
  }
  s->sig->metrics.messages[req.type]++;
  handle_request (s, &req);
}

/* ---- media events (main thread) */

static void
on_answer (gpointer user_data, const char *peer_id, guint64 tag, const char *sdp,
           const CsMediaStream *published, guint n_published,
           const CsMediaStream *subscribed, guint n_subscribed, const GError *error)
{
  CsSignaling *sig = user_data;
  CsSession *s = g_hash_table_lookup (sig->peers, peer_id);
  /* Gone, or an answer to an offer the session no longer waits for. */
  if (!s || !s->offer_pending || tag != s->offer_tag)
    return;
  s->offer_pending = FALSE;

  if (!sdp) {
    CsSigErrorCode code = CS_SIG_ERR_INTERNAL;
    if (error && error->domain == CS_MEDIA_ERROR && error->code == CS_MEDIA_ERROR_INVALID_SDP)
      code = CS_SIG_ERR_INVALID_SDP;
    else if (error && error->domain == CS_MEDIA_ERROR &&
             error->code == CS_MEDIA_ERROR_UNSUPPORTED_SDP)
      code = CS_SIG_ERR_UNSUPPORTED_SDP;
    cs_session_send_error (s, &s->offer_id, code, error ? error->message : "no answer");
    return;
  }

  g_autofree CsSigStream *streams = g_new0 (CsSigStream, n_subscribed + 1);
  for (guint i = 0; i < n_subscribed; i++)
    streams[i] = (CsSigStream) {
      .mid = subscribed[i].mid, .participant = subscribed[i].participant_id,
      .kind = subscribed[i].kind, .track = subscribed[i].track_id,
    };
  cs_session_send (s, cs_sig_build_answer (&s->offer_id, sdp, streams, n_subscribed));

  gboolean changed = n_published != s->published->len;
  for (guint i = 0; !changed && i < n_published; i++) {
    const CsPublished *p = &g_array_index (s->published, CsPublished, i);
    changed = p->kind != published[i].kind || g_strcmp0 (p->track, published[i].track_id) != 0;
  }
  if (!changed)
    return;
  published_clear (s->published);
  for (guint i = 0; i < n_published; i++) {
    CsPublished p = { g_strdup (published[i].track_id), published[i].kind };
    g_array_append_val (s->published, p);
  }
  session_log (s, G_LOG_LEVEL_DEBUG, "publishes %u tracks", n_published);
  cs_sig_room_update_streams (s->room);
}

static void
on_candidate (gpointer user_data, const char *peer_id, const char *mid, const char *candidate)
{
  CsSignaling *sig = user_data;
  CsSession *s = g_hash_table_lookup (sig->peers, peer_id);
  if (s)
    cs_session_send (s, cs_sig_build_candidate (mid, candidate));
}

static void
on_state (gpointer user_data, const char *peer_id, CsPeerState state)
{
  CsSignaling *sig = user_data;
  CsSession *s = g_hash_table_lookup (sig->peers, peer_id);
  const char *name = NULL;
  switch (state) {
  case CS_PEER_STATE_NEW:
    break;
  case CS_PEER_STATE_CONNECTING:
    name = "connecting";
    break;
  case CS_PEER_STATE_CONNECTED:
    name = "connected";
    break;
  case CS_PEER_STATE_FAILED:
    name = "failed";
    break;
  case CS_PEER_STATE_CLOSED:
    name = "closed";
    break;
  }
  if (!s || !name)
    return;
  session_log (s, state == CS_PEER_STATE_FAILED ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_INFO,
               "media %s", name);
  cs_session_send (s, cs_sig_build_media_state (name));
}

static const CsMediaEvents media_events = {
  .answer = on_answer,
  .candidate = on_candidate,
  .state = on_state,
};

const CsMediaEvents *
cs_signaling_media_events (void)
{
  return &media_events;
}
