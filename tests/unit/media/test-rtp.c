/* Unit tests for media/rtp.c: header parsing and its error paths, RFC 8285
 * extensions (one- and two-byte), the extension writer, demux helpers, VP8
 * key frame detection, and real captures made by GStreamer
 * (tests/fixtures/rtp/make-fixtures.sh). */
#include "media/rtp.h"

#include <errno.h>
#include <string.h>

/* ---- fixtures: RFC 4571 framing (16-bit length + packet) ---- */

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
capture_next (Capture *c, const guint8 **pkt, gsize *len)
{
  if (c->off == c->len)
    return FALSE;
  g_assert_cmpuint (c->len - c->off, >=, 2);
  gsize n = ((gsize) c->data[c->off] << 8) | c->data[c->off + 1];
  g_assert_cmpuint (c->len - c->off - 2, >=, n);
  *pkt = c->data + c->off + 2;
  *len = n;
  c->off += 2 + n;
  return TRUE;
}

/* Each packet is parsed from its own exact-size heap copy so a read past
 * the end trips ASan. */
static int
parse_copy (const guint8 *pkt, gsize len, CsRtpHeader *h, guint8 **copy)
{
  *copy = g_memdup2 (pkt, len);
  return cs_rtp_parse (*copy, len, h);
}

/* ---- header ---- */

static const guint8 minimal[] = {
  0x80, 0xe0, 0x12, 0x34,       /* V=2, M=1, PT=96, seq 0x1234 */
  0xde, 0xad, 0xbe, 0xef,       /* ts */
  0x01, 0x02, 0x03, 0x04,       /* ssrc */
};

static void
test_parse_minimal (void)
{
  CsRtpHeader h;
  g_assert_cmpint (cs_rtp_parse (minimal, sizeof minimal, &h), ==, 0);
  g_assert_cmpuint (h.marker, ==, 1);
  g_assert_cmpuint (h.pt, ==, 96);
  g_assert_cmpuint (h.seq, ==, 0x1234);
  g_assert_cmpuint (h.ts, ==, 0xdeadbeef);
  g_assert_cmpuint (h.ssrc, ==, 0x01020304);
  g_assert_cmpuint (h.csrc_count, ==, 0);
  g_assert_cmpuint (h.ext_profile, ==, 0);
  g_assert_null (h.ext);
  g_assert_cmpuint (h.ext_len, ==, 0);
  g_assert_cmpuint (h.header_len, ==, 12);
  g_assert_cmpuint (h.payload_len, ==, 0);
  g_assert_cmpuint (h.padding_len, ==, 0);
}

static void
test_parse_full (void)
{
  /* 2 CSRCs, one-byte extension of 1 word, 3 payload bytes, 4 padding. */
  static const guint8 pkt[] = {
    0xb2, 0x6f, 0xff, 0xff, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd,
    0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
    0xbe, 0xde, 0x00, 0x01, 0x10, 0x42, 0x00, 0x00,
    'a', 'b', 'c',
    0x00, 0x00, 0x00, 0x04,
  };
  CsRtpHeader h;
  g_assert_cmpint (cs_rtp_parse (pkt, sizeof pkt, &h), ==, 0);
  g_assert_cmpuint (h.marker, ==, 0);
  g_assert_cmpuint (h.pt, ==, 111);
  g_assert_cmpuint (h.seq, ==, 65535);
  g_assert_cmpuint (h.csrc_count, ==, 2);
  g_assert_cmpuint (h.ext_profile, ==, 0xbede);
  g_assert_true (h.ext == pkt + 24);
  g_assert_cmpuint (h.ext_len, ==, 4);
  g_assert_cmpuint (h.header_len, ==, 28);
  g_assert_cmpuint (h.payload_len, ==, 3);
  g_assert_cmpuint (h.padding_len, ==, 4);
  g_assert_cmpmem (pkt + h.header_len, h.payload_len, "abc", 3);
}

