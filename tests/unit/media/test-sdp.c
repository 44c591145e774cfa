/* Unit tests of media/sdp.c: real Chromium and Firefox offers captured by
 * tests/fixtures/sdp/capture-offers.mjs, every parser error path (as
 * mutations of a real offer), and answers that parse back to the same
 * facts. */
#include "media/sdp.h"

#include <string.h>

#define OPUS_PT_CHROMIUM 111
#define VP8_PT_CHROMIUM 96
#define RTX_PT_CHROMIUM 97
#define OPUS_PT_FIREFOX 109
#define VP8_PT_FIREFOX 120
#define RTX_PT_FIREFOX 124
#define MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"
#define TCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define ALL_FB (CS_SDP_FB_NACK | CS_SDP_FB_NACK_PLI | CS_SDP_FB_CCM_FIR | CS_SDP_FB_GOOG_REMB \
                | CS_SDP_FB_TRANSPORT_CC)

static const char *const fixtures[] = {
  "chromium-sendonly", "chromium-slots", "chromium-sendrecv",
  "chromium-recvonly", "chromium-gathered", "chromium-datachannel",
  "firefox-sendonly", "firefox-slots", "firefox-sendrecv",
  "firefox-recvonly", "firefox-gathered", "firefox-datachannel",
};

/* --- helpers ------------------------------------------------------------- */

static char *
load_fixture (const char *name)
{
  const char *root = g_getenv ("CS_SOURCE_DIR");
  g_assert_nonnull (root);   /* set by tests/unit/meson.build */
  g_autofree char *file = g_strconcat (name, ".sdp", NULL);
  g_autofree char *path = g_build_filename (root, "tests", "fixtures", "sdp", file, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* Parses @len bytes copied into a buffer of exactly that size, so ASan
 * catches any read past @len. */
static CsSdpResult
parse_len (const char *text, gsize len, CsSdpSession *out, char *err, gsize err_len)
{
  char *copy = g_memdup2 (text, len ? len : 1);
  CsSdpResult r = cs_sdp_parse (copy, len, out, err, err_len);
  g_free (copy);
  return r;
}

static CsSdpSession *
parse_ok (const char *text)
{
  CsSdpSession *s = g_new0 (CsSdpSession, 1);
  char err[128] = "";
  CsSdpResult r = parse_len (text, strlen (text), s, err, sizeof err);
  if (r != CS_SDP_OK)
    g_error ("parse failed: %s", err);
  return s;
}

static CsSdpSession *
parse_fixture (const char *name)
{
  g_autofree char *text = load_fixture (name);
  return parse_ok (text);
}

/* The value of the first line starting with @prefix in media section
 * @section (-1: session level) of @text, found by plain text search: an
 * independent reading of the fixture to compare the parser against. */
static char *
text_attr (const char *text, int section, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  int current = -1;
  for (guint i = 0; lines[i]; i++) {
    g_strchomp (lines[i]);
    if (g_str_has_prefix (lines[i], "m="))
      current++;
    else if (current == section && g_str_has_prefix (lines[i], prefix))
      return g_strdup (lines[i] + strlen (prefix));
  }
  return NULL;
}

#define ANY_SECTION G_MININT

/* The number of lines starting with @prefix in @section (or anywhere). */
static guint
text_count (const char *text, int section, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  int current = -1;
  guint n = 0;
  for (guint i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], "m="))
      current++;
    if ((section == ANY_SECTION || current == section) && g_str_has_prefix (lines[i], prefix))
      n++;
  }
  return n;
}

static const CsSdpCodec *
codec (const CsSdpMedia *m, const char *name, guint32 rate)
{
  int i = cs_sdp_find_codec (m, name, rate);
  g_assert_cmpint (i, >=, 0);
  return &m->codecs[i];
}

static void
assert_in_bundle (const CsSdpSession *s, const char *mid)
{
  for (guint i = 0; i < s->n_bundle; i++)
    if (g_str_equal (s->bundle[i], mid))
      return;
  g_error ("mid %s not in BUNDLE", mid);
}

/* --- fixtures: facts every offer shares --------------------------------- */

static void
test_fixtures_common (void)
{
  for (guint f = 0; f < G_N_ELEMENTS (fixtures); f++) {
    g_autofree char *text = load_fixture (fixtures[f]);
    g_autofree CsSdpSession *s = parse_ok (text);
    gboolean firefox = g_str_has_prefix (fixtures[f], "firefox");
    g_test_message ("%s", fixtures[f]);

    g_assert_cmpuint (s->n_media, ==, text_count (text, ANY_SECTION, "m="));
    g_assert_cmpuint (s->n_bundle, ==, s->n_media);
    g_assert_true (s->ice_trickle);
    g_assert_cmpstr (s->origin_username, ==, firefox ? "mozilla...THIS_IS_SDPARTA-99.0" : "-");
    g_autofree char *origin = text_attr (text, -1, "o=");
    g_autofree char *expected_origin = g_strdup_printf ("%s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " ",
                                                        s->origin_username, s->origin_sess_id,
                                                        s->origin_sess_version);
    g_assert_true (g_str_has_prefix (origin, expected_origin));

    for (guint i = 0; i < s->n_media; i++) {
      const CsSdpMedia *m = &s->media[i];
      g_autofree char *mid = text_attr (text, (int) i, "a=mid:");
      g_autofree char *ufrag = text_attr (text, (int) i, "a=ice-ufrag:");
      g_autofree char *pwd = text_attr (text, (int) i, "a=ice-pwd:");
      g_assert_cmpstr (m->mid, ==, mid);
      g_assert_cmpstr (s->bundle[i], ==, mid);
      g_assert_cmpstr (m->ice_ufrag, ==, ufrag);
      g_assert_cmpstr (m->ice_pwd, ==, pwd);
      g_assert_cmpstr (m->fingerprint_alg, ==, "sha-256");
      g_assert_cmpuint (strlen (m->fingerprint), ==, 32 * 3 - 1);
      g_assert_cmpstr (m->setup, ==, "actpass");
      g_assert_false (cs_sdp_media_is_rejected (m));
      /* Firefox offers the fingerprint once, at session level. */
      g_autofree char *fp = text_attr (text, firefox ? -1 : (int) i, "a=fingerprint:sha-256 ");
      g_assert_cmpstr (m->fingerprint, ==, fp);
      if (firefox)
        g_assert_null (text_attr (text, (int) i, "a=fingerprint:"));
      if (g_str_equal (m->kind, "application")) {
        g_assert_cmpstr (m->proto, ==, "UDP/DTLS/SCTP");
        g_assert_cmpstr (m->fmt, ==, "webrtc-datachannel");
        g_assert_cmpuint (m->n_codecs, ==, 0);
        continue;
      }
      g_assert_cmpstr (m->proto, ==, "UDP/TLS/RTP/SAVPF");
      g_assert_cmpstr (m->fmt, ==, "");
      g_assert_true (m->rtcp_mux);
      g_assert_cmpuint (m->n_codecs, ==, text_count (text, (int) i, "a=rtpmap:"));
      g_assert_cmpuint (m->n_extmaps, ==, text_count (text, (int) i, "a=extmap:"));
      g_assert_cmpuint (cs_sdp_find_extmap (m, MID_URI), ==, firefox ? 3 : 4);
      g_assert_cmpuint (cs_sdp_find_extmap (m, TCC_URI), ==, firefox ? 7 : 3);
      g_assert_cmpuint (cs_sdp_find_extmap (m, "urn:example:absent"), ==, 0);

      if (g_str_equal (m->kind, "audio")) {
        const CsSdpCodec *opus = codec (m, "opus", 48000);
        g_assert_cmpuint (opus->pt, ==, firefox ? OPUS_PT_FIREFOX : OPUS_PT_CHROMIUM);
        g_assert_cmpuint (opus->pt, ==, m->codecs[0].pt);   /* m-line order */
        g_assert_cmpuint (opus->channels, ==, 2);
        g_assert_cmpint (opus->apt, ==, -1);
        g_assert_cmpuint (opus->fb, ==, CS_SDP_FB_TRANSPORT_CC);
        g_assert_nonnull (strstr (opus->fmtp, "useinbandfec=1"));
        g_assert_cmpuint (codec (m, "PCMU", 8000)->pt, ==, 0);
      } else {
        g_assert_cmpstr (m->kind, ==, "video");
        const CsSdpCodec *vp8 = codec (m, "VP8", 90000);
        guint rtx_pt = firefox ? RTX_PT_FIREFOX : RTX_PT_CHROMIUM;
        g_assert_cmpuint (vp8->pt, ==, firefox ? VP8_PT_FIREFOX : VP8_PT_CHROMIUM);
        g_assert_cmpuint (vp8->pt, ==, m->codecs[0].pt);
        g_assert_cmpuint (vp8->channels, ==, 0);
        g_assert_cmpuint (vp8->fb, ==, ALL_FB);
        int rtx = cs_sdp_find_rtx (m, vp8->pt);
        g_assert_cmpint (rtx, >=, 0);
        g_assert_cmpuint (m->codecs[rtx].pt, ==, rtx_pt);
        g_assert_cmpint (m->codecs[rtx].apt, ==, vp8->pt);
        g_assert_cmpuint (m->codecs[rtx].fb, ==, 0);
        g_autofree char *rtx_fmtp_prefix = g_strdup_printf ("a=fmtp:%u ", rtx_pt);
        g_autofree char *rtx_fmtp = text_attr (text, (int) i, rtx_fmtp_prefix);
        g_assert_cmpstr (m->codecs[rtx].fmtp, ==, rtx_fmtp);
        /* Every rtx has an apt naming another codec of the m-line. */
        for (guint c = 0; c < m->n_codecs; c++) {
          if (!g_str_equal (m->codecs[c].name, "rtx"))
            continue;
          gboolean found = FALSE;
          for (guint d = 0; d < m->n_codecs; d++)
            found |= d != c && m->codecs[d].pt == m->codecs[c].apt;
          g_assert_true (found);
        }
      }
    }
  }
}

