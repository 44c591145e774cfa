/* rtcp.c — pure RTCP codec: compound iteration, SR/RR, RFC 4585 generic
 * NACK and PLI, RFC 5104 FIR, REMB (draft-alvestrand-rmcat-remb) and
 * transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01). Parsers re-check every length they rely on, so they are
 * safe on any CsRtcpPacket, not just those produced by cs_rtcp_next().
 * Writers validate and size first: the buffer is untouched on error. */
#include "media/rtcp.h"

#include <errno.h>
#include <string.h>

#define RTCP_VERSION 2
#define RTCP_HEADER_LEN 4
#define RTCP_FB_HEADER_LEN 12      /* header + sender SSRC + media SSRC */
#define RTCP_REPORT_BLOCK_LEN 24
#define RTCP_SR_LEN 28             /* header + SSRC + 20-byte sender info */
#define RTCP_RR_LEN 8
#define RTCP_FIR_FCI_LEN 8
#define RTCP_NACK_FCI_LEN 4
#define RTCP_REMB_FCI_MIN 8        /* "REMB", num SSRC, exp + mantissa */
#define RTCP_MAX_LEN ((G_MAXUINT16 + 1) * 4) /* the length field counts words - 1 */

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static inline guint32
rd24 (const guint8 *p)
{
  return ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
}

static inline guint32
rd32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static inline void
wr16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
wr24 (guint8 *p, guint32 v)
{
  p[0] = (v >> 16) & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = v & 0xff;
}

static inline void
wr32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

/* Writes the common header; @len is the whole packet, a multiple of 4. */
static void
write_header (guint8 *p, gboolean padding, guint8 count, guint8 pt, gsize len)
{
  p[0] = (RTCP_VERSION << 6) | (padding ? 0x20 : 0) | (count & 0x1f);
  p[1] = pt;
  wr16 (p + 2, (guint16) (len / 4 - 1));
}

/* Length of the packet at @p (@len bytes, from its length field) without
 * its padding, or -EINVAL when the padding count is 0 or eats into the
 * header. */
static gssize
strip_padding (const guint8 *p, gsize len)
{
  if (!(p[0] & 0x20))
    return (gssize) len;
  guint8 pad = p[len - 1];
  if (pad == 0 || pad > len - RTCP_HEADER_LEN)
    return -EINVAL;
  return (gssize) (len - pad);
}

int
cs_rtcp_next (const guint8 *buf, gsize len, gsize *offset, CsRtcpPacket *pkt)
{
  g_return_val_if_fail (offset != NULL, -EINVAL);
  g_return_val_if_fail (pkt != NULL, -EINVAL);

  gsize off = *offset;
  if (off == len)
    return 0;
  if (buf == NULL || off > len || len - off < RTCP_HEADER_LEN)
    return -EINVAL;

  const guint8 *p = buf + off;
  if ((p[0] >> 6) != RTCP_VERSION)
    return -EINVAL;
  gsize plen = ((gsize) rd16 (p + 2) + 1) * 4;
  if (plen > len - off)
    return -EINVAL;
  /* RFC 3550 allows padding only on the last packet of a compound, but
   * libwebrtc pads transport-cc feedback wherever it sits: accept it
   * anywhere as long as it stays within this packet. */
  if (strip_padding (p, plen) < 0)
    return -EINVAL;

  *pkt = (CsRtcpPacket) {
    .pt = p[1],
    .count = p[0] & 0x1f,
    .data = p,
    .len = plen,
  };
  *offset = off + plen;
  return 1;
}

/* Length of @pkt without its trailing padding, or -EINVAL. Re-checked
 * because callers may build a CsRtcpPacket themselves. */
static gssize
packet_content_len (const CsRtcpPacket *pkt)
{
  if (pkt->data == NULL || pkt->len < RTCP_HEADER_LEN || pkt->len % 4 != 0)
    return -EINVAL;
  return strip_padding (pkt->data, pkt->len);
}

