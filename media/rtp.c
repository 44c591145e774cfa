/* rtp.c — pure RTP codec: RFC 3550 fixed header, RFC 8285 header
 * extensions, RFC 5761/7983 demux and the RFC 7741 VP8 payload descriptor.
 * Every read is bounds-checked against the caller's length; nothing here
 * allocates or logs, so it is safe on the forwarding hot path and under the
 * fuzzers. */
#include "media/rtp.h"

#include <errno.h>
#include <string.h>

#define RTP_VERSION 2
#define EXT_ONE_BYTE_PROFILE 0xBEDE
#define EXT_TWO_BYTE_MASK 0xFFF0
#define EXT_TWO_BYTE_PROFILE 0x1000
#define EXT_ONE_BYTE_ID_RESERVED 15

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
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

gboolean
cs_rtp_is_rtcp (const guint8 *buf, gsize len)
{
  if (buf == NULL || len < 2)
    return FALSE;
  /* RFC 5761 §4: RTCP packet types 192..223 read as marker=1 plus PT 64..95. */
  guint8 pt = buf[1] & 0x7f;
  return pt >= 64 && pt <= 95;
}

gboolean
cs_rtp_looks_like_rtp_or_rtcp (const guint8 *buf, gsize len)
{
  return buf != NULL && len > 0 && buf[0] >= 128 && buf[0] <= 191;
}

gboolean
cs_rtp_looks_like_dtls (const guint8 *buf, gsize len)
{
  return buf != NULL && len > 0 && buf[0] >= 20 && buf[0] <= 63;
}

int
cs_rtp_parse (const guint8 *buf, gsize len, CsRtpHeader *out)
{
  g_return_val_if_fail (out != NULL, -EINVAL);

  if (buf == NULL || len < CS_RTP_HEADER_MIN)
    return -EINVAL;
  if ((buf[0] >> 6) != RTP_VERSION)
    return -EINVAL;

  gboolean has_padding = (buf[0] & 0x20) != 0;
  gboolean has_ext = (buf[0] & 0x10) != 0;
  guint8 cc = buf[0] & 0x0f;
  gsize off = CS_RTP_HEADER_MIN + 4 * (gsize) cc;
  if (off > len)
    return -EINVAL;

  guint16 ext_profile = 0;
  const guint8 *ext = NULL;
  gsize ext_len = 0;
  if (has_ext) {
    if (len - off < 4)
      return -EINVAL;
    ext_profile = rd16 (buf + off);
    ext_len = 4 * (gsize) rd16 (buf + off + 2);
    off += 4;
    if (len - off < ext_len)
      return -EINVAL;
    ext = buf + off;
    off += ext_len;
  }

  guint8 padding = 0;
  if (has_padding) {
    /* The count includes itself, so 0 is malformed (RFC 3550 §5.1). */
    padding = buf[len - 1];
    if (padding == 0 || padding > len - off)
      return -EINVAL;
  }

  *out = (CsRtpHeader) {
    .marker = buf[1] >> 7,
    .pt = buf[1] & 0x7f,
    .seq = rd16 (buf + 2),
    .ts = rd32 (buf + 4),
    .ssrc = rd32 (buf + 8),
    .csrc_count = cc,
    .ext_profile = ext_profile,
    .ext = ext,
    .ext_len = ext_len,
    .header_len = off,
    .payload_len = len - off - padding,
    .padding_len = padding,
  };
  return 0;
}

/* RFC 8285 §4.2: one-byte elements; 0 bytes are padding and ID 15 stops
 * the walk ("the rest of the header extension is to be ignored"). */
static int
ext_find_one_byte (const guint8 *p, gsize len, guint8 id, const guint8 **data)
{
  gsize i = 0;
  while (i < len) {
    guint8 b = p[i];
    if (b == 0) {
      i++;
      continue;
    }
    guint8 el_id = b >> 4;
    gsize el_len = (b & 0x0f) + 1;
    if (el_id == EXT_ONE_BYTE_ID_RESERVED)
      return -ENOENT;
    if (el_len > len - i - 1)
      return -EINVAL;
    if (el_id == id) {
      *data = p + i + 1;
      return (int) el_len;
    }
    i += 1 + el_len;
  }
  return -ENOENT;
}