/* --- fixtures: per case ------------------------------------------------ */

static void
check_sender (const char *text, const CsSdpSession *s, guint i)
{
  const CsSdpMedia *m = &s->media[i];
  g_autofree char *msid = text_attr (text, (int) i, "a=msid:");
  g_autofree char *cname_line = text_attr (text, (int) i, "a=ssrc:");
  g_assert_nonnull (msid);
  g_autofree char *msid_parsed = g_strdup_printf ("%s %s", m->msid_stream, m->msid_track);
  g_assert_cmpstr (msid_parsed, ==, msid);
  g_assert_cmpstr (strstr (cname_line, "cname:") + 6, ==, m->cname);
  g_assert_cmpuint (m->ssrcs[0], ==, g_ascii_strtoull (cname_line, NULL, 10));
  if (g_str_equal (m->kind, "video")) {
    g_autofree char *fid = text_attr (text, (int) i, "a=ssrc-group:FID ");
    g_autofree char *fid_parsed = g_strdup_printf ("%u %u", m->fid_ssrc, m->fid_rtx_ssrc);
    g_assert_cmpstr (fid_parsed, ==, fid);
    g_assert_cmpuint (m->n_ssrcs, ==, 2);
    g_assert_cmpuint (m->ssrcs[0], ==, m->fid_ssrc);
    g_assert_cmpuint (m->ssrcs[1], ==, m->fid_rtx_ssrc);
  } else {
    g_assert_cmpuint (m->n_ssrcs, ==, 1);
    g_assert_cmpuint (m->fid_ssrc, ==, 0);
  }
  /* Both tracks come from one getUserMedia stream. */
  g_assert_cmpstr (m->msid_stream, ==, s->media[0].msid_stream);
}

static void
check_case (const char *browser, const char *name, CsSdpDirection publish)
{
  g_autofree char *fixture = g_strdup_printf ("%s-%s", browser, name);
  g_autofree char *text = load_fixture (fixture);
  g_autofree CsSdpSession *s = parse_ok (text);
  gboolean firefox = g_str_equal (browser, "firefox");
  gboolean slots = g_str_equal (name, "slots");

  g_assert_cmpuint (s->n_media, ==, slots ? 6 : 2);
  g_assert_true (s->extmap_allow_mixed);
  for (guint i = 0; i < s->n_media; i++) {
    const CsSdpMedia *m = &s->media[i];
    g_autofree char *mid = g_strdup_printf ("%u", i);
    g_assert_cmpstr (m->mid, ==, mid);
    assert_in_bundle (s, mid);
    g_assert_cmpstr (m->kind, ==, i % 2 ? "video" : "audio");
    if (i >= 2 || publish == CS_SDP_RECVONLY) {
      g_assert_cmpint (m->direction, ==, CS_SDP_RECVONLY);
      g_assert_cmpstr (m->msid_stream, ==, "");
      g_assert_cmpuint (m->fid_ssrc, ==, 0);
    } else {
      g_assert_cmpint (m->direction, ==, publish);
      check_sender (text, s, i);
    }
    /* Firefox's balanced bundle policy: later m-lines are bundle-only. */
    gboolean bundle_only = firefox && i >= 2;
    g_assert_cmpuint (m->port, ==, bundle_only ? 0 : 9);
    g_assert_cmpint (m->bundle_only, ==, bundle_only);
    g_assert_cmpuint (m->n_candidates, ==, 0);
    g_assert_false (m->end_of_candidates);
    /* Firefox offers rtcp-rsize on video only. */
    g_assert_cmpint (m->rtcp_rsize, ==, !firefox || g_str_equal (m->kind, "video"));
  }
}

static void
test_chromium_sendonly (void)
{
  check_case ("chromium", "sendonly", CS_SDP_SENDONLY);
}

static void
test_chromium_slots (void)
{
  check_case ("chromium", "slots", CS_SDP_SENDONLY);
}

static void
test_chromium_sendrecv (void)
{
  check_case ("chromium", "sendrecv", CS_SDP_SENDRECV);
}

static void
test_chromium_recvonly (void)
{
  check_case ("chromium", "recvonly", CS_SDP_RECVONLY);
}

static void
test_firefox_sendonly (void)
{
  check_case ("firefox", "sendonly", CS_SDP_SENDONLY);
}

static void
test_firefox_slots (void)
{
  check_case ("firefox", "slots", CS_SDP_SENDONLY);
}

static void
test_firefox_sendrecv (void)
{
  check_case ("firefox", "sendrecv", CS_SDP_SENDRECV);
}

static void
test_firefox_recvonly (void)
{
  check_case ("firefox", "recvonly", CS_SDP_RECVONLY);
}

