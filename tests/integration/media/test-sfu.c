/* The SFU core end to end without a browser: CsClients (the same ICE +
 * DTLS-SRTP code) publish real VP8 captured from GStreamer into a CsMedia
 * engine and check what the subscriber gets: rewritten but byte-identical
 * payloads, RTX answers to NACKs, key-frame requests, sender reports,
 * transport-wide CC feedback and receiver reports, that bad packets are
 * dropped and counted, and that once connected the SFU reads its sockets
 * itself (recvmmsg) while ICE consent keeps working, taking checks and
 * media from every remote candidate libnice knows, as libnice does. */
#include "media/internal.h"
#include "media/rtcp.h"
#include "media/rtp.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stun/usages/ice.h>

#define TWCC_ID 3
#define BUF 1600

typedef struct {
  GBytes *bytes;
  gint64 at;
} Packet;

typedef struct {
  CsMedia *media;
  CsDtlsIdentity *identity;
  CsClient *pub, *sub;
  GPtrArray *sub_rtp;      /* GBytes */
  GPtrArray *pub_rtcp;     /* GBytes */
  GPtrArray *sub_rtcp;     /* GBytes */
  GPtrArray *fixture;      /* GBytes: VP8 RTP from tests/fixtures/rtp/vp8.rtp */
  GPtrArray *sent;         /* GBytes: cleartext video packets the publisher sent */
  guint16 next_seq;
  guint32 next_ts_base;
  guint16 twcc_seq;
} Fixture;

static const char *
peer_id_of (Fixture *fx, CsClient *c)
{
  return c == fx->pub ? "pub" : "sub";
}

static CsClient *
client_of (Fixture *fx, const char *peer_id)
{
  return g_str_equal (peer_id, "pub") ? fx->pub : fx->sub;
}

/* ---- media engine events (main context) ---- */

static void
on_answer (gpointer ud, const char *peer_id, guint64 tag, const char *sdp,
           const CsMediaStream *published, guint n_published,
           const CsMediaStream *subscribed, guint n_subscribed, const GError *error)
{
  Fixture *fx = ud;
  g_assert_no_error ((GError *) error);
  g_autoptr (GError) err = NULL;
  g_assert_true (cs_client_set_answer (client_of (fx, peer_id), sdp, &err));
  g_assert_no_error (err);
}

static void
on_candidate (gpointer ud, const char *peer_id, const char *mid, const char *candidate)
{
  cs_client_add_remote_candidate (client_of (ud, peer_id), candidate);
}

static void
on_state (gpointer ud, const char *peer_id, CsPeerState state)
{
}

static const CsMediaEvents media_events = { on_answer, on_candidate, on_state };

/* ---- client events ---- */

static void
client_rtp (gpointer ud, CsClient *c, guint8 *packet, gsize len, gint64 arrival)
{
  Fixture *fx = ud;
  if (c == fx->sub)
    g_ptr_array_add (fx->sub_rtp, g_bytes_new (packet, len));
}

static void
client_rtcp (gpointer ud, CsClient *c, guint8 *packet, gsize len)
{
  Fixture *fx = ud;
  g_ptr_array_add (c == fx->pub ? fx->pub_rtcp : fx->sub_rtcp, g_bytes_new (packet, len));
}

static void
client_candidate (gpointer ud, CsClient *c, const char *candidate)
{
  Fixture *fx = ud;
  cs_media_peer_candidate (fx->media, peer_id_of (fx, c), candidate);
}

static const CsClientEvents client_events = { client_rtp, client_rtcp, NULL, client_candidate };

/* ---- helpers ---- */

