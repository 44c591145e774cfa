/* feedback.c — RTCP: what subscribers tell us (NACK, PLI/FIR, RR, REMB)
 * mapped back to publishers, and what we tell publishers ourselves
 * (receiver reports, transport-wide CC feedback, REMB, NACK, PLI). */
#include "internal.h"

#include <math.h>
#include <string.h>

#define REMB_FLOOR 150000
#define REMB_FRESH_US (5 * G_USEC_PER_SEC)
#define NACK_MAX_GAP 64
#define LOSSY_FRACTION 13   /* 5% of 256 */

static void
send_rtcp (CsPeer *peer, guint8 *buf, int len)
{
  if (len > 0)
    cs_transport_send_rtcp (&peer->t, buf, len);
}

void
cs_feedback_request_keyframe (CsInStream *in, gboolean force)
{
  gint64 now = cs_now_us ();
  /* A rate-limited forced request must not be lost: the key frame of the
   * request before may have passed before this subscriber could take it.
   * The tick repeats the request until a key frame goes through. */
  if (force)
    in->keyframe_wanted = TRUE;
  /* One key frame serves every subscriber: rate-limit requests. Forced
   * ones (a subscriber just connected) still wait a little. */
  gint64 gap = force ? CS_KEYFRAME_INTERVAL_US / 4 : CS_KEYFRAME_INTERVAL_US;
  if (!in->ssrc || now - in->last_keyframe_request_us < gap)
    return;
  in->last_keyframe_request_us = now;
  CsPeer *pub = in->peer;
  guint8 *buf = pub->worker->rtcp;
  send_rtcp (pub, buf, cs_rtcp_write_pli (buf, 64, pub->rtcp_ssrc, in->ssrc));
  CS_STAT_ADD (&pub->worker->stats, plis_out, 1);
}

void
cs_feedback_nack_upstream (CsInStream *in, guint16 first_missing, guint16 count)
{
  if (in->kind != CS_MEDIA_KIND_VIDEO || count == 0 || count > NACK_MAX_GAP)
    return;
  guint16 seqs[NACK_MAX_GAP];
  for (guint16 i = 0; i < count; i++)
    seqs[i] = first_missing + i;
  CsPeer *pub = in->peer;
  guint8 *buf = pub->worker->rtcp;
  send_rtcp (pub, buf, cs_rtcp_write_nack (buf, 512, pub->rtcp_ssrc, in->ssrc, seqs, count));
  CS_STAT_ADD (&pub->worker->stats, nacks_out, 1);
}

void
cs_feedback_update_rx_stats (CsInStream *in, guint16 seq, guint32 ts, gint64 now_us)
{
  if (!in->seq_init) {
    in->seq_init = TRUE;
    in->max_seq = seq;
    in->base_seq = seq;
    in->cycles = 0;
    in->received = 1;
    in->expected_prior = in->received_prior = 0;
    in->jitter = 0;
    in->last_arrival_us = now_us;
    in->last_rtp_ts = ts;
    return;
  }
  guint16 delta = seq - in->max_seq;
  if (delta == 0)
    return;  /* duplicate */
  in->received++;
  if (delta >= 0x8000)
    return;  /* late or recovered packet */
  if (seq < in->max_seq)
    in->cycles += 65536;
  if (delta > 1)
    cs_feedback_nack_upstream (in, in->max_seq + 1, delta - 1);
  in->max_seq = seq;
  /* RFC 3550 A.8 interarrival jitter, in timestamp units. */
  double d = (double) (now_us - in->last_arrival_us) * in->clock_rate / G_USEC_PER_SEC -
             (double) (gint32) (ts - in->last_rtp_ts);
  in->jitter += (fabs (d) - in->jitter) / 16.0;
  in->last_arrival_us = now_us;
  in->last_rtp_ts = ts;
}

