/* sig-janus.c — the same participant against Janus's VideoRoom plugin,
 * over Janus's WebSocket transport (sub-protocol "janus-protocol"):
 *
 *   create session → attach a publisher handle → "create" the room (427
 *   "already exists" is fine: every participant tries) → "joinandconfigure"
 *   with our offer (or a plain publisher "join" for listen-only ones, which
 *   still get the room's publisher events) → Janus's answer → once all the
 *   room's other publishers are known, attach a subscriber handle, "join" it
 *   with their feeds, answer Janus's offer with an answerer CsClient and
 *   "start". Candidates trickle both ways; a keepalive every 25 s. */
#include "loadgen.h"

#include <string.h>

#define KEEPALIVE_S 25

typedef enum {
  TX_CREATE,
  TX_ATTACH_PUB,
  TX_ATTACH_SUB,
  TX_ROOM,
  TX_OTHER,
} TxKind;

typedef struct {
  guint64 session;
  guint64 pub_handle, sub_handle;
  guint64 feed;                     /* our publisher id */
  GArray *feeds;                    /* guint64: the room's other publishers */
  gboolean joined, subscribing;
  guint next_tx;
  GSource *keepalive;
  /* Our candidates wait until the handle's jsep went out: a CsClient
   * gathers (and reports) them while it is being created. */
  GPtrArray *pending[2];            /* [PUB], [SUB]: char* (NULL: completed) */
  gboolean jsep_sent[2];
  int creating;                     /* PUB or SUB while its CsClient is made */
} Janus;

enum { PUB, SUB };

static json_t *
request (LgClient *c, const char *janus, guint64 handle, TxKind kind)
{
  Janus *p = c->proto;
  char tx[32];
  g_snprintf (tx, sizeof tx, "%u-%u", kind, p->next_tx++);
  json_t *msg = json_pack ("{s:s, s:s}", "janus", janus, "transaction", tx);
  if (p->session)
    json_object_set_new (msg, "session_id", json_integer (p->session));
  if (handle)
    json_object_set_new (msg, "handle_id", json_integer (handle));
  return msg;
}

static void
attach (LgClient *c, TxKind kind)
{
  json_t *msg = request (c, "attach", 0, kind);
  json_object_set_new (msg, "plugin", json_string ("janus.plugin.videoroom"));
  lg_ws_send (c->ws, msg);
}

static void
send_body (LgClient *c, guint64 handle, json_t *body, const char *jsep_type, const char *sdp)
{
  json_t *msg = request (c, "message", handle, TX_OTHER);
  json_object_set_new (msg, "body", body);
  if (sdp)
    json_object_set_new (msg, "jsep", json_pack ("{s:s, s:s}", "type", jsep_type, "sdp", sdp));
  lg_ws_send (c->ws, msg);
}

static guint64
janus_room (LgClient *c)
{
  return (guint64) c->w->run->room_base * 1000 + c->plan.room + 1;
}

static void
send_candidate (LgClient *c, int which, const char *candidate)
{
  Janus *p = c->proto;
  CsClient *pc = which == PUB ? c->pc : c->sub_pc;
  guint64 handle = which == PUB ? p->pub_handle : p->sub_handle;
  json_t *msg = request (c, "trickle", handle, TX_OTHER);
  if (candidate) {
    CsClientStream first;
    cs_client_get_stream (pc, 0, &first);
    json_object_set_new (msg, "candidate", json_pack ("{s:s, s:s, s:i}", "candidate", candidate,
                                                      "sdpMid", first.mid, "sdpMLineIndex", 0));
  } else {
    json_object_set_new (msg, "candidate", json_pack ("{s:b}", "completed", 1));
  }
  lg_ws_send (c->ws, msg);
}

static void
on_candidate (LgClient *c, CsClient *pc, const char *candidate)
{
  Janus *p = c->proto;
  int which = pc == c->pc ? PUB : pc == c->sub_pc ? SUB : p->creating;
  if (p->jsep_sent[which])
    send_candidate (c, which, candidate);
  else
    g_ptr_array_add (p->pending[which], g_strdup (candidate));
}

static void
jsep_sent (LgClient *c, int which)
{
  Janus *p = c->proto;
  p->jsep_sent[which] = TRUE;
  for (guint i = 0; i < p->pending[which]->len; i++)
    send_candidate (c, which, g_ptr_array_index (p->pending[which], i));
  g_ptr_array_set_size (p->pending[which], 0);
}

static gboolean
keepalive (gpointer data)
{
  LgClient *c = data;
  lg_ws_send (c->ws, request (c, "keepalive", 0, TX_OTHER));
  return G_SOURCE_CONTINUE;
}

