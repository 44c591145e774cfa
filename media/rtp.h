/* rtp.h — pure RTP codec over caller buffers (RFC 3550, RFC 8285 header
 * extensions, RFC 5761 demux, VP8 payload descriptor). No allocation, no
 * logging; functions return 0 / a length, or a negative errno. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_RTP_HEADER_MIN 12

typedef struct {
  guint8 marker;
  guint8 pt;
  guint16 seq;
  guint32 ts;
  guint32 ssrc;
  guint8 csrc_count;
  guint16 ext_profile;      /* 0xBEDE (one-byte), 0x100X (two-byte), other, or 0 when absent */
  const guint8 *ext;        /* extension elements (after the 4-byte ext header); NULL when absent */
  gsize ext_len;            /* bytes of elements (length field * 4) */
  gsize header_len;         /* offset of the payload */
  gsize payload_len;        /* excluding padding */
  guint8 padding_len;
} CsRtpHeader;

/* RFC 5761: TRUE when the second byte's payload type is 64..95 (RTCP). */
gboolean cs_rtp_is_rtcp (const guint8 *buf, gsize len);
/* RFC 7983 first-byte demux. */
gboolean cs_rtp_looks_like_rtp_or_rtcp (const guint8 *buf, gsize len);  /* 128..191 */
gboolean cs_rtp_looks_like_dtls (const guint8 *buf, gsize len);         /* 20..63 */

/* Parses a (decrypted) RTP packet. -EINVAL on version != 2 or any length
 * inconsistency (CSRCs, extension or padding past the end). */
int cs_rtp_parse (const guint8 *buf, gsize len, CsRtpHeader *out);

/* Finds element @id (1..14 one-byte, 1..255 two-byte). Returns its length
 * (>= 0) and sets *@data, or -ENOENT. */
int cs_rtp_ext_find (const CsRtpHeader *h, guint8 id, const guint8 **data);
/* (Also -EINVAL when @id is out of range for the block's format, or an
 * element before the match runs past the block.) */

typedef struct {
  guint8 id;                /* 1..14 */
  guint8 len;               /* 1..16 */
  const guint8 *data;
} CsRtpExt;

/* Writes a one-byte-header (0xBEDE) extension block, including its 4-byte
 * header and zero padding to a 32-bit boundary, into @buf. Returns bytes
 * written, 0 when @n is 0, -EINVAL for a bad id/len, -ENOSPC. */
int cs_rtp_ext_write (guint8 *buf, gsize cap, const CsRtpExt *exts, guint n);

/* VP8 (RFC 7741): TRUE when @payload (RTP payload) starts a key frame:
 * S=1, PID=0 and the VP8 frame header's P bit is 0. */
gboolean cs_vp8_is_keyframe (const guint8 *payload, gsize len);

G_END_DECLS
