/* forward.c — the hot path: one unprotect per incoming packet, then for
 * each subscriber a header rewrite, one protect and one send. No
 * allocation, no locks, no logging: packets are built in the worker's
 * scratch buffer and retransmission copies go to the worker's store
 * (rtxstore.c), which reuses its segments. */
#include "internal.h"

#include <string.h>

static inline void
put16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v;
}

static inline void
put32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

/* Writes the packet @out sends for @v into @p (cleartext, before SRTP) and
 * returns its length, or 0 when it does not fit. Pure apart from @out's
 * numbering state, so tests can check the rewriting byte by byte. */
gsize
cs_forward_build (CsOutStream *out, const CsPacketView *v, gboolean as_rtx, gint64 now, guint8 *p)
{
  if (!out->started) {
    out->started = TRUE;  /* random deltas were drawn when the slot was bound */
  } else if (out->rebase && !as_rtx) {
    guint32 clock = out->src ? out->src->clock_rate : 90000;
    out->seq_delta = (guint16) (out->last_seq + 1 - v->seq);
    out->ts_delta = out->last_ts + (guint32) ((now - out->last_send_us) * clock / G_USEC_PER_SEC) - v->ts;
    out->rebase = FALSE;
  }
  guint16 seq = v->seq + out->seq_delta;
  guint32 ts = v->ts + out->ts_delta;

  CsRtpExt ext[2];
  guint n_ext = 0;
  if (out->audio_level_id && v->audio_level != 0xff)
    ext[n_ext++] = (CsRtpExt) { out->audio_level_id, 1, &v->audio_level };
  if (out->video_orientation_id && v->video_orientation != 0xff)
    ext[n_ext++] = (CsRtpExt) { out->video_orientation_id, 1, &v->video_orientation };
  gsize off = CS_RTP_HEADER_MIN;
  int n = cs_rtp_ext_write (p + off, 64, ext, n_ext);
  if (n < 0)
    n = 0;
  off += n;
  p[0] = 0x80 | (n > 0 ? 0x10 : 0);
  if (as_rtx && out->rtx_pt) {
    p[1] = (v->marker << 7) | out->rtx_pt;
    put16 (p + 2, out->rtx_seq++);
    put32 (p + 4, ts);
    put32 (p + 8, out->rtx_ssrc);
    put16 (p + off, seq);  /* RFC 4588 original sequence number */
    off += 2;
  } else {
    p[1] = (v->marker << 7) | out->pt;
    put16 (p + 2, seq);
    put32 (p + 4, ts);
    put32 (p + 8, out->ssrc);
  }
  if (off + v->len > CS_MTU)
    return 0;
  memcpy (p + off, v->payload, v->len);
  if (!as_rtx) {
    if ((gint16) (seq - out->last_seq) > 0 || out->packets == 0) {
      out->last_seq = seq;
      out->last_ts = ts;
      out->last_send_us = now;
    }
    out->packets++;
    out->octets += v->len;
  }
  return off + v->len;
}

static void
send_view (CsOutStream *out, const CsPacketView *v, gboolean as_rtx, gint64 now)
{
  CsPeer *sub = out->peer;
  CsWorker *w = sub->worker;
  if (!sub->t.srtp_ready)
    return;
  guint8 *buf = cs_transport_packet_buffer (&sub->t, w->out);
  int len = cs_forward_build (out, v, as_rtx, now, buf);
  if (len == 0 || (len = cs_transport_send_rtp (&sub->t, buf, len)) < 0)
    return;
  CS_STAT_ADD (&w->stats, rtp_out_packets, 1);
  CS_STAT_ADD (&w->stats, rtp_out_bytes, len);
}

void
cs_forward_resend (CsOutStream *out, const CsPacketView *v)
{
  send_view (out, v, TRUE, cs_now_us ());
}

/* No a=ssrc in the offer (allowed by JSEP): learn the SSRC from the mid
 * header extension of the first packet. */
