/* sig-consilium.c — our signaling (docs/signaling.md) from a participant's
 * side: join with a room token minted from the shared secret, one offer
 * with the recvonly slots the scenario needs made up front, trickle both
 * ways, and the same offer again whenever `streams` lists tracks that our
 * slots are not bound to yet (they only bind at offer time). */
#include "loadgen.h"

#include "signaling/signaling.h"

#include <string.h>

typedef struct {
  gboolean negotiating;
  gboolean reoffer;                 /* `streams` came during a negotiation */
  guint remote_tracks;              /* length of the last `streams` */
  json_int_t next_id;
} Consilium;

static void
send_msg (LgClient *c, json_t *msg)
{
  lg_ws_send (c->ws, msg);
}

static guint
bound_slots (LgClient *c, guint *n_slots)
{
  guint bound = 0, slots = 0;
  CsClientStream s;
  for (guint i = 0; cs_client_get_stream (c->pc, i, &s); i++) {
    if (s.sending)
      continue;
    slots++;
    bound += s.receiving;
  }
  *n_slots = slots;
  return bound;
}

static void
send_offer (LgClient *c)
{
  Consilium *p = c->proto;
  g_autofree char *sdp = cs_client_create_offer (c->pc);
  p->negotiating = TRUE;
  p->reoffer = FALSE;
  send_msg (c, json_pack ("{s:s, s:I, s:s}", "type", "offer", "id", p->next_id++, "sdp", sdp));
}

static void
maybe_reoffer (LgClient *c)
{
  Consilium *p = c->proto;
  guint slots;
  guint bound = bound_slots (c, &slots);
  if (bound >= MIN (p->remote_tracks, slots))
    return;
  if (p->negotiating)
    p->reoffer = TRUE;
  else
    send_offer (c);
}

static void
on_candidate (LgClient *c, CsClient *pc, const char *candidate)
{
  if (!candidate) {
    send_msg (c, json_pack ("{s:s}", "type", "end-of-candidates"));
    return;
  }
  CsClientStream first;
  cs_client_get_stream (pc, 0, &first);
  send_msg (c, json_pack ("{s:s, s:s, s:s, s:i}", "type", "candidate", "candidate", candidate,
                          "sdpMid", first.mid, "sdpMLineIndex", 0));
}

static void
on_joined (LgClient *c)
{
  const LgPlan *plan = &c->plan;
  /* One audio and one video slot per other publisher of the room. */
  CsClientConfig cfg = {
    .send_audio = plan->publish,
    .send_video = plan->publish,
    .recv_audio = plan->n_remote_publishers,
    .recv_video = plan->n_remote_publishers,
  };
  c->pc = lg_client_new_pc (c, &cfg);
  if (!c->pc)
    return;
  lg_client_media_ready (c);
  send_offer (c);
}

static void
on_message (gpointer ud, json_t *msg)
{
  LgClient *c = ud;
  Consilium *p = c->proto;
  const char *type = json_string_value (json_object_get (msg, "type"));
  if (!type || c->state == LG_CLIENT_FAILED)
    return;
  if (g_str_equal (type, "joined")) {
    if (!c->pc)
      on_joined (c);
  } else if (g_str_equal (type, "answer")) {
    const char *sdp = json_string_value (json_object_get (msg, "sdp"));
    g_autoptr (GError) error = NULL;
    if (!c->pc || !sdp || !cs_client_set_answer (c->pc, sdp, &error)) {
      lg_client_fail (c, "bad answer: %s", error ? error->message : "no sdp");
      return;
    }
    p->negotiating = FALSE;
    if (p->reoffer)
      maybe_reoffer (c);
  } else if (g_str_equal (type, "streams")) {
    p->remote_tracks = json_array_size (json_object_get (msg, "streams"));
    if (c->pc)
      maybe_reoffer (c);
  } else if (g_str_equal (type, "candidate")) {
    const char *cand = json_string_value (json_object_get (msg, "candidate"));
    if (c->pc)
      cs_client_add_remote_candidate (c->pc, cand && *cand ? cand : NULL);
  } else if (g_str_equal (type, "end-of-candidates")) {
    if (c->pc)
      cs_client_add_remote_candidate (c->pc, NULL);
  } else if (g_str_equal (type, "error")) {
    lg_client_fail (c, "server error %s: %s", json_string_value (json_object_get (msg, "code")),
                    json_string_value (json_object_get (msg, "message")));
  } else if (g_str_equal (type, "media-state")) {
    const char *state = json_string_value (json_object_get (msg, "state"));
    if (state && g_str_equal (state, "failed"))
      lg_client_fail (c, "the server reports media-state failed");
  }
}

static void
on_open (gpointer ud)
{
  LgClient *c = ud;
  LgRun *run = c->w->run;
  Consilium *p = c->proto;
  char room[64];
  g_snprintf (room, sizeof room, "lg-%u-%u", run->room_base, c->plan.room);
  /* Publishers are doctors and patients; listeners observers (subscribe only). */
  CsTokenClaims claims = {
    .room = room,
    .user = c->name,
    .name = c->name,
    .role = (char *) (!c->plan.publish ? "observer" : c->plan.index % 2 ? "patient" : "doctor"),
    .exp = g_get_real_time () / G_USEC_PER_SEC + 3600,
    .iat = g_get_real_time () / G_USEC_PER_SEC,
  };
  g_autofree char *token = cs_token_sign (run->opt.secret, run->opt.secret_len, &claims);
  send_msg (c, json_pack ("{s:s, s:I, s:s}", "type", "join", "id", p->next_id++, "token", token));
}

static void
on_closed (gpointer ud, const char *why)
{
  LgClient *c = ud;
  lg_client_fail (c, "signaling: %s", why);
}

void
lg_consilium_start (LgClient *c)
{
  static const LgWsEvents events = { on_open, on_message, on_closed };
  LgRun *run = c->w->run;
  Consilium *p = g_new0 (Consilium, 1);
  p->next_id = 1;
  c->proto = p;
  c->on_candidate = on_candidate;
  c->ws = lg_ws_connect (c->w->lws, run->opt.host, run->opt.port, run->opt.path, run->opt.tls,
                         "consilium-v1", &events, c);
}

void
lg_consilium_free (LgClient *c)
{
  g_clear_pointer (&c->proto, g_free);
  c->on_candidate = NULL;
}