static void
parse_report_block (const guint8 *p, CsRtcpReportBlock *rb)
{
  guint32 lost = rd24 (p + 5);
  *rb = (CsRtcpReportBlock) {
    .ssrc = rd32 (p),
    .fraction_lost = p[4],
    /* Sign-extend the 24-bit two's complement count. */
    .cumulative_lost = (lost & 0x800000) ? (gint32) lost - 0x1000000 : (gint32) lost,
    .ext_highest_seq = rd32 (p + 8),
    .jitter = rd32 (p + 12),
    .lsr = rd32 (p + 16),
    .dlsr = rd32 (p + 20),
  };
}

static void
write_report_block (guint8 *p, const CsRtcpReportBlock *rb)
{
  gint32 lost = CLAMP (rb->cumulative_lost, -0x800000, 0x7fffff);
  wr32 (p, rb->ssrc);
  p[4] = rb->fraction_lost;
  wr24 (p + 5, (guint32) lost & 0xffffff);
  wr32 (p + 8, rb->ext_highest_seq);
  wr32 (p + 12, rb->jitter);
  wr32 (p + 16, rb->lsr);
  wr32 (p + 20, rb->dlsr);
}

int
cs_rtcp_parse_sr (const CsRtcpPacket *pkt, CsRtcpSr *out)
{
  g_return_val_if_fail (pkt != NULL, -EINVAL);
  g_return_val_if_fail (out != NULL, -EINVAL);

  gssize len = packet_content_len (pkt);
  if (len < 0 || pkt->data[1] != CS_RTCP_SR)
    return -EINVAL;
  guint rc = pkt->data[0] & 0x1f;
  /* Trailing bytes are allowed: RFC 3550 §6.4.1 profile-specific extensions. */
  if ((gsize) len < RTCP_SR_LEN + rc * (gsize) RTCP_REPORT_BLOCK_LEN)
    return -EINVAL;

  const guint8 *p = pkt->data;
  out->ssrc = rd32 (p + 4);
  out->ntp_sec = rd32 (p + 8);
  out->ntp_frac = rd32 (p + 12);
  out->rtp_ts = rd32 (p + 16);
  out->packet_count = rd32 (p + 20);
  out->octet_count = rd32 (p + 24);
  out->n_reports = rc;
  for (guint i = 0; i < rc; i++)
    parse_report_block (p + RTCP_SR_LEN + i * RTCP_REPORT_BLOCK_LEN, &out->reports[i]);
  return 0;
}

int
cs_rtcp_parse_rr (const CsRtcpPacket *pkt, CsRtcpRr *out)
{
  g_return_val_if_fail (pkt != NULL, -EINVAL);
  g_return_val_if_fail (out != NULL, -EINVAL);

  gssize len = packet_content_len (pkt);
  if (len < 0 || pkt->data[1] != CS_RTCP_RR)
    return -EINVAL;
  guint rc = pkt->data[0] & 0x1f;
  if ((gsize) len < RTCP_RR_LEN + rc * (gsize) RTCP_REPORT_BLOCK_LEN)
    return -EINVAL;

  const guint8 *p = pkt->data;
  out->ssrc = rd32 (p + 4);
  out->n_reports = rc;
  for (guint i = 0; i < rc; i++)
    parse_report_block (p + RTCP_RR_LEN + i * RTCP_REPORT_BLOCK_LEN, &out->reports[i]);
  return 0;
}

int
cs_rtcp_parse_fb (const CsRtcpPacket *pkt, CsRtcpFb *out)
{
  g_return_val_if_fail (pkt != NULL, -EINVAL);
  g_return_val_if_fail (out != NULL, -EINVAL);

  gssize len = packet_content_len (pkt);
  if (len < RTCP_FB_HEADER_LEN)
    return -EINVAL;
  guint8 pt = pkt->data[1];
  if (pt != CS_RTCP_RTPFB && pt != CS_RTCP_PSFB)
    return -EINVAL;

  *out = (CsRtcpFb) {
    .pt = pt,
    .fmt = pkt->data[0] & 0x1f,
    .sender_ssrc = rd32 (pkt->data + 4),
    .media_ssrc = rd32 (pkt->data + 8),
    .fci = pkt->data + RTCP_FB_HEADER_LEN,
    .fci_len = (gsize) len - RTCP_FB_HEADER_LEN,
  };
  return 0;
}

