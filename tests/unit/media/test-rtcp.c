/* Unit tests for media/rtcp.c: compound iteration, SR/RR, NACK/PLI/FIR,
 * REMB and transport-wide CC feedback, each written then parsed back,
 * every error path, and the RTCP two GStreamer rtpbins exchanged in a real
 * call (tests/fixtures/rtp/make-fixtures.sh). */
#include "media/rtcp.h"
#include "media/rtp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static guint16
rd16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

/* Parses the single packet in @buf into @fb, asserting the framing. */
static void
parse_one_fb (const guint8 *buf, gsize len, CsRtcpFb *fb)
{
  gsize off = 0;
  CsRtcpPacket pkt;
  g_assert_cmpint (cs_rtcp_next (buf, len, &off, &pkt), ==, 1);
  g_assert_cmpuint (off, ==, len);
  g_assert_cmpint (cs_rtcp_next (buf, len, &off, &pkt), ==, 0);
  g_assert_cmpint (cs_rtcp_parse_fb (&pkt, fb), ==, 0);
}

/* ---- compound iteration ---- */

static void
test_next_compound (void)
{
  guint8 buf[256];
  gsize len = 0;
  CsRtcpRr rr = { .ssrc = 1 };
  CsRtcpSr sr = { .ssrc = 2, .n_reports = 1, .reports = { { .ssrc = 3 } } };
  len += cs_rtcp_write_sr (buf + len, sizeof buf - len, &sr);
  len += cs_rtcp_write_rr (buf + len, sizeof buf - len, &rr);
  len += cs_rtcp_write_pli (buf + len, sizeof buf - len, 4, 5);
  g_assert_cmpuint (len, ==, 52 + 8 + 12);

  static const struct { guint8 pt, count; gsize len; } expect[] = {
    { CS_RTCP_SR, 1, 52 }, { CS_RTCP_RR, 0, 8 }, { CS_RTCP_PSFB, CS_RTCP_FMT_PLI, 12 },
  };
  gsize off = 0;
  CsRtcpPacket pkt;
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    g_assert_cmpint (cs_rtcp_next (buf, len, &off, &pkt), ==, 1);
    g_assert_cmpuint (pkt.pt, ==, expect[i].pt);
    g_assert_cmpuint (pkt.count, ==, expect[i].count);
    g_assert_cmpuint (pkt.len, ==, expect[i].len);
  }
  g_assert_cmpuint (off, ==, len);
  g_assert_cmpint (cs_rtcp_next (buf, len, &off, &pkt), ==, 0);
  g_assert_cmpint (cs_rtcp_next (buf, len, &off, &pkt), ==, 0);

  /* Empty input is an empty compound. */
  off = 0;
  g_assert_cmpint (cs_rtcp_next (NULL, 0, &off, &pkt), ==, 0);
}

static void
test_next_errors (void)
{
  guint8 buf[64];
  gsize off;
  CsRtcpPacket pkt;
  int n = cs_rtcp_write_pli (buf, sizeof buf, 1, 2);
  g_assert_cmpint (n, ==, 12);

  /* Truncated header and truncated body, at every length; *offset and
   * the packet are untouched on failure. */
  for (gsize len = 1; len < 12; len++) {
    off = 0;
    memset (&pkt, 0x5a, sizeof pkt);
    g_assert_cmpint (cs_rtcp_next (buf, len, &off, &pkt), ==, -EINVAL);
    g_assert_cmpuint (off, ==, 0);
    g_assert_cmpuint (pkt.pt, ==, 0x5a);
  }
  /* A compound whose second packet is cut short. */
  memcpy (buf + 12, buf, 12);
  off = 0;
  g_assert_cmpint (cs_rtcp_next (buf, 23, &off, &pkt), ==, 1);
  g_assert_cmpint (cs_rtcp_next (buf, 23, &off, &pkt), ==, -EINVAL);
  g_assert_cmpuint (off, ==, 12);

  /* Offset past the end. */
  off = 13;
  g_assert_cmpint (cs_rtcp_next (buf, 12, &off, &pkt), ==, -EINVAL);

  /* Versions other than 2. */
  for (guint v = 0; v < 4; v++) {
    buf[0] = (guint8) ((v << 6) | (buf[0] & 0x3f));
    off = 0;
    g_assert_cmpint (cs_rtcp_next (buf, 12, &off, &pkt), ==, v == 2 ? 1 : -EINVAL);
  }
  buf[0] = (guint8) ((2 << 6) | (buf[0] & 0x3f));

  /* Padding: count 0, and count covering the header. */
  buf[0] |= 0x20;
  buf[11] = 0;
  off = 0;
  g_assert_cmpint (cs_rtcp_next (buf, 12, &off, &pkt), ==, -EINVAL);
  buf[11] = 9;
  g_assert_cmpint (cs_rtcp_next (buf, 12, &off, &pkt), ==, -EINVAL);
  buf[11] = 8;  /* all of the payload: valid */
  g_assert_cmpint (cs_rtcp_next (buf, 12, &off, &pkt), ==, 1);
  /* ...but then too short for feedback. */
  CsRtcpFb fb;
  g_assert_cmpint (cs_rtcp_parse_fb (&pkt, &fb), ==, -EINVAL);
}

/* ---- SR / RR ---- */

static CsRtcpReportBlock
report_block (guint i)
{
  return (CsRtcpReportBlock) {
    .ssrc = 0x10000000 + i,
    .fraction_lost = (guint8) (i * 8),
    .cumulative_lost = (i % 2) ? -(gint32) i * 1000 : (gint32) i * 100000,
    .ext_highest_seq = 0x00010000 + i,
    .jitter = i * 3,
    .lsr = 0xabcd0000 + i,
    .dlsr = 0x00001234 * i,
  };
}

static void
assert_report_blocks_equal (const CsRtcpReportBlock *a, const CsRtcpReportBlock *b, guint n)
{
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint (a[i].ssrc, ==, b[i].ssrc);
    g_assert_cmpuint (a[i].fraction_lost, ==, b[i].fraction_lost);
    g_assert_cmpint (a[i].cumulative_lost, ==, b[i].cumulative_lost);
    g_assert_cmpuint (a[i].ext_highest_seq, ==, b[i].ext_highest_seq);
    g_assert_cmpuint (a[i].jitter, ==, b[i].jitter);
    g_assert_cmpuint (a[i].lsr, ==, b[i].lsr);
    g_assert_cmpuint (a[i].dlsr, ==, b[i].dlsr);
  }
}