typedef gboolean (*Cond) (Fixture *fx, gpointer data);

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_until (Fixture *fx, Cond cond, gpointer data, guint ms, const char *what)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &expired);
  while (!cond (fx, data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  if (!cond (fx, data))
    g_error ("timed out after %u ms waiting for %s", ms, what);
}

static void
spin (guint ms)
{
  gboolean expired = FALSE;
  g_timeout_add (ms, timeout_cb, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
both_connected (Fixture *fx, gpointer data)
{
  return cs_client_get_state (fx->pub) == CS_PEER_STATE_CONNECTED &&
         cs_client_get_state (fx->sub) == CS_PEER_STATE_CONNECTED;
}

static GPtrArray *
load_rtp_stream (const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("CS_SOURCE_DIR"), "tests", "fixtures", "rtp", name, NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (gsize off = 0; off + 2 <= len;) {  /* RFC 4571 framing */
    gsize n = ((guint8) data[off] << 8) | (guint8) data[off + 1];
    g_assert_cmpuint (off + 2 + n, <=, len);
    g_ptr_array_add (out, g_bytes_new (data + off + 2, n));
    off += 2 + n;
  }
  return out;
}

static CsClientStream
stream (CsClient *c, const char *mid)
{
  CsClientStream s;
  for (guint i = 0; cs_client_get_stream (c, i, &s); i++)
    if (g_str_equal (s.mid, mid))
      return s;
  g_error ("no m-line %s", mid);
}

static guint64
metric (Fixture *fx, const char *name)
{
  g_autoptr (GString) text = g_string_new (NULL);
  cs_media_append_metrics (fx->media, text);
  guint64 sum = 0;
  g_auto (GStrv) lines = g_strsplit (text->str, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], name) && lines[i][strlen (name)] == '{')
      sum += g_ascii_strtoull (strrchr (lines[i], ' ') + 1, NULL, 10);
  return sum;
}

/* Sends fixture packet @i as the publisher's video, with our numbering and
 * a transport-wide sequence number; keeps a cleartext copy in fx->sent. */
static void
send_video (Fixture *fx, guint i)
{
  GBytes *src = g_ptr_array_index (fx->fixture, i % fx->fixture->len);
  gsize len;
  const guint8 *data = g_bytes_get_data (src, &len);
  CsRtpHeader h;
  g_assert_cmpint (cs_rtp_parse (data, len, &h), ==, 0);
  guint8 buf[BUF];
  guint8 tw[2] = { fx->twcc_seq >> 8, fx->twcc_seq & 0xff };
  fx->twcc_seq++;
  CsRtpExt ext = { TWCC_ID, 2, tw };
  int n = cs_rtp_ext_write (buf + 12, 64, &ext, 1);
  g_assert_cmpint (n, >, 0);
  guint32 ssrc = stream (fx->pub, "v0").ssrc;
  guint16 seq = fx->next_seq++;
  guint32 ts = fx->next_ts_base + h.ts;
  buf[0] = 0x90;
  buf[1] = (h.marker << 7) | CS_CLIENT_PT_VP8;
  buf[2] = seq >> 8, buf[3] = seq;
  buf[4] = ts >> 24, buf[5] = ts >> 16, buf[6] = ts >> 8, buf[7] = ts;
  buf[8] = ssrc >> 24, buf[9] = ssrc >> 16, buf[10] = ssrc >> 8, buf[11] = ssrc;
  gsize total = 12 + n + h.payload_len;
  memcpy (buf + 12 + n, data + h.header_len, h.payload_len);
  g_ptr_array_add (fx->sent, g_bytes_new (buf, total));
  g_assert_cmpint (cs_client_send_rtp (fx->pub, buf, total, sizeof buf), >, 0);
}

static gboolean
forwarded_at_least (Fixture *fx, gpointer n)
{
  return metric (fx, "consilium_media_rtp_forwarded_packets_total") >= GPOINTER_TO_UINT (n);
}

static gboolean
sub_has (Fixture *fx, gpointer n)
{
  return fx->sub_rtp->len >= GPOINTER_TO_UINT (n);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  fx->sub_rtp = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  fx->pub_rtcp = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  fx->sub_rtcp = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  fx->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  fx->fixture = load_rtp_stream ("vp8.rtp");
  fx->next_seq = 65000;  /* crosses the wrap */
  fx->next_ts_base = 12345;

  CsMediaConfig mc = { .n_workers = 2, .bind_address = "127.0.0.1", .max_video_bitrate = 1500000 };
  fx->media = cs_media_new (&mc, &media_events, fx, &error);
  g_assert_no_error (error);
  fx->identity = cs_dtls_identity_new (&error);
  g_assert_no_error (error);
  if (data)  /* an SRTP profile to force, e.g. AES-CM instead of GCM */
    g_assert_true (cs_dtls_identity_set_srtp_profiles (fx->identity, data, NULL));

  CsClientConfig pc = { .identity = fx->identity, .bind_address = "127.0.0.1",
                        .send_audio = TRUE, .send_video = TRUE, .twcc_ext_id = TWCC_ID };
  fx->pub = cs_client_new (&pc, &client_events, fx, &error);
  g_assert_no_error (error);
  CsClientConfig sc = { .identity = fx->identity, .bind_address = "127.0.0.1",
                        .recv_audio = 1, .recv_video = 1, .twcc_ext_id = TWCC_ID };
  fx->sub = cs_client_new (&sc, &client_events, fx, &error);
  g_assert_no_error (error);

  /* The publisher's offer first, so the subscriber's slots find its tracks. */
  cs_media_peer_add (fx->media, "room", "pub");
  g_autofree char *pub_offer = cs_client_create_offer (fx->pub);
  cs_media_peer_offer (fx->media, "pub", 1, pub_offer);
  cs_media_peer_add (fx->media, "room", "sub");
  g_autofree char *sub_offer = cs_client_create_offer (fx->sub);
  cs_media_peer_offer (fx->media, "sub", 2, sub_offer);
  wait_until (fx, both_connected, NULL, 15000, "both clients connected");

  CsClientStream v = stream (fx->sub, "rv0"), a = stream (fx->sub, "ra0");
  g_assert_true (v.receiving && a.receiving);
  g_assert_cmpstr (v.track_id, ==, "pub:v0");
  g_assert_cmpstr (a.track_id, ==, "pub:a0");
  g_assert_cmpuint (v.ssrc, !=, stream (fx->pub, "v0").ssrc);  /* rewritten */
  g_assert_cmpuint (v.rtx_ssrc, !=, 0);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  cs_media_peer_remove (fx->media, "pub");
  cs_media_peer_remove (fx->media, "sub");
  cs_client_free (fx->pub);
  cs_client_free (fx->sub);
  cs_media_free (fx->media);
  cs_dtls_identity_free (fx->identity);
  g_ptr_array_unref (fx->sub_rtp);
  g_ptr_array_unref (fx->pub_rtcp);
  g_ptr_array_unref (fx->sub_rtcp);
  g_ptr_array_unref (fx->sent);
  g_ptr_array_unref (fx->fixture);
  /* Let libnice's and the mailboxes' pending sources run down. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
send_all_video (Fixture *fx, guint n)
{
  for (guint i = 0; i < n; i++) {
    send_video (fx, i);
    if (i % 16 == 15)
      spin (2);  /* pace like a camera would, within the socket buffers */
  }
}

