/* peer.c — one participant's transport: a libnice agent bound to the
 * worker's context, the DTLS-SRTP session on top of it, and the first
 * demultiplexing step of every packet (RFC 7983). */
#include "internal.h"

#include <openssl/rand.h>

gint64
cs_now_us (void)
{
  return g_get_monotonic_time ();
}

void
cs_peer_set_state (CsPeer *peer, CsPeerState state)
{
  if (peer->state == state)
    return;
  peer->state = state;
  cs_media_emit_state (peer->worker->media, peer->id, state);
}

void
cs_peer_send (CsPeer *peer, const guint8 *buf, gsize len)
{
  if (nice_agent_send (peer->agent, peer->stream_id, 1, len, (const gchar *) buf) < 0)
    CS_STAT_ADD (&peer->worker->stats, send_errors, 1);
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
on_recv (NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf, gpointer data)
{
  CsPeer *peer = data;
  guint8 *p = (guint8 *) buf;
  if (cs_rtp_looks_like_rtp_or_rtcp (p, len)) {
    if (!peer->srtp_ready) {
      CS_STAT_ADD (&peer->worker->stats, srtp_errors, 1);
      return;
    }
    /* libnice hands us its own receive buffer: unprotect in place. */
    if (cs_rtp_is_rtcp (p, len))
      cs_feedback_receive (peer, p, len);
    else
      cs_forward_receive (peer, p, len);
  } else if (cs_rtp_looks_like_dtls (p, len)) {
    cs_dtls_receive (peer, p, len);
  } else {
    CS_STAT_ADD (&peer->worker->stats, malformed_rtp, 1);
  }
}

static void
on_new_candidate (NiceAgent *agent, NiceCandidate *cand, gpointer data)
{
  CsPeer *peer = data;
  g_autofree char *sdp = nice_agent_generate_local_candidate_sdp (agent, cand);
  if (!sdp)
    return;
  const char *value = g_str_has_prefix (sdp, "a=") ? sdp + 2 : sdp;
  if (peer->answered)
    cs_media_emit_candidate (peer->worker->media, peer->id, peer->first_mid, value);
  else
    g_ptr_array_add (peer->local_candidates, g_strdup (value));
}

static void
on_gathering_done (NiceAgent *agent, guint stream_id, gpointer data)
{
  CsPeer *peer = data;
  peer->gathering_done = TRUE;
  if (peer->answered)
    cs_media_emit_candidate (peer->worker->media, peer->id, peer->first_mid, NULL);
}

static void
on_component_state (NiceAgent *agent, guint stream_id, guint component_id, guint state, gpointer data)
{
  CsPeer *peer = data;
  switch (state) {
  case NICE_COMPONENT_STATE_CONNECTED:
  case NICE_COMPONENT_STATE_READY:
    if (!peer->ice_ready) {
      peer->ice_ready = TRUE;
      if (!peer->dtls_server && !peer->dtls_done)
        cs_dtls_start (peer);
    }
    break;
  case NICE_COMPONENT_STATE_FAILED:
    CS_STAT_ADD (&peer->worker->stats, ice_failures, 1);
    cs_peer_set_state (peer, CS_PEER_STATE_FAILED);
    break;
  default:
    break;
  }
}

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
  peer->early_candidates = g_ptr_array_new_with_free_func (g_free);
  peer->local_candidates = g_ptr_array_new_with_free_func (g_free);
  RAND_bytes ((guint8 *) &peer->rtcp_ssrc, sizeof peer->rtcp_ssrc);

  peer->agent = nice_agent_new_full (w->context, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
  /* Browsers offer, so they control; UPnP discovery would only slow gathering. */
  g_object_set (peer->agent, "controlling-mode", FALSE, "ice-tcp", FALSE, "upnp", FALSE, NULL);
  if (cfg->stun_server && *cfg->stun_server) {
    g_auto (GStrv) hp = g_strsplit (cfg->stun_server, ":", 2);
    g_object_set (peer->agent, "stun-server", hp[0], "stun-server-port",
                  hp[1] ? (guint) g_ascii_strtoull (hp[1], NULL, 10) : 3478u, NULL);
  }
  if (cfg->bind_address && *cfg->bind_address) {
    NiceAddress addr;
    nice_address_init (&addr);
    if (nice_address_set_from_string (&addr, cfg->bind_address))
      nice_agent_add_local_address (peer->agent, &addr);
  }
  g_signal_connect (peer->agent, "new-candidate-full", G_CALLBACK (on_new_candidate), peer);
  g_signal_connect (peer->agent, "candidate-gathering-done", G_CALLBACK (on_gathering_done), peer);
  g_signal_connect (peer->agent, "component-state-changed", G_CALLBACK (on_component_state), peer);

  peer->stream_id = nice_agent_add_stream (peer->agent, 1);
  if (cfg->port_min && cfg->port_max)
    nice_agent_set_port_range (peer->agent, peer->stream_id, 1, cfg->port_min, cfg->port_max);
  nice_agent_get_local_credentials (peer->agent, peer->stream_id, &peer->ufrag, &peer->pwd);
  nice_agent_attach_recv (peer->agent, peer->stream_id, 1, w->context, on_recv, peer);
  if (!nice_agent_gather_candidates (peer->agent, peer->stream_id)) {
    g_warning ("peer %s: ICE gathering failed (no free port in range?)", id);
    cs_peer_free (peer);
    return NULL;
  }
  return peer;
}

void
cs_peer_add_remote_candidate (CsPeer *peer, const char *candidate)
{
  const char *c = candidate ? candidate : "";
  if (g_str_has_prefix (c, "a="))
    c += 2;
  if (!peer->remote_set) {
    g_ptr_array_add (peer->early_candidates, g_strdup (c));
    return;
  }
  if (!*c) {
    nice_agent_peer_candidate_gathering_done (peer->agent, peer->stream_id);
    return;
  }
  g_autofree char *line = g_strconcat ("a=", c, NULL);
  NiceCandidate *nc = nice_agent_parse_remote_candidate_sdp (peer->agent, peer->stream_id, line);
  if (!nc)
    return;  /* mDNS names, unknown syntax: libnice cannot use them */
  if (nc->component_id == 1 && nc->transport == NICE_CANDIDATE_TRANSPORT_UDP) {
    GSList list = { nc, NULL };
    nice_agent_set_remote_candidates (peer->agent, peer->stream_id, 1, &list);
  }
  nice_candidate_free (nc);
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
  cs_dtls_clear (peer);
  cs_srtp_clear (peer);
  if (peer->agent) {
    nice_agent_attach_recv (peer->agent, peer->stream_id, 1, peer->worker->context, NULL, NULL);
    g_signal_handlers_disconnect_by_data (peer->agent, peer);
    nice_agent_remove_stream (peer->agent, peer->stream_id);
    g_object_unref (peer->agent);
  }
  g_ptr_array_unref (peer->early_candidates);
  g_ptr_array_unref (peer->local_candidates);
  g_free (peer->ufrag);
  g_free (peer->pwd);
  g_free (peer->remote_ufrag);
  g_free (peer->id);
  g_free (peer);
}