static void
test_sr_round_trip (void)
{
  static const guint counts[] = { 0, 1, 2, CS_RTCP_MAX_REPORTS };
  for (guint c = 0; c < G_N_ELEMENTS (counts); c++) {
    CsRtcpSr sr = {
      .ssrc = 0xcafebabe, .ntp_sec = 0xe1234567, .ntp_frac = 0x80000000,
      .rtp_ts = 0xfffffff0, .packet_count = 12345, .octet_count = 0xffffffff,
      .n_reports = counts[c],
    };
    for (guint i = 0; i < sr.n_reports; i++)
      sr.reports[i] = report_block (i);
    gsize want = 28 + 24 * (gsize) sr.n_reports;
    g_autofree guint8 *buf = g_malloc (want);
    /* Every capacity short of the size fails without writing. */
    g_assert_cmpint (cs_rtcp_write_sr (buf, want - 1, &sr), ==, -ENOSPC);
    g_assert_cmpint (cs_rtcp_write_sr (buf, want, &sr), ==, (int) want);

    gsize off = 0;
    CsRtcpPacket pkt;
    CsRtcpSr out;
    g_assert_cmpint (cs_rtcp_next (buf, want, &off, &pkt), ==, 1);
    g_assert_cmpuint (pkt.pt, ==, CS_RTCP_SR);
    g_assert_cmpuint (pkt.count, ==, sr.n_reports);
    g_assert_cmpint (cs_rtcp_parse_sr (&pkt, &out), ==, 0);
    g_assert_cmpuint (out.ssrc, ==, sr.ssrc);
    g_assert_cmpuint (out.ntp_sec, ==, sr.ntp_sec);
    g_assert_cmpuint (out.ntp_frac, ==, sr.ntp_frac);
    g_assert_cmpuint (out.rtp_ts, ==, sr.rtp_ts);
    g_assert_cmpuint (out.packet_count, ==, sr.packet_count);
    g_assert_cmpuint (out.octet_count, ==, sr.octet_count);
    g_assert_cmpuint (out.n_reports, ==, sr.n_reports);
    assert_report_blocks_equal (out.reports, sr.reports, sr.n_reports);

    /* An SR is not an RR, nor feedback. */
    CsRtcpRr rr;
    CsRtcpFb fb;
    g_assert_cmpint (cs_rtcp_parse_rr (&pkt, &rr), ==, -EINVAL);
    g_assert_cmpint (cs_rtcp_parse_fb (&pkt, &fb), ==, -EINVAL);
  }
}

static void
test_rr_round_trip (void)
{
  static const guint counts[] = { 0, 1, 5, CS_RTCP_MAX_REPORTS };
  for (guint c = 0; c < G_N_ELEMENTS (counts); c++) {
    CsRtcpRr rr = { .ssrc = 0x01020304, .n_reports = counts[c] };
    for (guint i = 0; i < rr.n_reports; i++)
      rr.reports[i] = report_block (i + 7);
    gsize want = 8 + 24 * (gsize) rr.n_reports;
    g_autofree guint8 *buf = g_malloc (want);
    g_assert_cmpint (cs_rtcp_write_rr (buf, want - 1, &rr), ==, -ENOSPC);
    g_assert_cmpint (cs_rtcp_write_rr (buf, want, &rr), ==, (int) want);

    gsize off = 0;
    CsRtcpPacket pkt;
    CsRtcpRr out;
    CsRtcpSr sr;
    g_assert_cmpint (cs_rtcp_next (buf, want, &off, &pkt), ==, 1);
    g_assert_cmpint (cs_rtcp_parse_rr (&pkt, &out), ==, 0);
    g_assert_cmpuint (out.ssrc, ==, rr.ssrc);
    g_assert_cmpuint (out.n_reports, ==, rr.n_reports);
    assert_report_blocks_equal (out.reports, rr.reports, rr.n_reports);
    g_assert_cmpint (cs_rtcp_parse_sr (&pkt, &sr), ==, -EINVAL);
  }
}