static guint
count_ssrc (GPtrArray *pkts, guint32 ssrc)
{
  guint n = 0;
  for (guint i = 0; i < pkts->len; i++) {
    CsRtpHeader h;
    gsize len;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index (pkts, i), &len);
    if (cs_rtp_parse (d, len, &h) == 0 && h.ssrc == ssrc)
      n++;
  }
  return n;
}

static void
test_forwarding (Fixture *fx, gconstpointer data)
{
  guint n = fx->fixture->len;
  send_all_video (fx, n);
  CsClientStream slot = stream (fx->sub, "rv0");
  wait_until (fx, sub_has, GUINT_TO_POINTER (n), 10000, "every video packet at the subscriber");
  g_assert_cmpuint (count_ssrc (fx->sub_rtp, slot.ssrc), ==, n);

  guint16 first_seq = 0;
  guint32 first_ts = 0, sent_first_ts = 0;
  for (guint i = 0; i < n; i++) {
    gsize rl, sl;
    const guint8 *r = g_bytes_get_data (g_ptr_array_index (fx->sub_rtp, i), &rl);
    const guint8 *s = g_bytes_get_data (g_ptr_array_index (fx->sent, i), &sl);
    CsRtpHeader rh, sh;
    g_assert_cmpint (cs_rtp_parse (r, rl, &rh), ==, 0);
    g_assert_cmpint (cs_rtp_parse (s, sl, &sh), ==, 0);
    g_assert_cmpuint (rh.ssrc, ==, slot.ssrc);
    g_assert_cmpuint (rh.pt, ==, CS_CLIENT_PT_VP8);
    g_assert_cmpuint (rh.marker, ==, sh.marker);
    if (i == 0) {
      first_seq = rh.seq;
      first_ts = rh.ts;
      sent_first_ts = sh.ts;
    }
    /* Continuous numbering in the subscriber's own space, across the wrap. */
    g_assert_cmpuint (rh.seq, ==, (guint16) (first_seq + i));
    g_assert_cmpuint (rh.ts - first_ts, ==, sh.ts - sent_first_ts);
    /* Not one payload byte changed. */
    g_assert_cmpmem (r + rh.header_len, rh.payload_len, s + sh.header_len, sh.payload_len);
    /* The publisher's transport-cc extension is not passed on. */
    const guint8 *ext;
    g_assert_cmpint (cs_rtp_ext_find (&rh, TWCC_ID, &ext), <, 0);
  }
  /* The worker counts a packet just after sending it: give it a moment. */
  wait_until (fx, forwarded_at_least, GUINT_TO_POINTER (n), 2000, "the forwarded-packets counter");
}