int
cs_rtcp_nack_seqs (const CsRtcpFb *fb, guint16 *seqs, guint max)
{
  g_return_val_if_fail (fb != NULL, -EINVAL);
  g_return_val_if_fail (seqs != NULL || max == 0, -EINVAL);

  if (fb->pt != CS_RTCP_RTPFB || fb->fmt != CS_RTCP_FMT_NACK)
    return -EINVAL;
  if (fb->fci_len == 0 || fb->fci_len % RTCP_NACK_FCI_LEN != 0)
    return -EINVAL;

  guint n = 0;
  for (gsize off = 0; off < fb->fci_len && n < max; off += RTCP_NACK_FCI_LEN) {
    guint16 pid = rd16 (fb->fci + off);
    guint16 blp = rd16 (fb->fci + off + 2);
    seqs[n++] = pid;
    /* Bit i of the BLP reports pid + i + 1, modulo 2^16. */
    for (guint i = 0; i < 16 && n < max; i++)
      if (blp & (1u << i))
        seqs[n++] = (guint16) (pid + i + 1);
  }
  return (int) n;
}

int
cs_rtcp_parse_remb (const CsRtcpFb *fb, guint64 *bitrate, guint32 *ssrcs, guint max_ssrcs,
                    guint *n_ssrcs)
{
  g_return_val_if_fail (fb != NULL, -EINVAL);
  g_return_val_if_fail (bitrate != NULL, -EINVAL);
  g_return_val_if_fail (ssrcs != NULL || max_ssrcs == 0, -EINVAL);
  g_return_val_if_fail (n_ssrcs != NULL, -EINVAL);

  if (fb->pt != CS_RTCP_PSFB || fb->fmt != CS_RTCP_FMT_AFB)
    return -EINVAL;
  if (fb->fci_len < RTCP_REMB_FCI_MIN || memcmp (fb->fci, "REMB", 4) != 0)
    return -EINVAL;

  const guint8 *p = fb->fci;
  guint num = p[4];
  if (fb->fci_len < RTCP_REMB_FCI_MIN + 4 * (gsize) num)
    return -EINVAL;
  guint exp = p[5] >> 2;
  guint64 mantissa = rd24 (p + 5) & 0x3ffff;
  /* exp is 6 bits: saturate instead of shifting bits out of 64. */
  if (exp > 0 && mantissa > (G_MAXUINT64 >> exp))
    *bitrate = G_MAXUINT64;
  else
    *bitrate = mantissa << exp;

  guint n = MIN (num, max_ssrcs);
  for (guint i = 0; i < n; i++)
    ssrcs[i] = rd32 (p + RTCP_REMB_FCI_MIN + 4 * i);
  *n_ssrcs = n;
  return 0;
}

int
cs_rtcp_parse_fir (const CsRtcpFb *fb, guint32 *ssrc, guint8 *seq_nr)
{
  g_return_val_if_fail (fb != NULL, -EINVAL);
  g_return_val_if_fail (ssrc != NULL, -EINVAL);
  g_return_val_if_fail (seq_nr != NULL, -EINVAL);

  if (fb->pt != CS_RTCP_PSFB || fb->fmt != CS_RTCP_FMT_FIR)
    return -EINVAL;
  if (fb->fci_len == 0 || fb->fci_len % RTCP_FIR_FCI_LEN != 0)
    return -EINVAL;
  *ssrc = rd32 (fb->fci);
  *seq_nr = fb->fci[4];
  return 0;
}