static void
test_report_cumulative_lost (void)
{
  /* 24-bit two's complement, clamped by the writer. */
  static const struct { gint32 in, out; } cases[] = {
    { 0, 0 }, { 1, 1 }, { -1, -1 }, { 0x7fffff, 0x7fffff }, { -0x800000, -0x800000 },
    { 0x800000, 0x7fffff }, { G_MAXINT32, 0x7fffff }, { -0x800001, -0x800000 },
    { G_MININT32, -0x800000 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    CsRtcpRr rr = { .n_reports = 1, .reports = { { .cumulative_lost = cases[i].in } } };
    guint8 buf[32];
    g_assert_cmpint (cs_rtcp_write_rr (buf, sizeof buf, &rr), ==, 32);
    CsRtcpPacket pkt = { .pt = CS_RTCP_RR, .count = 1, .data = buf, .len = 32 };
    CsRtcpRr out;
    g_assert_cmpint (cs_rtcp_parse_rr (&pkt, &out), ==, 0);
    g_assert_cmpint (out.reports[0].cumulative_lost, ==, cases[i].out);
  }
}

static void
test_sr_rr_errors (void)
{
  guint8 buf[128], before[128];
  memset (buf, 0xcc, sizeof buf);
  memcpy (before, buf, sizeof buf);
  CsRtcpSr sr = { .n_reports = CS_RTCP_MAX_REPORTS + 1 };
  CsRtcpRr rr = { .n_reports = CS_RTCP_MAX_REPORTS + 1 };
  g_assert_cmpint (cs_rtcp_write_sr (buf, sizeof buf, &sr), ==, -EINVAL);
  g_assert_cmpint (cs_rtcp_write_rr (buf, sizeof buf, &rr), ==, -EINVAL);
  g_assert_cmpmem (buf, sizeof buf, before, sizeof before);

  /* RC says 2 blocks, the length holds only 1. */
  sr.n_reports = 2;
  g_assert_cmpint (cs_rtcp_write_sr (buf, sizeof buf, &sr), ==, 76);
  buf[3] = 76 / 4 - 1 - 6;
  gsize off = 0;
  CsRtcpPacket pkt;
  CsRtcpSr out;
  g_assert_cmpint (cs_rtcp_next (buf, 52, &off, &pkt), ==, 1);
  g_assert_cmpint (cs_rtcp_parse_sr (&pkt, &out), ==, -EINVAL);

  rr.n_reports = 1;
  g_assert_cmpint (cs_rtcp_write_rr (buf, sizeof buf, &rr), ==, 32);
  buf[0] = (buf[0] & ~0x1f) | 2;
  off = 0;
  g_assert_cmpint (cs_rtcp_next (buf, 32, &off, &pkt), ==, 1);
  CsRtcpRr rout;
  g_assert_cmpint (cs_rtcp_parse_rr (&pkt, &rout), ==, -EINVAL);

  /* Padding eats into the report block. */
  buf[0] = (buf[0] & ~0x1f) | 0x20 | 1;
  buf[31] = 4;
  off = 0;
  g_assert_cmpint (cs_rtcp_next (buf, 32, &off, &pkt), ==, 1);
  g_assert_cmpint (cs_rtcp_parse_rr (&pkt, &rout), ==, -EINVAL);

  /* Hand-made packets that never went through cs_rtcp_next. */
  CsRtcpPacket bogus = { .data = buf, .len = 2 };
  g_assert_cmpint (cs_rtcp_parse_rr (&bogus, &rout), ==, -EINVAL);
  bogus.len = 30;
  g_assert_cmpint (cs_rtcp_parse_rr (&bogus, &rout), ==, -EINVAL);
  bogus.data = NULL;
  g_assert_cmpint (cs_rtcp_parse_sr (&bogus, &out), ==, -EINVAL);
}

/* ---- PLI / FIR / generic feedback ---- */

static void
test_pli_fir (void)
{
  guint8 buf[32];
  CsRtcpFb fb;
  guint32 ssrc;
  guint8 seq;

  g_assert_cmpint (cs_rtcp_write_pli (buf, 11, 1, 2), ==, -ENOSPC);
  g_assert_cmpint (cs_rtcp_write_pli (buf, sizeof buf, 0x11111111, 0x22222222), ==, 12);
  parse_one_fb (buf, 12, &fb);
  g_assert_cmpuint (fb.pt, ==, CS_RTCP_PSFB);
  g_assert_cmpuint (fb.fmt, ==, CS_RTCP_FMT_PLI);
  g_assert_cmpuint (fb.sender_ssrc, ==, 0x11111111);
  g_assert_cmpuint (fb.media_ssrc, ==, 0x22222222);
  g_assert_cmpuint (fb.fci_len, ==, 0);
  g_assert_cmpint (cs_rtcp_parse_fir (&fb, &ssrc, &seq), ==, -EINVAL);

  g_assert_cmpint (cs_rtcp_write_fir (buf, 19, 1, 2, 3), ==, -ENOSPC);
  g_assert_cmpint (cs_rtcp_write_fir (buf, sizeof buf, 0x33333333, 0x44444444, 200), ==, 20);
  parse_one_fb (buf, 20, &fb);
  g_assert_cmpuint (fb.fmt, ==, CS_RTCP_FMT_FIR);
  g_assert_cmpuint (fb.media_ssrc, ==, 0); /* RFC 5104: unused in the header */
  g_assert_cmpint (cs_rtcp_parse_fir (&fb, &ssrc, &seq), ==, 0);
  g_assert_cmpuint (ssrc, ==, 0x44444444);
  g_assert_cmpuint (seq, ==, 200);

  /* FCI not a multiple of 8. */
  fb.fci_len = 12;
  g_assert_cmpint (cs_rtcp_parse_fir (&fb, &ssrc, &seq), ==, -EINVAL);
  fb.fci_len = 0;
  g_assert_cmpint (cs_rtcp_parse_fir (&fb, &ssrc, &seq), ==, -EINVAL);

  /* Feedback needs 12 bytes and an RTPFB/PSFB type. */
  g_assert_cmpint (cs_rtcp_write_pli (buf, sizeof buf, 1, 2), ==, 12);
  CsRtcpPacket pkt = { .data = buf, .len = 8 };
  g_assert_cmpint (cs_rtcp_parse_fb (&pkt, &fb), ==, -EINVAL);
  buf[1] = CS_RTCP_APP;
  pkt.len = 12;
  g_assert_cmpint (cs_rtcp_parse_fb (&pkt, &fb), ==, -EINVAL);
}

/* ---- NACK ---- */

static int
cmp_u16 (gconstpointer a, gconstpointer b)
{
  return (int) *(const guint16 *) a - (int) *(const guint16 *) b;
}

/* Sorts @seqs by distance from @anchor and drops duplicates. */
static guint
normalize (guint16 *seqs, guint n, guint16 anchor)
{
  for (guint i = 0; i < n; i++)
    seqs[i] -= anchor;
  qsort (seqs, n, sizeof *seqs, cmp_u16);
  guint m = 0;
  for (guint i = 0; i < n; i++)
    if (m == 0 || seqs[m - 1] != seqs[i])
      seqs[m++] = seqs[i];
  for (guint i = 0; i < m; i++)
    seqs[i] += anchor;
  return m;
}

/* Writes @seqs as a NACK, checks the FCI count, expands it back and
 * compares with the sorted, de-duplicated input. */
static void
assert_nack_round_trip (const guint16 *seqs, guint n, guint16 anchor, guint expect_fcis)
{
  guint8 buf[2048];
  int len = cs_rtcp_write_nack (buf, sizeof buf, 0xaaaa, 0xbbbb, seqs, n);
  g_assert_cmpint (len, ==, 12 + 4 * (int) expect_fcis);

  CsRtcpFb fb;
  parse_one_fb (buf, (gsize) len, &fb);
  g_assert_cmpuint (fb.pt, ==, CS_RTCP_RTPFB);
  g_assert_cmpuint (fb.fmt, ==, CS_RTCP_FMT_NACK);
  g_assert_cmpuint (fb.media_ssrc, ==, 0xbbbb);

  guint16 out[1024];
  int n_out = cs_rtcp_nack_seqs (&fb, out, G_N_ELEMENTS (out));
  g_autofree guint16 *want = g_memdup2 (seqs, n * sizeof *seqs);
  guint n_want = normalize (want, n, anchor);
  g_assert_cmpmem (out, n_out * sizeof *out, want, n_want * sizeof *want);
}

static void
test_nack_scattered (void)
{
  /* 1 + 2,5,17 fit one BLP (17 = 1 + 16); 18 starts the next FCI. */
  static const guint16 seqs[] = { 17, 1, 5, 2, 18, 40, 1000, 1001, 5 };
  assert_nack_round_trip (seqs, G_N_ELEMENTS (seqs), 0, 4);

  guint8 buf[64];
  g_assert_cmpint (cs_rtcp_write_nack (buf, sizeof buf, 1, 2, seqs, G_N_ELEMENTS (seqs)), ==, 28);
  g_assert_cmpuint (rd16 (buf + 12), ==, 1);
  g_assert_cmpuint (rd16 (buf + 14), ==, (1u << 0) | (1u << 3) | (1u << 15));
  g_assert_cmpuint (rd16 (buf + 16), ==, 18);
  g_assert_cmpuint (rd16 (buf + 18), ==, 0);
  g_assert_cmpuint (rd16 (buf + 20), ==, 40);
  g_assert_cmpuint (rd16 (buf + 24), ==, 1000);
  g_assert_cmpuint (rd16 (buf + 26), ==, 1);

  /* A full run of 17. */
  guint16 run[17];
  for (guint i = 0; i < 17; i++)
    run[i] = (guint16) (500 + 16 - i);
  assert_nack_round_trip (run, 17, 0, 1);
  g_assert_cmpint (cs_rtcp_write_nack (buf, sizeof buf, 1, 2, run, 17), ==, 16);
  g_assert_cmpuint (rd16 (buf + 14), ==, 0xffff);
}

static void
test_nack_wrap (void)
{
  /* Straddling 65535 -> 0: one FCI with PID 65530. */
  static const guint16 seqs[] = { 3, 65535, 0, 65530, 10 };
  assert_nack_round_trip (seqs, G_N_ELEMENTS (seqs), 65530, 1);
  guint8 buf[64];
  g_assert_cmpint (cs_rtcp_write_nack (buf, sizeof buf, 1, 2, seqs, G_N_ELEMENTS (seqs)), ==, 16);
  g_assert_cmpuint (rd16 (buf + 12), ==, 65530);
  g_assert_cmpuint (rd16 (buf + 14), ==, (1u << 4) | (1u << 5) | (1u << 8) | (1u << 15));

  /* The BLP itself wraps: PID 65535 covers 0..15. */
  static const guint16 tail[] = { 65535, 15, 0 };
  g_assert_cmpint (cs_rtcp_write_nack (buf, sizeof buf, 1, 2, tail, G_N_ELEMENTS (tail)), ==, 16);
  g_assert_cmpuint (rd16 (buf + 12), ==, 65535);
  g_assert_cmpuint (rd16 (buf + 14), ==, (1u << 0) | (1u << 15));
  assert_nack_round_trip (tail, G_N_ELEMENTS (tail), 65535, 1);
}

static void
test_nack_random (void)
{
  /* Random windows of up to 600 sequence numbers anywhere in the space
   * (so some wrap), random density, shuffled, with duplicates. */
  for (guint iter = 0; iter < 200; iter++) {
    guint16 base = (guint16) g_test_rand_int_range (0, 65536);
    guint span = (guint) g_test_rand_int_range (1, 600);
    guint density = (guint) g_test_rand_int_range (1, 100);
    guint16 seqs[1200];
    guint n = 0;
    for (guint i = 0; i < span && n < G_N_ELEMENTS (seqs) - 1; i++) {
      if ((guint) g_test_rand_int_range (0, 100) < density) {
        seqs[n++] = (guint16) (base + i);
        if (g_test_rand_int_range (0, 10) == 0)
          seqs[n++] = (guint16) (base + i);
      }
    }
    if (n == 0)
      seqs[n++] = base;
    for (guint i = n - 1; i > 0; i--) {
      guint j = (guint) g_test_rand_int_range (0, (gint32) i + 1);
      guint16 t = seqs[i];
      seqs[i] = seqs[j];
      seqs[j] = t;
    }
    /* Expected FCI count: greedy over the sorted set. */
    g_autofree guint16 *sorted = g_memdup2 (seqs, n * sizeof *seqs);
    guint m = normalize (sorted, n, base);
    guint fcis = 0;
    for (guint i = 0; i < m;) {
      guint16 pid = sorted[i];
      fcis++;
      while (i < m && (guint16) (sorted[i] - pid) <= 16)
        i++;
    }
    assert_nack_round_trip (seqs, n, base, fcis);
  }
}

static void
test_nack_errors (void)
{
  guint8 buf[64], before[64];
  memset (buf, 0xcc, sizeof buf);
  memcpy (before, buf, sizeof buf);
  static const guint16 seqs[] = { 1, 100, 200 };
  g_assert_cmpint (cs_rtcp_write_nack (buf, sizeof buf, 1, 2, seqs, 0), ==, -EINVAL);
  for (gsize cap = 0; cap < 24; cap++)
    g_assert_cmpint (cs_rtcp_write_nack (buf, cap, 1, 2, seqs, 3), ==, -ENOSPC);
  g_assert_cmpmem (buf, sizeof buf, before, sizeof before);
  g_assert_cmpint (cs_rtcp_write_nack (buf, 24, 1, 2, seqs, 3), ==, 24);

  CsRtcpFb fb;
  parse_one_fb (buf, 24, &fb);
  guint16 out[8];
  /* @max truncates. */
  g_assert_cmpint (cs_rtcp_nack_seqs (&fb, out, 2), ==, 2);
  g_assert_cmpuint (out[1], ==, 100);
  g_assert_cmpint (cs_rtcp_nack_seqs (&fb, out, 0), ==, 0);
  /* FCI not a multiple of 4, empty, or not a NACK. */
  fb.fci_len = 6;
  g_assert_cmpint (cs_rtcp_nack_seqs (&fb, out, 8), ==, -EINVAL);
  fb.fci_len = 0;
  g_assert_cmpint (cs_rtcp_nack_seqs (&fb, out, 8), ==, -EINVAL);
  fb.fci_len = 4;
  fb.fmt = CS_RTCP_FMT_TWCC;
  g_assert_cmpint (cs_rtcp_nack_seqs (&fb, out, 8), ==, -EINVAL);
  fb.fmt = CS_RTCP_FMT_NACK;
  fb.pt = CS_RTCP_PSFB;
  g_assert_cmpint (cs_rtcp_nack_seqs (&fb, out, 8), ==, -EINVAL);
}

/* ---- REMB ---- */

static void
test_remb_values (void)
{
  static const guint64 values[] = {
    0, 1, 1000, 0x3ffff, 0x40000, 0x40001, 300000, 1000000, 2500000,
    30000000, 1000000000, G_GUINT64_CONSTANT (1) << 40, G_GUINT64_CONSTANT (0x3ffff) << 46,
    G_MAXUINT64,
  };
  static const guint32 ssrcs[] = { 0x01010101, 0x02020202, 0x03030303 };
  for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
    guint8 buf[64];
    int len = cs_rtcp_write_remb (buf, sizeof buf, 0x99, values[i], ssrcs, G_N_ELEMENTS (ssrcs));
    g_assert_cmpint (len, ==, 12 + 8 + 12);
    g_assert_cmpmem (buf + 12, 4, "REMB", 4);
    g_assert_cmpuint (buf[16], ==, 3);

    /* The exponent is the smallest that fits an 18-bit mantissa. */
    guint exp = buf[17] >> 2;
    guint32 mantissa = ((guint32) (buf[17] & 3) << 16) | ((guint32) buf[18] << 8) | buf[19];
    g_assert_cmpuint (mantissa, <=, 0x3ffff);
    g_assert_true (exp == 0 || mantissa >= 0x20000);

    CsRtcpFb fb;
    parse_one_fb (buf, (gsize) len, &fb);
    g_assert_cmpuint (fb.fmt, ==, CS_RTCP_FMT_AFB);
    g_assert_cmpuint (fb.media_ssrc, ==, 0);
    guint64 bitrate;
    guint32 out[4];
    guint n = 99;
    g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, out, G_N_ELEMENTS (out), &n), ==, 0);
    g_assert_cmpuint (n, ==, 3);
    g_assert_cmpmem (out, sizeof ssrcs, ssrcs, sizeof ssrcs);
    /* Rounded down, by less than one part in 2^17. */
    g_assert_cmpuint (bitrate, <=, values[i]);
    g_assert_cmpuint (values[i] - bitrate, <=, values[i] >> 17);
    if (values[i] <= 0x3ffff || values[i] == (G_GUINT64_CONSTANT (0x3ffff) << 46))
      g_assert_cmpuint (bitrate, ==, values[i]);
  }
}