static void
test_parse_errors (void)
{
  guint8 buf[64];
  CsRtpHeader h, untouched;
  memset (&untouched, 0x5a, sizeof untouched);

  /* Every length below the fixed header. */
  for (gsize len = 0; len < CS_RTP_HEADER_MIN; len++) {
    h = untouched;
    g_assert_cmpint (cs_rtp_parse (minimal, len, &h), ==, -EINVAL);
    g_assert_cmpmem (&h, sizeof h, &untouched, sizeof untouched);
  }
  g_assert_cmpint (cs_rtp_parse (NULL, 12, &h), ==, -EINVAL);

  /* Versions 0, 1, 3. */
  for (guint v = 0; v < 4; v++) {
    memcpy (buf, minimal, sizeof minimal);
    buf[0] = (guint8) ((v << 6) | (buf[0] & 0x3f));
    g_assert_cmpint (cs_rtp_parse (buf, sizeof minimal, &h), ==, v == 2 ? 0 : -EINVAL);
  }

  /* CSRC count past the end: 15 CSRCs need 72 bytes. */
  memset (buf, 0, sizeof buf);
  buf[0] = 0x8f;
  g_assert_cmpint (cs_rtp_parse (buf, 12 + 4 * 15 - 1, &h), ==, -EINVAL);
  g_assert_cmpint (cs_rtp_parse (buf, 12 + 4 * 14, &h), ==, -EINVAL);
  g_assert_cmpint (cs_rtp_parse (buf, 12 + 4 * 15 - 4, &h), ==, -EINVAL);

  /* X set: extension header truncated, then elements truncated. */
  memset (buf, 0, sizeof buf);
  buf[0] = 0x90;
  buf[12] = 0xbe;
  buf[13] = 0xde;
  buf[15] = 2; /* 8 bytes of elements */
  for (gsize len = 12; len < 16; len++)
    g_assert_cmpint (cs_rtp_parse (buf, len, &h), ==, -EINVAL);
  for (gsize len = 16; len < 24; len++)
    g_assert_cmpint (cs_rtp_parse (buf, len, &h), ==, -EINVAL);
  g_assert_cmpint (cs_rtp_parse (buf, 24, &h), ==, 0);
  g_assert_cmpuint (h.payload_len, ==, 0);

  /* Padding: count 0, count larger than what follows the header. */
  memcpy (buf, minimal, sizeof minimal);
  buf[0] |= 0x20;
  buf[12] = 0;
  g_assert_cmpint (cs_rtp_parse (buf, 13, &h), ==, -EINVAL);
  buf[12] = 2;
  g_assert_cmpint (cs_rtp_parse (buf, 13, &h), ==, -EINVAL);
  g_assert_cmpint (cs_rtp_parse (buf, 12, &h), ==, -EINVAL); /* P set, no room at all */
  /* Boundary: padding is everything after the header. */
  buf[12] = 0;
  buf[13] = 2;
  g_assert_cmpint (cs_rtp_parse (buf, 14, &h), ==, 0);
  g_assert_cmpuint (h.payload_len, ==, 0);
  g_assert_cmpuint (h.padding_len, ==, 2);
}

static void
test_parse_empty_extension (void)
{
  /* X with zero words: present but empty, payload follows directly. */
  static const guint8 pkt[] = {
    0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    0x10, 0x00, 0x00, 0x00, 0xff,
  };
  CsRtpHeader h;
  const guint8 *d;
  g_assert_cmpint (cs_rtp_parse (pkt, sizeof pkt, &h), ==, 0);
  g_assert_cmpuint (h.ext_profile, ==, 0x1000);
  g_assert_nonnull (h.ext);
  g_assert_cmpuint (h.ext_len, ==, 0);
  g_assert_cmpuint (h.header_len, ==, 16);
  g_assert_cmpuint (h.payload_len, ==, 1);
  g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, -ENOENT);
}

/* ---- extensions ---- */