/* RFC 8285 §4.3: two-byte elements (ID, length), length may be 0. */
static int
ext_find_two_byte (const guint8 *p, gsize len, guint8 id, const guint8 **data)
{
  gsize i = 0;
  while (i < len) {
    guint8 el_id = p[i];
    if (el_id == 0) {
      i++;
      continue;
    }
    if (len - i < 2)
      return -EINVAL;
    gsize el_len = p[i + 1];
    if (el_len > len - i - 2)
      return -EINVAL;
    if (el_id == id) {
      *data = p + i + 2;
      return (int) el_len;
    }
    i += 2 + el_len;
  }
  return -ENOENT;
}

int
cs_rtp_ext_find (const CsRtpHeader *h, guint8 id, const guint8 **data)
{
  g_return_val_if_fail (h != NULL, -EINVAL);
  g_return_val_if_fail (data != NULL, -EINVAL);

  if (id == 0)
    return -EINVAL;
  if (h->ext == NULL)
    return -ENOENT;
  if (h->ext_profile == EXT_ONE_BYTE_PROFILE) {
    if (id > 14)
      return -EINVAL;
    return ext_find_one_byte (h->ext, h->ext_len, id, data);
  }
  if ((h->ext_profile & EXT_TWO_BYTE_MASK) == EXT_TWO_BYTE_PROFILE)
    return ext_find_two_byte (h->ext, h->ext_len, id, data);
  return -ENOENT;
}

int
cs_rtp_ext_write (guint8 *buf, gsize cap, const CsRtpExt *exts, guint n)
{
  if (n == 0)
    return 0;
  g_return_val_if_fail (buf != NULL || cap == 0, -EINVAL);
  g_return_val_if_fail (exts != NULL, -EINVAL);

  /* Validate and size everything first: @buf is untouched on failure. */
  gsize body = 0;
  for (guint i = 0; i < n; i++) {
    if (exts[i].id < 1 || exts[i].id > 14 || exts[i].len < 1 || exts[i].len > 16 ||
        exts[i].data == NULL)
      return -EINVAL;
    body += 1 + (gsize) exts[i].len;
  }
  gsize padded = (body + 3) & ~(gsize) 3;
  if (padded / 4 > G_MAXUINT16)
    return -EINVAL;
  gsize total = 4 + padded;
  if (total > cap)
    return -ENOSPC;

  wr16 (buf, EXT_ONE_BYTE_PROFILE);
  wr16 (buf + 2, (guint16) (padded / 4));
  guint8 *p = buf + 4;
  for (guint i = 0; i < n; i++) {
    *p++ = (guint8) ((exts[i].id << 4) | (exts[i].len - 1));
    memcpy (p, exts[i].data, exts[i].len);
    p += exts[i].len;
  }
  memset (p, 0, padded - body);
  return (int) total;
}

/* RFC 7741 §4.2 payload descriptor bits. */
#define VP8_X 0x80
#define VP8_S 0x10
#define VP8_PID_MASK 0x07
#define VP8_I 0x80
#define VP8_L 0x40
#define VP8_T 0x20
#define VP8_K 0x10
#define VP8_M 0x80
/* RFC 6386 §9.1: P (inverse key frame flag) is bit 0 of the frame tag. */
#define VP8_FRAME_P 0x01

gboolean
cs_vp8_is_keyframe (const guint8 *payload, gsize len)
{
  if (payload == NULL || len < 1)
    return FALSE;

  guint8 b0 = payload[0];
  if (!(b0 & VP8_S) || (b0 & VP8_PID_MASK) != 0)
    return FALSE;

  gsize off = 1;
  if (b0 & VP8_X) {
    if (off >= len)
      return FALSE;
    guint8 x = payload[off++];
    if (x & VP8_I) {
      if (off >= len)
        return FALSE;
      /* M=1: 15-bit picture id takes a second byte. */
      off += (payload[off] & VP8_M) ? 2 : 1;
    }
    if (x & VP8_L)
      off++;
    if (x & (VP8_T | VP8_K))
      off++;
  }
  if (off >= len)
    return FALSE;
  return (payload[off] & VP8_FRAME_P) == 0;
}