static void
test_remb_errors (void)
{
  guint8 buf[64];
  guint32 ssrcs[300] = { 0 };
  guint64 bitrate;
  guint n;
  CsRtcpFb fb;

  g_assert_cmpint (cs_rtcp_write_remb (buf, sizeof buf, 1, 1, ssrcs, 256), ==, -EINVAL);
  g_assert_cmpint (cs_rtcp_write_remb (buf, 23, 1, 1, ssrcs, 1), ==, -ENOSPC);
  g_assert_cmpint (cs_rtcp_write_remb (buf, 24, 1, 1, ssrcs, 1), ==, 24);
  g_assert_cmpint (cs_rtcp_write_remb (buf, 20, 1, 5000, NULL, 0), ==, 20);

  /* Saturation: exponent 63 with a full mantissa would need 81 bits. */
  g_assert_cmpint (cs_rtcp_write_remb (buf, sizeof buf, 1, 1, ssrcs, 0), ==, 20);
  buf[17] = 0xff;
  buf[18] = 0xff;
  buf[19] = 0xff;
  parse_one_fb (buf, 20, &fb);
  g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, NULL, 0, &n), ==, 0);
  g_assert_cmpuint (bitrate, ==, G_MAXUINT64);
  g_assert_cmpuint (n, ==, 0);
  /* Largest exact value: mantissa 1 << 63. */
  buf[17] = 63 << 2;
  buf[18] = 0;
  buf[19] = 1;
  g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, NULL, 0, &n), ==, 0);
  g_assert_cmpuint (bitrate, ==, G_GUINT64_CONSTANT (1) << 63);

  /* Wrong identifier. */
  buf[12] = 'X';
  g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, NULL, 0, &n), ==, -EINVAL);
  buf[12] = 'R';
  /* Num SSRC larger than the FCI. */
  buf[16] = 1;
  g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, NULL, 0, &n), ==, -EINVAL);
  buf[16] = 0;
  /* FCI too short, and not AFB. */
  fb.fci_len = 7;
  g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, NULL, 0, &n), ==, -EINVAL);
  fb.fci_len = 8;
  fb.fmt = CS_RTCP_FMT_PLI;
  g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, NULL, 0, &n), ==, -EINVAL);

  /* @max_ssrcs truncates. */
  static const guint32 three[] = { 7, 8, 9 };
  g_assert_cmpint (cs_rtcp_write_remb (buf, sizeof buf, 1, 1, three, 3), ==, 32);
  parse_one_fb (buf, 32, &fb);
  guint32 one;
  g_assert_cmpint (cs_rtcp_parse_remb (&fb, &bitrate, &one, 1, &n), ==, 0);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (one, ==, 7);
}