static CsRtpHeader
header_with_ext (guint16 profile, const guint8 *ext, gsize len)
{
  return (CsRtpHeader) { .ext_profile = profile, .ext = ext, .ext_len = len };
}

static void
test_ext_one_byte (void)
{
  /* id 1 len 1, padding byte, id 2 len 3, id 14 len 16 (max), padding. */
  static const guint8 ext[] = {
    0x10, 0xaa,
    0x00,
    0x22, 1, 2, 3,
    0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    0x00, 0x00, 0x00,
  };
  CsRtpHeader h = header_with_ext (0xbede, ext, sizeof ext);
  const guint8 *d = NULL;

  g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, 1);
  g_assert_cmpuint (d[0], ==, 0xaa);
  g_assert_cmpint (cs_rtp_ext_find (&h, 2, &d), ==, 3);
  g_assert_cmpmem (d, 3, ((const guint8[]) { 1, 2, 3 }), 3);
  g_assert_cmpint (cs_rtp_ext_find (&h, 14, &d), ==, 16);
  g_assert_true (d == ext + 8);
  g_assert_cmpint (cs_rtp_ext_find (&h, 3, &d), ==, -ENOENT);

  /* Ids outside 1..14 are caller errors for a one-byte block. */
  g_assert_cmpint (cs_rtp_ext_find (&h, 0, &d), ==, -EINVAL);
  g_assert_cmpint (cs_rtp_ext_find (&h, 15, &d), ==, -EINVAL);
  g_assert_cmpint (cs_rtp_ext_find (&h, 200, &d), ==, -EINVAL);

  /* Element running past the block. */
  CsRtpHeader trunc = header_with_ext (0xbede, ext, 5);
  g_assert_cmpint (cs_rtp_ext_find (&trunc, 2, &d), ==, -EINVAL);
  g_assert_cmpint (cs_rtp_ext_find (&trunc, 1, &d), ==, 1); /* found before the damage */

  /* ID 15 stops the walk: what follows is ignored. */
  static const guint8 stop[] = { 0xf0, 0x00, 0x10, 0x55 };
  CsRtpHeader hs = header_with_ext (0xbede, stop, sizeof stop);
  g_assert_cmpint (cs_rtp_ext_find (&hs, 1, &d), ==, -ENOENT);

  /* All padding. */
  static const guint8 zeros[8] = { 0 };
  CsRtpHeader hz = header_with_ext (0xbede, zeros, sizeof zeros);
  g_assert_cmpint (cs_rtp_ext_find (&hz, 1, &d), ==, -ENOENT);
}

static void
test_ext_two_byte (void)
{
  static const guint8 ext[] = {
    0x01, 0x00,                 /* id 1, empty */
    0x00, 0x00,                 /* padding */
    0x14, 0x03, 'a', 'b', 'c',  /* id 20 */
    0xff, 0x01, 0x7f,           /* id 255 */
  };
  const guint8 *d = NULL;
  for (guint app = 0; app < 16; app++) {
    CsRtpHeader h = header_with_ext (0x1000 | app, ext, sizeof ext);
    g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, 0);
    g_assert_true (d == ext + 2);
    g_assert_cmpint (cs_rtp_ext_find (&h, 20, &d), ==, 3);
    g_assert_cmpmem (d, 3, "abc", 3);
    g_assert_cmpint (cs_rtp_ext_find (&h, 255, &d), ==, 1);
    g_assert_cmpuint (d[0], ==, 0x7f);
    g_assert_cmpint (cs_rtp_ext_find (&h, 2, &d), ==, -ENOENT);
    g_assert_cmpint (cs_rtp_ext_find (&h, 0, &d), ==, -EINVAL);
  }

  /* Truncated: length byte missing, then data short by one. */
  CsRtpHeader h = header_with_ext (0x1000, ext, 5);
  g_assert_cmpint (cs_rtp_ext_find (&h, 20, &d), ==, -EINVAL);
  h = header_with_ext (0x1000, ext, 8);
  g_assert_cmpint (cs_rtp_ext_find (&h, 20, &d), ==, -EINVAL);
  h = header_with_ext (0x1000, ext, 10);
  g_assert_cmpint (cs_rtp_ext_find (&h, 255, &d), ==, -EINVAL);
}