static void
join_room (LgClient *c)
{
  Janus *p = c->proto;
  json_t *body = json_pack ("{s:s, s:I, s:s, s:s}", "request",
                            c->plan.publish ? "joinandconfigure" : "join",
                            "room", (json_int_t) janus_room (c), "ptype", "publisher",
                            "display", c->name);
  if (!c->plan.publish) {
    send_body (c, p->pub_handle, body, NULL, NULL);
    return;
  }
  CsClientConfig cfg = { .send_audio = TRUE, .send_video = TRUE };
  p->creating = PUB;
  c->pc = lg_client_new_pc (c, &cfg);
  if (!c->pc) {
    json_decref (body);
    return;
  }
  lg_client_media_ready (c);
  g_autofree char *offer = cs_client_create_offer (c->pc);
  send_body (c, p->pub_handle, body, "offer", offer);
  jsep_sent (c, PUB);
}

static void
add_feeds (LgClient *c, json_t *publishers)
{
  Janus *p = c->proto;
  size_t i;
  json_t *pub;
  json_array_foreach (publishers, i, pub) {
    guint64 id = json_integer_value (json_object_get (pub, "id"));
    gboolean known = id == 0 || id == p->feed;
    for (guint k = 0; k < p->feeds->len && !known; k++)
      known = g_array_index (p->feeds, guint64, k) == id;
    if (!known)
      g_array_append_val (p->feeds, id);
  }
}

static void
maybe_subscribe (LgClient *c)
{
  Janus *p = c->proto;
  if (!p->joined || p->subscribing || p->feeds->len < c->plan.n_remote_publishers ||
      c->plan.n_remote_publishers == 0)
    return;
  p->subscribing = TRUE;
  attach (c, TX_ATTACH_SUB);
}

static void
subscribe (LgClient *c)
{
  Janus *p = c->proto;
  json_t *streams = json_array ();
  for (guint i = 0; i < p->feeds->len; i++)
    json_array_append_new (streams, json_pack ("{s:I}", "feed",
                                               (json_int_t) g_array_index (p->feeds, guint64, i)));
  send_body (c, p->sub_handle,
             json_pack ("{s:s, s:I, s:s, s:o}", "request", "join", "room", (json_int_t) janus_room (c),
                        "ptype", "subscriber", "streams", streams),
             NULL, NULL);
}

static void
answer_subscription (LgClient *c, const char *offer)
{
  Janus *p = c->proto;
  if (!c->sub_pc) {
    CsClientConfig cfg = { .answerer = TRUE };
    p->creating = SUB;
    c->sub_pc = lg_client_new_pc (c, &cfg);
    if (!c->sub_pc)
      return;
  }
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = cs_client_create_answer (c->sub_pc, offer, &error);
  if (!answer) {
    lg_client_fail (c, "cannot answer Janus's offer: %s", error->message);
    return;
  }
  send_body (c, p->sub_handle, json_pack ("{s:s}", "request", "start"), "answer", answer);
  if (!p->jsep_sent[SUB])
    jsep_sent (c, SUB);
}

static void
on_success (LgClient *c, TxKind kind, json_t *msg)
{
  Janus *p = c->proto;
  guint64 id = json_integer_value (json_object_get (json_object_get (msg, "data"), "id"));
  switch (kind) {
  case TX_CREATE:
    p->session = id;
    p->keepalive = g_timeout_source_new_seconds (KEEPALIVE_S);
    g_source_set_callback (p->keepalive, keepalive, c, NULL);
    g_source_attach (p->keepalive, c->w->context);
    attach (c, TX_ATTACH_PUB);
    break;
  case TX_ATTACH_PUB: {
    p->pub_handle = id;
    json_t *m = request (c, "message", p->pub_handle, TX_ROOM);
    /* Rooms as a deployment would make them: Opus + VP8, no data, no
     * recording; transport-wide CC is VideoRoom's default. */
    json_object_set_new (m, "body", json_pack ("{s:s, s:I, s:i, s:s, s:s, s:i, s:b}",
                                               "request", "create", "room", (json_int_t) janus_room (c),
                                               "publishers", 16, "audiocodec", "opus",
                                               "videocodec", "vp8", "bitrate", 2500000,
                                               "permanent", 0));
    lg_ws_send (c->ws, m);
    break;
  }
  case TX_ROOM:
    /* "created", or error 427 (another participant created it first). */
    join_room (c);
    break;
  case TX_ATTACH_SUB:
    p->sub_handle = id;
    subscribe (c);
    break;
  case TX_OTHER:
    break;
  }
}