static void
test_firefox_details (void)
{
  g_autofree char *text = load_fixture ("firefox-slots");
  g_autofree CsSdpSession *s = parse_ok (text);
  const CsSdpMedia *slot = &s->media[2];
  /* a=extmap:2/recvonly urn:...:csrc-audio-level */
  g_assert_nonnull (strstr (text, "a=extmap:2/recvonly "));
  g_assert_cmpuint (cs_sdp_find_extmap (slot, "urn:ietf:params:rtp-hdrext:csrc-audio-level"), ==, 2);
  /* Firefox writes a=fmtp before a=rtpmap. */
  const CsSdpCodec *opus = codec (slot, "opus", 48000);
  g_autofree char *fmtp = text_attr (text, 2, "a=fmtp:109 ");
  g_assert_cmpstr (opus->fmtp, ==, fmtp);
  /* recvonly slot still has a cname-only ssrc. */
  g_assert_cmpuint (slot->n_ssrcs, ==, 1);
  g_assert_cmpstr (slot->cname, !=, "");
  g_assert_cmpuint (codec (slot, "G722", 8000)->channels, ==, 1);
}

static void
test_gathered (void)
{
  for (guint b = 0; b < 2; b++) {
    const char *name = b ? "firefox-gathered" : "chromium-gathered";
    g_autofree char *text = load_fixture (name);
    g_autofree CsSdpSession *s = parse_ok (text);
    for (guint i = 0; i < s->n_media; i++) {
      const CsSdpMedia *m = &s->media[i];
      guint n = text_count (text, (int) i, "a=candidate:");
      g_assert_cmpuint (n, >, 0);
      g_assert_cmpuint (m->n_candidates, ==, MIN (n, CS_SDP_MAX_CANDIDATES));
      g_autofree char *cand = text_attr (text, (int) i, "a=candidate:");
      g_autofree char *expected = g_strconcat ("candidate:", cand, NULL);
      g_assert_cmpstr (m->candidates[0], ==, expected);
      g_assert_cmpint (m->end_of_candidates, ==, text_count (text, (int) i, "a=end-of-candidates") > 0);
    }
  }
}

/* LF instead of CRLF, no final newline, a blank line: same result. */
static void
test_line_endings (void)
{
  for (guint f = 0; f < G_N_ELEMENTS (fixtures); f++) {
    g_autofree char *text = load_fixture (fixtures[f]);
    g_autofree CsSdpSession *crlf = parse_ok (text);
    g_auto (GStrv) lines = g_strsplit (text, "\r\n", -1);
    g_autofree char *lf = g_strjoinv ("\n", lines);
    g_autofree CsSdpSession *lf_s = parse_ok (lf);
    g_assert_cmpmem (crlf, sizeof *crlf, lf_s, sizeof *lf_s);
    lf[strlen (lf) - 1] = '\0';
    g_autofree CsSdpSession *unterminated = parse_ok (lf);
    g_assert_cmpmem (crlf, sizeof *crlf, unterminated, sizeof *unterminated);
  }
}

/* Every prefix of a real offer: parses or fails cleanly, never reads past
 * the end (the buffer is exactly the prefix). */
static void
test_every_prefix (void)
{
  g_autofree char *text = load_fixture ("firefox-gathered");
  g_autofree CsSdpSession *s = g_new0 (CsSdpSession, 1);
  gsize len = strlen (text);
  guint ok = 0;
  for (gsize n = 0; n <= len; n++) {
    char err[96];
    CsSdpResult r = parse_len (text, n, s, err, sizeof err);
    if (r == CS_SDP_OK)
      ok++;
    else
      g_assert_true (g_str_has_prefix (err, "line "));
  }
  g_assert_cmpuint (ok, >, 0);
}

/* --- errors: mutations of a real offer ----------------------------------- */

/* Replaces the first occurrence of @from in @text by @to. */
static char *
replace (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);
  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

static char *
replace_all (const char *text, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);
  return g_strjoinv (to, parts);
}

static guint
line_of (const char *text, const char *needle)
{
  const char *at = strstr (text, needle);
  g_assert_nonnull (at);
  guint line = 1;
  for (const char *p = text; p < at; p++)
    line += *p == '\n';
  return line;
}

static void
assert_fails (const char *text, gsize len, CsSdpResult expected, guint line, const char *reason)
{
  g_autofree CsSdpSession *s = g_new (CsSdpSession, 1);
  memset (s, 0xA5, sizeof *s);
  g_autofree CsSdpSession *before = g_memdup2 (s, sizeof *s);
  char err[128] = "";
  CsSdpResult r = parse_len (text, len, s, err, sizeof err);
  g_test_message ("-> %d %s", r, err);
  g_assert_cmpint (r, ==, expected);
  g_autofree char *prefix = g_strdup_printf ("line %u: ", line);
  g_assert_true (g_str_has_prefix (err, prefix));
  g_assert_nonnull (strstr (err, reason));
  /* Output parameters are left untouched on failure. */
  g_assert_cmpmem (s, sizeof *s, before, sizeof *before);
  /* And err may be NULL. */
  g_assert_cmpint (parse_len (text, len, s, NULL, 0), ==, expected);
}

/* Replace the first @from by @to in a real offer; the parser must fail with
 * @code and @reason on the line of @from, or @extra lines further. */
typedef struct {
  const char *from, *to;
  CsSdpResult code;
  const char *reason;
  guint extra;
} Mutation;