/* ---- transport-wide CC ---- */

#define LOST (-1)

/* Writes @arrival, checks the framing and padding, parses it back and
 * compares with the input rounded down to 250 µs. Returns the bytes. */
static int
twcc_round_trip (const gint64 *arrival, guint n, guint8 *buf, gsize cap, guint expect_written)
{
  guint written = 0;
  int len = cs_rtcp_write_twcc (buf, cap, 0x1234, 0x5678, 42, 65530, arrival, n, &written);
  g_assert_cmpint (len, >, 0);
  g_assert_cmpuint (written, ==, expect_written);
  g_assert_cmpint (len % 4, ==, 0);
  g_assert_cmpuint ((gsize) len, <=, cap);
  g_assert_cmpuint (rd16 (buf + 2), ==, len / 4 - 1);

  CsRtcpFb fb;
  parse_one_fb (buf, (gsize) len, &fb);
  g_assert_cmpuint (fb.pt, ==, CS_RTCP_RTPFB);
  g_assert_cmpuint (fb.fmt, ==, CS_RTCP_FMT_TWCC);
  g_assert_cmpuint (fb.sender_ssrc, ==, 0x1234);
  g_assert_cmpuint (fb.media_ssrc, ==, 0x5678);

  /* P bit and padding count agree with what the content needs. */
  gsize content = 12 + fb.fci_len;
  if (buf[0] & 0x20) {
    g_assert_cmpuint (buf[len - 1], ==, (gsize) len - content);
    g_assert_cmpuint (buf[len - 1], <=, 3);
  } else {
    g_assert_cmpuint (content, ==, (gsize) len);
  }

  CsRtcpTwcc tw;
  g_autofree gint64 *out = g_new (gint64, written);
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, written), ==, (int) written);
  g_assert_cmpuint (tw.base_seq, ==, 65530);
  g_assert_cmpuint (tw.status_count, ==, written);
  g_assert_cmpuint (tw.fb_pkt_count, ==, 42);
  g_assert_cmpuint (tw.ref_time, ==, (arrival[0] / 64000) & 0xffffff);
  for (guint i = 0; i < written; i++) {
    if (arrival[i] < 0)
      g_assert_cmpint (out[i], ==, LOST);
    else
      g_assert_cmpint (out[i], ==, arrival[i] - arrival[i] % 250);
  }
  return len;
}

static void
test_twcc_simple (void)
{
  /* Statuses small, small, lost, small: one two-bit vector chunk; 20 +
   * 2 + 3 deltas = 25, padded to 28 with the P bit and count 3. */
  static const gint64 arrival[] = { 64000 * 10 + 250, 64000 * 10 + 1250, LOST, 64000 * 10 + 2250 };
  guint8 buf[64];
  int len = twcc_round_trip (arrival, G_N_ELEMENTS (arrival), buf, sizeof buf, 4);
  g_assert_cmpint (len, ==, 28);
  g_assert_cmpuint (buf[0], ==, 0x80 | 0x20 | 15);
  g_assert_cmpuint (rd16 (buf + 14), ==, 4);
  g_assert_cmpuint (buf[16], ==, 0);
  g_assert_cmpuint (buf[17], ==, 0);
  g_assert_cmpuint (buf[18], ==, 10);
  /* T=1 S=1, symbols 01 01 00 01 then 00 00 00 from bit 13 down. */
  g_assert_cmpuint (rd16 (buf + 20), ==, 0xc000 | 1 << 12 | 1 << 10 | 1 << 6);
  g_assert_cmpmem (buf + 22, 3, ((const guint8[]) { 1, 4, 4 }), 3);
  g_assert_cmpmem (buf + 25, 3, ((const guint8[]) { 0, 0, 3 }), 3);

  /* Exactly aligned: one packet, run chunk + 1 delta = 23 -> pad 1. Two
   * packets: 20 + 2 + 2 = 24, no padding, no P bit. */
  gint64 two[] = { 5000, 5250 };
  len = twcc_round_trip (two, 2, buf, sizeof buf, 2);
  g_assert_cmpint (len, ==, 24);
  g_assert_cmpuint (buf[0] & 0x20, ==, 0);
  g_assert_cmpuint (rd16 (buf + 20), ==, (1u << 13) | 2); /* run of 2 small */
  len = twcc_round_trip (two, 1, buf, sizeof buf, 1);
  g_assert_cmpint (len, ==, 24);
  g_assert_cmpuint (buf[0] & 0x20, ==, 0x20);
  g_assert_cmpuint (buf[23], ==, 1);
}