static void
on_event (LgClient *c, json_t *msg)
{
  Janus *p = c->proto;
  guint64 sender = json_integer_value (json_object_get (msg, "sender"));
  json_t *data = json_object_get (json_object_get (msg, "plugindata"), "data");
  json_t *jsep = json_object_get (msg, "jsep");
  const char *what = json_string_value (json_object_get (data, "videoroom"));
  if (json_object_get (data, "error_code")) {
    lg_client_fail (c, "videoroom error %" JSON_INTEGER_FORMAT ": %s",
                    json_integer_value (json_object_get (data, "error_code")),
                    json_string_value (json_object_get (data, "error")));
    return;
  }
  const char *sdp = json_string_value (json_object_get (jsep, "sdp"));
  if (sender == p->pub_handle) {
    if (what && g_str_equal (what, "joined")) {
      p->feed = json_integer_value (json_object_get (data, "id"));
      p->joined = TRUE;
    }
    add_feeds (c, json_object_get (data, "publishers"));
    if (sdp && c->pc) {
      g_autoptr (GError) error = NULL;
      if (!cs_client_set_answer (c->pc, sdp, &error)) {
        lg_client_fail (c, "bad answer from Janus: %s", error->message);
        return;
      }
    }
    maybe_subscribe (c);
  } else if (sender == p->sub_handle && sender) {
    const char *type = json_string_value (json_object_get (jsep, "type"));
    if (sdp && type && g_str_equal (type, "offer"))
      answer_subscription (c, sdp);
  }
}

static void
on_trickle (LgClient *c, json_t *msg)
{
  Janus *p = c->proto;
  guint64 sender = json_integer_value (json_object_get (msg, "sender"));
  CsClient *pc = sender == p->pub_handle ? c->pc : sender == p->sub_handle ? c->sub_pc : NULL;
  json_t *cand = json_object_get (msg, "candidate");
  if (!pc)
    return;
  if (json_is_true (json_object_get (cand, "completed")))
    cs_client_add_remote_candidate (pc, NULL);
  else
    cs_client_add_remote_candidate (pc, json_string_value (json_object_get (cand, "candidate")));
}

static void
on_message (gpointer ud, json_t *msg)
{
  LgClient *c = ud;
  const char *janus = json_string_value (json_object_get (msg, "janus"));
  const char *tx = json_string_value (json_object_get (msg, "transaction"));
  if (!janus || c->state == LG_CLIENT_FAILED)
    return;
  if (g_str_equal (janus, "success")) {
    TxKind kind = tx ? (TxKind) g_ascii_strtoull (tx, NULL, 10) : TX_OTHER;
    json_t *data = json_object_get (json_object_get (msg, "plugindata"), "data");
    json_int_t code = json_integer_value (json_object_get (data, "error_code"));
    if (code && !(kind == TX_ROOM && code == 427)) {
      lg_client_fail (c, "videoroom error %" JSON_INTEGER_FORMAT ": %s", code,
                      json_string_value (json_object_get (data, "error")));
      return;
    }
    on_success (c, kind, msg);
  } else if (g_str_equal (janus, "event")) {
    on_event (c, msg);
  } else if (g_str_equal (janus, "trickle")) {
    on_trickle (c, msg);
  } else if (g_str_equal (janus, "error")) {
    json_t *e = json_object_get (msg, "error");
    lg_client_fail (c, "janus error %" JSON_INTEGER_FORMAT ": %s",
                    json_integer_value (json_object_get (e, "code")),
                    json_string_value (json_object_get (e, "reason")));
  } else if (g_str_equal (janus, "hangup") || g_str_equal (janus, "timeout")) {
    lg_client_fail (c, "janus %s: %s", janus, json_string_value (json_object_get (msg, "reason")));
  }
}

static void
on_open (gpointer ud)
{
  LgClient *c = ud;
  lg_ws_send (c->ws, request (c, "create", 0, TX_CREATE));
}

static void
on_closed (gpointer ud, const char *why)
{
  lg_client_fail (ud, "signaling: %s", why);
}

void
lg_janus_start (LgClient *c)
{
  static const LgWsEvents events = { on_open, on_message, on_closed };
  LgRun *run = c->w->run;
  Janus *p = g_new0 (Janus, 1);
  p->feeds = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (int i = 0; i < 2; i++)
    p->pending[i] = g_ptr_array_new_with_free_func (g_free);
  c->proto = p;
  c->on_candidate = on_candidate;
  c->ws = lg_ws_connect (c->w->lws, run->opt.host, run->opt.port, run->opt.path, run->opt.tls,
                         "janus-protocol", &events, c);
}

void
lg_janus_free (LgClient *c)
{
  Janus *p = c->proto;
  if (!p)
    return;
  if (p->keepalive) {
    g_source_destroy (p->keepalive);
    g_source_unref (p->keepalive);
  }
  g_array_unref (p->feeds);
  for (int i = 0; i < 2; i++)
    g_ptr_array_unref (p->pending[i]);
  g_free (p);
  c->proto = NULL;
  c->on_candidate = NULL;
}