static void
test_ext_other_profiles (void)
{
  static const guint8 ext[] = { 0x10, 0xaa, 0x00, 0x00 };
  const guint8 *d = NULL;
  CsRtpHeader h = header_with_ext (0x2000, ext, sizeof ext);
  g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, -ENOENT);
  h = header_with_ext (0xbedf, ext, sizeof ext);
  g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, -ENOENT);
  CsRtpHeader none = { 0 };
  g_assert_cmpint (cs_rtp_ext_find (&none, 1, &d), ==, -ENOENT);
  g_assert_null (d);
}

static void
test_ext_write (void)
{
  static const guint8 a[] = { 0x11 };
  static const guint8 b[] = { 1, 2, 3 };
  static const guint8 c[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
  const CsRtpExt exts[] = {
    { .id = 1, .len = sizeof a, .data = a },
    { .id = 7, .len = sizeof b, .data = b },
    { .id = 14, .len = sizeof c, .data = c },
  };
  /* 4 + (2 + 4 + 17 = 23 -> 24) = 28 bytes. */
  guint8 pkt[12 + 28 + 2];
  memcpy (pkt, minimal, sizeof minimal);
  pkt[0] |= 0x10;
  memset (pkt + 12, 0xee, sizeof pkt - 12);
  g_assert_cmpint (cs_rtp_ext_write (pkt + 12, 28, exts, G_N_ELEMENTS (exts)), ==, 28);
  g_assert_cmpuint (pkt[12 + 27], ==, 0); /* zero padding */
  pkt[40] = 'x';
  pkt[41] = 'y';

  CsRtpHeader h;
  const guint8 *d;
  g_assert_cmpint (cs_rtp_parse (pkt, sizeof pkt, &h), ==, 0);
  g_assert_cmpuint (h.ext_profile, ==, 0xbede);
  g_assert_cmpuint (h.ext_len, ==, 24);
  g_assert_cmpuint (h.payload_len, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (exts); i++) {
    g_assert_cmpint (cs_rtp_ext_find (&h, exts[i].id, &d), ==, exts[i].len);
    g_assert_cmpmem (d, exts[i].len, exts[i].data, exts[i].len);
  }

  /* Already aligned: 1 + 3 = 4, no padding. */
  guint8 out[64];
  const CsRtpExt one = { .id = 2, .len = 3, .data = b };
  g_assert_cmpint (cs_rtp_ext_write (out, sizeof out, &one, 1), ==, 8);
  g_assert_cmpmem (out, 8, ((const guint8[]) { 0xbe, 0xde, 0, 1, 0x22, 1, 2, 3 }), 8);

  /* n == 0 writes nothing. */
  g_assert_cmpint (cs_rtp_ext_write (out, 0, NULL, 0), ==, 0);
}

static void
test_ext_write_errors (void)
{
  static const guint8 data[17] = { 0 };
  guint8 out[64], before[64];
  memset (out, 0xcc, sizeof out);
  memcpy (before, out, sizeof out);

  const CsRtpExt bad[] = {
    { .id = 0, .len = 1, .data = data },
    { .id = 15, .len = 1, .data = data },
    { .id = 1, .len = 0, .data = data },
    { .id = 1, .len = 17, .data = data },
    { .id = 1, .len = 1, .data = NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    const CsRtpExt pair[] = { { .id = 3, .len = 2, .data = data }, bad[i] };
    g_assert_cmpint (cs_rtp_ext_write (out, sizeof out, pair, 2), ==, -EINVAL);
    g_assert_cmpmem (out, sizeof out, before, sizeof before);
  }

  /* Boundary: 4 + 2 (+2 padding) = 8 bytes. */
  const CsRtpExt one = { .id = 3, .len = 1, .data = data };
  for (gsize cap = 0; cap < 8; cap++) {
    g_assert_cmpint (cs_rtp_ext_write (out, cap, &one, 1), ==, -ENOSPC);
    g_assert_cmpmem (out, sizeof out, before, sizeof before);
  }
  g_assert_cmpint (cs_rtp_ext_write (out, 8, &one, 1), ==, 8);
}

/* ---- demux ---- */

static void
test_demux (void)
{
  guint8 b[2] = { 0x80, 0 };
  for (guint pt = 0; pt < 256; pt++) {
    b[1] = (guint8) pt;
    gboolean rtcp = (pt & 0x7f) >= 64 && (pt & 0x7f) <= 95;
    g_assert_cmpint (cs_rtp_is_rtcp (b, 2), ==, rtcp);
  }
  b[1] = 200;
  g_assert_true (cs_rtp_is_rtcp (b, 2));
  g_assert_false (cs_rtp_is_rtcp (b, 1));
  g_assert_false (cs_rtp_is_rtcp (NULL, 0));
  b[1] = 96;
  g_assert_false (cs_rtp_is_rtcp (b, 2));
  b[1] = 0x80 | 96; /* marker + PT 96 */
  g_assert_false (cs_rtp_is_rtcp (b, 2));

  for (guint v = 0; v < 256; v++) {
    guint8 x = (guint8) v;
    g_assert_cmpint (cs_rtp_looks_like_rtp_or_rtcp (&x, 1), ==, v >= 128 && v <= 191);
    g_assert_cmpint (cs_rtp_looks_like_dtls (&x, 1), ==, v >= 20 && v <= 63);
    g_assert_false (cs_rtp_looks_like_rtp_or_rtcp (&x, 0));
    g_assert_false (cs_rtp_looks_like_dtls (&x, 0));
  }
}

/* ---- VP8 ---- */

typedef struct {
  const char *name;
  guint8 bytes[8];
  gsize len;
  gboolean keyframe;
} Vp8Case;

static const Vp8Case vp8_cases[] = {
  { "plain key frame", { 0x10, 0x00 }, 2, TRUE },
  { "plain delta frame", { 0x10, 0x01 }, 2, FALSE },
  { "not a start", { 0x00, 0x00 }, 2, FALSE },
  { "partition 1", { 0x11, 0x00 }, 2, FALSE },
  { "N bit ignored", { 0x30, 0x00 }, 2, TRUE },
  { "X without fields", { 0x90, 0x00, 0x00 }, 3, TRUE },
  { "7-bit picture id", { 0x90, 0x80, 0x7f, 0x00 }, 4, TRUE },
  { "7-bit picture id, delta", { 0x90, 0x80, 0x7f, 0x01 }, 4, FALSE },
  { "15-bit picture id", { 0x90, 0x80, 0x81, 0x01, 0x00 }, 5, TRUE },
  /* With M=1 the byte after the picture id high byte is the id's low
   * byte, whose bit 0 must not be taken for the P bit. */
  { "15-bit id, low byte odd", { 0x90, 0x80, 0x80, 0x01, 0x9c }, 5, TRUE },
  { "15-bit picture id, delta", { 0x90, 0x80, 0x80, 0x00, 0x01 }, 5, FALSE },
  { "TL0PICIDX", { 0x90, 0x40, 0x01, 0x00 }, 4, TRUE },
  { "TID", { 0x90, 0x20, 0x01, 0x00 }, 4, TRUE },
  { "KEYIDX", { 0x90, 0x10, 0x01, 0x00 }, 4, TRUE },
  { "all fields", { 0x90, 0xf0, 0x80, 0x01, 0x05, 0x41, 0x00 }, 7, TRUE },
  { "all fields, delta", { 0x90, 0xf0, 0x80, 0x01, 0x05, 0x41, 0x01 }, 7, FALSE },
  { "all fields, T and K share a byte", { 0x90, 0xf0, 0x05, 0x05, 0x41, 0x9c }, 6, TRUE },
};

static void
test_vp8_keyframe (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (vp8_cases); i++) {
    const Vp8Case *c = &vp8_cases[i];
    g_test_message ("%s", c->name);
    g_autofree guint8 *p = g_memdup2 (c->bytes, c->len);
    g_assert_cmpint (cs_vp8_is_keyframe (p, c->len), ==, c->keyframe);
    /* Every truncation loses the frame header byte: never a key frame. */
    for (gsize len = 0; len < c->len; len++) {
      g_autofree guint8 *t = g_memdup2 (c->bytes, len ? len : 1);
      g_assert_false (cs_vp8_is_keyframe (t, len));
    }
  }
  g_assert_false (cs_vp8_is_keyframe (NULL, 0));
}

/* ---- real captures ---- */

static void
test_capture_vp8 (void)
{
  Capture c;
  capture_load (&c, "vp8.rtp");
  const guint8 *pkt;
  gsize len;
  guint n = 0, frame = 0;
  guint keyframes[8];
  guint n_keyframes = 0;
  guint16 prev_seq = 0, prev_twcc = 0;
  guint32 prev_ts = 0;
  gboolean prev_marker = TRUE;
  while (capture_next (&c, &pkt, &len)) {
    CsRtpHeader h;
    g_autofree guint8 *copy = NULL;
    g_assert_cmpint (parse_copy (pkt, len, &h, &copy), ==, 0);
    g_assert_cmpuint (h.header_len + h.payload_len + h.padding_len, ==, len);
    g_assert_cmpuint (h.ssrc, ==, 0x11223344);
    g_assert_cmpuint (h.pt, ==, 96);

    /* rtpvp8pay marks the last packet of each frame; a new timestamp
     * starts a frame exactly after a marked packet. */
    if (n > 0) {
      g_assert_cmpuint (h.seq, ==, (guint16) (prev_seq + 1));
      if (h.ts != prev_ts) {
        g_assert_true (prev_marker);
        frame++;
      } else {
        g_assert_false (prev_marker);
      }
    } else {
      g_assert_cmpuint (h.seq, ==, 65500);
    }

    /* transport-cc, one-byte header, id 1, 2 bytes, consecutive. */
    const guint8 *d;
    g_assert_cmpuint (h.ext_profile, ==, 0xbede);
    g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, 2);
    guint16 twcc = (guint16) ((d[0] << 8) | d[1]);
    if (n > 0)
      g_assert_cmpuint (twcc, ==, (guint16) (prev_twcc + 1));
    g_assert_cmpint (cs_rtp_ext_find (&h, 2, &d), ==, -ENOENT);

    if (cs_vp8_is_keyframe (copy + h.header_len, h.payload_len)) {
      g_assert_cmpuint (n_keyframes, <, G_N_ELEMENTS (keyframes));
      /* Only the first packet of a frame can start a key frame. */
      g_assert_true (n == 0 || h.ts != prev_ts);
      keyframes[n_keyframes++] = frame;
    }
    prev_seq = h.seq;
    prev_twcc = twcc;
    prev_ts = h.ts;
    prev_marker = h.marker;
    n++;
  }
  g_assert_true (prev_marker);
  g_assert_cmpuint (frame + 1, ==, 90);
  g_assert_cmpuint (prev_seq, <, 65500); /* crossed the wrap */
  g_assert_cmpuint (n_keyframes, ==, 3);
  g_assert_cmpuint (keyframes[0], ==, 0);
  g_assert_cmpuint (keyframes[1], ==, 30);
  g_assert_cmpuint (keyframes[2], ==, 60);
  g_free (c.data);
}