static void
test_twcc_losses (void)
{
  /* Bursts of loss: long runs become run-length chunks, scattered losses
   * one-bit vectors. */
  gint64 arrival[400];
  for (guint i = 0; i < G_N_ELEMENTS (arrival); i++) {
    gboolean lost = (i >= 20 && i < 120) || (i > 200 && i % 3 == 0);
    arrival[i] = lost ? LOST : 1000000 + (gint64) i * 1000;
  }
  guint8 buf[1500];
  int len = twcc_round_trip (arrival, G_N_ELEMENTS (arrival), buf, sizeof buf, G_N_ELEMENTS (arrival));

  /* Walk the chunks: expect at least one run of losses >= 100 and at
   * least one one-bit vector. */
  gboolean saw_loss_run = FALSE, saw_one_bit = FALSE;
  guint covered = 0;
  for (gsize off = 20; covered < G_N_ELEMENTS (arrival); off += 2) {
    g_assert_cmpint ((int) off, <, len);
    guint16 chunk = rd16 (buf + off);
    if (!(chunk & 0x8000)) {
      saw_loss_run |= ((chunk >> 13) & 3) == 0 && (chunk & 0x1fff) >= 100;
      covered += chunk & 0x1fff;
    } else if (!(chunk & 0x4000)) {
      saw_one_bit = TRUE;
      covered += 14;
    } else {
      covered += 7;
    }
  }
  g_assert_true (saw_loss_run);
  g_assert_true (saw_one_bit);

  /* Losses at the end are reported too. */
  gint64 tail[] = { 0, LOST, LOST, LOST };
  twcc_round_trip (tail, G_N_ELEMENTS (tail), buf, sizeof buf, 4);
}

static void
test_twcc_large_and_reordered (void)
{
  /* Gaps beyond 63.75 ms need 2-byte deltas; arrival before the previous
   * packet (reordering) needs a negative one. Both force two-bit
   * vectors. */
  static const gint64 arrival[] = {
    2000000, 2000250, 2100000, 2090000, 2090500, LOST, 2095000, 2095000,
    2095000 + 8191750, 2095000 + 8191750 - 8192000, 3000000, 3000100,
  };
  guint8 buf[256];
  int len = twcc_round_trip (arrival, G_N_ELEMENTS (arrival), buf, sizeof buf, G_N_ELEMENTS (arrival));
  guint16 first = rd16 (buf + 20);
  g_assert_cmpuint (first & 0xc000, ==, 0xc000);
  g_assert_cmpint (len, >, 20);

  /* A delta beyond ±8.19 s stops the packet before that packet. */
  static const gint64 jump[] = { 0, 1000, LOST, 1000 + 8192000, 1000 + 8192250 };
  twcc_round_trip (jump, G_N_ELEMENTS (jump), buf, sizeof buf, 3);
  static const gint64 back[] = { 9000000, 9000000 - 8192250 };
  twcc_round_trip (back, G_N_ELEMENTS (back), buf, sizeof buf, 1);
  /* The extremes of the range still fit. */
  static const gint64 edge[] = { 9000000, 9000000 - 8192000, 9000000 - 8192000 + 8191750 };
  twcc_round_trip (edge, G_N_ELEMENTS (edge), buf, sizeof buf, 3);
}

static void
test_twcc_long_runs (void)
{
  /* 20000 packets 0 µs apart: runs are capped at 8191 per chunk. */
  guint n = 20000;
  g_autofree gint64 *arrival = g_new (gint64, n);
  for (guint i = 0; i < n; i++)
    arrival[i] = 640000;
  g_autofree guint8 *buf = g_malloc (65536);
  int len = twcc_round_trip (arrival, n, buf, 65536, n);
  g_assert_cmpint (len, ==, 20 + 3 * 2 + 20000 + 2 /* padding */);
  g_assert_cmpuint (rd16 (buf + 20), ==, (1u << 13) | 8191);
  g_assert_cmpuint (rd16 (buf + 22), ==, (1u << 13) | 8191);
  g_assert_cmpuint (rd16 (buf + 24), ==, (1u << 13) | (20000 - 2 * 8191));

  /* A random mix of everything, with the packet count capped at 65535. */
  guint n_mix = 70000;
  g_autofree gint64 *mix = g_new (gint64, n_mix);
  gint64 t = 123456789;
  mix[0] = t;
  for (guint i = 1; i < n_mix; i++) {
    guint r = (guint) g_test_rand_int_range (0, 100);
    if (r < 10) {
      mix[i] = LOST;
      continue;
    }
    t += r < 95 ? g_test_rand_int_range (0, 20000) : g_test_rand_int_range (-50000, 300000);
    mix[i] = t;
  }
  g_autofree guint8 *big = g_malloc (262144);
  twcc_round_trip (mix, n_mix, big, 262144, 65535);
}

static void
test_twcc_capacity (void)
{
  gint64 arrival[100];
  for (guint i = 0; i < G_N_ELEMENTS (arrival); i++)
    arrival[i] = (i % 5 == 4) ? LOST : 64000 + (gint64) i * 5000;
  guint8 buf[512];
  guint written = 99;

  /* Too small for even one packet: header 20 + chunk 2 + delta 1 -> 24. */
  for (gsize cap = 0; cap < 24; cap++)
    g_assert_cmpint (cs_rtcp_write_twcc (buf, cap, 1, 2, 0, 0, arrival, 100, &written), ==, -ENOSPC);
  g_assert_cmpuint (written, ==, 99);

  /* Every capacity yields the largest prefix that fits. */
  guint prev = 0;
  for (gsize cap = 24; cap <= 200; cap++) {
    int len = cs_rtcp_write_twcc (buf, cap, 1, 2, 0, 0, arrival, 100, &written);
    g_assert_cmpint (len, >, 0);
    g_assert_cmpuint ((gsize) len, <=, cap);
    g_assert_cmpuint (written, >=, prev);
    prev = written;
    twcc_round_trip (arrival, prev, buf, cap, prev);
  }
  g_assert_cmpuint (prev, ==, 100);

  /* Errors. */
  g_assert_cmpint (cs_rtcp_write_twcc (buf, sizeof buf, 1, 2, 0, 0, arrival, 0, &written), ==, -EINVAL);
  gint64 first_lost[] = { LOST, 1000 };
  g_assert_cmpint (cs_rtcp_write_twcc (buf, sizeof buf, 1, 2, 0, 0, first_lost, 2, &written), ==, -EINVAL);
}