int
cs_rtcp_write_sr (guint8 *buf, gsize cap, const CsRtcpSr *sr)
{
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);
  g_return_val_if_fail (sr != NULL, -EINVAL);

  if (sr->n_reports > CS_RTCP_MAX_REPORTS)
    return -EINVAL;
  gsize len = RTCP_SR_LEN + sr->n_reports * (gsize) RTCP_REPORT_BLOCK_LEN;
  if (len > cap)
    return -ENOSPC;

  write_header (buf, FALSE, (guint8) sr->n_reports, CS_RTCP_SR, len);
  wr32 (buf + 4, sr->ssrc);
  wr32 (buf + 8, sr->ntp_sec);
  wr32 (buf + 12, sr->ntp_frac);
  wr32 (buf + 16, sr->rtp_ts);
  wr32 (buf + 20, sr->packet_count);
  wr32 (buf + 24, sr->octet_count);
  for (guint i = 0; i < sr->n_reports; i++)
    write_report_block (buf + RTCP_SR_LEN + i * RTCP_REPORT_BLOCK_LEN, &sr->reports[i]);
  return (int) len;
}

int
cs_rtcp_write_rr (guint8 *buf, gsize cap, const CsRtcpRr *rr)
{
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);
  g_return_val_if_fail (rr != NULL, -EINVAL);

  if (rr->n_reports > CS_RTCP_MAX_REPORTS)
    return -EINVAL;
  gsize len = RTCP_RR_LEN + rr->n_reports * (gsize) RTCP_REPORT_BLOCK_LEN;
  if (len > cap)
    return -ENOSPC;

  write_header (buf, FALSE, (guint8) rr->n_reports, CS_RTCP_RR, len);
  wr32 (buf + 4, rr->ssrc);
  for (guint i = 0; i < rr->n_reports; i++)
    write_report_block (buf + RTCP_RR_LEN + i * RTCP_REPORT_BLOCK_LEN, &rr->reports[i]);
  return (int) len;
}

static void
write_fb_header (guint8 *p, guint8 fmt, guint8 pt, gsize len, guint32 sender_ssrc,
                 guint32 media_ssrc)
{
  write_header (p, FALSE, fmt, pt, len);
  wr32 (p + 4, sender_ssrc);
  wr32 (p + 8, media_ssrc);
}

int
cs_rtcp_write_pli (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc)
{
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);

  if (cap < RTCP_FB_HEADER_LEN)
    return -ENOSPC;
  write_fb_header (buf, CS_RTCP_FMT_PLI, CS_RTCP_PSFB, RTCP_FB_HEADER_LEN, sender_ssrc,
                   media_ssrc);
  return RTCP_FB_HEADER_LEN;
}

int
cs_rtcp_write_fir (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                   guint8 seq_nr)
{
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);

  gsize len = RTCP_FB_HEADER_LEN + RTCP_FIR_FCI_LEN;
  if (cap < len)
    return -ENOSPC;
  /* RFC 5104 §4.3.1.2: the header's media SSRC is unused (0); the target
   * is named in the FCI. */
  write_fb_header (buf, CS_RTCP_FMT_FIR, CS_RTCP_PSFB, len, sender_ssrc, 0);
  wr32 (buf + 12, media_ssrc);
  buf[16] = seq_nr;
  buf[17] = buf[18] = buf[19] = 0;
  return (int) len;
}

/* Orders sequence numbers by their signed distance from @anchor, so a list
 * straddling 65535 -> 0 sorts as one run. Any order would be correct (the
 * key is a bijection); this one keeps the FCIs compact. */
static inline guint16
nack_key (guint16 seq, guint16 anchor)
{
  return (guint16) (seq - anchor) ^ 0x8000;
}

/* Packs @seqs into PID+BLP FCIs at @out (NULL: only count them) and
 * returns the number of FCIs. Without sorting into scratch memory: each
 * round takes the smallest sequence number not yet covered as PID and
 * folds the 16 after it into the BLP. O(n × FCIs); NACK lists are short. */
