/* sdp.c — SDP offer parser and JSEP answer writer (see sdp.h).
 *
 * The parser walks the buffer line by line with explicit lengths (no NUL
 * termination assumed). Lines it does not use are skipped; every value it
 * keeps is range-checked, charset-checked and must fit its field, so
 * anything copied from an offer into our answer cannot break the SDP
 * framing (no CR/LF/space injection). */
#include "media/sdp.h"

#include <string.h>

/* A view into the input: SDP lines are not NUL-terminated. */
typedef struct {
  const char *p;
  gsize len;
} Span;

/* What the parser knows about a media section beyond CsSdpMedia. */
enum {
  SEEN_UFRAG = 1 << 0,
  SEEN_PWD = 1 << 1,
  SEEN_FINGERPRINT = 1 << 2,
  SEEN_SETUP = 1 << 3,
  SEEN_DIRECTION = 1 << 4,
  SEEN_MID = 1 << 5,
  SEEN_MSID = 1 << 6,
  SEEN_FID = 1 << 7,
  SEEN_CNAME = 1 << 8,
};

typedef struct {
  CsSdpSession *s;
  CsSdpMedia *m;             /* current media section, NULL at session level */
  /* session-level transport and direction, inherited at the end */
  CsSdpMedia session;
  guint session_seen;
  guint seen[CS_SDP_MAX_MEDIA];
  guint m_line[CS_SDP_MAX_MEDIA];  /* line numbers of the m= lines, for errors */
  /* per current section: which payload types had a=rtpmap / a=fmtp */
  guint8 rtpmap_seen[128];
  guint8 fmtp_seen[128];
  gboolean has_origin;
  gboolean has_bundle;
  guint line;
  char *err;
  gsize err_len;
} Parser;

static CsSdpResult G_GNUC_PRINTF (3, 4)
fail (Parser *ps, CsSdpResult code, const char *fmt, ...)
{
  if (ps->err && ps->err_len > 0) {
    char reason[160];
    va_list ap;
    va_start (ap, fmt);
    g_vsnprintf (reason, sizeof reason, fmt, ap);
    va_end (ap);
    g_snprintf (ps->err, ps->err_len, "line %u: %s", ps->line, reason);
  }
  return code;
}

/* --- spans and character classes ------------------------------------- */

static gboolean
span_eq (Span s, const char *lit)
{
  gsize n = strlen (lit);
  return s.len == n && memcmp (s.p, lit, n) == 0;
}

/* Pops the next space-separated token (runs of spaces are one separator). */
static Span
span_token (Span *s)
{
  while (s->len > 0 && s->p[0] == ' ') {
    s->p++;
    s->len--;
  }
  Span tok = { s->p, 0 };
  while (tok.len < s->len && s->p[tok.len] != ' ')
    tok.len++;
  s->p += tok.len;
  s->len -= tok.len;
  return tok;
}

static Span
span_trim (Span s)
{
  while (s.len > 0 && s.p[0] == ' ') {
    s.p++;
    s.len--;
  }
  while (s.len > 0 && s.p[s.len - 1] == ' ')
    s.len--;
  return s;
}

/* Splits @s at the first @sep: @head before it, @tail after it. Without
 * @sep, @head is all of @s, @tail is empty and FALSE is returned. */
static gboolean
span_split (Span s, char sep, Span *head, Span *tail)
{
  const char *at = memchr (s.p, sep, s.len);
  if (!at) {
    *head = s;
    *tail = (Span) { s.p + s.len, 0 };
    return FALSE;
  }
  *head = (Span) { s.p, (gsize) (at - s.p) };
  *tail = (Span) { at + 1, s.len - (gsize) (at - s.p) - 1 };
  return TRUE;
}

