/* Fuzz target for media/rtcp.c. Two halves run on every input:
 *  - the input as a compound RTCP packet: iteration, every sub-parser,
 *    NACK expansion, transport-cc decoding, and write-after-parse round
 *    trips (SR, RR, NACK, REMB, TWCC) that must reproduce what was parsed;
 *  - the input as writer arguments: sequence numbers for the NACK packer,
 *    arrival times and a capacity for the TWCC writer, a bitrate for REMB,
 *    each written, parsed back and compared.
 * Aborts on any inconsistency. */
#include "media/rtcp.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_SEQS 2048
#define MAX_TWCC 4096
#define TWCC_WRAP_US ((G_GINT64_CONSTANT (1) << 24) * 64000)

static void
check (gboolean ok)
{
  if (!ok)
    abort ();
}

typedef struct {
  guint8 bits[65536 / 8];
} SeqSet;

static void
seqset_fill (SeqSet *s, const guint16 *seqs, guint n)
{
  memset (s, 0, sizeof *s);
  for (guint i = 0; i < n; i++)
    s->bits[seqs[i] / 8] |= (guint8) (1 << (seqs[i] % 8));
}

static void
check_reports_equal (const CsRtcpReportBlock *a, const CsRtcpReportBlock *b, guint n)
{
  for (guint i = 0; i < n; i++)
    check (a[i].ssrc == b[i].ssrc && a[i].fraction_lost == b[i].fraction_lost &&
           a[i].cumulative_lost == b[i].cumulative_lost &&
           a[i].ext_highest_seq == b[i].ext_highest_seq && a[i].jitter == b[i].jitter &&
           a[i].lsr == b[i].lsr && a[i].dlsr == b[i].dlsr);
}

static void
parse_single_fb (const guint8 *buf, int len, CsRtcpFb *fb)
{
  gsize off = 0;
  CsRtcpPacket pkt;
  check (len > 0);
  check (cs_rtcp_next (buf, (gsize) len, &off, &pkt) == 1 && off == (gsize) len);
  check (cs_rtcp_parse_fb (&pkt, fb) == 0);
}

/* Writes @seqs as a NACK and checks it expands to the same set. */
static void
nack_round_trip (const guint16 *seqs, guint n)
{
  static const gsize cap = 12 + 4 * MAX_SEQS;
  guint8 *buf = g_malloc (cap);
  int len = cs_rtcp_write_nack (buf, cap, 1, 2, seqs, n);
  check (len > 0);
  CsRtcpFb fb;
  parse_single_fb (buf, len, &fb);
  guint16 *again = g_new (guint16, MAX_SEQS);
  int m = cs_rtcp_nack_seqs (&fb, again, MAX_SEQS);
  check (m > 0 && (guint) m <= n);
  SeqSet *a = g_new (SeqSet, 1), *b = g_new (SeqSet, 1);
  seqset_fill (a, seqs, n);
  seqset_fill (b, again, (guint) m);
  check (memcmp (a, b, sizeof *a) == 0);
  g_free (a);
  g_free (b);
  g_free (again);
  g_free (buf);
}

static void
remb_round_trip (guint64 bitrate, const guint32 *ssrcs, guint n, gboolean exact)
{
  guint8 buf[12 + 8 + 4 * 255];
  int len = cs_rtcp_write_remb (buf, sizeof buf, 1, bitrate, ssrcs, n);
  check (len == 20 + 4 * (int) n);
  CsRtcpFb fb;
  parse_single_fb (buf, len, &fb);
  guint64 out;
  guint32 out_ssrcs[255];
  guint n_out;
  check (cs_rtcp_parse_remb (&fb, &out, out_ssrcs, G_N_ELEMENTS (out_ssrcs), &n_out) == 0);
  check (n_out == n && (n == 0 || memcmp (out_ssrcs, ssrcs, n * sizeof *ssrcs) == 0));
  check (out <= bitrate && bitrate - out <= bitrate >> 17);
  check (!exact || out == bitrate);
}

/* Writes @arrival[0..n) into @cap bytes, parses it back and checks the
 * prefix that was written. Arrivals must be multiples of 250 µs. */
static void
twcc_round_trip (const gint64 *arrival, guint n, gsize cap, gboolean expect_all)
{
  guint8 *buf = g_malloc (cap);
  guint written = 0;
  int len = cs_rtcp_write_twcc (buf, cap, 1, 2, 3, 65535, arrival, n, &written);
  if (len == -ENOSPC) {
    check (!expect_all);
    g_free (buf);
    return;
  }
  check (len > 0 && (gsize) len <= cap && len % 4 == 0);
  check (written >= 1 && written <= n);
  check (!expect_all || written == n);

  CsRtcpFb fb;
  parse_single_fb (buf, len, &fb);
  CsRtcpTwcc tw;
  gint64 *out = g_new (gint64, written);
  check (cs_rtcp_parse_twcc (&fb, &tw, out, written) == (int) written);
  check (tw.status_count == written && tw.base_seq == 65535 && tw.fb_pkt_count == 3);
  /* Compare relative to the first arrival: the reference time wraps. */
  check ((out[0] - arrival[0]) % TWCC_WRAP_US == 0);
  for (guint i = 1; i < written; i++) {
    if (arrival[i] < 0)
      check (out[i] == -1);
    else
      check (out[i] - out[0] == arrival[i] - arrival[0]);
  }
  g_free (out);
  g_free (buf);
}