static gsize
nack_pack (const guint16 *seqs, guint n, guint8 *out)
{
  guint16 anchor = seqs[0];
  guint32 covered_end = 0; /* keys below this are already in an FCI */
  gsize n_fci = 0;
  for (;;) {
    guint32 pid_key = G_MAXUINT32;
    for (guint i = 0; i < n; i++) {
      guint16 k = nack_key (seqs[i], anchor);
      if (k >= covered_end && k < pid_key)
        pid_key = k;
    }
    if (pid_key == G_MAXUINT32)
      return n_fci;
    if (out) {
      guint16 blp = 0;
      for (guint i = 0; i < n; i++) {
        guint16 k = nack_key (seqs[i], anchor);
        if (k > pid_key && k <= pid_key + 16)
          blp |= 1u << (k - pid_key - 1);
      }
      wr16 (out, (guint16) ((pid_key ^ 0x8000) + anchor));
      wr16 (out + 2, blp);
      out += RTCP_NACK_FCI_LEN;
    }
    n_fci++;
    covered_end = pid_key + 17;
  }
}

int
cs_rtcp_write_nack (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                    const guint16 *seqs, guint n)
{
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);
  g_return_val_if_fail (seqs != NULL || n == 0, -EINVAL);

  if (n == 0)
    return -EINVAL;
  /* At most 65536 / 17 FCIs, so the length field cannot overflow. */
  gsize len = RTCP_FB_HEADER_LEN + RTCP_NACK_FCI_LEN * nack_pack (seqs, n, NULL);
  if (len > cap)
    return -ENOSPC;
  write_fb_header (buf, CS_RTCP_FMT_NACK, CS_RTCP_RTPFB, len, sender_ssrc, media_ssrc);
  nack_pack (seqs, n, buf + RTCP_FB_HEADER_LEN);
  return (int) len;
}

int
cs_rtcp_write_remb (guint8 *buf, gsize cap, guint32 sender_ssrc, guint64 bitrate,
                    const guint32 *ssrcs, guint n)
{
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);
  g_return_val_if_fail (ssrcs != NULL || n == 0, -EINVAL);

  if (n > G_MAXUINT8)
    return -EINVAL;
  gsize len = RTCP_FB_HEADER_LEN + RTCP_REMB_FCI_MIN + 4 * (gsize) n;
  if (len > cap)
    return -ENOSPC;

  /* 18-bit mantissa, 6-bit exponent; drop low bits (round down) so we
   * never announce more than we mean. */
  guint exp = 0;
  while (bitrate > 0x3ffff) {
    bitrate >>= 1;
    exp++;
  }
  /* The header's media SSRC is unused for REMB; the FCI lists them. */
  write_fb_header (buf, CS_RTCP_FMT_AFB, CS_RTCP_PSFB, len, sender_ssrc, 0);
  guint8 *p = buf + RTCP_FB_HEADER_LEN;
  memcpy (p, "REMB", 4);
  p[4] = (guint8) n;
  wr24 (p + 5, ((guint32) exp << 18) | (guint32) bitrate);
  for (guint i = 0; i < n; i++)
    wr32 (p + RTCP_REMB_FCI_MIN + 4 * i, ssrcs[i]);
  return (int) len;
}

/* ---- transport-wide congestion control feedback ---- */

#define TWCC_FCI_HEADER_LEN 8       /* base seq, status count, ref time, fb count */
#define TWCC_HEADER_LEN (RTCP_FB_HEADER_LEN + TWCC_FCI_HEADER_LEN)
#define TWCC_REF_TIME_US 64000      /* reference time unit */
#define TWCC_DELTA_US 250           /* receive delta unit */
#define TWCC_TICKS_PER_REF (TWCC_REF_TIME_US / TWCC_DELTA_US)
#define TWCC_RUN_MAX 0x1fff         /* 13-bit run length */
#define TWCC_ONE_BIT_CAP 14
#define TWCC_TWO_BIT_CAP 7

enum {
  TWCC_NOT_RECEIVED = 0,
  TWCC_SMALL_DELTA = 1,   /* 1-byte unsigned delta */
  TWCC_LARGE_DELTA = 2,   /* 2-byte signed delta */
  TWCC_RESERVED = 3,
};

/* Greedy chunk encoder, modelled on libwebrtc's: statuses collect in
 * a pending chunk that stays a run while they are all equal, a one-bit
 * vector (14 symbols) while no large delta appears, a two-bit vector
 * (7 symbols) otherwise. With @out NULL it only counts chunks, which lets
 * the writer size the packet before writing it. */