static guint
rtcp_count (GPtrArray *pkts, guint8 pt, guint8 fmt, guint32 media_ssrc)
{
  guint n = 0;
  for (guint i = 0; i < pkts->len; i++) {
    gsize len, off = 0;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index (pkts, i), &len);
    CsRtcpPacket p;
    while (cs_rtcp_next (d, len, &off, &p) > 0) {
      CsRtcpFb fb;
      if (p.pt != pt)
        continue;
      if (pt == CS_RTCP_SR) {
        CsRtcpSr sr;
        if (cs_rtcp_parse_sr (&p, &sr) == 0 && sr.ssrc == media_ssrc)
          n++;
      } else if (pt == CS_RTCP_RR) {
        CsRtcpRr rr;
        if (cs_rtcp_parse_rr (&p, &rr) == 0)
          for (guint r = 0; r < rr.n_reports; r++)
            if (rr.reports[r].ssrc == media_ssrc)
              n++;
      } else if (cs_rtcp_parse_fb (&p, &fb) == 0 && fb.fmt == fmt &&
                 (media_ssrc == 0 || fb.media_ssrc == media_ssrc)) {
        n++;
      }
    }
  }
  return n;
}

typedef struct {
  guint8 pt, fmt;
  guint32 media_ssrc;
  guint more_than;
} RtcpWant;

static gboolean
pub_rtcp_has (Fixture *fx, gpointer want)
{
  RtcpWant *w = want;
  return rtcp_count (fx->pub_rtcp, w->pt, w->fmt, w->media_ssrc) > w->more_than;
}

static gboolean
sub_rtcp_has (Fixture *fx, gpointer want)
{
  RtcpWant *w = want;
  return rtcp_count (fx->sub_rtcp, w->pt, w->fmt, w->media_ssrc) > w->more_than;
}

/* Packets the publisher has been told arrived, over all TWCC feedback. */
static guint
twcc_count (Fixture *fx)
{
  guint reported = 0;
  for (guint i = 0; i < fx->pub_rtcp->len; i++) {
    gsize len, off = 0;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index (fx->pub_rtcp, i), &len);
    CsRtcpPacket p;
    while (cs_rtcp_next (d, len, &off, &p) > 0) {
      CsRtcpFb fb;
      CsRtcpTwcc tw;
      gint64 arrivals[512];
      if (p.pt == CS_RTCP_RTPFB && cs_rtcp_parse_fb (&p, &fb) == 0 && fb.fmt == 15) {
        int k = cs_rtcp_parse_twcc (&fb, &tw, arrivals, G_N_ELEMENTS (arrivals));
        g_assert_cmpint (k, >, 0);
        for (int j = 0; j < k; j++)
          reported += arrivals[j] != -1;
      }
    }
  }
  return reported;
}

static gboolean
twcc_reported (Fixture *fx, gpointer n)
{
  return twcc_count (fx) >= GPOINTER_TO_UINT (n);
}

