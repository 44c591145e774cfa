/* Unit tests of the per-subscriber rewrite in media/forward.c. */
#include "media/internal.h"

#include <string.h>

static void
init_out (CsOutStream *out)
{
  memset (out, 0, sizeof *out);
  out->kind = CS_MEDIA_KIND_AUDIO;
  out->ssrc = 0x11223344;
  out->rtx_ssrc = 0x55667788;
  out->pt = 111;
  out->rtx_pt = 97;
  out->seq_delta = 1000;
  out->ts_delta = 5000;
  out->audio_level_id = 3;
}

static void
test_rewrite_basic (void)
{
  CsOutStream out;
  init_out (&out);
  guint8 payload[100];
  for (guint i = 0; i < sizeof payload; i++)
    payload[i] = i;
  CsPacketView v = { 65000, 4294967000u, 1, 0x85, 0xff, payload, sizeof payload };
  guint8 buf[CS_PKT_MAX];
  gsize len = cs_forward_build (&out, &v, FALSE, 1000, buf);
  g_assert_cmpuint (len, >, 0);

  CsRtpHeader h;
  g_assert_cmpint (cs_rtp_parse (buf, len, &h), ==, 0);
  g_assert_cmpuint (h.ssrc, ==, 0x11223344);
  g_assert_cmpuint (h.pt, ==, 111);
  g_assert_cmpuint (h.marker, ==, 1);
  g_assert_cmpuint (h.seq, ==, (guint16) (65000 + 1000));   /* wraps */
  g_assert_cmpuint (h.ts, ==, (guint32) (4294967000u + 5000u));
  g_assert_cmpuint (h.payload_len, ==, sizeof payload);
  g_assert_cmpmem (buf + h.header_len, h.payload_len, payload, sizeof payload);
  const guint8 *level;
  g_assert_cmpint (cs_rtp_ext_find (&h, 3, &level), ==, 1);
  g_assert_cmpuint (level[0], ==, 0x85);
  g_assert_cmpuint (out.packets, ==, 1);
  g_assert_cmpuint (out.octets, ==, sizeof payload);
}

static void
test_rewrite_no_extension (void)
{
  CsOutStream out;
  init_out (&out);
  out.audio_level_id = 0;  /* subscriber did not negotiate it */
  guint8 payload[10] = { 0 };
  CsPacketView v = { 1, 2, 0, 0x85, 0xff, payload, sizeof payload };
  guint8 buf[CS_PKT_MAX];
  gsize len = cs_forward_build (&out, &v, FALSE, 0, buf);
  g_assert_cmpuint (len, ==, 12 + sizeof payload);
  g_assert_cmpuint (buf[0], ==, 0x80);
}

static void
test_rewrite_rtx (void)
{
  CsOutStream out;
  init_out (&out);
  out.kind = CS_MEDIA_KIND_VIDEO;
  out.pt = 96;
  out.rtx_seq = 7;
  guint8 payload[20];
  memset (payload, 0xab, sizeof payload);
  CsPacketView v = { 500, 90000, 0, 0xff, 0xff, payload, sizeof payload };
  guint8 buf[CS_PKT_MAX];
  gsize len = cs_forward_build (&out, &v, TRUE, 0, buf);
  CsRtpHeader h;
  g_assert_cmpint (cs_rtp_parse (buf, len, &h), ==, 0);
  g_assert_cmpuint (h.ssrc, ==, 0x55667788);
  g_assert_cmpuint (h.pt, ==, 97);
  g_assert_cmpuint (h.seq, ==, 7);
  g_assert_cmpuint (out.rtx_seq, ==, 8);
  /* RFC 4588: the payload starts with the original (rewritten) sequence number. */
  const guint8 *p = buf + h.header_len;
  g_assert_cmpuint ((p[0] << 8) | p[1], ==, 1500);
  g_assert_cmpmem (p + 2, h.payload_len - 2, payload, sizeof payload);
  /* Retransmissions do not move the stream's own numbering. */
  g_assert_cmpuint (out.packets, ==, 0);
}

static void
test_rebase_keeps_numbering_continuous (void)
{
  CsOutStream out;
  CsInStream src = { 0 };
  init_out (&out);
  src.clock_rate = 48000;
  out.src = &src;
  guint8 payload[4] = { 0 };
  guint8 buf[CS_PKT_MAX];
  CsRtpHeader h;

  CsPacketView v = { 100, 960, 0, 0xff, 0xff, payload, sizeof payload };
  cs_forward_build (&out, &v, FALSE, 0, buf);
  v.seq = 101;
  v.ts = 1920;
  gsize len = cs_forward_build (&out, &v, FALSE, 20000, buf);
  cs_rtp_parse (buf, len, &h);
  guint16 last_seq = h.seq;
  guint32 last_ts = h.ts;

  /* The publisher restarts with a new SSRC and unrelated numbering. */
  out.rebase = TRUE;
  CsPacketView w = { 40000, 123456, 0, 0xff, 0xff, payload, sizeof payload };
  len = cs_forward_build (&out, &w, FALSE, 40000, buf);
  cs_rtp_parse (buf, len, &h);
  g_assert_cmpuint (h.seq, ==, (guint16) (last_seq + 1));
  g_assert_cmpuint (h.ts, ==, last_ts + 960);  /* 20 ms at 48 kHz */
  g_assert_false (out.rebase);
}

static void
test_oversized_payload_refused (void)
{
  CsOutStream out;
  init_out (&out);
  static guint8 payload[CS_MTU];
  CsPacketView v = { 1, 2, 0, 0x10, 0xff, payload, sizeof payload };
  guint8 buf[CS_PKT_MAX + CS_MTU];
  g_assert_cmpuint (cs_forward_build (&out, &v, FALSE, 0, buf), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/forward/rewrite", test_rewrite_basic);
  g_test_add_func ("/forward/no-extension", test_rewrite_no_extension);
  g_test_add_func ("/forward/rtx", test_rewrite_rtx);
  g_test_add_func ("/forward/rebase", test_rebase_keeps_numbering_continuous);
  g_test_add_func ("/forward/oversized", test_oversized_payload_refused);
  return g_test_run ();
}