static CsInStream *
bind_by_mid (CsPeer *peer, const CsRtpHeader *h)
{
  const guint8 *mid;
  int n;
  if (!peer->mid_id || (n = cs_rtp_ext_find (h, peer->mid_id, &mid)) <= 0)
    return NULL;
  for (guint i = 0; i < peer->n_ins; i++) {
    CsInStream *in = peer->ins[i];
    if (!in->active || strlen (in->mid) != (gsize) n || memcmp (in->mid, mid, n) != 0)
      continue;
    if (h->pt == in->pt && !in->ssrc)
      in->ssrc = h->ssrc;
    else if (in->rtx_pt && h->pt == in->rtx_pt && !in->rtx_ssrc)
      in->rtx_ssrc = h->ssrc;
    else
      return NULL;
    return in;
  }
  return NULL;
}

static guint8
ext_byte (const CsRtpHeader *h, guint8 id)
{
  const guint8 *d;
  if (id && cs_rtp_ext_find (h, id, &d) >= 1)
    return d[0];
  return 0xff;
}

void
cs_forward_receive (CsPeer *peer, guint8 *buf, gsize len)
{
  CsWorker *w = peer->worker;
  int n = cs_transport_unprotect (&peer->t, buf, len, FALSE);
  if (n < 0)
    return;
  CsRtpHeader h;
  if (cs_rtp_parse (buf, n, &h) < 0) {
    CS_STAT_ADD (&w->stats, malformed_rtp, 1);
    return;
  }
  gint64 now = cs_now_us ();
  if (peer->twcc_id) {
    /* The kernel's arrival time where the inbox has it: time spent queued
     * here is not the network's, and the browser's bandwidth estimate
     * would read it as congestion. */
    const guint8 *d;
    if (cs_rtp_ext_find (&h, peer->twcc_id, &d) == 2)
      cs_feedback_record_twcc (peer, (d[0] << 8) | d[1], peer->t.arrival_us ? peer->t.arrival_us : now);
  }
  CsInStream *in = cs_peer_find_in (peer, h.ssrc);
  if (!in)
    in = bind_by_mid (peer, &h);
  if (!in) {
    CS_STAT_ADD (&w->stats, unknown_ssrc, 1);
    return;
  }
  CS_STAT_ADD (&w->stats, rtp_in_packets, 1);
  CS_STAT_ADD (&w->stats, rtp_in_bytes, n);
  in->packets++;
  in->bytes += n;

  CsPacketView v = {
    h.seq, h.ts, h.marker, 0xff, 0xff, buf + h.header_len, h.payload_len,
  };
  if (h.ssrc == in->rtx_ssrc && in->rtx_ssrc) {
    /* RTX (RFC 4588): an answer to our NACK, or padding-only probing. */
    if (h.pt != in->rtx_pt || v.len <= 2)
      return;
    v.seq = (v.payload[0] << 8) | v.payload[1];
    v.payload += 2;
    v.len -= 2;
  } else if (h.pt != in->pt) {
    CS_STAT_ADD (&w->stats, malformed_rtp, 1);
    return;
  } else {
    cs_feedback_update_rx_stats (in, h.seq, h.ts, now);
  }
  if (v.len == 0)
    return;  /* padding only */
  if (in->kind == CS_MEDIA_KIND_AUDIO)
    v.audio_level = ext_byte (&h, peer->audio_level_id);
  else
    v.video_orientation = ext_byte (&h, peer->video_orientation_id);

  if (in->keyframe_wanted && in->kind == CS_MEDIA_KIND_VIDEO && cs_vp8_is_keyframe (v.payload, v.len))
    in->keyframe_wanted = FALSE;
  if (in->ring) {
    CsPacketView kept;
    if (cs_rtx_store_get (w->rtx, in->ring, v.seq, &kept))
      return;  /* a duplicate or a retransmission we already have */
    cs_rtx_store_put (w->rtx, in->ring, &v, now);
  }
  for (guint i = 0; i < in->subscribers->len; i++)
    send_view (g_ptr_array_index (in->subscribers, i), &v, FALSE, now);
  CS_STAT_ADD (&w->stats, busy_ns, (cs_now_us () - now) * 1000);
}