static void
test_feedback (Fixture *fx, gconstpointer data)
{
  guint n = 60;
  send_all_video (fx, n);
  wait_until (fx, sub_has, GUINT_TO_POINTER (n), 10000, "video at the subscriber");
  guint32 pub_v = stream (fx->pub, "v0").ssrc;
  CsClientStream slot = stream (fx->sub, "rv0");

  /* Transport-wide CC feedback for our sequence numbers, receiver reports
   * and a REMB reach the publisher. */
  RtcpWant twcc = { CS_RTCP_RTPFB, 15, 0 };
  wait_until (fx, pub_rtcp_has, &twcc, 3000, "transport-cc feedback");
  RtcpWant rr = { CS_RTCP_RR, 0, pub_v };
  wait_until (fx, pub_rtcp_has, &rr, 3000, "a receiver report on the video SSRC");
  RtcpWant remb = { CS_RTCP_PSFB, 15, 0 };
  wait_until (fx, pub_rtcp_has, &remb, 3000, "REMB");
  /* Loopback: every packet arrived, each reported once (feedback goes out
   * every 50 ms, so the last of it may still be on its way). */
  wait_until (fx, twcc_reported, GUINT_TO_POINTER (n), 3000, "every packet in transport-cc feedback");
  g_assert_cmpuint (twcc_count (fx), ==, n);

  /* A NACK from the subscriber is answered from the buffer, as RTX. */
  guint before = fx->sub_rtp->len;
  guint8 buf[BUF];
  guint16 first;
  {
    gsize len;
    CsRtpHeader h;
    const guint8 *d = g_bytes_get_data (g_ptr_array_index (fx->sub_rtp, 0), &len);
    cs_rtp_parse (d, len, &h);
    first = h.seq;
  }
  guint16 want[3] = { first + 5, first + 6, first + 40 };
  int len = cs_rtcp_write_nack (buf, sizeof buf, 0x1234, slot.ssrc, want, 3);
  g_assert_cmpint (cs_client_send_rtcp (fx->sub, buf, len, sizeof buf), >, 0);
  wait_until (fx, sub_has, GUINT_TO_POINTER (before + 3), 3000, "three retransmissions");
  for (guint i = 0; i < 3; i++) {
    gsize rl, ol;
    const guint8 *r = g_bytes_get_data (g_ptr_array_index (fx->sub_rtp, before + i), &rl);
    CsRtpHeader rh, oh;
    g_assert_cmpint (cs_rtp_parse (r, rl, &rh), ==, 0);
    g_assert_cmpuint (rh.ssrc, ==, slot.rtx_ssrc);
    g_assert_cmpuint (rh.pt, ==, CS_CLIENT_PT_RTX);
    const guint8 *p = r + rh.header_len;
    guint16 osn = (p[0] << 8) | p[1];
    g_assert_cmpuint (osn, ==, want[i]);
    const guint8 *o = g_bytes_get_data (g_ptr_array_index (fx->sub_rtp, (guint16) (osn - first)), &ol);
    g_assert_cmpint (cs_rtp_parse (o, ol, &oh), ==, 0);
    g_assert_cmpmem (p + 2, rh.payload_len - 2, o + oh.header_len, oh.payload_len);
  }
  g_assert_cmpuint (metric (fx, "consilium_media_retransmissions_total"), >=, 3);

  /* A PLI on the subscriber's SSRC reaches the publisher on its own SSRC. */
  spin (300);  /* past the key-frame request rate limit */
  RtcpWant pli = { CS_RTCP_PSFB, 1, pub_v, rtcp_count (fx->pub_rtcp, CS_RTCP_PSFB, 1, pub_v) };
  len = cs_rtcp_write_pli (buf, sizeof buf, 0x1234, slot.ssrc);
  cs_client_send_rtcp (fx->sub, buf, len, sizeof buf);
  wait_until (fx, pub_rtcp_has, &pli, 3000, "PLI at the publisher");

  /* The publisher's sender report reaches the subscriber in its SSRC space. */
  CsRtcpSr sr = { .ssrc = pub_v, .ntp_sec = 3900000000u, .ntp_frac = 42, .rtp_ts = 1000 };
  len = cs_rtcp_write_sr (buf, sizeof buf, &sr);
  cs_client_send_rtcp (fx->pub, buf, len, sizeof buf);
  RtcpWant fsr = { CS_RTCP_SR, 0, slot.ssrc };
  wait_until (fx, sub_rtcp_has, &fsr, 3000, "forwarded SR");
}