static void
test_errors_mutations (void)
{
  /* One character more than each field holds. "\r\na=x:" keeps the rest
   * of the replaced line out of the way. */
  GString *hex = g_string_new ("a=fingerprint:sha-512 00");
  for (int i = 1; i < 64; i++)
    g_string_append (hex, ":AB");
  g_string_append (hex, "\r\na=x:");
  g_autofree char *long_fp = g_string_free (hex, FALSE);
  g_autofree char *x240 = g_strnfill (240, 'x');
  g_autofree char *x124 = g_strnfill (124, 'x');
  g_autofree char *x64 = g_strnfill (64, 'x');
  g_autofree char *x65 = g_strnfill (65, 'x');
  g_autofree char *x257 = g_strnfill (257, 'x');
  g_autofree char *long_mid = g_strconcat ("a=mid:", x64 + 31, NULL);
  g_autofree char *long_ufrag = g_strconcat ("a=ice-ufrag:", x257, "\r\na=x:", NULL);
  g_autofree char *long_fmtp = g_strconcat ("a=fmtp:111 ", x257 + 1, NULL);
  g_autofree char *long_candidate = g_strconcat ("a=mid:0\r\na=candidate:", x240, x64, NULL);
  g_autofree char *long_uri = g_strconcat ("a=extmap:1 urn:", x124, NULL);
  g_autofree char *long_cname = g_strconcat ("cname:", x64, "\r\na=x:", NULL);
  g_autofree char *long_msid = g_strconcat ("a=msid:", x65, "\r\na=x:", NULL);
  g_autofree char *long_name = g_strconcat ("a=rtpmap:111 ", x64 + 32, "/48000/2", NULL);
  g_autofree char *long_user = g_strconcat ("o=", x64, NULL);
  g_autofree char *long_kind = g_strconcat ("m=", x64 + 48, NULL);
  const Mutation cases[] = {
    /* syntax and truncated lines */
    { "v=0", "v=1", CS_SDP_ERR_SYNTAX, "expected v=0" },
    { "s=-", "v=0", CS_SDP_ERR_SYNTAX, "more than one v=" },
    { "s=-", "s", CS_SDP_ERR_SYNTAX, "not a <type>=<value> line" },
    { "s=-", "S=-", CS_SDP_ERR_SYNTAX, "not a <type>=<value> line" },
    { "t=0 0\r\n", "t=0\r0\r\n", CS_SDP_ERR_SYNTAX, "NUL or CR" },
    { "o=- ", "o=- 1 2 IN IP4\r\no=- ", CS_SDP_ERR_SYNTAX, "bad o=" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 op", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/0", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/0/2", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/-1", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 o:us/48000", CS_SDP_ERR_SYNTAX, "encoding name" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 /48000", CS_SDP_ERR_SYNTAX, "encoding name" },
    { "a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU/8000\r\na=rtpmap:0 PCMU/8000", CS_SDP_ERR_SYNTAX, "duplicate a=rtpmap", 1 },
    { "a=fmtp:63 111/111", "a=fmtp:63", CS_SDP_ERR_SYNTAX, "a=fmtp" },
    { "a=fmtp:97 apt=96", "a=fmtp:97 apt=", CS_SDP_ERR_SYNTAX, "bad apt" },
    { "a=fmtp:97 apt=96", "a=fmtp:97 apt=x", CS_SDP_ERR_SYNTAX, "bad apt" },
    { "a=fmtp:63 111/111", "a=fmtp:63 111/111\r\na=fmtp:63 1", CS_SDP_ERR_SYNTAX, "duplicate a=fmtp", 1 },
    { "a=rtcp-fb:111 transport-cc", "a=rtcp-fb:111", CS_SDP_ERR_SYNTAX, "bad a=rtcp-fb" },
    { "a=rtcp-fb:111 transport-cc", "a=rtcp-fb:** nack", CS_SDP_ERR_SYNTAX, "bad a=rtcp-fb" },
    { "a=extmap:1 ", "a=extmap:1/sideways ", CS_SDP_ERR_SYNTAX, "bad a=extmap" },
    { "a=extmap:1 ", "a=extmap:0 ", CS_SDP_ERR_SYNTAX, "bad a=extmap" },
    { "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=extmap:1", CS_SDP_ERR_SYNTAX, "a=extmap URI" },
    { "a=extmap:2 ", "a=extmap:1 ", CS_SDP_ERR_SYNTAX, "duplicate a=extmap id 1" },
    { "a=ssrc-group:FID ", "a=ssrc-group:FID 1 ", CS_SDP_ERR_SYNTAX, "bad a=ssrc-group:FID" },
    { "a=ssrc:", "a=ssrc:x", CS_SDP_ERR_SYNTAX, "bad a=ssrc" },
    { "a=mid:1", "a=mid:1\r\na=mid:2", CS_SDP_ERR_SYNTAX, "duplicate a=mid", 1 },
    { "a=mid:1", "a=mid:0", CS_SDP_ERR_SYNTAX, "duplicate mid \"0\"" },
    { "a=mid:1", "a=mid:a b", CS_SDP_ERR_SYNTAX, "a=mid" },
    { "a=sendonly", "a=sendonly\r\na=inactive", CS_SDP_ERR_SYNTAX, "direction", 1 },
    { "a=setup:actpass", "a=setup:maybe", CS_SDP_ERR_SYNTAX, "bad a=setup" },
    { "a=setup:actpass", "a=setup:actpass\r\na=setup:active", CS_SDP_ERR_SYNTAX, "duplicate a=setup", 1 },
    { "a=ice-ufrag:", "a=ice-ufrag:abc\r\na=x:", CS_SDP_ERR_SYNTAX, "bad a=ice-ufrag" },
    { "a=ice-ufrag:", "a=ice-ufrag:a_b_\r\na=x:", CS_SDP_ERR_SYNTAX, "bad a=ice-ufrag" },
    { "a=ice-pwd:", "a=ice-pwd:short\r\na=x:", CS_SDP_ERR_SYNTAX, "bad a=ice-pwd" },
    { "a=ice-ufrag:", "a=ice-ufrag:abcd\r\na=ice-ufrag:", CS_SDP_ERR_SYNTAX, "duplicate a=ice-ufrag", 1 },
    { "a=fingerprint:sha-256 ", "a=fingerprint:sha-256 ZZ:", CS_SDP_ERR_SYNTAX, "bad a=fingerprint value" },
    { "a=fingerprint:sha-256 ", "a=fingerprint:sha-256 0:", CS_SDP_ERR_SYNTAX, "bad a=fingerprint value" },
    { "a=fingerprint:sha-256 ", "a=fingerprint:sha-256", CS_SDP_ERR_SYNTAX, "bad a=fingerprint" },
    { "a=mid:0", "a=mid:0\r\na=candidate:", CS_SDP_ERR_SYNTAX, "a=candidate", 1 },
    { "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1:", CS_SDP_ERR_SYNTAX, "BUNDLE" },
    { "a=rtcp-mux", "a=group:BUNDLE 0", CS_SDP_ERR_SYNTAX, "a=group in a media section" },
    { "m=audio 9 ", "m=audio 9\r\nm=audio 9 ", CS_SDP_ERR_SYNTAX, "bad m= proto" },
    { "m=audio 9 UDP/TLS/RTP/SAVPF 111 ", "m=audio 9 UDP/TLS/RTP/SAVPF\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 ", CS_SDP_ERR_SYNTAX, "without formats" },
    { "m=audio 9 UDP/TLS/RTP/SAVPF 111 ", "m=audio 9 UDP/TLS/RTP/SAVPF 111 111 ", CS_SDP_ERR_SYNTAX, "duplicate payload type" },
    { "m=audio 9 UDP/TLS/RTP/SAVPF 111 ", "m=audio 9 UDP/TLS/RTP/SAVPF x ", CS_SDP_ERR_SYNTAX, "bad payload type" },
    { "m=audio 9 ", "m=a:b 9 ", CS_SDP_ERR_SYNTAX, "bad m= media type" },
    /* huge numbers */
    { "o=- ", "o=- 9", CS_SDP_ERR_SYNTAX, "session id" },    /* 20 digits > 2^64 */
    { "o=- ", "o=- 9999999", CS_SDP_ERR_SYNTAX, "session id" },
    { " 2 IN IP4", " 18446744073709551616 IN IP4", CS_SDP_ERR_SYNTAX, "session id" },
    { "m=audio 9 ", "m=audio 65536 ", CS_SDP_ERR_SYNTAX, "bad m= port" },
    { "m=audio 9 ", "m=audio -1 ", CS_SDP_ERR_SYNTAX, "bad m= port" },
    { "m=audio 9 ", "m=audio 9/x ", CS_SDP_ERR_SYNTAX, "bad m= port" },
    { "m=audio 9 UDP/TLS/RTP/SAVPF 111 ", "m=audio 9 UDP/TLS/RTP/SAVPF 128 ", CS_SDP_ERR_SYNTAX, "bad payload type" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/4294967296/2", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/256", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=rtpmap:111 opus/48000/2", "a=rtpmap:1111 opus/48000/2", CS_SDP_ERR_SYNTAX, "bad a=rtpmap" },
    { "a=fmtp:97 apt=96", "a=fmtp:97 apt=128", CS_SDP_ERR_SYNTAX, "bad apt" },
    { "a=fmtp:63 111/111", "a=fmtp:128 111/111", CS_SDP_ERR_SYNTAX, "bad a=fmtp" },
    { "a=rtcp-fb:111 transport-cc", "a=rtcp-fb:99999999999999999999999 nack", CS_SDP_ERR_SYNTAX, "bad a=rtcp-fb" },
    { "a=extmap:1 ", "a=extmap:256 ", CS_SDP_ERR_SYNTAX, "bad a=extmap" },
    { "a=ssrc:", "a=ssrc:42949672950", CS_SDP_ERR_SYNTAX, "bad a=ssrc" },
    { "a=ssrc-group:FID ", "a=ssrc-group:FID 9", CS_SDP_ERR_SYNTAX, "bad a=ssrc-group:FID" },
    /* overlong values: truncation is an error */
    { "a=mid:1", long_mid, CS_SDP_ERR_SYNTAX, "a=mid" },
    { "a=ice-ufrag:", long_ufrag, CS_SDP_ERR_SYNTAX, "bad a=ice-ufrag" },
    { "a=fmtp:111 minptime=10;useinbandfec=1", long_fmtp, CS_SDP_ERR_SYNTAX, "overlong a=fmtp" },
    { "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", long_uri, CS_SDP_ERR_SYNTAX, "overlong a=extmap URI" },
    { "cname:", long_cname, CS_SDP_ERR_SYNTAX, "overlong cname" },
    { "a=msid:", long_msid, CS_SDP_ERR_SYNTAX, "overlong a=msid" },
    { "a=rtpmap:111 opus/48000/2", long_name, CS_SDP_ERR_SYNTAX, "encoding name" },
    { "a=mid:0", long_candidate, CS_SDP_ERR_SYNTAX, "overlong a=candidate", 1 },
    { "a=fingerprint:sha-256 ", long_fp, CS_SDP_ERR_SYNTAX, "a=fingerprint too long" },
    { "o=-", long_user, CS_SDP_ERR_SYNTAX, "o= username" },
    { "m=audio", long_kind, CS_SDP_ERR_SYNTAX, "bad m= media type" },
  };
  g_autofree char *offer = load_fixture ("chromium-sendonly");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *text = replace (offer, cases[i].from, cases[i].to);
    g_test_message ("case %u: %s -> %.60s", i, cases[i].from, cases[i].to);
    guint line = line_of (offer, cases[i].from) + cases[i].extra;
    /* Whole-SDP checks are reported on the m= line. */
    if (strstr (cases[i].reason, "duplicate mid"))
      line = line_of (offer, "m=video");
    assert_fails (text, strlen (text), cases[i].code, line, cases[i].reason);
  }
}