static void
test_twcc_parse_errors (void)
{
  static const gint64 arrival[] = { 1000, 2000, LOST, 3000, 200000 };
  guint8 buf[64];
  guint written;
  int len = cs_rtcp_write_twcc (buf, sizeof buf, 1, 2, 0, 7, arrival, G_N_ELEMENTS (arrival), &written);
  g_assert_cmpint (len, >, 0);
  CsRtcpFb fb, good;
  parse_one_fb (buf, (gsize) len, &good);
  CsRtcpTwcc tw;
  gint64 out[8];

  /* Not TWCC. */
  fb = good;
  fb.fmt = CS_RTCP_FMT_NACK;
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, -EINVAL);
  /* Every truncation of the FCI short of chunks + deltas. */
  for (gsize l = 0; l < 8 + 2 + 5; l++) {
    fb = good;
    fb.fci_len = l;
    g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, -EINVAL);
  }
  /* Trailing garbage beyond 3 bytes of alignment. */
  guint8 big[64] = { 0 };
  memcpy (big, good.fci, good.fci_len);
  fb = good;
  fb.fci = big;
  fb.fci_len = 8 + 2 + 5 + 3;
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, 5);
  fb.fci_len = 8 + 2 + 5 + 4;
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, -EINVAL);

  /* Status count 0. */
  fb.fci_len = good.fci_len;
  big[2] = big[3] = 0;
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, -EINVAL);
  big[3] = 5;
  /* Reserved symbol 3 in a two-bit vector, and in a run. */
  guint16 chunk = rd16 (big + 8);
  g_assert_cmpuint (chunk & 0xc000, ==, 0xc000);
  big[8] = 0xc0 | 0x30; /* first symbol 3 */
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, -EINVAL);
  big[8] = 0x60;
  big[9] = 0x05;
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, -EINVAL);
  /* Run of 0. */
  big[8] = 0x20;
  big[9] = 0x00;
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, -EINVAL);
  /* A run longer than the status count is clamped. */
  big[8] = 0x00;
  big[9] = 0x50;
  fb.fci_len = 8 + 2;
  g_assert_cmpint (cs_rtcp_parse_twcc (&fb, &tw, out, 8), ==, 5);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (out[i], ==, LOST);

  /* @max smaller than the status count stores a prefix. */
  g_assert_cmpint (cs_rtcp_parse_twcc (&good, &tw, out, 2), ==, 2);
  g_assert_cmpuint (tw.status_count, ==, 5);
  g_assert_cmpint (out[1], ==, 2000);
}

/* ---- real captures ---- */

typedef struct {
  guint8 *data;
  gsize len;
  gsize off;
} Capture;

static void
capture_load (Capture *c, const char *name)
{
  const char *src = g_getenv ("CS_SOURCE_DIR");
  g_assert_nonnull (src);
  g_autofree char *path = g_build_filename (src, "tests", "fixtures", "rtp", name, NULL);
  g_autoptr (GError) error = NULL;
  c->off = 0;
  g_assert_true (g_file_get_contents (path, (char **) &c->data, &c->len, &error));
  g_assert_no_error (error);
}

static gboolean
capture_next (Capture *c, guint8 **pkt, gsize *len)
{
  if (c->off == c->len)
    return FALSE;
  gsize n = ((gsize) c->data[c->off] << 8) | c->data[c->off + 1];
  g_assert_cmpuint (c->len - c->off - 2, >=, n);
  /* An exact-size copy so ASan sees reads past the packet. */
  *pkt = g_memdup2 (c->data + c->off + 2, n);
  *len = n;
  c->off += 2 + n;
  return TRUE;
}

#define VIDEO_SSRC 0x11223344
#define AUDIO_SSRC 0x55667788

typedef struct {
  guint8 rtp_seen[65536 / 8];   /* RTP sequence numbers received */
  guint8 twcc_seen[65536 / 8];  /* transport-wide ones */
  guint n_rtp;
} RxSet;

static gboolean
bit_get (const guint8 *set, guint16 i)
{
  return (set[i / 8] >> (i % 8)) & 1;
}

static void
load_rx (RxSet *rx)
{
  memset (rx, 0, sizeof *rx);
  Capture c;
  capture_load (&c, "call-video-rx.rtp");
  guint8 *pkt;
  gsize len;
  while (capture_next (&c, &pkt, &len)) {
    CsRtpHeader h;
    const guint8 *d;
    g_assert_cmpint (cs_rtp_parse (pkt, len, &h), ==, 0);
    g_assert_cmpuint (h.ssrc, ==, VIDEO_SSRC);
    g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, 2);
    guint16 tseq = rd16 (d);
    rx->rtp_seen[h.seq / 8] |= 1 << (h.seq % 8);
    rx->twcc_seen[tseq / 8] |= 1 << (tseq % 8);
    rx->n_rtp++;
    g_free (pkt);
  }
  g_free (c.data);
}

/* The receiver rtpbin's feedback must describe exactly the packets that
 * survived the drop: received statuses for packets in the rx capture,
 * lost ones for packets that are not; NACKs for missing packets. */
static void
test_capture_receiver (void)
{
  RxSet *rx = g_new (RxSet, 1);
  load_rx (rx);
  g_assert_cmpuint (rx->n_rtp, >, 100);

  Capture c;
  capture_load (&c, "call-receiver.rtcp");
  guint8 *buf;
  gsize len;
  guint n_compound = 0, n_twcc = 0, n_twcc_statuses = 0, n_twcc_lost = 0, n_sr = 0;
  guint n_nack = 0, n_nacked_missing = 0, n_pli = 0, n_video_reports = 0;
  while (capture_next (&c, &buf, &len)) {
    gsize off = 0;
    CsRtcpPacket pkt;
    int r;
    while ((r = cs_rtcp_next (buf, len, &off, &pkt)) == 1) {
      CsRtcpFb fb;
      if (pkt.pt == CS_RTCP_SR) {
        CsRtcpSr sr;
        g_assert_cmpint (cs_rtcp_parse_sr (&pkt, &sr), ==, 0);
        g_assert_cmpuint (sr.ssrc, ==, AUDIO_SSRC);
        for (guint i = 0; i < sr.n_reports; i++) {
          g_assert_cmpuint (sr.reports[i].ssrc, ==, VIDEO_SSRC);
          /* The highest sequence number received was received. (The
           * cumulative loss may legitimately be -1 here: RFC 3550 counts
           * expected minus received, duplicates included.) */
          g_assert_true (bit_get (rx->rtp_seen, (guint16) sr.reports[i].ext_highest_seq));
          n_video_reports++;
        }
        n_sr++;
      } else if (pkt.pt == CS_RTCP_RTPFB && pkt.count == CS_RTCP_FMT_TWCC) {
        g_assert_cmpint (cs_rtcp_parse_fb (&pkt, &fb), ==, 0);
        g_assert_cmpuint (fb.media_ssrc, ==, VIDEO_SSRC);
        CsRtcpTwcc tw;
        gint64 arrival[512];
        int n = cs_rtcp_parse_twcc (&fb, &tw, arrival, G_N_ELEMENTS (arrival));
        g_assert_cmpint (n, >, 0);
        g_assert_cmpint (n, ==, tw.status_count);
        g_assert_cmpuint (tw.fb_pkt_count, ==, (guint8) n_twcc);
        for (int i = 0; i < n; i++) {
          guint16 tseq = (guint16) (tw.base_seq + i);
          g_assert_cmpint (arrival[i] != LOST, ==, bit_get (rx->twcc_seen, tseq));
          n_twcc_lost += arrival[i] == LOST;
        }
        n_twcc_statuses += n;

        /* Re-encode what GStreamer reported and decode it again. */
        if (arrival[0] >= 0) {
          guint8 out[1500];
          guint written;
          int wl = cs_rtcp_write_twcc (out, sizeof out, fb.sender_ssrc, fb.media_ssrc,
                                       tw.fb_pkt_count, tw.base_seq, arrival, n, &written);
          g_assert_cmpint (wl, >, 0);
          g_assert_cmpint (written, ==, n);
          CsRtcpFb fb2;
          CsRtcpTwcc tw2;
          gint64 again[512];
          parse_one_fb (out, (gsize) wl, &fb2);
          g_assert_cmpint (cs_rtcp_parse_twcc (&fb2, &tw2, again, n), ==, n);
          g_assert_cmpmem (again, n * sizeof *again, arrival, n * sizeof *arrival);
        }
        n_twcc++;
      } else if (pkt.pt == CS_RTCP_RTPFB && pkt.count == CS_RTCP_FMT_NACK) {
        g_assert_cmpint (cs_rtcp_parse_fb (&pkt, &fb), ==, 0);
        g_assert_cmpuint (fb.media_ssrc, ==, VIDEO_SSRC);
        guint16 seqs[64];
        int n = cs_rtcp_nack_seqs (&fb, seqs, G_N_ELEMENTS (seqs));
        g_assert_cmpint (n, >, 0);
        /* rtpjitterbuffer also asks early for packets that are merely
         * late (rtx-next-seqnum), so not every NACKed packet is lost. */
        for (int i = 0; i < n; i++)
          n_nacked_missing += !bit_get (rx->rtp_seen, seqs[i]);
        n_nack++;
      } else if (pkt.pt == CS_RTCP_PSFB && pkt.count == CS_RTCP_FMT_PLI) {
        g_assert_cmpint (cs_rtcp_parse_fb (&pkt, &fb), ==, 0);
        g_assert_cmpuint (fb.media_ssrc, ==, VIDEO_SSRC);
        g_assert_cmpuint (fb.fci_len, ==, 0);
        n_pli++;
      }
    }
    g_assert_cmpint (r, ==, 0);
    g_assert_cmpuint (off, ==, len);
    n_compound++;
    g_free (buf);
  }
  g_free (c.data);
  g_free (rx);

  g_test_message ("%u compounds, %u SR, %u TWCC covering %u packets (%u lost), %u NACK, %u PLI",
                  n_compound, n_sr, n_twcc, n_twcc_statuses, n_twcc_lost, n_nack, n_pli);
  g_assert_cmpuint (n_sr, >, 0);
  g_assert_cmpuint (n_video_reports, >, 0);
  g_assert_cmpuint (n_twcc, >, 10);
  g_assert_cmpuint (n_twcc_lost, >, 0);
  g_assert_cmpuint (n_nack, >, 0);
  g_assert_cmpuint (n_nacked_missing, >, 0);
  g_assert_cmpuint (n_pli, >, 0);
}