static void
test_bad_input (Fixture *fx, gconstpointer data)
{
  send_all_video (fx, 10);
  wait_until (fx, sub_has, GUINT_TO_POINTER (10), 10000, "video at the subscriber");
  guint64 srtp0 = metric (fx, "consilium_media_srtp_errors_total");
  guint64 mal0 = metric (fx, "consilium_media_malformed_rtp_total");
  guint64 malc0 = metric (fx, "consilium_media_malformed_rtcp_total");
  guint64 unk0 = metric (fx, "consilium_media_unknown_ssrc_total");

  /* Unauthenticated: RTP- and RTCP-looking bytes without valid SRTP. */
  guint8 junk[300];
  for (guint i = 0; i < 20; i++) {
    for (guint j = 0; j < sizeof junk; j++)
      junk[j] = g_random_int ();
    junk[0] = 0x80;
    junk[1] = i % 2 ? 96 : 200;
    cs_client_send_raw (fx->pub, junk, 20 + i * 13);
  }
  /* Authenticated but malformed RTP: padding longer than the packet. */
  guint8 buf[BUF] = { 0xa0, 96, 0, 1, 0, 0, 0, 1 };
  guint32 ssrc = stream (fx->pub, "v0").ssrc;
  buf[8] = ssrc >> 24, buf[9] = ssrc >> 16, buf[10] = ssrc >> 8, buf[11] = ssrc;
  buf[15] = 200;
  cs_client_send_rtp (fx->pub, buf, 16, sizeof buf);
  /* Authenticated, well-formed, but an SSRC the SDP never announced. */
  guint8 stray[BUF] = { 0x80, 96, 0, 1, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4 };
  cs_client_send_rtp (fx->pub, stray, 16, sizeof stray);
  /* Authenticated RTCP whose length field runs past the packet. */
  guint8 rtcp[BUF] = { 0x81, 201, 0, 40, 0, 0, 0, 1 };
  cs_client_send_rtcp (fx->pub, rtcp, 8, sizeof rtcp);
  spin (500);

  g_assert_cmpuint (metric (fx, "consilium_media_srtp_errors_total") - srtp0, ==, 20);
  g_assert_cmpuint (metric (fx, "consilium_media_malformed_rtp_total") - mal0, ==, 1);
  g_assert_cmpuint (metric (fx, "consilium_media_unknown_ssrc_total") - unk0, ==, 1);
  g_assert_cmpuint (metric (fx, "consilium_media_malformed_rtcp_total") - malc0, ==, 1);

  /* The call goes on. */
  guint before = fx->sub_rtp->len;
  for (guint i = 10; i < 30; i++)
    send_video (fx, i);
  wait_until (fx, sub_has, GUINT_TO_POINTER (before + 20), 5000, "video after the bad input");
}

/* The SFU side of @peer_id. Read from the test thread: only fields that
 * were set before the call was connected, and no longer change. */
static CsTransport *
sfu_transport (Fixture *fx, const char *peer_id)
{
  for (guint i = 0; i < fx->media->n_workers; i++) {
    CsPeer *p = g_hash_table_lookup (fx->media->workers[i]->peers, peer_id);
    if (p)
      return &p->t;
  }
  g_error ("no peer %s", peer_id);
}

static gboolean
metric_at_least (Fixture *fx, gpointer data)
{
  const struct { const char *name; guint64 n; } *m = data;
  return metric (fx, m->name) >= m->n;
}

static void
wait_metric (Fixture *fx, const char *name, guint64 n, const char *what)
{
  struct { const char *name; guint64 n; } m = { name, n };
  wait_until (fx, metric_at_least, &m, 5000, what);
}

/* A check (STUN binding request) as the publisher's browser sends it,
 * made by libnice's STUN code; Chromium nominates (USE-CANDIDATE) on the
 * pair it selected. */
static gsize
consent_request (CsTransport *t, gboolean use_candidate, guint8 *buf, gsize size)
{
  StunAgent agent;
  stun_agent_init (&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  g_autofree char *username = g_strdup_printf ("%s:%s", t->ufrag, t->remote_ufrag);
  StunMessage msg;
  gsize n = stun_usage_ice_conncheck_create (&agent, &msg, buf, size, (const guint8 *) username, strlen (username),
                                             (const guint8 *) t->pwd, strlen (t->pwd), use_candidate, TRUE, 0x6e7f00ff,
                                             g_random_int (), NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  g_assert_cmpuint (n, >, 20);
  return n;
}

/* The publisher client's socket of the selected pair: the UDP socket of
 * this process bound to the address the SFU sends to. */
static int
client_socket (CsTransport *t)
{
  for (int fd = 3; fd < 4096; fd++) {
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    int type;
    socklen_t tlen = sizeof type;
    if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_DGRAM ||
        getsockname (fd, (struct sockaddr *) &a, &len) < 0 || a.ss_family != AF_INET)
      continue;
    const struct sockaddr_in *x = (const void *) &a, *y = (const void *) &t->dest;
    if (x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr)
      return fd;
  }
  g_error ("the client's socket was not found");
}

/* Connected, @n video packets through: the SFU reads the publisher's
 * socket with recvmmsg. Its transport, and @sfu the socket's address. */
static CsTransport *
publisher_read_past_libnice (Fixture *fx, guint n, struct sockaddr_storage *sfu, socklen_t *sfu_len)
{
  send_all_video (fx, n);
  wait_until (fx, sub_has, GUINT_TO_POINTER (n), 10000, "video at the subscriber");
  wait_metric (fx, "consilium_media_direct_received_packets_total", 1, "packets read past libnice");
  CsTransport *t = sfu_transport (fx, "pub");
  g_assert_true (t->reading);
  *sfu_len = sizeof *sfu;
  g_assert_cmpint (getsockname (t->read_fd, (struct sockaddr *) sfu, sfu_len), ==, 0);
  return t;
}

/* A UDP socket on 127.0.0.1 and its address. */
static int
bound_socket (struct sockaddr_in *addr)
{
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  g_assert_cmpint (bind (fd, (struct sockaddr *) &a, sizeof a), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) addr, &len), ==, 0);
  return fd;
}