static void
test_errors_missing (void)
{
  g_autofree char *offer = load_fixture ("chromium-sendonly");
  g_autofree char *ff = load_fixture ("firefox-sendonly");
  guint m0 = line_of (offer, "m=audio");
  guint m1 = line_of (offer, "m=video");

  g_autofree char *no_ufrag = replace (offer, "a=ice-ufrag:", "a=x-ice-ufrag:");
  assert_fails (no_ufrag, strlen (no_ufrag), CS_SDP_ERR_MISSING, m0, "m-line 0 has no a=ice-ufrag");
  const char *video = strstr (offer, "m=video");
  g_autofree char *video_tail = replace (video, "a=ice-ufrag:", "a=x-ice-ufrag:");
  g_autofree char *no_ufrag_video = g_strdup_printf ("%.*s%s", (int) (video - offer), offer, video_tail);
  assert_fails (no_ufrag_video, strlen (no_ufrag_video), CS_SDP_ERR_MISSING, m1, "m-line 1 has no a=ice-ufrag");
  g_autofree char *no_pwd = replace_all (offer, "a=ice-pwd:", "a=x-ice-pwd:");
  assert_fails (no_pwd, strlen (no_pwd), CS_SDP_ERR_MISSING, m0, "a=ice-pwd");
  g_autofree char *no_fp = replace_all (offer, "a=fingerprint:", "a=x-fingerprint:");
  assert_fails (no_fp, strlen (no_fp), CS_SDP_ERR_MISSING, m0, "m-line 0 has no a=fingerprint");
  /* Firefox: the session-level fingerprint is the only one. */
  g_autofree char *ff_no_fp = replace (ff, "a=fingerprint:", "a=x-fingerprint:");
  assert_fails (ff_no_fp, strlen (ff_no_fp), CS_SDP_ERR_MISSING, line_of (ff, "m=audio"), "a=fingerprint");

  g_autofree char *no_origin = replace (offer, "o=-", "x=-");
  CsSdpSession *s = g_new0 (CsSdpSession, 1);
  char err[128];
  g_assert_cmpint (parse_len (no_origin, strlen (no_origin), s, err, sizeof err), ==, CS_SDP_ERR_MISSING);
  g_assert_nonnull (strstr (err, "no o= line"));
  g_autofree char *session_only = g_strndup (offer, (gsize) (strstr (offer, "m=audio") - offer));
  g_assert_cmpint (parse_len (session_only, strlen (session_only), s, err, sizeof err), ==, CS_SDP_ERR_MISSING);
  g_assert_nonnull (strstr (err, "no m= line"));
  g_assert_cmpint (parse_len ("", 0, s, err, sizeof err), ==, CS_SDP_ERR_MISSING);
  g_assert_cmpstr (err, ==, "line 0: no v= line");
  g_assert_cmpint (parse_len ("\r\n\n", 3, s, err, sizeof err), ==, CS_SDP_ERR_MISSING);
  /* A NUL inside a line (the parser does not stop at NULs). */
  g_autofree char *nul = g_strdup (offer);
  nul[strstr (nul, "a=mid:0") - nul + 6] = '\0';
  assert_fails (nul, strlen (offer), CS_SDP_ERR_SYNTAX, line_of (offer, "a=mid:0"), "NUL");
  /* A tiny err buffer is still NUL-terminated. */
  char small[8];
  g_assert_cmpint (parse_len ("v=1", 3, s, small, sizeof small), ==, CS_SDP_ERR_SYNTAX);
  g_assert_cmpstr (small, ==, "line 1:");
  g_free (s);
}

/* Repeats the audio section of a real offer @n times with fresh mids. */
static char *
many_m_lines (const char *offer, guint n)
{
  const char *audio = strstr (offer, "m=audio");
  const char *video = strstr (offer, "m=video");
  g_autofree char *section = g_strndup (audio, (gsize) (video - audio));
  GString *s = g_string_new_len (offer, audio - offer);
  for (guint i = 0; i < n; i++) {
    g_autofree char *mid = g_strdup_printf ("a=mid:%u\r\n", i);
    g_autofree char *copy = replace (section, "a=mid:0\r\n", mid);
    g_string_append (s, copy);
  }
  return g_string_free (s, FALSE);
}