static void
test_capture_sender (void)
{
  Capture c;
  capture_load (&c, "call-sender.rtcp");
  guint8 *buf;
  gsize len;
  guint n_rr = 0, n_sr = 0, n_sdes = 0, n_audio_reports = 0;
  while (capture_next (&c, &buf, &len)) {
    g_assert_true (cs_rtp_is_rtcp (buf, len));
    g_assert_true (cs_rtp_looks_like_rtp_or_rtcp (buf, len));
    gsize off = 0;
    CsRtcpPacket pkt;
    int r;
    guint i = 0;
    while ((r = cs_rtcp_next (buf, len, &off, &pkt)) == 1) {
      /* RFC 3550 §6.1: a compound starts with SR or RR. */
      if (i++ == 0)
        g_assert_true (pkt.pt == CS_RTCP_SR || pkt.pt == CS_RTCP_RR);
      if (pkt.pt == CS_RTCP_SR) {
        CsRtcpSr sr;
        g_assert_cmpint (cs_rtcp_parse_sr (&pkt, &sr), ==, 0);
        g_assert_cmpuint (sr.ssrc, ==, VIDEO_SSRC);
        g_assert_cmpuint (sr.packet_count, >, 0);
        g_assert_cmpuint (sr.octet_count, >, sr.packet_count);
        for (guint k = 0; k < sr.n_reports; k++) {
          g_assert_cmpuint (sr.reports[k].ssrc, ==, AUDIO_SSRC);
          n_audio_reports++;
        }
        /* Writing what we parsed reproduces the bytes. */
        guint8 out[1500];
        g_assert_cmpint (cs_rtcp_write_sr (out, sizeof out, &sr), ==, (int) pkt.len);
        g_assert_cmpmem (out, pkt.len, pkt.data, pkt.len);
        n_sr++;
      } else if (pkt.pt == CS_RTCP_RR) {
        CsRtcpRr rr;
        /* No SSRC check: before its first packet is sent, rtpbin reports
         * with a random internal SSRC. */
        g_assert_cmpint (cs_rtcp_parse_rr (&pkt, &rr), ==, 0);
        guint8 out[1500];
        g_assert_cmpint (cs_rtcp_write_rr (out, sizeof out, &rr), ==, (int) pkt.len);
        g_assert_cmpmem (out, pkt.len, pkt.data, pkt.len);
        n_rr++;
      } else if (pkt.pt == CS_RTCP_SDES) {
        n_sdes++;
      }
    }
    g_assert_cmpint (r, ==, 0);
    g_free (buf);
  }
  g_free (c.data);
  g_assert_cmpuint (n_sr + n_rr, >, 0);
  g_assert_cmpuint (n_sdes, >, 0);
  g_assert_cmpuint (n_audio_reports, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/rtcp/next/compound", test_next_compound);
  g_test_add_func ("/media/rtcp/next/errors", test_next_errors);
  g_test_add_func ("/media/rtcp/sr/round-trip", test_sr_round_trip);
  g_test_add_func ("/media/rtcp/rr/round-trip", test_rr_round_trip);
  g_test_add_func ("/media/rtcp/report/cumulative-lost", test_report_cumulative_lost);
  g_test_add_func ("/media/rtcp/sr-rr/errors", test_sr_rr_errors);
  g_test_add_func ("/media/rtcp/fb/pli-fir", test_pli_fir);
  g_test_add_func ("/media/rtcp/nack/scattered", test_nack_scattered);
  g_test_add_func ("/media/rtcp/nack/wrap", test_nack_wrap);
  g_test_add_func ("/media/rtcp/nack/random", test_nack_random);
  g_test_add_func ("/media/rtcp/nack/errors", test_nack_errors);
  g_test_add_func ("/media/rtcp/remb/values", test_remb_values);
  g_test_add_func ("/media/rtcp/remb/errors", test_remb_errors);
  g_test_add_func ("/media/rtcp/twcc/simple", test_twcc_simple);
  g_test_add_func ("/media/rtcp/twcc/losses", test_twcc_losses);
  g_test_add_func ("/media/rtcp/twcc/large-and-reordered", test_twcc_large_and_reordered);
  g_test_add_func ("/media/rtcp/twcc/long-runs", test_twcc_long_runs);
  g_test_add_func ("/media/rtcp/twcc/capacity", test_twcc_capacity);
  g_test_add_func ("/media/rtcp/twcc/parse-errors", test_twcc_parse_errors);
  g_test_add_func ("/media/rtcp/capture/receiver", test_capture_receiver);
  g_test_add_func ("/media/rtcp/capture/sender", test_capture_sender);
  return g_test_run ();
}