typedef struct {
  guint8 sym[TWCC_ONE_BIT_CAP];
  guint size;           /* pending symbols; a run may exceed sym[] */
  gboolean all_same;
  gboolean has_large;
  guint8 *out;
  guint n_chunks;       /* chunks emitted so far */
} TwccChunker;

static void
chunker_put (TwccChunker *c, guint16 chunk)
{
  if (c->out) {
    wr16 (c->out, chunk);
    c->out += 2;
  }
  c->n_chunks++;
}

static guint16
encode_vector (const guint8 *sym, guint n, gboolean two_bit)
{
  guint16 chunk = two_bit ? 0xc000 : 0x8000;
  guint bits = two_bit ? 2 : 1;
  guint cap = two_bit ? TWCC_TWO_BIT_CAP : TWCC_ONE_BIT_CAP;
  for (guint i = 0; i < n; i++)
    chunk |= (guint16) (sym[i] << (bits * (cap - 1 - i)));
  return chunk;
}

static void
chunker_reset_flags (TwccChunker *c)
{
  c->all_same = TRUE;
  c->has_large = FALSE;
  for (guint i = 0; i < c->size; i++) {
    c->all_same &= c->sym[i] == c->sym[0];
    c->has_large |= c->sym[i] == TWCC_LARGE_DELTA;
  }
}

static gboolean
chunker_can_add (const TwccChunker *c, guint8 sym)
{
  if (c->size < TWCC_TWO_BIT_CAP)
    return TRUE;
  if (c->size < TWCC_ONE_BIT_CAP && !c->has_large && sym != TWCC_LARGE_DELTA)
    return TRUE;
  return c->all_same && c->sym[0] == sym && c->size < TWCC_RUN_MAX;
}

/* Emits what the pending symbols cannot keep growing into. */
static void
chunker_emit (TwccChunker *c)
{
  if (c->all_same) {
    chunker_put (c, (guint16) ((c->sym[0] << 13) | c->size));
    c->size = 0;
  } else if (c->size == TWCC_ONE_BIT_CAP) {
    chunker_put (c, encode_vector (c->sym, TWCC_ONE_BIT_CAP, FALSE));
    c->size = 0;
  } else {
    chunker_put (c, encode_vector (c->sym, TWCC_TWO_BIT_CAP, TRUE));
    c->size -= TWCC_TWO_BIT_CAP;
    memmove (c->sym, c->sym + TWCC_TWO_BIT_CAP, c->size);
  }
  chunker_reset_flags (c);
}

static void
chunker_add (TwccChunker *c, guint8 sym)
{
  if (!chunker_can_add (c, sym))
    chunker_emit (c);
  if (c->size < TWCC_ONE_BIT_CAP)
    c->sym[c->size] = sym;
  c->all_same = c->size == 0 || (c->all_same && c->sym[0] == sym);
  c->has_large |= sym == TWCC_LARGE_DELTA;
  c->size++;
}

/* Chunks emitted so far plus the one the pending symbols will become. */
static guint
chunker_total (const TwccChunker *c)
{
  return c->n_chunks + (c->size > 0 ? 1 : 0);
}

static void
chunker_finish (TwccChunker *c)
{
  if (c->size == 0)
    return;
  if (c->all_same)
    chunker_put (c, (guint16) ((c->sym[0] << 13) | c->size));
  else
    chunker_put (c, encode_vector (c->sym, c->size, c->size <= TWCC_TWO_BIT_CAP));
  c->size = 0;
}

/* Classifies packet @i: its status and, when received, its delta from
 * *@prev_ticks (advanced). FALSE when the delta does not fit 16 bits. */