void
cs_feedback_record_twcc (CsPeer *peer, guint16 seq, gint64 now_us)
{
  if (!peer->twcc_init) {
    for (guint i = 0; i < CS_TWCC_SLOTS; i++)
      peer->twcc_arrival[i] = 0;
    peer->twcc_init = TRUE;
    peer->twcc_base = peer->twcc_max = 0x10000 + seq;  /* room to unwrap backwards */
  }
  guint32 s = peer->twcc_max + (gint16) (seq - (guint16) peer->twcc_max);
  if (s < peer->twcc_base)
    return;  /* already reported */
  if (s > peer->twcc_max)
    peer->twcc_max = s;
  if (peer->twcc_max - peer->twcc_base >= CS_TWCC_SLOTS) {
    for (guint32 x = peer->twcc_base; x <= peer->twcc_max - CS_TWCC_SLOTS; x++)
      peer->twcc_arrival[x % CS_TWCC_SLOTS] = 0;
    peer->twcc_base = peer->twcc_max - CS_TWCC_SLOTS + 1;
  }
  /* Low 32 bits (71 minutes of µs) are enough to rebuild the time within
   * a report; 0 means "not received", so 0 itself is stored as 1 µs. */
  guint32 low = (guint32) now_us;
  peer->twcc_arrival[s % CS_TWCC_SLOTS] = low ? low : 1;
}

/* The full arrival time of a stored one (low 32 bits; 0: lost), or -1. */
static gint64
twcc_arrival_us (guint32 low, gint64 now)
{
  return low ? now - (guint32) ((guint32) now - low) : -1;
}

static void
flush_twcc (CsPeer *peer)
{
  if (!peer->twcc_init || peer->n_ins == 0)
    return;
  gint64 now = cs_now_us ();
  gint64 arrivals[CS_TWCC_SLOTS];
  /* Lost packets before the first received one wait for the next round. */
  while (peer->twcc_base <= peer->twcc_max && peer->twcc_arrival[peer->twcc_base % CS_TWCC_SLOTS] == 0)
    peer->twcc_base++;
  while (peer->twcc_base <= peer->twcc_max) {
    guint n = peer->twcc_max - peer->twcc_base + 1;
    for (guint i = 0; i < n; i++)
      arrivals[i] = twcc_arrival_us (peer->twcc_arrival[(peer->twcc_base + i) % CS_TWCC_SLOTS], now);
    guint written = 0;
    guint8 *buf = peer->worker->rtcp;
    int len = cs_rtcp_write_twcc (buf, CS_MTU - 100, peer->rtcp_ssrc, peer->ins[0]->ssrc,
                                  peer->twcc_fb_count++, (guint16) peer->twcc_base, arrivals, n, &written);
    if (len <= 0 || written == 0)
      return;
    send_rtcp (peer, buf, len);
    for (guint i = 0; i < written; i++)
      peer->twcc_arrival[(peer->twcc_base + i) % CS_TWCC_SLOTS] = 0;
    peer->twcc_base += written;
  }
}

static void
fill_report (CsInStream *in, CsRtcpReportBlock *b, gint64 now)
{
  guint32 ext_max = in->cycles + in->max_seq;
  guint32 expected = ext_max - in->base_seq + 1;
  gint64 lost = (gint64) expected - in->received;
  guint32 expected_interval = expected - in->expected_prior;
  guint32 received_interval = in->received - in->received_prior;
  gint64 lost_interval = (gint64) expected_interval - received_interval;
  in->expected_prior = expected;
  in->received_prior = in->received;
  b->ssrc = in->ssrc;
  b->fraction_lost = (expected_interval == 0 || lost_interval <= 0) ? 0 : (lost_interval << 8) / expected_interval;
  b->cumulative_lost = CLAMP (lost, -0x800000, 0x7fffff);
  b->ext_highest_seq = ext_max;
  b->jitter = (guint32) in->jitter;
  b->lsr = in->last_sr;
  b->dlsr = in->last_sr_us ? (guint32) ((now - in->last_sr_us) * 65536 / G_USEC_PER_SEC) : 0;
}

/* What to ask of a publisher's video: the configured cap, lowered to the
 * receive estimate of a subscriber that is losing packets. Healthy
 * subscribers' estimates are ignored: a receive-side estimate only grows
 * ~8%/s from what arrives, so following it would hold every call at a few
 * hundred kbit/s. (With one encoding per publisher, a struggling
 * subscriber still lowers everyone's quality; simulcast will fix that.) */