static gboolean
pub_left_inbox (Fixture *fx, gpointer t)
{
  return !((CsTransport *) t)->reading;
}

static gboolean
pub_in_inbox (Fixture *fx, gpointer t)
{
  return ((CsTransport *) t)->reading;
}

/* Browsers keep checking, and may send media on, valid pairs other than
 * the one the SFU selected: from a remote candidate the SFU knows, a check
 * is answered and SRTP goes to SRTP (here a replay, so it is refused
 * there), with the socket kept; from an unknown address the same bytes
 * are dropped before SRTP. A nomination of the other pair goes to libnice
 * once. */
static void
test_other_pair (Fixture *fx, gconstpointer data)
{
  guint sent = 10;
  struct sockaddr_storage sfu;
  socklen_t sfu_len;
  CsTransport *t = publisher_read_past_libnice (fx, sent, &sfu, &sfu_len);

  struct sockaddr_in known_addr, unknown_addr;
  int known = bound_socket (&known_addr), unknown = bound_socket (&unknown_addr);
  g_autofree char *cand = g_strdup_printf ("candidate:9 1 udp 2122194687 127.0.0.1 %u typ host",
                                           ntohs (known_addr.sin_port));
  cs_media_peer_candidate (fx->media, "pub", cand);
  /* libnice checks the new pair (which never answers): the component is
   * "connected" meanwhile and libnice reads the socket; then "ready"
   * again, and the inbox takes the socket back knowing the candidate. */
  wait_until (fx, pub_left_inbox, t, 5000, "the publisher's checks on the new pair");
  wait_until (fx, pub_in_inbox, t, 30000, "the publisher's socket back in the inbox");

  /* A packet the publisher just sent, sent again from each socket. */
  guint8 buf[BUF] = { 0x80, CS_CLIENT_PT_VP8, fx->next_seq >> 8, fx->next_seq & 0xff, 0, 0, 0, 1 };
  fx->next_seq++;
  guint32 ssrc = stream (fx->pub, "v0").ssrc;
  buf[8] = ssrc >> 24, buf[9] = ssrc >> 16, buf[10] = ssrc >> 8, buf[11] = ssrc;
  memset (buf + 12, 0x10, 100);
  int n = cs_client_send_rtp (fx->pub, buf, 112, sizeof buf);
  g_assert_cmpint (n, >, 112);
  spin (100);
  guint64 srtp0 = metric (fx, "consilium_media_srtp_errors_total");
  guint64 mal0 = metric (fx, "consilium_media_malformed_rtp_total");
  g_assert_cmpint (sendto (unknown, buf, n, 0, (struct sockaddr *) &sfu, sfu_len), ==, n);
  wait_metric (fx, "consilium_media_malformed_rtp_total", mal0 + 1, "the unknown address's packet dropped");
  g_assert_cmpint (sendto (known, buf, n, 0, (struct sockaddr *) &sfu, sfu_len), ==, n);
  wait_metric (fx, "consilium_media_srtp_errors_total", srtp0 + 1, "the known address's packet at SRTP");
  g_assert_cmpuint (metric (fx, "consilium_media_malformed_rtp_total"), ==, mal0 + 1);

  /* A check from the known address is answered there. */
  guint64 answered = metric (fx, "consilium_media_stun_answered_total");
  guint8 req[STUN_MAX_MESSAGE_SIZE_IPV6];
  gsize len = consent_request (t, FALSE, req, sizeof req);
  g_assert_cmpint (sendto (known, req, len, 0, (struct sockaddr *) &sfu, sfu_len), ==, (gssize) len);
  wait_metric (fx, "consilium_media_stun_answered_total", answered + 1, "the check on the other pair answered");
  /* The answer, among libnice's own checks of the new pair. */
  guint8 reply[STUN_MAX_MESSAGE_SIZE_IPV6];
  gboolean found = FALSE;
  for (gssize r; !found && (r = recv (known, reply, sizeof reply, MSG_DONTWAIT)) > 0;)
    found = r >= 20 && reply[0] == 0x01 && reply[1] == 0x01 && memcmp (reply + 8, req + 8, 12) == 0;
  g_assert_true (found);
  g_assert_cmpuint (metric (fx, "consilium_media_socket_give_backs_total"), ==, 0);

  /* Its nomination goes to libnice once; the call goes on meanwhile. */
  len = consent_request (t, TRUE, req, sizeof req);
  g_assert_cmpint (sendto (known, req, len, 0, (struct sockaddr *) &sfu, sfu_len), ==, (gssize) len);
  wait_metric (fx, "consilium_media_socket_give_backs_total", 1, "the nomination given to libnice");
  guint before = fx->sub_rtp->len;
  for (guint i = 0; i < 20; i++)
    send_video (fx, sent++);
  wait_until (fx, sub_has, GUINT_TO_POINTER (before + 20), 5000, "video after the nomination");
  close (known);
  close (unknown);
}