static void
test_capture_opus (void)
{
  Capture c;
  capture_load (&c, "opus.rtp");
  const guint8 *pkt;
  gsize len;
  guint n = 0;
  guint32 prev_ts = 0;
  gboolean wrapped = FALSE;
  while (capture_next (&c, &pkt, &len)) {
    CsRtpHeader h;
    g_autofree guint8 *copy = NULL;
    g_assert_cmpint (parse_copy (pkt, len, &h, &copy), ==, 0);
    g_assert_cmpuint (h.ssrc, ==, 0x55667788);
    g_assert_cmpuint (h.pt, ==, 111);
    g_assert_cmpuint (h.seq, ==, 1000 + n);
    g_assert_cmpuint (h.payload_len, >, 0);
    g_assert_false (cs_rtp_is_rtcp (copy, len));
    g_assert_true (cs_rtp_looks_like_rtp_or_rtcp (copy, len));

    /* 20 ms at 48 kHz; the first packet is shortened by the encoder's
     * lookahead, so the steady step starts at the second. */
    if (n == 0)
      g_assert_cmpuint (h.ts, ==, 4294960000u);
    else if (n >= 2)
      g_assert_cmpuint ((guint32) (h.ts - prev_ts), ==, 960);
    wrapped |= n > 0 && h.ts < prev_ts;

    /* A 23-byte MID only fits the two-byte header. */
    const guint8 *d;
    g_assert_cmpuint (h.ext_profile & 0xfff0, ==, 0x1000);
    g_assert_cmpint (cs_rtp_ext_find (&h, 20, &d), ==, 23);
    g_assert_cmpmem (d, 23, "audioconsultationtrack1", 23);
    g_assert_cmpint (cs_rtp_ext_find (&h, 1, &d), ==, -ENOENT);
    prev_ts = h.ts;
    n++;
  }
  /* 50 input buffers; opusenc drains its lookahead into one more. */
  g_assert_cmpuint (n, ==, 51);
  g_assert_true (wrapped);
  g_free (c.data);
}