static gboolean
twcc_classify (gint64 arrival_us, gint64 *prev_ticks, guint8 *sym, gint64 *delta)
{
  if (arrival_us < 0) {
    *sym = TWCC_NOT_RECEIVED;
    return TRUE;
  }
  gint64 ticks = arrival_us / TWCC_DELTA_US;
  gint64 d = ticks - *prev_ticks;
  if (d >= 0 && d <= G_MAXUINT8)
    *sym = TWCC_SMALL_DELTA;
  else if (d >= G_MININT16 && d <= G_MAXINT16)
    *sym = TWCC_LARGE_DELTA;
  else
    return FALSE;
  *delta = d;
  *prev_ticks = ticks;
  return TRUE;
}

static gsize
pad4 (gsize len)
{
  return (len + 3) & ~(gsize) 3;
}

int
cs_rtcp_write_twcc (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                    guint8 fb_pkt_count, guint16 base_seq,
                    const gint64 *arrival_us, guint n, guint *n_written)
{
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);
  g_return_val_if_fail (arrival_us != NULL || n == 0, -EINVAL);
  g_return_val_if_fail (n_written != NULL, -EINVAL);

  if (n == 0 || arrival_us[0] < 0)
    return -EINVAL;
  n = MIN (n, G_MAXUINT16);

  /* The first delta is relative to the reference time, which is
   * arrival_us[0] rounded down to 64 ms, so it always fits a small delta. */
  gint64 ref = arrival_us[0] / TWCC_REF_TIME_US;
  gint64 ref_ticks = ref * TWCC_TICKS_PER_REF;

  /* Pass 1: how many packets fit in @cap and in the delta range. */
  TwccChunker c = { .all_same = TRUE };
  gint64 prev_ticks = ref_ticks;
  gsize delta_bytes = 0;
  guint count = 0;
  for (guint i = 0; i < n; i++) {
    guint8 sym;
    gint64 delta;
    gint64 ticks = prev_ticks;
    if (!twcc_classify (arrival_us[i], &ticks, &sym, &delta))
      break;
    TwccChunker trial = c;
    chunker_add (&trial, sym);
    gsize d = sym == TWCC_SMALL_DELTA ? 1 : sym == TWCC_LARGE_DELTA ? 2 : 0;
    gsize len = pad4 (TWCC_HEADER_LEN + 2 * (gsize) chunker_total (&trial) + delta_bytes + d);
    if (len > cap || len > RTCP_MAX_LEN)
      break;
    c = trial;
    delta_bytes += d;
    prev_ticks = ticks;
    count = i + 1;
  }
  if (count == 0)
    return -ENOSPC;

  gsize unpadded = TWCC_HEADER_LEN + 2 * (gsize) chunker_total (&c) + delta_bytes;
  gsize len = pad4 (unpadded);
  gsize pad = len - unpadded;

  /* Pass 2: write chunks, then deltas right after the last chunk. */
  guint8 *deltas = buf + TWCC_HEADER_LEN + 2 * (gsize) chunker_total (&c);
  c = (TwccChunker) { .all_same = TRUE, .out = buf + TWCC_HEADER_LEN };
  prev_ticks = ref_ticks;
  for (guint i = 0; i < count; i++) {
    guint8 sym = TWCC_NOT_RECEIVED;
    gint64 delta = 0;
    /* Cannot fail: pass 1 accepted packets [0, count). */
    twcc_classify (arrival_us[i], &prev_ticks, &sym, &delta);
    chunker_add (&c, sym);
    if (sym == TWCC_SMALL_DELTA) {
      *deltas++ = (guint8) delta;
    } else if (sym == TWCC_LARGE_DELTA) {
      wr16 (deltas, (guint16) (gint16) delta);
      deltas += 2;
    }
  }
  chunker_finish (&c);

  /* libwebrtc-style padding: P bit set, zeros, last byte is the count. */
  if (pad > 0) {
    memset (deltas, 0, pad - 1);
    deltas[pad - 1] = (guint8) pad;
  }
  write_header (buf, pad > 0, CS_RTCP_FMT_TWCC, CS_RTCP_RTPFB, len);
  wr32 (buf + 4, sender_ssrc);
  wr32 (buf + 8, media_ssrc);
  wr16 (buf + 12, base_seq);
  wr16 (buf + 14, (guint16) count);
  wr24 (buf + 16, (guint32) ref & 0xffffff);
  buf[19] = fb_pkt_count;
  *n_written = count;
  return (int) len;
}

