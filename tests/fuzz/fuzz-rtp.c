/* Fuzz target for media/rtp.c: header parse, every extension lookup, VP8
 * key frame detection and the demux helpers, plus a write-after-parse
 * round trip of one-byte extensions (what the SFU does when it rewrites
 * header extensions for a subscriber). Aborts on any inconsistency. */
#include "media/rtp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define MAX_EXTS 14

static void
check (gboolean ok)
{
  if (!ok)
    abort ();
}

/* Re-emits the one-byte elements found in @h with cs_rtp_ext_write and
 * checks a parser sees the same elements in the result. */
static void
round_trip_one_byte (const CsRtpHeader *h)
{
  CsRtpExt exts[MAX_EXTS];
  guint n = 0;
  for (guint8 id = 1; id <= 14; id++) {
    const guint8 *d;
    int len = cs_rtp_ext_find (h, id, &d);
    /* Two-byte blocks may hold elements a one-byte block cannot. */
    if (len >= 1 && len <= 16)
      exts[n++] = (CsRtpExt) { .id = id, .len = (guint8) len, .data = d };
  }
  if (n == 0)
    return;

  guint8 pkt[CS_RTP_HEADER_MIN + 4 + MAX_EXTS * 17 + 3];
  memset (pkt, 0, CS_RTP_HEADER_MIN);
  pkt[0] = 0x90;
  int w = cs_rtp_ext_write (pkt + CS_RTP_HEADER_MIN, sizeof pkt - CS_RTP_HEADER_MIN, exts, n);
  check (w > 0 && w % 4 == 0);

  CsRtpHeader out;
  check (cs_rtp_parse (pkt, CS_RTP_HEADER_MIN + (gsize) w, &out) == 0);
  check (out.ext_profile == 0xBEDE && out.payload_len == 0);
  for (guint i = 0; i < n; i++) {
    const guint8 *d;
    check (cs_rtp_ext_find (&out, exts[i].id, &d) == exts[i].len);
    check (memcmp (d, exts[i].data, exts[i].len) == 0);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cs_rtp_is_rtcp (data, size);
  cs_rtp_looks_like_rtp_or_rtcp (data, size);
  cs_rtp_looks_like_dtls (data, size);
  /* The input as a bare VP8 payload too. */
  cs_vp8_is_keyframe (data, size);

  CsRtpHeader h;
  if (cs_rtp_parse (data, size, &h) != 0)
    return 0;

  check (h.header_len + h.payload_len + h.padding_len == size);
  check (h.header_len >= CS_RTP_HEADER_MIN);
  if (h.ext == NULL)
    check (h.ext_profile == 0 && h.ext_len == 0);
  else
    check (h.ext >= data && h.ext + h.ext_len <= data + h.header_len);

  for (guint id = 1; id <= 255; id++) {
    const guint8 *d = NULL;
    int len = cs_rtp_ext_find (&h, (guint8) id, &d);
    if (len >= 0)
      check (d >= h.ext && d + len <= h.ext + h.ext_len);
  }
  round_trip_one_byte (&h);

  cs_vp8_is_keyframe (data + h.header_len, h.payload_len);
  return 0;
}
