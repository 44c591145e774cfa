/* replay.c — captured media out, probed media in.
 *
 * Publishers replay GStreamer captures at their real rate (the video
 * timeline optionally sped up for --video-kbps), renumbered so sequence
 * numbers and timestamps continue across loops, with a probe trailer on
 * every payload, the packets of a frame paced out as a browser paces
 * them. Receivers check the trailer of every decrypted packet and
 * keep loss, reordering, jitter and added-latency counts. Nothing here
 * allocates once the run has started. */
#include "loadgen.h"

#include "media/rtp.h"

#include <string.h>

/* One thread plays every client, so when it loses its core (a vCPU taken
 * by the hypervisor for ~10 ms, seen here) all of them fall behind
 * together; sending what each owes at once would hit the SFU with a
 * burst of every stream's backlog, which independent browsers never send
 * in concert. A stream more than this late resumes from where it stopped
 * instead (the packets go late; their send stamps say so), at a random
 * point of its next frame interval: resuming every stream at the same
 * instant lined up all their frames from then on, and the SFU got every
 * publisher's frame within the same few ms of each 10 ms at 100 frames/s
 * (about 1.7 times the mean rate for 6 ms, then nothing for 4), which
 * independent browsers, each with its own camera clock, never do. */
#define RESYNC_US 3000
/* As a browser's pacer (libwebrtc's default factor): a frame's packets
 * leave spread at 2.5 times the stream's mean rate, not all at once. */
#define PACING_FACTOR 2.5

static inline void
put32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static inline guint32
get32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

gboolean
lg_track_load (LgTrack *track, const char *path, CsMediaKind kind, guint8 pt,
               guint32 clock_rate, guint32 frame_ticks, GError **error)
{
  memset (track, 0, sizeof *track);
  gsize len;
  if (!g_file_get_contents (path, &track->blob, &len, error))
    return FALSE;
  track->kind = kind;
  track->pt = pt;
  track->clock_rate = clock_rate;
  GArray *pkts = g_array_new (FALSE, TRUE, sizeof (LgPacket));
  guint32 first_ts = 0, last_ts = 0;
  const guint8 *d = (const guint8 *) track->blob;
  for (gsize off = 0; off + 2 <= len;) {  /* RFC 4571 framing */
    gsize n = (gsize) d[off] << 8 | d[off + 1];
    CsRtpHeader h;
    if (off + 2 + n > len || cs_rtp_parse (d + off + 2, n, &h) < 0 ||
        h.payload_len + 12 + 8 + LG_TRAILER_LEN > LG_BUF - SRTP_MAX_TRAILER_LEN) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: bad RTP frame at byte %" G_GSIZE_FORMAT,
                   path, off);
      g_array_unref (pkts);
      g_clear_pointer (&track->blob, g_free);
      return FALSE;
    }
    if (pkts->len == 0)
      first_ts = h.ts;
    last_ts = h.ts;
    LgPacket p = {
      .payload = d + off + 2 + h.header_len,
      .len = h.payload_len,
      .marker = h.marker,
      .ts = h.ts - first_ts,
    };
    g_array_append_val (pkts, p);
    track->loop_bytes += h.payload_len;
    off += 2 + n;
  }
  if (pkts->len == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no packets", path);
    g_array_unref (pkts);
    g_clear_pointer (&track->blob, g_free);
    return FALSE;
  }
  track->loop_ts = last_ts - first_ts + frame_ticks;
  track->frame_ticks = frame_ticks;
  track->n_packets = pkts->len;
  track->packets = (LgPacket *) g_array_free (pkts, FALSE);
  return TRUE;
}

void
lg_track_clear (LgTrack *track)
{
  g_clear_pointer (&track->packets, g_free);
  g_clear_pointer (&track->blob, g_free);
}

/* ---- histogram ---- */

void
lg_hist_add (LgHist *h, gint64 us)
{
  if (us < 0)
    us = 0;
  if (us < LG_HIST_FINE * LG_HIST_FINE_US)
    h->fine[us / LG_HIST_FINE_US]++;
  else if (us < 1000000)
    h->coarse[us / 1000 - 10]++;
  else
    h->over++;
  h->n++;
  if (us > h->max_us)
    h->max_us = us;
}

