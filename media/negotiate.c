/* negotiate.c — turns a browser's offer into our answer: which m-lines
 * publish to us, which remote tracks go out on which recvonly m-lines, and
 * the transport (ICE credentials, DTLS role and fingerprint). */
#include "internal.h"

#include <openssl/rand.h>
#include <string.h>

#define URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define URI_VIDEO_ORIENTATION "urn:3gpp:video-orientation"

static guint32
random_ssrc (void)
{
  guint32 v = 0;
  while (v == 0)
    RAND_bytes ((guint8 *) &v, sizeof v);
  return v;
}

static void
fail (CsPeer *peer, guint64 tag, int code, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static void
fail (CsPeer *peer, guint64 tag, int code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  GError *error = g_error_new_valist (CS_MEDIA_ERROR, code, fmt, ap);
  va_end (ap);
  cs_media_emit_answer (peer->worker->media, peer->id, tag, NULL, NULL, NULL, error);
}

static gboolean
is_media_kind (const CsSdpMedia *m, CsMediaKind *kind)
{
  if (!strcmp (m->kind, "audio"))
    *kind = CS_MEDIA_KIND_AUDIO;
  else if (!strcmp (m->kind, "video"))
    *kind = CS_MEDIA_KIND_VIDEO;
  else
    return FALSE;
  return TRUE;
}

static gboolean
in_bundle (const CsSdpSession *s, const char *mid)
{
  for (guint i = 0; i < s->n_bundle; i++)
    if (!strcmp (s->bundle[i], mid))
      return TRUE;
  return FALSE;
}

/* Which extensions we keep: mid and transport-cc for the transport, audio
 * level and orientation because we pass them on to subscribers. */
static guint32
accepted_extensions (const CsSdpMedia *m, CsMediaKind kind)
{
  guint32 mask = 0;
  for (guint i = 0; i < m->n_extmaps && i < 32; i++) {
    const char *uri = m->extmaps[i].uri;
    if (m->extmaps[i].id > 14)
      continue;  /* we only write one-byte headers */
    if (!strcmp (uri, URI_MID) || !strcmp (uri, URI_TWCC) ||
        (kind == CS_MEDIA_KIND_AUDIO && !strcmp (uri, URI_AUDIO_LEVEL)) ||
        (kind == CS_MEDIA_KIND_VIDEO && !strcmp (uri, URI_VIDEO_ORIENTATION)))
      mask |= 1u << i;
  }
  return mask;
}

static guint8
accepted_ext_id (const CsSdpMedia *m, guint32 mask, const char *uri)
{
  for (guint i = 0; i < m->n_extmaps && i < 32; i++)
    if ((mask & (1u << i)) && !strcmp (m->extmaps[i].uri, uri))
      return m->extmaps[i].id;
  return 0;
}

static CsInStream *
find_in_by_mid (CsPeer *peer, const char *mid)
{
  for (guint i = 0; i < peer->n_ins; i++)
    if (!strcmp (peer->ins[i]->mid, mid))
      return peer->ins[i];
  return NULL;
}

static void
setup_in_stream (CsPeer *peer, const CsSdpMedia *m, CsMediaKind kind, const CsSdpAnswerMedia *am)
{
  CsInStream *in = find_in_by_mid (peer, m->mid);
  if (!in) {
    if (peer->n_ins == CS_MAX_INS)
      return;
    in = g_new0 (CsInStream, 1);
    in->peer = peer;
    in->subscribers = g_ptr_array_new ();
    g_strlcpy (in->mid, m->mid, sizeof in->mid);
    g_snprintf (in->track_id, sizeof in->track_id, "%s:%s", peer->id, m->mid);
    peer->ins[peer->n_ins++] = in;
  }
  in->kind = kind;
  in->pt = m->codecs[am->codec].pt;
  in->clock_rate = m->codecs[am->codec].clock_rate;
  in->rtx_pt = am->rtx >= 0 ? m->codecs[am->rtx].pt : 0;
  guint32 ssrc = m->fid_ssrc ? m->fid_ssrc : (m->n_ssrcs ? m->ssrcs[0] : 0);
  if (ssrc && in->ssrc && ssrc != in->ssrc) {
    /* Same track, new SSRC (e.g. a re-created sender): keep the outgoing
     * numbering continuous for everyone receiving it. */
    for (guint i = 0; i < in->subscribers->len; i++)
      ((CsOutStream *) g_ptr_array_index (in->subscribers, i))->rebase = TRUE;
    in->seq_init = FALSE;
  }
  if (ssrc)
    in->ssrc = ssrc;
  in->rtx_ssrc = m->fid_rtx_ssrc;
  in->active = TRUE;
  if (kind == CS_MEDIA_KIND_VIDEO && !in->ring)
    in->ring = g_new0 (CsRtxRef, CS_RTX_SLOTS);
}

static void
out_stream_free (CsOutStream *out)
{
  if (out->src)
    g_ptr_array_remove_fast (out->src->subscribers, out);
  g_free (out);
}

static gboolean
source_taken (CsPeer *peer, CsInStream *in)
{
  for (guint i = 0; i < peer->outs->len; i++)
    if (((CsOutStream *) g_ptr_array_index (peer->outs, i))->src == in)
      return TRUE;
  return FALSE;
}

static CsInStream *
next_free_source (CsPeer *peer, CsMediaKind kind)
{
  CsRoom *room = peer->room;
  for (guint p = 0; p < room->peers->len; p++) {
    CsPeer *other = g_ptr_array_index (room->peers, p);
    if (other == peer)
      continue;
    for (guint i = 0; i < other->n_ins; i++) {
      CsInStream *in = other->ins[i];
      if (in->active && in->kind == kind && !source_taken (peer, in))
        return in;
    }
  }
  return NULL;
}

static void
append_stream (GArray *a, const char *mid, const char *track, const char *participant, CsMediaKind kind)
{
  CsMediaStream s = { g_strdup (mid), g_strdup (track), g_strdup (participant), kind };
  g_array_append_val (a, s);
}

void
cs_negotiate_offer (CsPeer *peer, guint64 tag, const char *sdp)
{
  g_autofree CsSdpSession *offer = g_new0 (CsSdpSession, 1);
  char err[160] = "";
  if (cs_sdp_parse (sdp, strlen (sdp), offer, err, sizeof err) != CS_SDP_OK) {
    fail (peer, tag, CS_MEDIA_ERROR_INVALID_SDP, "%s", err[0] ? err : "unparsable SDP");
    return;
  }
  if (offer->n_bundle == 0) {
    fail (peer, tag, CS_MEDIA_ERROR_UNSUPPORTED_SDP, "a=group:BUNDLE is required");
    return;
  }

  g_autofree CsSdpAnswerMedia *am = g_new0 (CsSdpAnswerMedia, MAX (offer->n_media, 1));
  const CsSdpMedia *transport = NULL;
  CsMediaKind kinds[CS_SDP_MAX_MEDIA];

  for (guint i = 0; i < offer->n_media; i++) {
    const CsSdpMedia *m = &offer->media[i];
    CsSdpAnswerMedia *a = &am[i];
    a->rejected = TRUE;
    a->codec = a->rtx = -1;
    /* Firefox marks every m-line after the first a=bundle-only (port 0). */
    if (!is_media_kind (m, &kinds[i]) || cs_sdp_media_is_rejected (m) || !m->mid[0] ||
        !in_bundle (offer, m->mid))
      continue;
    /* Transport attributes matter on the m-line whose transport BUNDLE uses. */
    if (!transport && !m->rtcp_mux) {
      fail (peer, tag, CS_MEDIA_ERROR_UNSUPPORTED_SDP, "m-line %u: a=rtcp-mux is required", i);
      return;
    }
    if (!transport && (!m->ice_ufrag[0] || !m->ice_pwd[0] || !m->fingerprint[0])) {
      fail (peer, tag, CS_MEDIA_ERROR_UNSUPPORTED_SDP,
            "m-line %u: ICE credentials and a DTLS fingerprint are required", i);
      return;
    }
    if (kinds[i] == CS_MEDIA_KIND_AUDIO) {
      a->codec = cs_sdp_find_codec (m, "opus", 48000);
      a->fb = CS_SDP_FB_TRANSPORT_CC;
    } else {
      a->codec = cs_sdp_find_codec (m, "VP8", 90000);
      if (a->codec >= 0)
        a->rtx = cs_sdp_find_rtx (m, m->codecs[a->codec].pt);
      a->fb = CS_SDP_FB_NACK | CS_SDP_FB_NACK_PLI | CS_SDP_FB_CCM_FIR | CS_SDP_FB_GOOG_REMB |
              CS_SDP_FB_TRANSPORT_CC;
    }
    if (a->codec < 0)
      continue;  /* no codec we forward: reject this m-line only */
    a->rejected = FALSE;
    a->ext_mask = accepted_extensions (m, kinds[i]);
    switch (m->direction) {
    case CS_SDP_SENDRECV:
    case CS_SDP_SENDONLY:
      a->direction = CS_SDP_RECVONLY;
      break;
    case CS_SDP_RECVONLY:
      a->direction = CS_SDP_INACTIVE;  /* sendonly once a track is bound below */
      break;
    default:
      a->direction = CS_SDP_INACTIVE;
    }
    if (!transport)
      transport = m;
  }
  if (!transport) {
    fail (peer, tag, CS_MEDIA_ERROR_UNSUPPORTED_SDP, "no audio/video m-line with Opus or VP8 in the BUNDLE group");
    return;
  }
  if (peer->t.remote_set && g_strcmp0 (peer->t.remote_ufrag, transport->ice_ufrag) != 0) {
    fail (peer, tag, CS_MEDIA_ERROR_UNSUPPORTED_SDP, "ICE restart is not supported; rejoin instead");
    return;
  }

  /* Header extension ids: one set per transport (BUNDLE shares them). */
  peer->twcc_id = peer->mid_id = peer->audio_level_id = peer->video_orientation_id = 0;
  for (guint i = 0; i < offer->n_media; i++) {
    if (am[i].rejected)
      continue;
    const CsSdpMedia *m = &offer->media[i];
    guint8 id;
    if (!peer->twcc_id && (id = accepted_ext_id (m, am[i].ext_mask, URI_TWCC)))
      peer->twcc_id = id;
    if (!peer->mid_id && (id = accepted_ext_id (m, am[i].ext_mask, URI_MID)))
      peer->mid_id = id;
    if (!peer->audio_level_id && (id = accepted_ext_id (m, am[i].ext_mask, URI_AUDIO_LEVEL)))
      peer->audio_level_id = id;
    if (!peer->video_orientation_id && (id = accepted_ext_id (m, am[i].ext_mask, URI_VIDEO_ORIENTATION)))
      peer->video_orientation_id = id;
  }

  /* Published tracks. */
  for (guint i = 0; i < peer->n_ins; i++)
    peer->ins[i]->active = FALSE;
  for (guint i = 0; i < offer->n_media; i++)
    if (!am[i].rejected && am[i].direction == CS_SDP_RECVONLY)
      setup_in_stream (peer, &offer->media[i], kinds[i], &am[i]);
  for (guint i = 0; i < peer->n_ins; i++)
    if (!peer->ins[i]->active)
      cs_room_unlink_source (peer->ins[i]);

  /* Subscriptions: keep what still fits, then bind free slots. */
  for (guint o = 0; o < peer->outs->len;) {
    CsOutStream *out = g_ptr_array_index (peer->outs, o);
    gboolean keep = FALSE;
    for (guint i = 0; i < offer->n_media; i++) {
      const CsSdpMedia *m = &offer->media[i];
      if (!strcmp (m->mid, out->mid)) {
        keep = !am[i].rejected && m->direction == CS_SDP_RECVONLY && kinds[i] == out->kind &&
               out->src && out->src->active;
        break;
      }
    }
    if (keep) {
      o++;
    } else {
      out_stream_free (out);
      g_ptr_array_remove_index (peer->outs, o);
    }
  }
  for (guint i = 0; i < offer->n_media; i++) {
    const CsSdpMedia *m = &offer->media[i];
    CsSdpAnswerMedia *a = &am[i];
    if (a->rejected || m->direction != CS_SDP_RECVONLY)
      continue;
    CsOutStream *out = NULL;
    for (guint o = 0; o < peer->outs->len && !out; o++)
      if (!strcmp (((CsOutStream *) g_ptr_array_index (peer->outs, o))->mid, m->mid))
        out = g_ptr_array_index (peer->outs, o);
    if (!out) {
      CsInStream *src = next_free_source (peer, kinds[i]);
      if (!src)
        continue;
      out = g_new0 (CsOutStream, 1);
      out->peer = peer;
      out->src = src;
      out->kind = kinds[i];
      g_strlcpy (out->mid, m->mid, sizeof out->mid);
      g_strlcpy (out->src_track_id, src->track_id, sizeof out->src_track_id);
      g_strlcpy (out->src_peer_id, src->peer->id, sizeof out->src_peer_id);
      out->ssrc = random_ssrc ();
      RAND_bytes ((guint8 *) &out->seq_delta, sizeof out->seq_delta);
      RAND_bytes ((guint8 *) &out->ts_delta, sizeof out->ts_delta);
      g_ptr_array_add (peer->outs, out);
      g_ptr_array_add (src->subscribers, out);
      if (peer->t.srtp_ready && out->kind == CS_MEDIA_KIND_VIDEO)
        cs_feedback_request_keyframe (src, TRUE);
    }
    out->pt = m->codecs[a->codec].pt;
    out->rtx_pt = a->rtx >= 0 ? m->codecs[a->rtx].pt : 0;
    if (out->rtx_pt && !out->rtx_ssrc)
      out->rtx_ssrc = random_ssrc ();
    if (!out->rtx_pt)
      out->rtx_ssrc = 0;
    out->audio_level_id = accepted_ext_id (m, a->ext_mask, URI_AUDIO_LEVEL);
    out->video_orientation_id = accepted_ext_id (m, a->ext_mask, URI_VIDEO_ORIENTATION);
    a->direction = CS_SDP_SENDONLY;
    a->ssrc = out->ssrc;
    a->rtx_ssrc = out->rtx_ssrc;
    a->cname = out->src_peer_id;
    a->msid_stream = out->src_peer_id;
    a->msid_track = out->src_track_id;
  }

  /* Transport: the first offer sets ICE credentials and the DTLS role. */
  if (!peer->t.remote_set) {
    gboolean server = g_ascii_strcasecmp (transport->setup, "passive") != 0;
    g_strlcpy (peer->first_mid, transport->mid, sizeof peer->first_mid);
    if (!cs_transport_set_remote (&peer->t, transport->ice_ufrag, transport->ice_pwd,
                                  transport->fingerprint_alg, transport->fingerprint, server)) {
      fail (peer, tag, CS_MEDIA_ERROR_ICE, "cannot set up ICE/DTLS for this offer");
      return;
    }
    for (guint i = 0; i < transport->n_candidates; i++)
      cs_transport_add_remote_candidate (&peer->t, transport->candidates[i]);
  }

  g_ptr_array_add (peer->local_candidates, NULL);
  CsSdpAnswerParams params = {
    .sess_id = g_str_hash (peer->id),
    .sess_version = ++peer->sdp_version,
    .ice_ufrag = peer->t.ufrag,
    .ice_pwd = peer->t.pwd,
    .fingerprint = peer->worker->media->cert.fingerprint,
    .setup = peer->t.dtls_server ? "passive" : "active",
    .media = am,
    .candidates = (const char *const *) peer->local_candidates->pdata,
    .end_of_candidates = peer->gathering_done,
  };
  char *answer = cs_sdp_write_answer (offer, &params);
  g_ptr_array_set_size (peer->local_candidates, 0);
  peer->answered = TRUE;

  GArray *published = g_array_new (FALSE, FALSE, sizeof (CsMediaStream));
  GArray *subscribed = g_array_new (FALSE, FALSE, sizeof (CsMediaStream));
  for (guint i = 0; i < peer->n_ins; i++)
    if (peer->ins[i]->active)
      append_stream (published, peer->ins[i]->mid, peer->ins[i]->track_id, peer->id, peer->ins[i]->kind);
  for (guint o = 0; o < peer->outs->len; o++) {
    CsOutStream *out = g_ptr_array_index (peer->outs, o);
    append_stream (subscribed, out->mid, out->src_track_id, out->src_peer_id, out->kind);
  }
  cs_media_emit_answer (peer->worker->media, peer->id, tag, answer, published, subscribed, NULL);
}