static void
test_errors_too_many (void)
{
  g_autofree char *offer = load_fixture ("chromium-sendonly");

  g_autofree char *max_media = many_m_lines (offer, CS_SDP_MAX_MEDIA);
  g_autofree CsSdpSession *s = parse_ok (max_media);
  g_assert_cmpuint (s->n_media, ==, CS_SDP_MAX_MEDIA);
  g_autofree char *too_many_media = many_m_lines (offer, CS_SDP_MAX_MEDIA + 1);
  /* reported on the 65th m= line */
  g_autofree char *mid64 = g_strdup_printf ("a=mid:%u\r\n", CS_SDP_MAX_MEDIA);
  guint m65 = line_of (too_many_media, mid64) - (line_of (offer, "a=mid:0") - line_of (offer, "m=audio"));
  assert_fails (too_many_media, strlen (too_many_media), CS_SDP_ERR_TOO_MANY, m65, "more than 64 m-lines");

  /* codecs: the audio m-line with 64 and 65 payload types */
  GString *pts = g_string_new ("m=audio 9 UDP/TLS/RTP/SAVPF 111");
  for (guint pt = 0; pt < CS_SDP_MAX_CODECS - 1; pt++)
    g_string_append_printf (pts, " %u", pt + (pt >= 111 ? 1 : 0));
  g_autofree char *max_codecs = replace (offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", pts->str);
  g_autofree CsSdpSession *s2 = parse_ok (max_codecs);
  g_assert_cmpuint (s2->media[0].n_codecs, ==, CS_SDP_MAX_CODECS);
  g_assert_cmpuint (codec (&s2->media[0], "opus", 48000)->pt, ==, 111);
  g_string_append (pts, " 127");
  g_autofree char *too_many_codecs = replace (offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", pts->str);
  g_string_free (pts, TRUE);
  assert_fails (too_many_codecs, strlen (too_many_codecs), CS_SDP_ERR_TOO_MANY, line_of (offer, "m=audio"),
                "more than 64 codecs");

  /* extmaps: the video m-line has 11 */
  const char *last_ext = "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
  GString *ext = g_string_new (last_ext);
  for (guint id = 0; id < CS_SDP_MAX_EXTMAPS - 11; id++)
    g_string_append_printf (ext, "\r\na=extmap:%u urn:x-%u", 100 + id, id);
  g_autofree char *max_ext = replace (offer, last_ext, ext->str);
  g_autofree CsSdpSession *s3 = parse_ok (max_ext);
  g_assert_cmpuint (s3->media[1].n_extmaps, ==, CS_SDP_MAX_EXTMAPS);
  g_string_append (ext, "\r\na=extmap:200 urn:one-too-many");
  g_autofree char *too_many_ext = replace (offer, last_ext, ext->str);
  g_string_free (ext, TRUE);
  assert_fails (too_many_ext, strlen (too_many_ext), CS_SDP_ERR_TOO_MANY,
                line_of (too_many_ext, "a=extmap:200"), "too many a=extmap");

  /* ssrcs: the video m-line, the last one, has 2 */
  GString *ssrc = g_string_new (offer);
  for (guint i = 0; i < CS_SDP_MAX_SSRCS - 2; i++)
    g_string_append_printf (ssrc, "a=ssrc:%u cname:x\r\n", 1000 + i);
  g_autofree CsSdpSession *s4 = parse_ok (ssrc->str);
  g_assert_cmpuint (s4->media[1].n_ssrcs, ==, CS_SDP_MAX_SSRCS);
  g_assert_cmpuint (s4->media[1].ssrcs[CS_SDP_MAX_SSRCS - 1], ==, 1000 + CS_SDP_MAX_SSRCS - 3);
  g_assert_cmpstr (s4->media[1].cname, !=, "x");   /* the first cname wins */
  g_string_append (ssrc, "a=ssrc:99 cname:x\r\n");
  assert_fails (ssrc->str, ssrc->len, CS_SDP_ERR_TOO_MANY, line_of (ssrc->str, "a=ssrc:99 "), "too many ssrcs");
  g_string_free (ssrc, TRUE);

  /* candidates past the limit are dropped, not an error */
  GString *cand = g_string_new ("a=mid:0");
  for (guint i = 0; i < CS_SDP_MAX_CANDIDATES + 3; i++)
    g_string_append_printf (cand, "\r\na=candidate:%u 1 udp 2122194687 127.0.0.1 %u typ host", i, 5000 + i);
  g_autofree char *many_cand = replace (offer, "a=mid:0", cand->str);
  g_string_free (cand, TRUE);
  g_autofree CsSdpSession *s5 = parse_ok (many_cand);
  g_assert_cmpuint (s5->media[0].n_candidates, ==, CS_SDP_MAX_CANDIDATES);
  g_assert_cmpstr (s5->media[0].candidates[7], ==, "candidate:7 1 udp 2122194687 127.0.0.1 5007 typ host");
}

/* Values exactly at their field's limit fit. */
static void
test_limits (void)
{
  g_autofree char *offer = load_fixture ("chromium-sendonly");
  g_autofree char *mid32 = replace_all (offer, "a=mid:1", "a=mid:0123456789abcdef0123456789abcdef");
  g_autofree char *text = replace (mid32, "BUNDLE 0 1", "BUNDLE 0 0123456789abcdef0123456789abcdef");
  g_autofree CsSdpSession *s = parse_ok (text);
  g_assert_cmpstr (s->media[1].mid, ==, "0123456789abcdef0123456789abcdef");
  g_assert_cmpstr (s->bundle[1], ==, s->media[1].mid);

  g_autofree char *ufrag = g_strnfill (256, 'u');
  g_autofree char *line = g_strconcat ("a=ice-ufrag:", ufrag, "\r\na=x:", NULL);
  g_autofree char *text2 = replace (offer, "a=ice-ufrag:", line);
  g_autofree CsSdpSession *s2 = parse_ok (text2);
  g_assert_cmpstr (s2->media[0].ice_ufrag, ==, ufrag);
  g_assert_cmpstr (s2->media[1].ice_ufrag, !=, ufrag);

  /* Lower-case fingerprints are normalised; sha-256 is preferred over an
   * earlier other hash. */
  const char *fp = strstr (offer, "a=fingerprint:sha-256 ") + strlen ("a=fingerprint:sha-256 ");
  g_autofree char *upper = g_strndup (fp, 95);
  g_autofree char *lower = g_ascii_strdown (upper, -1);
  g_autofree char *lower_line = g_strconcat ("a=fingerprint:SHA-1 00:11\r\na=fingerprint:SHA-256 ", lower, NULL);
  g_autofree char *prefix = g_strconcat ("a=fingerprint:sha-256 ", upper, NULL);
  g_autofree char *text3 = replace (offer, prefix, lower_line);
  g_autofree CsSdpSession *s3 = parse_ok (text3);
  g_assert_cmpstr (s3->media[0].fingerprint_alg, ==, "sha-256");
  g_assert_cmpstr (s3->media[0].fingerprint, ==, upper);
}

static void
test_rtcp_fb_wildcard (void)
{
  g_autofree char *offer = load_fixture ("chromium-sendonly");
  g_autofree char *text = replace (offer, "a=rtcp-fb:111 transport-cc", "a=rtcp-fb:* nack\r\na=rtcp-fb:111 transport-cc\r\na=rtcp-fb:* x-unknown");
  g_autofree CsSdpSession *s = parse_ok (text);
  const CsSdpMedia *m = &s->media[0];
  for (guint i = 0; i < m->n_codecs; i++)
    g_assert_cmpuint (m->codecs[i].fb & CS_SDP_FB_NACK, ==, CS_SDP_FB_NACK);
  g_assert_cmpuint (codec (m, "opus", 48000)->fb, ==, CS_SDP_FB_NACK | CS_SDP_FB_TRANSPORT_CC);
  g_assert_cmpuint (codec (m, "PCMU", 8000)->fb, ==, CS_SDP_FB_NACK);
  /* the video m-line is unaffected */
  g_assert_cmpuint (codec (&s->media[1], "rtx", 90000)->fb, ==, 0);
}

/* Tolerance: unknown attributes and lines, attributes for payload types
 * not in the m-line, session-level direction and transport. */
static void
test_tolerance (void)
{
  g_autofree char *offer = load_fixture ("chromium-sendonly");
  g_autofree char *t1 = replace (offer, "a=rtcp-mux", "a=rtcp-mux\r\na=x-future:1 2 3\r\na=x-flag\r\nb=AS:300\r\nz=what\r\na=rtpmap:55 foo/1\r\na=fmtp:55 a=b\r\na=rtcp-fb:55 nack");
  g_autofree CsSdpSession *a = parse_fixture ("chromium-sendonly");
  g_autofree CsSdpSession *b = parse_ok (t1);
  g_assert_cmpmem (a, sizeof *a, b, sizeof *b);

  /* Session-level direction and setup apply to m-lines without their own. */
  g_autofree char *t2 = replace_all (offer, "a=setup:actpass\r\n", "");
  g_autofree char *t3 = replace_all (t2, "a=sendonly\r\n", "");
  g_autofree char *t4 = replace (t3, "t=0 0\r\n", "t=0 0\r\na=recvonly\r\na=setup:active\r\n");
  g_autofree char *t5 = replace (t4, "a=mid:1\r\n", "a=mid:1\r\na=inactive\r\n");
  g_autofree CsSdpSession *c = parse_ok (t5);
  g_assert_cmpint (c->media[0].direction, ==, CS_SDP_RECVONLY);
  g_assert_cmpint (c->media[1].direction, ==, CS_SDP_INACTIVE);
  g_assert_cmpstr (c->media[0].setup, ==, "active");
  g_assert_cmpstr (c->media[1].setup, ==, "active");

  /* A disabled m-line needs no transport; default direction sendrecv. */
  g_autofree char *t6 = g_strconcat (offer, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n", NULL);
  g_autofree CsSdpSession *d = parse_ok (t6);
  g_assert_cmpuint (d->n_media, ==, 3);
  g_assert_true (cs_sdp_media_is_rejected (&d->media[2]));
  g_assert_cmpint (d->media[2].direction, ==, CS_SDP_SENDRECV);
  g_assert_cmpstr (d->media[2].mid, ==, "");
  g_assert_cmpuint (d->media[2].codecs[0].pt, ==, 96);
  g_assert_cmpstr (d->media[2].codecs[0].name, ==, "");
}

static void
test_queries (void)
{
  g_assert_cmpstr (cs_sdp_direction_to_string (CS_SDP_SENDRECV), ==, "sendrecv");
  g_assert_cmpstr (cs_sdp_direction_to_string (CS_SDP_SENDONLY), ==, "sendonly");
  g_assert_cmpstr (cs_sdp_direction_to_string (CS_SDP_RECVONLY), ==, "recvonly");
  g_assert_cmpstr (cs_sdp_direction_to_string (CS_SDP_INACTIVE), ==, "inactive");
  g_autofree CsSdpSession *s = parse_fixture ("chromium-slots");
  const CsSdpMedia *v = &s->media[1];
  g_assert_cmpint (cs_sdp_find_codec (v, "vp8", 90000), ==, 0);   /* case-insensitive */
  g_assert_cmpint (cs_sdp_find_codec (v, "VP8", 48000), ==, -1);
  g_assert_cmpint (cs_sdp_find_codec (v, "H266", 90000), ==, -1);
  g_assert_cmpint (cs_sdp_find_rtx (v, 96), ==, 1);
  g_assert_cmpint (cs_sdp_find_rtx (v, 120), ==, -1);   /* ulpfec has none */
  g_assert_cmpint (cs_sdp_find_rtx (v, 97), ==, -1);
}

/* --- answers ------------------------------------------------------------ */

static const char *const answer_candidates[] = {
  "candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host",
  "candidate:2 1 udp 1694498815 198.51.100.7 40000 typ srflx raddr 192.0.2.10 rport 40000",
  NULL,
};

/* The SFU's policy: publish m-lines answered recvonly, slots sendonly,
 * Opus / VP8 + RTX, everything else rejected. */
static CsSdpAnswerMedia *
decide (const CsSdpSession *offer)
{
  CsSdpAnswerMedia *media = g_new0 (CsSdpAnswerMedia, offer->n_media);
  for (guint i = 0; i < offer->n_media; i++) {
    const CsSdpMedia *m = &offer->media[i];
    CsSdpAnswerMedia *a = &media[i];
    gboolean video = g_str_equal (m->kind, "video");
    a->codec = g_str_equal (m->kind, "audio") ? cs_sdp_find_codec (m, "opus", 48000)
               : video ? cs_sdp_find_codec (m, "VP8", 90000) : -1;
    if (cs_sdp_media_is_rejected (m) || a->codec < 0) {
      a->rejected = TRUE;
      continue;
    }
    a->rtx = video ? cs_sdp_find_rtx (m, m->codecs[a->codec].pt) : -1;
    a->fb = CS_SDP_FB_NACK | CS_SDP_FB_NACK_PLI | CS_SDP_FB_TRANSPORT_CC;
    guint8 mid_ext = cs_sdp_find_extmap (m, MID_URI);
    for (guint e = 0; e < m->n_extmaps; e++)
      if (m->extmaps[e].id == mid_ext || g_str_equal (m->extmaps[e].uri, TCC_URI))
        a->ext_mask |= 1u << e;
    if (m->direction == CS_SDP_RECVONLY) {
      a->direction = CS_SDP_SENDONLY;
      a->ssrc = 0x10000 + i;
      a->rtx_ssrc = a->rtx >= 0 ? 0x20000 + i : 0;
      a->cname = "sfu";
      a->msid_stream = "p1";
      a->msid_track = i % 2 ? "p1:video" : "p1:audio";
    } else {
      a->direction = m->direction == CS_SDP_INACTIVE ? CS_SDP_INACTIVE : CS_SDP_RECVONLY;
    }
  }
  return media;
}

static void
check_answer (const CsSdpSession *offer, const CsSdpAnswerParams *params, const char *text)
{
  /* CRLF everywhere. */
  for (const char *p = text; (p = strchr (p, '\n')); p++)
    g_assert_cmpint (p[-1], ==, '\r');
  g_assert_true (g_str_has_prefix (text, "v=0\r\no=- 1234567890123 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"));
  g_assert_nonnull (strstr (text, "\r\na=msid-semantic: WMS *\r\n"));

  g_autofree CsSdpSession *ans = parse_ok (text);
  g_assert_cmpuint (ans->origin_sess_id, ==, params->sess_id);
  g_assert_cmpuint (ans->origin_sess_version, ==, params->sess_version);
  g_assert_true (ans->ice_trickle);
  g_assert_false (ans->extmap_allow_mixed);
  g_assert_cmpuint (ans->n_media, ==, offer->n_media);
  guint n_bundle = 0;
  gboolean first = TRUE;
  for (guint i = 0; i < offer->n_media; i++) {
    const CsSdpMedia *o = &offer->media[i];
    const CsSdpMedia *m = &ans->media[i];
    const CsSdpAnswerMedia *a = &params->media[i];
    g_assert_cmpstr (m->kind, ==, o->kind);
    g_assert_cmpstr (m->proto, ==, o->proto);
    g_assert_cmpstr (m->mid, ==, o->mid);
    if (a->rejected) {
      g_assert_cmpuint (m->port, ==, 0);
      g_assert_true (cs_sdp_media_is_rejected (m));
      g_assert_cmpstr (m->fmt, ==, o->fmt);
      continue;
    }
    g_assert_cmpstr (ans->bundle[n_bundle++], ==, o->mid);
    g_assert_cmpuint (m->port, ==, 9);
    g_assert_cmpint (m->direction, ==, a->direction);
    g_assert_true (m->rtcp_mux);
    g_assert_cmpint (m->rtcp_rsize, ==, o->rtcp_rsize);
    g_assert_cmpstr (m->ice_ufrag, ==, params->ice_ufrag);
    g_assert_cmpstr (m->ice_pwd, ==, params->ice_pwd);
    g_autofree char *fp = g_strdup_printf ("%s %s", m->fingerprint_alg, m->fingerprint);
    g_assert_cmpstr (fp, ==, params->fingerprint);
    g_assert_cmpstr (m->setup, ==, params->setup);

    const CsSdpCodec *oc = &o->codecs[a->codec];
    g_assert_cmpuint (m->n_codecs, ==, a->rtx >= 0 ? 2 : 1);
    g_assert_cmpuint (m->codecs[0].pt, ==, oc->pt);
    g_assert_cmpstr (m->codecs[0].name, ==, oc->name);
    g_assert_cmpuint (m->codecs[0].clock_rate, ==, oc->clock_rate);
    g_assert_cmpuint (m->codecs[0].channels, ==, oc->channels);
    g_assert_cmpstr (m->codecs[0].fmtp, ==, oc->fmtp);
    g_assert_cmpuint (m->codecs[0].fb, ==, a->fb & oc->fb);
    if (a->rtx >= 0) {
      g_assert_cmpuint (m->codecs[1].pt, ==, o->codecs[a->rtx].pt);
      g_assert_cmpint (cs_sdp_find_rtx (m, oc->pt), ==, 1);
      g_assert_cmpuint (m->codecs[1].fb, ==, 0);
    }
    guint n_ext = 0;
    for (guint e = 0; e < o->n_extmaps; e++) {
      if (!(a->ext_mask & (1u << e)))
        continue;
      g_assert_cmpuint (m->extmaps[n_ext].id, ==, o->extmaps[e].id);
      g_assert_cmpstr (m->extmaps[n_ext].uri, ==, o->extmaps[e].uri);
      n_ext++;
    }
    g_assert_cmpuint (m->n_extmaps, ==, n_ext);

    if (a->direction == CS_SDP_SENDONLY) {
      g_assert_cmpstr (m->msid_stream, ==, a->msid_stream);
      g_assert_cmpstr (m->msid_track, ==, a->msid_track);
      g_assert_cmpstr (m->cname, ==, a->cname);
      g_assert_cmpuint (m->ssrcs[0], ==, a->ssrc);
      if (a->rtx_ssrc) {
        g_assert_cmpuint (m->n_ssrcs, ==, 2);
        g_assert_cmpuint (m->fid_ssrc, ==, a->ssrc);
        g_assert_cmpuint (m->fid_rtx_ssrc, ==, a->rtx_ssrc);
        g_assert_cmpuint (m->ssrcs[1], ==, a->rtx_ssrc);
      } else {
        g_assert_cmpuint (m->n_ssrcs, ==, 1);
      }
    } else {
      g_assert_cmpuint (m->n_ssrcs, ==, 0);
      g_assert_cmpstr (m->msid_stream, ==, "");
    }

    guint n_cand = first && params->candidates ? g_strv_length ((char **) params->candidates) : 0;
    g_assert_cmpuint (m->n_candidates, ==, n_cand);
    for (guint c = 0; c < n_cand; c++)
      g_assert_cmpstr (m->candidates[c], ==, params->candidates[c]);
    g_assert_cmpint (m->end_of_candidates, ==, first && params->end_of_candidates);
    first = FALSE;
  }
  g_assert_cmpuint (ans->n_bundle, ==, n_bundle);
}

static void
test_answer_fixtures (void)
{
  for (guint f = 0; f < G_N_ELEMENTS (fixtures); f++) {
    g_autofree CsSdpSession *offer = parse_fixture (fixtures[f]);
    g_autofree CsSdpAnswerMedia *media = decide (offer);
    CsSdpAnswerParams params = {
      .sess_id = 1234567890123,
      .sess_version = 2,
      .ice_ufrag = "SfUf",
      .ice_pwd = "0123456789abcdefghijklmn",
      .fingerprint = "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
      .setup = "passive",
      .media = media,
      .candidates = answer_candidates,
      .end_of_candidates = TRUE,
    };
    g_test_message ("%s", fixtures[f]);
    g_autofree char *text = cs_sdp_write_answer (offer, &params);
    check_answer (offer, &params, text);
    gboolean has_app = strstr (fixtures[f], "datachannel") != NULL;
    if (has_app)
      g_assert_nonnull (strstr (text, "\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"));
    g_assert_null (strstr (text, "a=ice-lite"));
    g_assert_null (strstr (text, "goog-remb"));   /* not in params.fb */
  }
}

/* Rejections, no candidates, ice-lite, all-rejected (no BUNDLE). */
static void
test_answer_variants (void)
{
  g_autofree CsSdpSession *offer = parse_fixture ("chromium-slots");
  g_autofree CsSdpAnswerMedia *media = decide (offer);
  media[0].rejected = TRUE;    /* the first m-line rejected: candidates go to the second */
  media[3].rtx = -1;
  media[3].rtx_ssrc = 0;
  media[5].rtx_ssrc = 0;       /* rtx codec but no rtx ssrc */
  media[2].direction = CS_SDP_INACTIVE;
  media[2].ssrc = 0;
  CsSdpAnswerParams params = {
    .sess_id = 1234567890123,
    .sess_version = 2,
    .ice_ufrag = "SfUf",
    .ice_pwd = "0123456789abcdefghijklmn",
    .fingerprint = "sha-256 AB:CD",
    .setup = "active",
    .ice_lite = TRUE,
    .media = media,
    .candidates = answer_candidates,
  };
  g_autofree char *text = cs_sdp_write_answer (offer, &params);
  check_answer (offer, &params, text);
  g_assert_nonnull (strstr (text, "\r\na=ice-lite\r\n"));
  g_assert_nonnull (strstr (text, "\r\na=group:BUNDLE 1 2 3 4 5\r\n"));
  g_assert_nonnull (strstr (text, "\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\nm=video 9 "));
  g_assert_null (strstr (text, "a=end-of-candidates"));
  g_assert_null (strstr (text, "a=ssrc-group"));

  params.candidates = NULL;
  for (guint i = 0; i < offer->n_media; i++)
    media[i].rejected = TRUE;
  g_autofree char *none = cs_sdp_write_answer (offer, &params);
  check_answer (offer, &params, none);
  g_assert_null (strstr (none, "a=group:BUNDLE"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp/fixtures/common", test_fixtures_common);
  g_test_add_func ("/sdp/fixtures/chromium/sendonly", test_chromium_sendonly);
  g_test_add_func ("/sdp/fixtures/chromium/slots", test_chromium_slots);
  g_test_add_func ("/sdp/fixtures/chromium/sendrecv", test_chromium_sendrecv);
  g_test_add_func ("/sdp/fixtures/chromium/recvonly", test_chromium_recvonly);
  g_test_add_func ("/sdp/fixtures/firefox/sendonly", test_firefox_sendonly);
  g_test_add_func ("/sdp/fixtures/firefox/slots", test_firefox_slots);
  g_test_add_func ("/sdp/fixtures/firefox/sendrecv", test_firefox_sendrecv);
  g_test_add_func ("/sdp/fixtures/firefox/recvonly", test_firefox_recvonly);
  g_test_add_func ("/sdp/fixtures/firefox/details", test_firefox_details);
  g_test_add_func ("/sdp/fixtures/gathered", test_gathered);
  g_test_add_func ("/sdp/parse/line-endings", test_line_endings);
  g_test_add_func ("/sdp/parse/every-prefix", test_every_prefix);
  g_test_add_func ("/sdp/parse/rtcp-fb-wildcard", test_rtcp_fb_wildcard);
  g_test_add_func ("/sdp/parse/tolerance", test_tolerance);
  g_test_add_func ("/sdp/parse/limits", test_limits);
  g_test_add_func ("/sdp/parse/queries", test_queries);
  g_test_add_func ("/sdp/errors/mutations", test_errors_mutations);
  g_test_add_func ("/sdp/errors/missing", test_errors_missing);
  g_test_add_func ("/sdp/errors/too-many", test_errors_too_many);
  g_test_add_func ("/sdp/answer/fixtures", test_answer_fixtures);
  g_test_add_func ("/sdp/answer/variants", test_answer_variants);
  return g_test_run ();
}