/* Decimal digits only (no sign, no spaces), value <= @max. */
static gboolean
parse_uint (Span s, guint64 max, guint64 *out)
{
  if (s.len == 0 || s.len > 20)
    return FALSE;
  guint64 v = 0;
  for (gsize i = 0; i < s.len; i++) {
    if (!g_ascii_isdigit (s.p[i]))
      return FALSE;
    guint d = (guint) (s.p[i] - '0');
    if (v > (G_MAXUINT64 - d) / 10)
      return FALSE;
    v = v * 10 + d;
  }
  if (v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

/* RFC 8866 token-char. */
static gboolean
is_token_char (char c)
{
  return c == '!' || (c >= '#' && c <= '\'') || c == '*' || c == '+' || c == '-' || c == '.'
      || g_ascii_isalnum (c) || (c >= '^' && c <= '~');
}

/* RFC 8839 ice-char. */
static gboolean
is_ice_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

static gboolean
is_visible (char c)
{
  return c > ' ' && c < 0x7f;
}

static gboolean
is_printable (char c)
{
  return c >= ' ' && c < 0x7f;
}

static gboolean
is_proto_char (char c)
{
  return is_token_char (c) || c == '/';
}

static gboolean
span_all (Span s, gboolean (*ok) (char))
{
  for (gsize i = 0; i < s.len; i++)
    if (!ok (s.p[i]))
      return FALSE;
  return TRUE;
}

/* Copies @s into @dst if it is non-empty, made of @ok characters and fits
 * (with its NUL) in @size bytes; never truncates. */
static gboolean
copy_checked (char *dst, gsize size, Span s, gboolean (*ok) (char))
{
  if (s.len == 0 || s.len >= size || !span_all (s, ok))
    return FALSE;
  memcpy (dst, s.p, s.len);
  dst[s.len] = '\0';
  return TRUE;
}

#define COPY(field, span, ok) copy_checked ((field), sizeof (field), (span), (ok))

/* --- attribute handlers ------------------------------------------------ */

static CsSdpCodec *
find_pt (CsSdpMedia *m, guint64 pt)
{
  for (guint i = 0; i < m->n_codecs; i++)
    if (m->codecs[i].pt == pt)
      return &m->codecs[i];
  return NULL;
}

/* The transport attributes are accepted at both levels: @t is the current
 * media section or the session-level template, @seen its SEEN_* flags. */
static CsSdpResult
parse_fingerprint (Parser *ps, CsSdpMedia *t, guint *seen, Span v)
{
  Span alg = span_token (&v);
  Span hex = span_token (&v);
  if (span_token (&v).len != 0 || alg.len == 0 || hex.len == 0)
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=fingerprint");
  /* RFC 8122: pairs of hex digits separated by colons. */
  if (hex.len % 3 != 2)
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=fingerprint value");
  for (gsize i = 0; i < hex.len; i++)
    if (i % 3 == 2 ? hex.p[i] != ':' : !g_ascii_isxdigit (hex.p[i]))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=fingerprint value");
  if (alg.len >= sizeof t->fingerprint_alg || !span_all (alg, is_token_char))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=fingerprint hash function");
  if (hex.len >= sizeof t->fingerprint)
    return fail (ps, CS_SDP_ERR_SYNTAX, "a=fingerprint too long");
  /* Several are allowed (RFC 8122 §5); keep the first, or sha-256 (which
   * every browser offers) if it comes later. */
  gboolean sha256 = alg.len == 7 && g_ascii_strncasecmp (alg.p, "sha-256", 7) == 0;
  if ((*seen & SEEN_FINGERPRINT) && (!sha256 || strcmp (t->fingerprint_alg, "sha-256") == 0))
    return CS_SDP_OK;
  for (gsize i = 0; i < alg.len; i++)
    t->fingerprint_alg[i] = g_ascii_tolower (alg.p[i]);
  t->fingerprint_alg[alg.len] = '\0';
  for (gsize i = 0; i < hex.len; i++)
    t->fingerprint[i] = g_ascii_toupper (hex.p[i]);
  t->fingerprint[hex.len] = '\0';
  *seen |= SEEN_FINGERPRINT;
  return CS_SDP_OK;
}

static gboolean
is_transport_attribute (Span name)
{
  return span_eq (name, "ice-ufrag") || span_eq (name, "ice-pwd") || span_eq (name, "fingerprint")
      || span_eq (name, "setup") || span_eq (name, "ice-options");
}

/* The attributes of is_transport_attribute(), legal at both levels. */
static CsSdpResult
parse_transport (Parser *ps, CsSdpMedia *t, guint *seen, Span name, Span v)
{
  if (span_eq (name, "ice-ufrag") || span_eq (name, "ice-pwd")) {
    gboolean ufrag = name.len == 9;
    guint flag = ufrag ? SEEN_UFRAG : SEEN_PWD;
    char *dst = ufrag ? t->ice_ufrag : t->ice_pwd;
    /* RFC 8839 §5.4: ufrag 4..256, pwd 22..256 ice-chars. */
    if (*seen & flag)
      return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate a=%s", ufrag ? "ice-ufrag" : "ice-pwd");
    if (v.len < (ufrag ? 4u : 22u) || !copy_checked (dst, sizeof t->ice_ufrag, v, is_ice_char))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=%s", ufrag ? "ice-ufrag" : "ice-pwd");
    *seen |= flag;
    return CS_SDP_OK;
  }
  if (span_eq (name, "fingerprint"))
    return parse_fingerprint (ps, t, seen, v);
  if (span_eq (name, "setup")) {
    if (*seen & SEEN_SETUP)
      return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate a=setup");
    if (!span_eq (v, "actpass") && !span_eq (v, "active") && !span_eq (v, "passive")
        && !span_eq (v, "holdconn"))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=setup");
    memcpy (t->setup, v.p, v.len);
    t->setup[v.len] = '\0';
    *seen |= SEEN_SETUP;
    return CS_SDP_OK;
  }
  /* a=ice-options: Chromium writes it per m-line, Firefox per session. */
  for (Span tok = span_token (&v); tok.len > 0; tok = span_token (&v))
    if (span_eq (tok, "trickle"))
      ps->s->ice_trickle = TRUE;
  return CS_SDP_OK;
}

static CsSdpResult
parse_direction (Parser *ps, guint *seen, CsSdpDirection *dir, CsSdpDirection value)
{
  if (*seen & SEEN_DIRECTION)
    return fail (ps, CS_SDP_ERR_SYNTAX, "more than one direction attribute");
  *seen |= SEEN_DIRECTION;
  *dir = value;
  return CS_SDP_OK;
}

static gboolean
parse_direction_name (Span v, CsSdpDirection *dir)
{
  static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    if (span_eq (v, names[i])) {
      *dir = (CsSdpDirection) i;
      return TRUE;
    }
  }
  return FALSE;
}

static CsSdpResult
parse_bundle (Parser *ps, Span v)
{
  Span semantics = span_token (&v);
  /* Only the first BUNDLE group is kept (JSEP offers have one). */
  if (!span_eq (semantics, "BUNDLE") || ps->has_bundle)
    return CS_SDP_OK;
  CsSdpSession *s = ps->s;
  for (Span mid = span_token (&v); mid.len > 0; mid = span_token (&v)) {
    if (s->n_bundle == CS_SDP_MAX_MEDIA)
      return fail (ps, CS_SDP_ERR_TOO_MANY, "too many mids in a=group:BUNDLE");
    if (!COPY (s->bundle[s->n_bundle], mid, is_token_char))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad mid in a=group:BUNDLE");
    s->n_bundle++;
  }
  ps->has_bundle = TRUE;
  return CS_SDP_OK;
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
static CsSdpResult
parse_rtpmap (Parser *ps, Span v)
{
  guint64 pt, clock, channels = 0;
  Span pt_s = span_token (&v);
  Span enc = span_token (&v);
  Span name, rest, clock_s, channels_s;
  if (span_token (&v).len != 0 || !parse_uint (pt_s, 127, &pt))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=rtpmap");
  span_split (enc, '/', &name, &rest);
  gboolean has_channels = span_split (rest, '/', &clock_s, &channels_s);
  if (!parse_uint (clock_s, G_MAXUINT32, &clock) || clock == 0
      || (has_channels && (!parse_uint (channels_s, G_MAXUINT8, &channels) || channels == 0)))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=rtpmap");
  /* Like libwebrtc, ignore rtpmaps of payload types not in the m-line. */
  CsSdpCodec *c = find_pt (ps->m, pt);
  if (!c)
    return CS_SDP_OK;
  if (ps->rtpmap_seen[pt])
    return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate a=rtpmap:%u", (guint) pt);
  if (!COPY (c->name, name, is_token_char))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=rtpmap encoding name");
  ps->rtpmap_seen[pt] = 1;
  c->clock_rate = (guint32) clock;
  c->channels = (guint8) channels;
  return CS_SDP_OK;
}

/* a=fmtp:<pt> <params>: kept verbatim; apt= is extracted for rtx. */
static CsSdpResult
parse_fmtp (Parser *ps, Span v)
{
  guint64 pt, apt;
  Span pt_s = span_token (&v);
  Span params = span_trim (v);
  if (!parse_uint (pt_s, 127, &pt))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=fmtp");
  CsSdpCodec *c = find_pt (ps->m, pt);
  if (!c)
    return CS_SDP_OK;
  if (ps->fmtp_seen[pt])
    return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate a=fmtp:%u", (guint) pt);
  if (!COPY (c->fmtp, params, is_printable))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong a=fmtp parameters");
  ps->fmtp_seen[pt] = 1;
  Span param, key, value;
  while (params.len > 0) {
    span_split (params, ';', &param, &params);
    if (span_split (span_trim (param), '=', &key, &value) && span_eq (span_trim (key), "apt")) {
      if (!parse_uint (span_trim (value), 127, &apt))
        return fail (ps, CS_SDP_ERR_SYNTAX, "bad apt in a=fmtp");
      c->apt = (gint) apt;
    }
  }
  return CS_SDP_OK;
}

/* a=rtcp-fb:<pt|*> <type> [<subtype>]; unknown feedback is ignored. */
static CsSdpResult
parse_rtcp_fb (Parser *ps, Span v)
{
  static const struct {
    const char *type, *param;
    guint flag;
  } known[] = {
    { "nack", NULL, CS_SDP_FB_NACK },
    { "nack", "pli", CS_SDP_FB_NACK_PLI },
    { "ccm", "fir", CS_SDP_FB_CCM_FIR },
    { "goog-remb", NULL, CS_SDP_FB_GOOG_REMB },
    { "transport-cc", NULL, CS_SDP_FB_TRANSPORT_CC },
  };
  guint64 pt = 0;
  Span pt_s = span_token (&v);
  Span type = span_token (&v);
  Span param = span_token (&v);
  gboolean wildcard = span_eq (pt_s, "*");
  if ((!wildcard && !parse_uint (pt_s, 127, &pt)) || type.len == 0)
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=rtcp-fb");
  guint flag = 0;
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (span_eq (type, known[i].type)
        && (known[i].param ? span_eq (param, known[i].param) : param.len == 0))
      flag = known[i].flag;
  CsSdpMedia *m = ps->m;
  for (guint i = 0; i < m->n_codecs; i++)
    if (wildcard || m->codecs[i].pt == pt)
      m->codecs[i].fb |= flag;
  return CS_SDP_OK;
}

/* a=extmap:<id>[/<direction>] <uri> [<attributes>] */
static CsSdpResult
parse_extmap (Parser *ps, Span v)
{
  CsSdpMedia *m = ps->m;
  guint64 id;
  CsSdpDirection dir;
  Span id_s, dir_s;
  gboolean has_dir = span_split (span_token (&v), '/', &id_s, &dir_s);
  Span uri = span_token (&v);
  /* RFC 8285: 1-14 (one-byte) and 1-255 (two-byte) are usable ids. */
  if (!parse_uint (id_s, 255, &id) || id == 0 || (has_dir && !parse_direction_name (dir_s, &dir)))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=extmap");
  for (guint i = 0; i < m->n_extmaps; i++)
    if (m->extmaps[i].id == id)
      return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate a=extmap id %u", (guint) id);
  if (m->n_extmaps == CS_SDP_MAX_EXTMAPS)
    return fail (ps, CS_SDP_ERR_TOO_MANY, "too many a=extmap");
  CsSdpExtmap *e = &m->extmaps[m->n_extmaps];
  if (!COPY (e->uri, uri, is_visible))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong a=extmap URI");
  e->id = (guint8) id;
  m->n_extmaps++;
  return CS_SDP_OK;
}

/* <stream> [<track>] as in a=msid and a=ssrc:<n> msid: (RFC 8830). Ids
 * are token-chars in the RFC, but browsers accept any visible character
 * (our own track ids contain ':'), so do we. */
static gboolean
parse_msid_value (CsSdpMedia *m, Span v)
{
  Span stream = span_token (&v);
  Span track = span_token (&v);
  char s[sizeof m->msid_stream] = "";
  char t[sizeof m->msid_track] = "";
  if (span_token (&v).len != 0 || !COPY (s, stream, is_visible)
      || (track.len > 0 && !COPY (t, track, is_visible)))
    return FALSE;
  memcpy (m->msid_stream, s, sizeof s);
  memcpy (m->msid_track, t, sizeof t);
  return TRUE;
}

static CsSdpResult
add_ssrc (Parser *ps, guint32 ssrc)
{
  CsSdpMedia *m = ps->m;
  for (guint i = 0; i < m->n_ssrcs; i++)
    if (m->ssrcs[i] == ssrc)
      return CS_SDP_OK;
  if (m->n_ssrcs == CS_SDP_MAX_SSRCS)
    return fail (ps, CS_SDP_ERR_TOO_MANY, "too many ssrcs");
  m->ssrcs[m->n_ssrcs++] = ssrc;
  return CS_SDP_OK;
}

/* a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576) */
static CsSdpResult
parse_ssrc (Parser *ps, guint *seen, Span v)
{
  CsSdpMedia *m = ps->m;
  guint64 ssrc;
  Span attr, name, value;
  if (!parse_uint (span_token (&v), G_MAXUINT32, &ssrc))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=ssrc");
  CsSdpResult r = add_ssrc (ps, (guint32) ssrc);
  if (r != CS_SDP_OK)
    return r;
  attr = span_trim (v);
  span_split (attr, ':', &name, &value);
  if (span_eq (name, "cname")) {
    /* All ssrcs of one source share the cname; keep the first. */
    if (*seen & SEEN_CNAME)
      return CS_SDP_OK;
    if (!COPY (m->cname, value, is_visible))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong cname");
    *seen |= SEEN_CNAME;
  } else if (span_eq (name, "msid")) {
    /* a=msid is authoritative; this is the legacy (Plan B) spelling. */
    if (*seen & SEEN_MSID)
      return CS_SDP_OK;
    if (!parse_msid_value (m, value))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad msid in a=ssrc");
  }
  return CS_SDP_OK;
}

/* a=ssrc-group:FID <primary> <rtx> (RFC 5576, RFC 4588) */
static CsSdpResult
parse_ssrc_group (Parser *ps, guint *seen, Span v)
{
  Span semantics = span_token (&v);
  if (!span_eq (semantics, "FID"))
    return CS_SDP_OK;
  guint64 ssrc[2];
  if (!parse_uint (span_token (&v), G_MAXUINT32, &ssrc[0])
      || !parse_uint (span_token (&v), G_MAXUINT32, &ssrc[1]) || span_token (&v).len != 0)
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad a=ssrc-group:FID");
  for (guint i = 0; i < 2; i++) {
    CsSdpResult r = add_ssrc (ps, (guint32) ssrc[i]);
    if (r != CS_SDP_OK)
      return r;
  }
  /* Simulcast with RTX has one FID group per layer: keep the first. */
  if (!(*seen & SEEN_FID)) {
    ps->m->fid_ssrc = (guint32) ssrc[0];
    ps->m->fid_rtx_ssrc = (guint32) ssrc[1];
    *seen |= SEEN_FID;
  }
  return CS_SDP_OK;
}

static CsSdpResult
parse_media_attribute (Parser *ps, Span name, Span v, gboolean has_value)
{
  CsSdpMedia *m = ps->m;
  guint *seen = &ps->seen[ps->s->n_media - 1];
  CsSdpDirection dir;

  if (!has_value && parse_direction_name (name, &dir))
    return parse_direction (ps, seen, &m->direction, dir);
  if (!has_value && span_eq (name, "rtcp-mux")) {
    m->rtcp_mux = TRUE;
    return CS_SDP_OK;
  }
  if (!has_value && span_eq (name, "rtcp-rsize")) {
    m->rtcp_rsize = TRUE;
    return CS_SDP_OK;
  }
  if (!has_value && span_eq (name, "bundle-only")) {
    m->bundle_only = TRUE;
    return CS_SDP_OK;
  }
  if (!has_value && span_eq (name, "end-of-candidates")) {
    m->end_of_candidates = TRUE;
    return CS_SDP_OK;
  }
  if (!has_value && span_eq (name, "extmap-allow-mixed")) {
    ps->s->extmap_allow_mixed = TRUE;
    return CS_SDP_OK;
  }
  if (!has_value)
    return CS_SDP_OK;

  if (span_eq (name, "mid")) {
    if (*seen & SEEN_MID)
      return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate a=mid");
    if (!COPY (m->mid, v, is_token_char))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong a=mid");
    *seen |= SEEN_MID;
    return CS_SDP_OK;
  }
  if (span_eq (name, "rtpmap"))
    return parse_rtpmap (ps, v);
  if (span_eq (name, "fmtp"))
    return parse_fmtp (ps, v);
  if (span_eq (name, "rtcp-fb"))
    return parse_rtcp_fb (ps, v);
  if (span_eq (name, "extmap"))
    return parse_extmap (ps, v);
  if (span_eq (name, "ssrc"))
    return parse_ssrc (ps, seen, v);
  if (span_eq (name, "ssrc-group"))
    return parse_ssrc_group (ps, seen, v);
  if (span_eq (name, "msid")) {
    /* A track may be in several streams; the first is the one we use. */
    if (*seen & SEEN_MSID)
      return CS_SDP_OK;
    if (!parse_msid_value (m, v))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong a=msid");
    *seen |= SEEN_MSID;
    return CS_SDP_OK;
  }
  if (span_eq (name, "candidate")) {
    /* Only an optimisation (peer-reflexive candidates cover the rest), so
     * candidates past the limit are dropped rather than failing the offer. */
    if (m->n_candidates == CS_SDP_MAX_CANDIDATES)
      return CS_SDP_OK;
    char *dst = m->candidates[m->n_candidates];
    const gsize prefix = strlen ("candidate:");
    if (v.len == 0 || v.len + prefix >= sizeof m->candidates[0] || !span_all (v, is_printable))
      return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong a=candidate");
    memcpy (dst, "candidate:", prefix);
    memcpy (dst + prefix, v.p, v.len);
    dst[prefix + v.len] = '\0';
    m->n_candidates++;
    return CS_SDP_OK;
  }
  if (span_eq (name, "group"))
    return fail (ps, CS_SDP_ERR_SYNTAX, "a=group in a media section");

  if (is_transport_attribute (name))
    return parse_transport (ps, m, seen, name, v);
  return CS_SDP_OK;
}

static CsSdpResult
parse_session_attribute (Parser *ps, Span name, Span v, gboolean has_value)
{
  CsSdpDirection dir;
  if (!has_value && parse_direction_name (name, &dir))
    return parse_direction (ps, &ps->session_seen, &ps->session.direction, dir);
  if (!has_value && span_eq (name, "extmap-allow-mixed")) {
    ps->s->extmap_allow_mixed = TRUE;
    return CS_SDP_OK;
  }
  if (!has_value)
    return CS_SDP_OK;
  if (span_eq (name, "group"))
    return parse_bundle (ps, v);
  if (is_transport_attribute (name))
    return parse_transport (ps, &ps->session, &ps->session_seen, name, v);
  return CS_SDP_OK;
}

/* --- lines ------------------------------------------------------------- */

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static CsSdpResult
parse_origin (Parser *ps, Span v)
{
  CsSdpSession *s = ps->s;
  Span user = span_token (&v);
  Span id = span_token (&v);
  Span version = span_token (&v);
  Span nettype = span_token (&v);
  Span addrtype = span_token (&v);
  Span address = span_token (&v);
  if (ps->has_origin)
    return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate o=");
  if (address.len == 0 || span_token (&v).len != 0 || nettype.len == 0 || addrtype.len == 0)
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad o=");
  if (!COPY (s->origin_username, user, is_visible))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong o= username");
  if (!parse_uint (id, G_MAXUINT64, &s->origin_sess_id)
      || !parse_uint (version, G_MAXUINT64, &s->origin_sess_version))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad o= session id or version");
  ps->has_origin = TRUE;
  return CS_SDP_OK;
}

static gboolean
proto_is_rtp (const char *proto)
{
  return strstr (proto, "RTP/") != NULL;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... */
static CsSdpResult
parse_m_line (Parser *ps, Span v)
{
  CsSdpSession *s = ps->s;
  if (s->n_media == CS_SDP_MAX_MEDIA)
    return fail (ps, CS_SDP_ERR_TOO_MANY, "more than %d m-lines", CS_SDP_MAX_MEDIA);
  CsSdpMedia *m = &s->media[s->n_media];
  memset (m, 0, sizeof *m);
  guint64 port, count;
  Span kind = span_token (&v);
  Span port_s, count_s;
  gboolean has_count = span_split (span_token (&v), '/', &port_s, &count_s);
  Span proto = span_token (&v);
  if (!COPY (m->kind, kind, is_token_char))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad m= media type");
  if (!parse_uint (port_s, G_MAXUINT16, &port) || (has_count && !parse_uint (count_s, G_MAXUINT16, &count)))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad m= port");
  if (!COPY (m->proto, proto, is_proto_char))
    return fail (ps, CS_SDP_ERR_SYNTAX, "bad m= proto");
  m->port = (guint16) port;
  m->direction = CS_SDP_SENDRECV;

  gboolean rtp = proto_is_rtp (m->proto);
  gsize fmt_len = 0;
  for (Span fmt = span_token (&v); fmt.len > 0; fmt = span_token (&v)) {
    if (rtp) {
      guint64 pt;
      if (!parse_uint (fmt, 127, &pt))
        return fail (ps, CS_SDP_ERR_SYNTAX, "bad payload type in m=");
      if (find_pt (m, pt))
        return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate payload type %u in m=", (guint) pt);
      if (m->n_codecs == CS_SDP_MAX_CODECS)
        return fail (ps, CS_SDP_ERR_TOO_MANY, "more than %d codecs", CS_SDP_MAX_CODECS);
      CsSdpCodec *c = &m->codecs[m->n_codecs++];
      c->pt = (guint8) pt;
      c->apt = -1;
    } else {
      /* Non-RTP formats (webrtc-datachannel) are kept verbatim so a
       * rejection can echo them. */
      if (fmt_len + (fmt_len ? 1 : 0) + fmt.len >= sizeof m->fmt || !span_all (fmt, is_token_char))
        return fail (ps, CS_SDP_ERR_SYNTAX, "bad or overlong m= format list");
      if (fmt_len)
        m->fmt[fmt_len++] = ' ';
      memcpy (m->fmt + fmt_len, fmt.p, fmt.len);
      fmt_len += fmt.len;
      m->fmt[fmt_len] = '\0';
    }
  }
  if (rtp ? m->n_codecs == 0 : fmt_len == 0)
    return fail (ps, CS_SDP_ERR_SYNTAX, "m= without formats");

  ps->m_line[s->n_media] = ps->line;
  s->n_media++;
  ps->m = m;
  memset (ps->rtpmap_seen, 0, sizeof ps->rtpmap_seen);
  memset (ps->fmtp_seen, 0, sizeof ps->fmtp_seen);
  return CS_SDP_OK;
}

static CsSdpResult
parse_line (Parser *ps, char type, Span v)
{
  if (type == 'o')
    return parse_origin (ps, v);
  if (type == 'm')
    return parse_m_line (ps, v);
  if (type != 'a')
    return CS_SDP_OK;   /* s=, t=, c=, b=, ...: nothing we use */
  Span name, value;
  gboolean has_value = span_split (v, ':', &name, &value);
  if (ps->m)
    return parse_media_attribute (ps, name, value, has_value);
  return parse_session_attribute (ps, name, value, has_value);
}

/* Session-level defaults, then the checks that need the whole SDP. */
static CsSdpResult
finish (Parser *ps)
{
  CsSdpSession *s = ps->s;
  const CsSdpMedia *t = &ps->session;
  if (!ps->has_origin)
    return fail (ps, CS_SDP_ERR_MISSING, "no o= line");
  if (s->n_media == 0)
    return fail (ps, CS_SDP_ERR_MISSING, "no m= line");
  for (guint i = 0; i < s->n_media; i++) {
    CsSdpMedia *m = &s->media[i];
    guint *seen = &ps->seen[i];
    ps->line = ps->m_line[i];
    if (!(*seen & SEEN_UFRAG) && (ps->session_seen & SEEN_UFRAG))
      memcpy (m->ice_ufrag, t->ice_ufrag, sizeof m->ice_ufrag);
    if (!(*seen & SEEN_PWD) && (ps->session_seen & SEEN_PWD))
      memcpy (m->ice_pwd, t->ice_pwd, sizeof m->ice_pwd);
    if (!(*seen & SEEN_FINGERPRINT) && (ps->session_seen & SEEN_FINGERPRINT)) {
      memcpy (m->fingerprint_alg, t->fingerprint_alg, sizeof m->fingerprint_alg);
      memcpy (m->fingerprint, t->fingerprint, sizeof m->fingerprint);
    }
    if (!(*seen & SEEN_SETUP) && (ps->session_seen & SEEN_SETUP))
      memcpy (m->setup, t->setup, sizeof m->setup);
    if (!(*seen & SEEN_DIRECTION) && (ps->session_seen & SEEN_DIRECTION))
      m->direction = t->direction;
    /* Non-rtx codecs never carry an apt. */
    for (guint c = 0; c < m->n_codecs; c++)
      if (g_ascii_strcasecmp (m->codecs[c].name, "rtx") != 0)
        m->codecs[c].apt = -1;
    /* A disabled m-line needs no transport. */
    if (cs_sdp_media_is_rejected (m))
      continue;
    if (m->ice_ufrag[0] == '\0' || m->ice_pwd[0] == '\0')
      return fail (ps, CS_SDP_ERR_MISSING, "m-line %u has no a=ice-ufrag/a=ice-pwd", i);
    if (m->fingerprint[0] == '\0')
      return fail (ps, CS_SDP_ERR_MISSING, "m-line %u has no a=fingerprint", i);
  }
  for (guint i = 0; i < s->n_media; i++) {
    for (guint j = 0; j < i; j++) {
      if (s->media[i].mid[0] != '\0' && strcmp (s->media[i].mid, s->media[j].mid) == 0) {
        ps->line = ps->m_line[i];
        return fail (ps, CS_SDP_ERR_SYNTAX, "duplicate mid \"%s\"", s->media[i].mid);
      }
    }
  }
  return CS_SDP_OK;
}

CsSdpResult
cs_sdp_parse (const char *sdp, gsize len, CsSdpSession *out, char *err, gsize err_len)
{
  g_return_val_if_fail (sdp != NULL || len == 0, CS_SDP_ERR_SYNTAX);
  g_return_val_if_fail (out != NULL, CS_SDP_ERR_SYNTAX);

  /* Parse into scratch space so @out is untouched on failure. Only the
   * parts in use are written (each media entry is cleared when its m= line
   * starts): the whole structure is over 1.5 MB. */
  g_autofree Parser *ps = g_new0 (Parser, 1);
  g_autofree CsSdpSession *s = g_malloc (sizeof *s);
  memset (s, 0, G_STRUCT_OFFSET (CsSdpSession, media));
  s->n_media = 0;
  ps->s = s;
  ps->err = err;
  ps->err_len = err_len;
  ps->session.direction = CS_SDP_SENDRECV;

  gboolean has_version = FALSE;
  const char *p = sdp, *end = len ? sdp + len : sdp;   /* no NULL + 0 */
  while (p < end) {
    const char *nl = memchr (p, '\n', (gsize) (end - p));
    Span line = { p, nl ? (gsize) (nl - p) : (gsize) (end - p) };
    p = nl ? nl + 1 : end;
    ps->line++;
    if (line.len > 0 && line.p[line.len - 1] == '\r')
      line.len--;
    if (line.len == 0)
      continue;   /* tolerated, e.g. a trailing blank line */
    if (line.len < 2 || line.p[1] != '=' || !g_ascii_islower (line.p[0]))
      return fail (ps, CS_SDP_ERR_SYNTAX, "not a <type>=<value> line");
    if (memchr (line.p, '\0', line.len) || memchr (line.p, '\r', line.len))
      return fail (ps, CS_SDP_ERR_SYNTAX, "NUL or CR inside a line");
    Span value = { line.p + 2, line.len - 2 };
    if (!has_version) {
      if (line.p[0] != 'v' || !span_eq (value, "0"))
        return fail (ps, CS_SDP_ERR_SYNTAX, "expected v=0");
      has_version = TRUE;
      continue;
    }
    if (line.p[0] == 'v')
      return fail (ps, CS_SDP_ERR_SYNTAX, "more than one v= line");
    CsSdpResult r = parse_line (ps, line.p[0], value);
    if (r != CS_SDP_OK)
      return r;
  }
  if (!has_version)
    return fail (ps, CS_SDP_ERR_MISSING, "no v= line");

  CsSdpResult r = finish (ps);
  if (r != CS_SDP_OK)
    return r;
  memcpy (out, s, G_STRUCT_OFFSET (CsSdpSession, media));
  memcpy (out->media, s->media, s->n_media * sizeof s->media[0]);
  out->n_media = s->n_media;
  return CS_SDP_OK;
}

/* --- queries ----------------------------------------------------------- */

const char *
cs_sdp_direction_to_string (CsSdpDirection dir)
{
  switch (dir) {
  case CS_SDP_SENDRECV:
    return "sendrecv";
  case CS_SDP_SENDONLY:
    return "sendonly";
  case CS_SDP_RECVONLY:
    return "recvonly";
  case CS_SDP_INACTIVE:
    return "inactive";
  }
  return "inactive";
}

int
cs_sdp_find_codec (const CsSdpMedia *m, const char *name, guint32 clock_rate)
{
  g_return_val_if_fail (m != NULL && name != NULL, -1);
  for (guint i = 0; i < m->n_codecs; i++)
    if (m->codecs[i].clock_rate == clock_rate && g_ascii_strcasecmp (m->codecs[i].name, name) == 0)
      return (int) i;
  return -1;
}

int
cs_sdp_find_rtx (const CsSdpMedia *m, guint8 pt)
{
  g_return_val_if_fail (m != NULL, -1);
  for (guint i = 0; i < m->n_codecs; i++)
    if (m->codecs[i].apt == pt && g_ascii_strcasecmp (m->codecs[i].name, "rtx") == 0)
      return (int) i;
  return -1;
}

gboolean
cs_sdp_media_is_rejected (const CsSdpMedia *m)
{
  g_return_val_if_fail (m != NULL, TRUE);
  return m->port == 0 && !m->bundle_only;
}

guint8
cs_sdp_find_extmap (const CsSdpMedia *m, const char *uri)
{
  g_return_val_if_fail (m != NULL && uri != NULL, 0);
  for (guint i = 0; i < m->n_extmaps; i++)
    if (strcmp (m->extmaps[i].uri, uri) == 0)
      return m->extmaps[i].id;
  return 0;
}

/* --- answer writer ----------------------------------------------------- */

static void
write_rejected (GString *out, const CsSdpMedia *m)
{
  /* JSEP §5.3.1: port 0 and the offered kind and proto. c= because SDP
   * wants it in every section when there is none at session level. */
  if (m->n_codecs > 0)
    g_string_append_printf (out, "m=%s 0 %s %u\r\n", m->kind, m->proto, m->codecs[0].pt);
  else
    g_string_append_printf (out, "m=%s 0 %s %s\r\n", m->kind, m->proto, m->fmt);
  g_string_append (out, "c=IN IP4 0.0.0.0\r\n");
  if (m->mid[0])
    g_string_append_printf (out, "a=mid:%s\r\n", m->mid);
}

static void
write_fb (GString *out, guint pt, guint fb)
{
  static const struct {
    guint flag;
    const char *value;
  } names[] = {
    { CS_SDP_FB_GOOG_REMB, "goog-remb" },
    { CS_SDP_FB_TRANSPORT_CC, "transport-cc" },
    { CS_SDP_FB_CCM_FIR, "ccm fir" },
    { CS_SDP_FB_NACK, "nack" },
    { CS_SDP_FB_NACK_PLI, "nack pli" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (fb & names[i].flag)
      g_string_append_printf (out, "a=rtcp-fb:%u %s\r\n", pt, names[i].value);
}

static void
write_rtpmap (GString *out, const CsSdpCodec *c)
{
  /* A static payload type offered without a=rtpmap is answered the same. */
  if (c->name[0] == '\0')
    return;
  g_string_append_printf (out, "a=rtpmap:%u %s/%u", c->pt, c->name, c->clock_rate);
  if (c->channels)
    g_string_append_printf (out, "/%u", c->channels);
  g_string_append (out, "\r\n");
}

static void
write_ssrc (GString *out, guint32 ssrc, const CsSdpAnswerMedia *a)
{
  g_string_append_printf (out, "a=ssrc:%u cname:%s\r\n", ssrc, a->cname);
  if (a->msid_stream)
    g_string_append_printf (out, "a=ssrc:%u msid:%s %s\r\n", ssrc, a->msid_stream,
                            a->msid_track ? a->msid_track : "");
}

static void
write_accepted (GString *out, const CsSdpMedia *m, const CsSdpAnswerMedia *a,
                const CsSdpAnswerParams *params, gboolean first)
{
  const CsSdpCodec *codec = &m->codecs[a->codec];
  const CsSdpCodec *rtx = a->rtx >= 0 ? &m->codecs[a->rtx] : NULL;

  g_string_append_printf (out, "m=%s 9 %s %u", m->kind, m->proto, codec->pt);
  if (rtx)
    g_string_append_printf (out, " %u", rtx->pt);
  g_string_append (out, "\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n");
  g_string_append_printf (out, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", params->ice_ufrag, params->ice_pwd);
  g_string_append_printf (out, "a=fingerprint:%s\r\na=setup:%s\r\n", params->fingerprint, params->setup);
  if (m->mid[0])
    g_string_append_printf (out, "a=mid:%s\r\n", m->mid);
  for (guint i = 0; i < m->n_extmaps && i < 32; i++)
    if (a->ext_mask & (1u << i))
      g_string_append_printf (out, "a=extmap:%u %s\r\n", m->extmaps[i].id, m->extmaps[i].uri);
  g_string_append_printf (out, "a=%s\r\n", cs_sdp_direction_to_string (a->direction));

  gboolean sends = a->direction == CS_SDP_SENDONLY || a->direction == CS_SDP_SENDRECV;
  if (sends && a->msid_stream)
    g_string_append_printf (out, "a=msid:%s %s\r\n", a->msid_stream, a->msid_track ? a->msid_track : "");
  g_string_append (out, "a=rtcp-mux\r\n");
  if (m->rtcp_rsize)
    g_string_append (out, "a=rtcp-rsize\r\n");

  write_rtpmap (out, codec);
  if (codec->fmtp[0])
    g_string_append_printf (out, "a=fmtp:%u %s\r\n", codec->pt, codec->fmtp);
  write_fb (out, codec->pt, a->fb & codec->fb);
  if (rtx) {
    write_rtpmap (out, rtx);
    g_string_append_printf (out, "a=fmtp:%u apt=%u\r\n", rtx->pt, codec->pt);
  }

  if (sends && a->ssrc) {
    gboolean with_rtx = rtx && a->rtx_ssrc;
    if (with_rtx)
      g_string_append_printf (out, "a=ssrc-group:FID %u %u\r\n", a->ssrc, a->rtx_ssrc);
    write_ssrc (out, a->ssrc, a);
    if (with_rtx)
      write_ssrc (out, a->rtx_ssrc, a);
  }

  if (first) {
    for (const char *const *c = params->candidates; c && *c; c++)
      g_string_append_printf (out, "a=%s\r\n", *c);
    if (params->end_of_candidates)
      g_string_append (out, "a=end-of-candidates\r\n");
  }
}

static gboolean
answer_media_valid (const CsSdpMedia *m, const CsSdpAnswerMedia *a)
{
  if (a->rejected)
    return TRUE;
  if (a->codec < 0 || (guint) a->codec >= m->n_codecs)
    return FALSE;
  if (a->rtx >= (gint) m->n_codecs || a->rtx == a->codec)
    return FALSE;
  gboolean sends = a->direction == CS_SDP_SENDONLY || a->direction == CS_SDP_SENDRECV;
  return !(sends && a->ssrc && !a->cname);
}

char *
cs_sdp_write_answer (const CsSdpSession *offer, const CsSdpAnswerParams *params)
{
  g_return_val_if_fail (offer != NULL && params != NULL, NULL);
  g_return_val_if_fail (offer->n_media == 0 || params->media != NULL, NULL);
  g_return_val_if_fail (params->ice_ufrag && params->ice_pwd && params->fingerprint && params->setup, NULL);
  for (guint i = 0; i < offer->n_media; i++)
    g_return_val_if_fail (answer_media_valid (&offer->media[i], &params->media[i]), NULL);

  GString *out = g_string_sized_new (2048);
  g_string_append_printf (out, "v=0\r\no=- %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                          " IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
                          params->sess_id, params->sess_version);
  if (params->ice_lite)
    g_string_append (out, "a=ice-lite\r\n");

  GString *bundle = g_string_new ("a=group:BUNDLE");
  guint n_bundle = 0;
  for (guint i = 0; i < offer->n_media; i++) {
    if (!params->media[i].rejected && offer->media[i].mid[0]) {
      g_string_append_printf (bundle, " %s", offer->media[i].mid);
      n_bundle++;
    }
  }
  if (n_bundle > 0)
    g_string_append_printf (out, "%s\r\n", bundle->str);
  g_string_free (bundle, TRUE);
  g_string_append (out, "a=ice-options:trickle\r\na=msid-semantic: WMS *\r\n");

  gboolean first = TRUE;
  for (guint i = 0; i < offer->n_media; i++) {
    if (params->media[i].rejected) {
      write_rejected (out, &offer->media[i]);
      continue;
    }
    write_accepted (out, &offer->media[i], &params->media[i], params, first);
    first = FALSE;
  }
  return g_string_free (out, FALSE);
}