/* Symbol @k of a packet status chunk. */
static guint8
twcc_chunk_symbol (guint16 chunk, guint k)
{
  if (!(chunk & 0x8000))
    return (chunk >> 13) & 0x3;
  if (!(chunk & 0x4000))
    return (chunk >> (TWCC_ONE_BIT_CAP - 1 - k)) & 0x1;
  return (chunk >> (2 * (TWCC_TWO_BIT_CAP - 1 - k))) & 0x3;
}

/* How many symbols a packet status chunk holds. */
static guint
twcc_chunk_capacity (guint16 chunk)
{
  if (!(chunk & 0x8000))
    return chunk & TWCC_RUN_MAX;
  return (chunk & 0x4000) ? TWCC_TWO_BIT_CAP : TWCC_ONE_BIT_CAP;
}

int
cs_rtcp_parse_twcc (const CsRtcpFb *fb, CsRtcpTwcc *out, gint64 *arrival_us, guint max)
{
  g_return_val_if_fail (fb != NULL, -EINVAL);
  g_return_val_if_fail (out != NULL, -EINVAL);
  g_return_val_if_fail (arrival_us != NULL || max == 0, -EINVAL);

  if (fb->pt != CS_RTCP_RTPFB || fb->fmt != CS_RTCP_FMT_TWCC)
    return -EINVAL;
  if (fb->fci_len < TWCC_FCI_HEADER_LEN)
    return -EINVAL;

  const guint8 *p = fb->fci;
  guint status_count = rd16 (p + 2);
  if (status_count == 0)
    return -EINVAL;

  /* Pass 1: find where chunks end and check the deltas fit, so nothing is
   * stored unless the whole packet is consistent. */
  gsize off = TWCC_FCI_HEADER_LEN;
  gsize delta_bytes = 0;
  for (guint seen = 0; seen < status_count;) {
    if (fb->fci_len - off < 2)
      return -EINVAL;
    guint16 chunk = rd16 (p + off);
    off += 2;
    guint cap = twcc_chunk_capacity (chunk);
    if (cap == 0)
      return -EINVAL;
    for (guint k = 0; k < cap && seen < status_count; k++, seen++) {
      guint8 sym = twcc_chunk_symbol (chunk, k);
      if (sym == TWCC_RESERVED)
        return -EINVAL;
      delta_bytes += sym;  /* 0, 1 or 2 bytes, by construction of the enum */
    }
  }
  gsize deltas_off = off;
  if (fb->fci_len - off < delta_bytes)
    return -EINVAL;
  /* Tolerate senders that zero-pad to 32 bits without setting P. */
  if (fb->fci_len - off - delta_bytes > 3)
    return -EINVAL;

  /* Pass 2: decode. */
  guint32 ref = rd24 (p + 4);
  gint64 ticks = (gint64) ref * TWCC_TICKS_PER_REF;
  guint stored = MIN (status_count, max);
  const guint8 *d = p + deltas_off;
  off = TWCC_FCI_HEADER_LEN;
  for (guint seen = 0; seen < stored;) {
    guint16 chunk = rd16 (p + off);
    off += 2;
    guint cap = twcc_chunk_capacity (chunk);
    for (guint k = 0; k < cap && seen < stored; k++, seen++) {
      guint8 sym = twcc_chunk_symbol (chunk, k);
      if (sym == TWCC_NOT_RECEIVED) {
        arrival_us[seen] = -1;
        continue;
      }
      if (sym == TWCC_SMALL_DELTA) {
        ticks += *d++;
      } else {
        ticks += (gint16) rd16 (d);
        d += 2;
      }
      arrival_us[seen] = ticks * TWCC_DELTA_US;
    }
  }

  *out = (CsRtcpTwcc) {
    .base_seq = rd16 (p),
    .status_count = (guint16) status_count,
    .ref_time = ref,
    .fb_pkt_count = p[7],
  };
  return (int) stored;
}
