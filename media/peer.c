/* peer.c — one participant of a room: its transport and the tracks it
 * publishes and receives. */
#include "internal.h"

#include <openssl/rand.h>

gint64
cs_now_us (void)
{
  return g_get_monotonic_time ();
}

CsInStream *
cs_peer_find_in (CsPeer *peer, guint32 ssrc)
{
  for (guint i = 0; i < peer->n_ins; i++) {
    CsInStream *in = peer->ins[i];
    if (in->active && (in->ssrc == ssrc || (in->rtx_ssrc && in->rtx_ssrc == ssrc)))
      return in;
  }
  return NULL;
}

CsOutStream *
cs_peer_find_out (CsPeer *peer, guint32 ssrc)
{
  for (guint i = 0; i < peer->outs->len; i++) {
    CsOutStream *out = g_ptr_array_index (peer->outs, i);
    if (out->ssrc == ssrc || (out->rtx_ssrc && out->rtx_ssrc == ssrc))
      return out;
  }
  return NULL;
}

static void
peer_rtp (gpointer owner, guint8 *buf, gsize len)
{
  cs_forward_receive (owner, buf, len);
}

static void
peer_rtcp (gpointer owner, guint8 *buf, gsize len)
{
  cs_feedback_receive (owner, buf, len);
}

static void
peer_state (gpointer owner, CsPeerState state)
{
  CsPeer *peer = owner;
  cs_media_emit_state (peer->worker->media, peer->id, state);
  if (state != CS_PEER_STATE_CONNECTED)
    return;
  /* A subscriber that can finally receive needs a key frame of everything. */
  for (guint i = 0; i < peer->outs->len; i++) {
    CsOutStream *out = g_ptr_array_index (peer->outs, i);
    if (out->src && out->kind == CS_MEDIA_KIND_VIDEO)
      cs_feedback_request_keyframe (out->src, TRUE);
  }
}

static void
peer_candidate (gpointer owner, const char *candidate)
{
  CsPeer *peer = owner;
  if (!candidate)
    peer->gathering_done = TRUE;
  /* Before the answer, candidates go into it; after, they trickle. */
  if (peer->answered)
    cs_media_emit_candidate (peer->worker->media, peer->id, peer->first_mid, candidate);
  else if (candidate)
    g_ptr_array_add (peer->local_candidates, g_strdup (candidate));
}

static const CsTransportFuncs peer_funcs = {
  peer_rtp, peer_rtcp, peer_state, peer_candidate,
};

CsPeer *
cs_peer_new (CsRoom *room, const char *id)
{
  CsWorker *w = room->worker;
  const CsMediaConfig *cfg = &w->media->config;
  CsPeer *peer = g_new0 (CsPeer, 1);
  peer->id = g_strdup (id);
  peer->room = room;
  peer->worker = w;
  peer->outs = g_ptr_array_new ();
  peer->local_candidates = g_ptr_array_new_with_free_func (g_free);
  RAND_bytes ((guint8 *) &peer->rtcp_ssrc, sizeof peer->rtcp_ssrc);
  CsTransportConfig tc = {
    .context = w->context,
    .name = id,
    .controlling = FALSE,  /* browsers offer, so they control */
    .bind_address = cfg->bind_address,
    .port_min = cfg->port_min,
    .port_max = cfg->port_max,
    .stun_server = cfg->stun_server,
    .ssl_ctx = w->media->cert.ctx,
    .stats = &w->stats,
    .outbox = w->outbox,
    .inbox = w->inbox,
    .funcs = &peer_funcs,
    .owner = peer,
  };
  if (!cs_transport_init (&peer->t, &tc)) {
    cs_peer_free (peer);
    return NULL;
  }
  return peer;
}

static void
in_stream_free (CsInStream *in)
{
  cs_room_unlink_source (in);
  g_ptr_array_unref (in->subscribers);
  g_free (in->ring);
  g_free (in);
}

void
cs_peer_free (CsPeer *peer)
{
  if (!peer)
    return;
  for (guint i = 0; i < peer->n_ins; i++)
    in_stream_free (peer->ins[i]);
  for (guint i = 0; i < peer->outs->len; i++) {
    CsOutStream *out = g_ptr_array_index (peer->outs, i);
    if (out->src)
      g_ptr_array_remove_fast (out->src->subscribers, out);
    g_free (out);
  }
  g_ptr_array_unref (peer->outs);
  cs_transport_clear (&peer->t);
  g_ptr_array_unref (peer->local_candidates);
  g_free (peer->id);
  g_free (peer);
}