static void
test_capture_truncations (void)
{
  /* Every prefix of every real packet either parses consistently or is
   * rejected; ASan checks nothing is read past it. */
  Capture c;
  capture_load (&c, "vp8.rtp");
  const guint8 *pkt;
  gsize len;
  guint n = 0;
  while (capture_next (&c, &pkt, &len) && n++ < 8) {
    for (gsize l = 0; l <= len; l++) {
      g_autofree guint8 *copy = g_memdup2 (pkt, l ? l : 1);
      CsRtpHeader h;
      int r = cs_rtp_parse (copy, l, &h);
      if (l < 12 + 4 + 4)  /* header + extension header + one word */
        g_assert_cmpint (r, ==, -EINVAL);
      else
        g_assert_cmpint (r, ==, 0);
      if (r == 0) {
        g_assert_cmpuint (h.header_len + h.payload_len, ==, l);
        cs_vp8_is_keyframe (copy + h.header_len, h.payload_len);
      }
    }
  }
  g_free (c.data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/rtp/parse/minimal", test_parse_minimal);
  g_test_add_func ("/media/rtp/parse/full", test_parse_full);
  g_test_add_func ("/media/rtp/parse/errors", test_parse_errors);
  g_test_add_func ("/media/rtp/parse/empty-extension", test_parse_empty_extension);
  g_test_add_func ("/media/rtp/ext/one-byte", test_ext_one_byte);
  g_test_add_func ("/media/rtp/ext/two-byte", test_ext_two_byte);
  g_test_add_func ("/media/rtp/ext/other-profiles", test_ext_other_profiles);
  g_test_add_func ("/media/rtp/ext/write", test_ext_write);
  g_test_add_func ("/media/rtp/ext/write-errors", test_ext_write_errors);
  g_test_add_func ("/media/rtp/demux", test_demux);
  g_test_add_func ("/media/rtp/vp8/keyframe", test_vp8_keyframe);
  g_test_add_func ("/media/rtp/capture/vp8", test_capture_vp8);
  g_test_add_func ("/media/rtp/capture/opus", test_capture_opus);
  g_test_add_func ("/media/rtp/capture/truncations", test_capture_truncations);
  return g_test_run ();
}