void
lg_hist_merge (LgHist *into, const LgHist *from)
{
  for (guint i = 0; i < LG_HIST_FINE; i++)
    into->fine[i] += from->fine[i];
  for (guint i = 0; i < LG_HIST_COARSE; i++)
    into->coarse[i] += from->coarse[i];
  into->over += from->over;
  into->n += from->n;
  into->max_us = MAX (into->max_us, from->max_us);
}

gint64
lg_hist_quantile (const LgHist *h, double q)
{
  if (h->n == 0)
    return 0;
  guint64 want = (guint64) (q * (double) h->n);
  if (want >= h->n)
    want = h->n - 1;
  guint64 seen = 0;
  for (guint i = 0; i < LG_HIST_FINE; i++)
    if ((seen += h->fine[i]) > want)
      return (gint64) (i + 1) * LG_HIST_FINE_US;
  for (guint i = 0; i < LG_HIST_COARSE; i++)
    if ((seen += h->coarse[i]) > want)
      return (gint64) (i + 11) * 1000;
  return h->max_us;
}

/* ---- sending ---- */

static double
track_speed (const LgClient *c, const LgTrack *t)
{
  return t->kind == CS_MEDIA_KIND_VIDEO ? c->w->run->speed : 1.0;
}

/* Microseconds from loop start to packet @idx of loop @loops. */
static gint64
rel_us (const LgClient *c, const LgOut *o, guint idx, guint64 loops)
{
  const LgTrack *t = o->track;
  double ticks = (double) loops * t->loop_ts + t->packets[idx].ts;
  return (gint64) (ticks * G_USEC_PER_SEC / t->clock_rate / track_speed (c, t));
}

static gint32
frame_us (const LgClient *c, const LgTrack *t)
{
  return MAX ((gint32) (t->frame_ticks * (double) G_USEC_PER_SEC / t->clock_rate / track_speed (c, t)), 1);
}

/* How long the pacer spaces a packet of @len payload bytes from the next. */
static gint64
pace_us (const LgClient *c, const LgTrack *t, guint len)
{
  double loop_us = (double) t->loop_ts * G_USEC_PER_SEC / t->clock_rate / track_speed (c, t);
  return (gint64) (len * loop_us / (PACING_FACTOR * (double) t->loop_bytes));
}

void
lg_replay_start (LgClient *c, gint64 now_us)
{
  for (guint i = 0; i < c->n_out; i++) {
    LgOut *o = &c->out[i];
    const LgTrack *t = o->track;
    /* A random phase, at a frame boundary, so publishers' key frames and
     * bursts do not line up; and a random start within a frame interval,
     * since joins come on a 1 ms tick at intervals that are often whole
     * frames (20 ms: two at 100 frames/s). */
    guint idx = g_random_int_range (0, t->n_packets);
    while (idx > 0 && t->packets[idx - 1].ts == t->packets[idx].ts)
      idx--;
    o->idx = idx;
    o->loops = 0;
    o->t0_us = now_us - rel_us (c, o, idx, 0) + g_random_int_range (0, frame_us (c, t));
    o->paced_us = 0;
    o->seq = g_random_int ();
    o->ts_base = g_random_int ();
  }
}