static void
fuzz_feedback (const CsRtcpPacket *pkt)
{
  CsRtcpFb fb;
  if (cs_rtcp_parse_fb (pkt, &fb) != 0)
    return;
  check (fb.fci + fb.fci_len <= pkt->data + pkt->len);

  guint16 *seqs = g_new (guint16, MAX_SEQS);
  int n = cs_rtcp_nack_seqs (&fb, seqs, MAX_SEQS);
  check (n <= MAX_SEQS);
  if (n > 0)
    nack_round_trip (seqs, (guint) n);
  g_free (seqs);

  guint64 bitrate;
  guint32 ssrcs[255];
  guint n_ssrcs;
  if (cs_rtcp_parse_remb (&fb, &bitrate, ssrcs, G_N_ELEMENTS (ssrcs), &n_ssrcs) == 0 &&
      bitrate != G_MAXUINT64)
    remb_round_trip (bitrate, ssrcs, n_ssrcs, TRUE);

  guint32 ssrc;
  guint8 seq_nr;
  cs_rtcp_parse_fir (&fb, &ssrc, &seq_nr);

  CsRtcpTwcc tw;
  gint64 *arrival = g_new (gint64, MAX_TWCC);
  int m = cs_rtcp_parse_twcc (&fb, &tw, arrival, MAX_TWCC);
  if (m > 0 && m == tw.status_count && arrival[0] >= 0) {
    /* Decoded times below 0 (negative deltas past the origin) read as
     * "lost" to the writer, which then merges deltas around them: only
     * require a full re-encode when none are. */
    gboolean all_nonneg = TRUE;
    for (int i = 0; i < m; i++)
      all_nonneg &= arrival[i] >= -1;
    /* Large enough for any encoding of m statuses. */
    gsize cap = 20 + 2 * (gsize) m + 2 * (gsize) m + 4;
    twcc_round_trip (arrival, (guint) m, cap, all_nonneg);
  }
  g_free (arrival);
}

static void
fuzz_compound (const uint8_t *data, size_t size)
{
  gsize off = 0;
  CsRtcpPacket pkt;
  int r;
  while ((r = cs_rtcp_next (data, size, &off, &pkt)) == 1) {
    check (pkt.data >= data && pkt.data + pkt.len <= data + size && pkt.len % 4 == 0);

    CsRtcpSr sr, sr2;
    if (cs_rtcp_parse_sr (&pkt, &sr) == 0) {
      guint8 buf[28 + 24 * CS_RTCP_MAX_REPORTS];
      int len = cs_rtcp_write_sr (buf, sizeof buf, &sr);
      check (len == 28 + 24 * (int) sr.n_reports);
      CsRtcpPacket p2 = { .pt = buf[1], .count = buf[0] & 0x1f, .data = buf, .len = (gsize) len };
      check (cs_rtcp_parse_sr (&p2, &sr2) == 0);
      check (sr2.ssrc == sr.ssrc && sr2.ntp_sec == sr.ntp_sec && sr2.ntp_frac == sr.ntp_frac &&
             sr2.rtp_ts == sr.rtp_ts && sr2.packet_count == sr.packet_count &&
             sr2.octet_count == sr.octet_count && sr2.n_reports == sr.n_reports);
      check_reports_equal (sr2.reports, sr.reports, sr.n_reports);
    }
    CsRtcpRr rr, rr2;
    if (cs_rtcp_parse_rr (&pkt, &rr) == 0) {
      guint8 buf[8 + 24 * CS_RTCP_MAX_REPORTS];
      int len = cs_rtcp_write_rr (buf, sizeof buf, &rr);
      check (len == 8 + 24 * (int) rr.n_reports);
      CsRtcpPacket p2 = { .pt = buf[1], .count = buf[0] & 0x1f, .data = buf, .len = (gsize) len };
      check (cs_rtcp_parse_rr (&p2, &rr2) == 0);
      check (rr2.ssrc == rr.ssrc && rr2.n_reports == rr.n_reports);
      check_reports_equal (rr2.reports, rr.reports, rr.n_reports);
    }
    fuzz_feedback (&pkt);
  }
  check (r == 0 || r == -EINVAL);
  check (off <= size);
}

static guint16
rd16 (const uint8_t *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static void
fuzz_writers (const uint8_t *data, size_t size)
{
  if (size < 2)
    return;

  /* NACK: the input as big-endian sequence numbers. */
  guint n = (guint) MIN (size / 2, MAX_SEQS);
  guint16 *seqs = g_new (guint16, n);
  for (guint i = 0; i < n; i++)
    seqs[i] = rd16 (data + 2 * i);
  nack_round_trip (seqs, n);
  g_free (seqs);

  /* REMB: the first 8 bytes as a bitrate. */
  guint64 bitrate = 0;
  for (gsize i = 0; i < MIN (size, 8); i++)
    bitrate = (bitrate << 8) | data[i];
  remb_round_trip (bitrate, NULL, 0, bitrate <= 0x3ffff);

  /* TWCC: byte 0 picks the capacity, then each 16-bit word is a packet:
   * odd = lost, even = an arrival step of (word / 2 as int16) × 300 µs,
   * enough to hit small, large, negative and out-of-range deltas. */
  gsize cap = 24 + 4 * (gsize) data[0];
  n = (guint) MIN ((size - 1) / 2, MAX_TWCC);
  if (n == 0)
    return;
  gint64 *arrival = g_new (gint64, n);
  gint64 t = 1000000000;
  arrival[0] = t;
  for (guint i = 1; i < n; i++) {
    guint16 w = rd16 (data + 1 + 2 * i);
    if (w & 1) {
      arrival[i] = -1;
      continue;
    }
    t += (gint64) (gint16) w / 2 * 300;
    arrival[i] = t - t % 250;
  }
  twcc_round_trip (arrival, n, cap, FALSE);
  g_free (arrival);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_compound (data, size);
  fuzz_writers (data, size);
  return 0;
}