static guint64
remb_for (CsPeer *pub, gint64 now)
{
  guint64 rate = pub->worker->media->config.max_video_bitrate;
  for (guint i = 0; i < pub->n_ins; i++) {
    CsInStream *in = pub->ins[i];
    if (!in->active || in->kind != CS_MEDIA_KIND_VIDEO)
      continue;
    for (guint s = 0; s < in->subscribers->len; s++) {
      CsOutStream *out = g_ptr_array_index (in->subscribers, s);
      CsPeer *sub = out->peer;
      if (out->fraction_lost >= LOSSY_FRACTION && sub->remb_bitrate && now - sub->remb_us < REMB_FRESH_US)
        rate = MIN (rate, MAX (sub->remb_bitrate, REMB_FLOOR));
    }
  }
  return rate;
}

void
cs_feedback_tick (CsPeer *peer, gboolean each_second)
{
  if (!peer->t.srtp_ready)
    return;
  flush_twcc (peer);
  for (guint i = 0; i < peer->n_ins; i++)
    if (peer->ins[i]->keyframe_wanted)
      cs_feedback_request_keyframe (peer->ins[i], FALSE);
  if (!each_second || peer->n_ins == 0)
    return;
  gint64 now = cs_now_us ();
  CsRtcpRr rr = { 0 };
  rr.ssrc = peer->rtcp_ssrc;
  guint32 video_ssrcs[CS_MAX_INS];
  guint n_video = 0;
  for (guint i = 0; i < peer->n_ins && rr.n_reports < CS_RTCP_MAX_REPORTS; i++) {
    CsInStream *in = peer->ins[i];
    if (!in->active || !in->seq_init)
      continue;
    fill_report (in, &rr.reports[rr.n_reports++], now);
    if (in->kind == CS_MEDIA_KIND_VIDEO)
      video_ssrcs[n_video++] = in->ssrc;
  }
  if (rr.n_reports == 0)
    return;
  guint8 *buf = peer->worker->rtcp;
  int len = cs_rtcp_write_rr (buf, CS_MTU, &rr);
  if (len > 0 && n_video) {
    int m = cs_rtcp_write_remb (buf + len, CS_MTU - len, peer->rtcp_ssrc, remb_for (peer, now),
                                video_ssrcs, n_video);
    if (m > 0)
      len += m;
  }
  send_rtcp (peer, buf, len);
}

static void
forward_sr (CsPeer *peer, const CsRtcpSr *sr, gint64 now)
{
  CsInStream *in = cs_peer_find_in (peer, sr->ssrc);
  if (!in || sr->ssrc != in->ssrc)
    return;
  in->last_sr = (sr->ntp_sec << 16) | (sr->ntp_frac >> 16);
  in->last_sr_us = now;
  /* Subscribers need the publisher's NTP<->RTP mapping for lip sync, in
   * their own SSRC and timestamp space. */
  for (guint i = 0; i < in->subscribers->len; i++) {
    CsOutStream *out = g_ptr_array_index (in->subscribers, i);
    if (!out->started || !out->peer->t.srtp_ready)
      continue;
    CsRtcpSr o = { 0 };
    o.ssrc = out->ssrc;
    o.ntp_sec = sr->ntp_sec;
    o.ntp_frac = sr->ntp_frac;
    o.rtp_ts = sr->rtp_ts + out->ts_delta;
    o.packet_count = out->packets;
    o.octet_count = out->octets;
    guint8 *buf = out->peer->worker->rtcp;
    send_rtcp (out->peer, buf, cs_rtcp_write_sr (buf, 256, &o));
  }
}