static void
send_one (LgClient *c, LgOut *o)
{
  LgRun *run = c->w->run;
  const LgPacket *p = &o->track->packets[o->idx];
  guint8 *b = c->w->buf;
  gsize n = 12;
  guint32 ts = o->ts_base + (guint32) (o->loops * o->track->loop_ts) + p->ts;
  b[0] = 0x80 | (run->opt.twcc ? 0x10 : 0);
  b[1] = (p->marker ? 0x80 : 0) | o->pt;
  b[2] = o->seq >> 8, b[3] = o->seq;
  put32 (b + 4, ts);
  put32 (b + 8, o->ssrc);
  if (run->opt.twcc) {
    /* One-byte header block with one 2-byte element: transport-wide seq. */
    static const guint8 ext_hdr[4] = { 0xbe, 0xde, 0x00, 0x01 };
    memcpy (b + 12, ext_hdr, 4);
    b[16] = LG_TWCC_ID << 4 | 1;
    b[17] = c->twcc_seq >> 8, b[18] = c->twcc_seq, b[19] = 0;
    c->twcc_seq++;
    n = 20;
  }
  memcpy (b + n, p->payload, p->len);
  n += p->len;
  gint64 now = g_get_monotonic_time ();
  put32 (b + n, o->id);
  put32 (b + n + 4, o->counter);
  put32 (b + n + 8, (guint64) now >> 32);
  put32 (b + n + 12, (guint32) now);
  n += LG_TRAILER_LEN;
  if (cs_client_send_rtp (c->pc, b, n, LG_BUF) > 0) {
    o->sent++;
    o->bytes += n;
    if (now >= run->window_start_us && now < run->window_end_us)
      o->sent_window++;
  }
  o->seq++;
  o->counter++;
}

void
lg_replay_tick (LgClient *c, gint64 now_us)
{
  for (guint i = 0; i < c->n_out; i++) {
    LgOut *o = &c->out[i];
    for (;;) {
      gint64 due = MAX (o->t0_us + rel_us (c, o, o->idx, o->loops), o->paced_us);
      if (due > now_us)
        break;
      if (now_us >= c->w->run->window_start_us && now_us < c->w->run->window_end_us)
        lg_hist_add (&c->w->lateness, now_us - due);
      if (now_us - due > RESYNC_US) {
        /* The generator stalled: carry on late rather than burst. */
        o->t0_us += now_us - due + g_random_int_range (0, frame_us (c, o->track));
        o->resyncs++;
        continue;
      }
      o->paced_us = due + pace_us (c, o->track, o->track->packets[o->idx].len);
      send_one (c, o);
      if (++o->idx == o->track->n_packets) {
        o->idx = 0;
        o->loops++;
      }
    }
  }
}

/* ---- receiving ---- */

static LgIn *
find_in (LgClient *c, guint32 src_id)
{
  for (guint i = 0; i < c->n_in; i++)
    if (c->in[i].src_id == src_id)
      return &c->in[i];
  if (c->n_in == LG_MAX_SOURCES)
    return NULL;
  LgIn *in = &c->in[c->n_in++];
  memset (in, 0, sizeof *in);
  in->src_id = src_id;
  return in;
}

void
lg_replay_receive (LgClient *c, guint8 *packet, gsize len, gint64 arrival_us)
{
  LgRun *run = c->w->run;
  CsRtpHeader h;
  if (cs_rtp_parse (packet, len, &h) < 0 || h.payload_len < LG_TRAILER_LEN) {
    c->bad_packets++;
    return;
  }
  const guint8 *t = packet + h.header_len + h.payload_len - LG_TRAILER_LEN;
  guint32 src_id = get32 (t), counter = get32 (t + 4);
  gint64 sent_us = (gint64) ((guint64) get32 (t + 8) << 32 | get32 (t + 12));
  LgIn *in = src_id < 2 * run->n_participants ? find_in (c, src_id) : NULL;
  if (!in || sent_us > arrival_us || sent_us < run->start_us) {
    c->bad_packets++;
    return;
  }
  if (!c->first_rx_us)
    c->first_rx_us = arrival_us;
  gint64 transit = arrival_us - sent_us;
  if (in->received && (gint32) (counter - in->last_counter) <= 0)
    in->reordered++;
  else
    in->last_counter = counter;
  in->received++;
  if (in->have_transit) {
    double d = (double) ABS (transit - in->last_transit_us);
    in->jitter_us += (d - in->jitter_us) / 16.0;
  }
  in->last_transit_us = transit;
  in->have_transit = TRUE;
  if (sent_us >= run->window_start_us && sent_us < run->window_end_us) {
    in->received_window++;
    lg_hist_add (&c->w->latency, transit);
  }
}