static void
test_direct_receive (Fixture *fx, gconstpointer data)
{
  guint sent = 20;
  struct sockaddr_storage sfu;
  socklen_t sfu_len;
  CsTransport *t = publisher_read_past_libnice (fx, sent, &sfu, &sfu_len);

  /* Consent freshness: a binding request from the publisher's own socket
   * is answered without taking the socket back from the inbox. */
  guint8 req[STUN_MAX_MESSAGE_SIZE_IPV6];
  gsize n = consent_request (t, TRUE, req, sizeof req);
  g_assert_cmpint (sendto (client_socket (t), req, n, 0, (struct sockaddr *) &sfu, sfu_len), ==, (gssize) n);
  wait_metric (fx, "consilium_media_stun_answered_total", 1, "the consent check answered");
  g_assert_cmpuint (metric (fx, "consilium_media_socket_give_backs_total"), ==, 0);

  /* STUN from an address that is not the selected pair's is for libnice:
   * the socket goes back to it, and the call goes on through libnice. */
  int other = socket (AF_INET, SOCK_DGRAM, 0);
  g_assert_cmpint (sendto (other, req, n, 0, (struct sockaddr *) &sfu, sfu_len), ==, (gssize) n);
  wait_metric (fx, "consilium_media_socket_give_backs_total", 1, "the socket given back to libnice");
  close (other);
  guint64 direct = metric (fx, "consilium_media_direct_received_packets_total");
  guint before = fx->sub_rtp->len;
  for (guint i = 0; i < 20; i++)
    send_video (fx, sent++);
  wait_until (fx, sub_has, GUINT_TO_POINTER (before + 20), 5000, "video through libnice");

  /* After the back-off the inbox reads the publisher's socket again. */
  gint64 deadline = g_get_monotonic_time () + (CS_INBOX_BACKOFF_US + 3 * G_USEC_PER_SEC);
  while (metric (fx, "consilium_media_direct_received_packets_total") < direct + 20 &&
         g_get_monotonic_time () < deadline) {
    send_video (fx, sent++);
    spin (20);
  }
  g_assert_cmpuint (metric (fx, "consilium_media_direct_received_packets_total"), >=, direct + 20);
  /* Nothing was lost on the way through either path. */
  wait_until (fx, sub_has, GUINT_TO_POINTER (sent), 5000, "every video packet at the subscriber");
  g_assert_cmpuint (count_ssrc (fx->sub_rtp, stream (fx->sub, "rv0").ssrc), ==, sent);
  /* Every datagram read past libnice has its forwarding delay measured,
   * from the kernel's arrival stamp: media and the consent check. */
  guint64 delays = metric (fx, "consilium_media_forward_delay_seconds_count");
  g_assert_cmpuint (delays, >=, metric (fx, "consilium_media_direct_received_packets_total") + 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sfu/forwarding", Fixture, NULL, fixture_setup, test_forwarding, fixture_teardown);
  /* The same over AES_CM_128_HMAC_SHA1_80 (our AES-CM/HMAC via libsrtp's hooks). */
  g_test_add ("/sfu/forwarding-aes-cm", Fixture, "SRTP_AES128_CM_SHA1_80", fixture_setup, test_forwarding,
              fixture_teardown);
  g_test_add ("/sfu/feedback", Fixture, NULL, fixture_setup, test_feedback, fixture_teardown);
  g_test_add ("/sfu/bad-input", Fixture, NULL, fixture_setup, test_bad_input, fixture_teardown);
  g_test_add ("/sfu/direct-receive", Fixture, NULL, fixture_setup, test_direct_receive, fixture_teardown);
  g_test_add ("/sfu/other-pair", Fixture, NULL, fixture_setup, test_other_pair, fixture_teardown);
  return g_test_run ();
}