static void
handle_nack (CsPeer *peer, const CsRtcpFb *fb)
{
  CsOutStream *out = cs_peer_find_out (peer, fb->media_ssrc);
  CS_STAT_ADD (&peer->worker->stats, nacks_in, 1);
  if (!out || !out->src || !out->src->ring || fb->media_ssrc != out->ssrc)
    return;
  guint16 seqs[64];
  int n = cs_rtcp_nack_seqs (fb, seqs, G_N_ELEMENTS (seqs));
  gint64 now = cs_now_us ();
  if (now - out->rtx_window_us >= G_USEC_PER_SEC) {
    out->rtx_window_us = now;
    out->rtx_in_window = 0;
  }
  for (int i = 0; i < n && out->rtx_in_window < CS_RTX_MAX_PER_SECOND; i++) {
    guint16 in_seq = seqs[i] - out->seq_delta;
    CsPacketView v;
    if (cs_rtx_store_get (peer->worker->rtx, out->src->ring, in_seq, &v)) {
      out->rtx_in_window++;
      cs_forward_resend (out, &v);
      CS_STAT_ADD (&peer->worker->stats, retransmits, 1);
    }
  }
}

static void
handle_keyframe_request (CsPeer *peer, guint32 media_ssrc)
{
  CS_STAT_ADD (&peer->worker->stats, plis_in, 1);
  CsOutStream *out = cs_peer_find_out (peer, media_ssrc);
  if (out && out->src)
    cs_feedback_request_keyframe (out->src, FALSE);
}

void
cs_feedback_receive (CsPeer *peer, const guint8 *data, gsize len)
{
  CsWorker *w = peer->worker;
  guint8 *buf = (guint8 *) data;
  int n = cs_transport_unprotect (&peer->t, buf, len, TRUE);
  if (n < 0)
    return;
  CS_STAT_ADD (&w->stats, rtcp_in_packets, 1);
  gint64 now = cs_now_us ();
  gsize off = 0;
  CsRtcpPacket pkt;
  int r;
  while ((r = cs_rtcp_next (buf, n, &off, &pkt)) > 0) {
    CsRtcpFb fb;
    switch (pkt.pt) {
    case CS_RTCP_SR: {
      CsRtcpSr sr;
      if (cs_rtcp_parse_sr (&pkt, &sr) == 0)
        forward_sr (peer, &sr, now);
      else
        CS_STAT_ADD (&w->stats, malformed_rtcp, 1);
      break;
    }
    case CS_RTCP_RR: {
      CsRtcpRr rr;
      if (cs_rtcp_parse_rr (&pkt, &rr) < 0) {
        CS_STAT_ADD (&w->stats, malformed_rtcp, 1);
        break;
      }
      for (guint i = 0; i < rr.n_reports; i++) {
        CsOutStream *out = cs_peer_find_out (peer, rr.reports[i].ssrc);
        if (out) {
          out->fraction_lost = rr.reports[i].fraction_lost;
          out->jitter = rr.reports[i].jitter;
        }
      }
      break;
    }
    case CS_RTCP_RTPFB:
      if (cs_rtcp_parse_fb (&pkt, &fb) < 0)
        CS_STAT_ADD (&w->stats, malformed_rtcp, 1);
      else if (fb.fmt == 1)
        handle_nack (peer, &fb);
      break;
    case CS_RTCP_PSFB:
      if (cs_rtcp_parse_fb (&pkt, &fb) < 0) {
        CS_STAT_ADD (&w->stats, malformed_rtcp, 1);
      } else if (fb.fmt == 1) {
        handle_keyframe_request (peer, fb.media_ssrc);
      } else if (fb.fmt == 4) {
        guint32 ssrc;
        guint8 seq_nr;
        if (cs_rtcp_parse_fir (&fb, &ssrc, &seq_nr) == 0)
          handle_keyframe_request (peer, ssrc);
      } else if (fb.fmt == 15) {
        guint64 bitrate;
        guint32 ssrcs[8];
        guint n_ssrcs;
        if (cs_rtcp_parse_remb (&fb, &bitrate, ssrcs, G_N_ELEMENTS (ssrcs), &n_ssrcs) == 0) {
          peer->remb_bitrate = bitrate;
          peer->remb_us = now;
        }
      }
      break;
    default:
      break;  /* SDES, BYE, APP, XR: nothing to act on */
    }
  }
  if (r < 0)
    CS_STAT_ADD (&w->stats, malformed_rtcp, 1);
}
