/* sdp.h — pure SDP (RFC 8866) parser for WebRTC offers and writer for our
 * answers (RFC 8829 JSEP, Unified Plan, BUNDLE RFC 8843, rtcp-mux).
 * Fixed-size structures, no hidden state; the parser never logs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_SDP_MAX_MEDIA 64
#define CS_SDP_MAX_CODECS 64   /* Chromium 156 offers 34 video codecs on recvonly m-lines */
#define CS_SDP_MAX_EXTMAPS 20
#define CS_SDP_MAX_SSRCS 8
#define CS_SDP_MAX_CANDIDATES 8

typedef enum {
  CS_SDP_SENDRECV,
  CS_SDP_SENDONLY,
  CS_SDP_RECVONLY,
  CS_SDP_INACTIVE,
} CsSdpDirection;

/* rtcp-fb flags */
enum {
  CS_SDP_FB_NACK = 1 << 0,
  CS_SDP_FB_NACK_PLI = 1 << 1,
  CS_SDP_FB_CCM_FIR = 1 << 2,
  CS_SDP_FB_GOOG_REMB = 1 << 3,
  CS_SDP_FB_TRANSPORT_CC = 1 << 4,
};

typedef struct {
  guint8 pt;
  char name[32];           /* encoding name as written ("VP8", "opus", "rtx") */
  guint32 clock_rate;
  guint8 channels;         /* 0 when absent */
  char fmtp[256];          /* a=fmtp parameters, verbatim ("" when none) */
  gint apt;                /* rtx: associated payload type from fmtp, else -1 */
  guint fb;                /* CS_SDP_FB_* (including "a=rtcp-fb:* ...") */
} CsSdpCodec;

typedef struct {
  guint8 id;
  char uri[128];
} CsSdpExtmap;

typedef struct {
  char kind[16];           /* "audio", "video", "application", ... */
  guint16 port;            /* 0: rejected/bundle-only */
  char proto[40];          /* "UDP/TLS/RTP/SAVPF" */
  char mid[33];
  CsSdpDirection direction;
  gboolean rtcp_mux;
  gboolean rtcp_rsize;
  /* transport, copied from session level when not at media level */
  char ice_ufrag[257];
  char ice_pwd[257];
  char fingerprint_alg[16];     /* lower-case, e.g. "sha-256" */
  char fingerprint[160];        /* upper-case hex with colons */
  char setup[12];               /* "actpass", "active", "passive", "" */
  CsSdpCodec codecs[CS_SDP_MAX_CODECS];   /* in m-line preference order */
  guint n_codecs;
  CsSdpExtmap extmaps[CS_SDP_MAX_EXTMAPS];
  guint n_extmaps;
  guint32 ssrcs[CS_SDP_MAX_SSRCS];        /* distinct a=ssrc ids, in order */
  guint n_ssrcs;
  guint32 fid_ssrc;             /* a=ssrc-group:FID primary, 0 when none */
  guint32 fid_rtx_ssrc;
  char cname[64];
  char msid_stream[65];         /* a=msid (or a=ssrc msid:) stream id, "-" allowed */
  char msid_track[65];
  char candidates[CS_SDP_MAX_CANDIDATES][256];  /* "candidate:..." values */
  guint n_candidates;           /* candidates past the limit are dropped */
  gboolean end_of_candidates;
  char fmt[64];                 /* non-RTP m-lines only: the <fmt> list
                                 * ("webrtc-datachannel"), echoed on rejection */
  gboolean bundle_only;         /* a=bundle-only (RFC 8843): port 0 but not
                                 * rejected; Firefox offers extra m-lines so */
} CsSdpMedia;

typedef struct {
  char origin_username[64];
  guint64 origin_sess_id;
  guint64 origin_sess_version;
  char bundle[CS_SDP_MAX_MEDIA][33];     /* mids of the first a=group:BUNDLE */
  guint n_bundle;
  gboolean ice_trickle;                  /* a=ice-options:trickle */
  gboolean extmap_allow_mixed;
  CsSdpMedia media[CS_SDP_MAX_MEDIA];
  guint n_media;
} CsSdpSession;

typedef enum {
  CS_SDP_OK = 0,
  CS_SDP_ERR_SYNTAX = -1,      /* not "x=value" lines, bad numbers, bad v= */
  CS_SDP_ERR_TOO_MANY = -2,    /* more m-lines, codecs, extmaps ... than the limits */
  CS_SDP_ERR_MISSING = -3,     /* a required line is missing (v=, o=, m=, ice-ufrag/pwd, fingerprint) */
} CsSdpResult;

/* Parses @sdp (@len bytes, need not be NUL-terminated; LF or CRLF). On
 * error writes a short human-readable reason ("line 7: bad a=rtpmap") into
 * @err. @out is large (~1 MB): allocate it on the heap. It is untouched on
 * failure; on success, entries of @out->media past n_media are not written. */
CsSdpResult cs_sdp_parse (const char *sdp, gsize len, CsSdpSession *out, char *err, gsize err_len);

const char *cs_sdp_direction_to_string (CsSdpDirection dir);
/* Index of the first codec named @name (case-insensitive) with @clock_rate, or -1. */
int cs_sdp_find_codec (const CsSdpMedia *m, const char *name, guint32 clock_rate);
/* Index of the rtx codec whose apt is @pt, or -1. */
int cs_sdp_find_rtx (const CsSdpMedia *m, guint8 pt);
/* Id of the extmap with @uri, or 0. */
guint8 cs_sdp_find_extmap (const CsSdpMedia *m, const char *uri);
/* TRUE when the offerer disabled @m: port 0 without a=bundle-only. */
gboolean cs_sdp_media_is_rejected (const CsSdpMedia *m);

/* What we answer for one offered m-line (same index). */
typedef struct {
  gboolean rejected;           /* port 0, nothing else but mid */
  CsSdpDirection direction;
  int codec;                   /* index into the offer's codecs, the one we accept */
  int rtx;                     /* index of its rtx codec, or -1 */
  guint fb;                    /* rtcp-fb to keep on the codec, intersected with the offer's */
  guint32 ext_mask;            /* bit i: accept offer extmaps[i] (same id) */
  /* for sendonly/sendrecv answers: what we send */
  guint32 ssrc;
  guint32 rtx_ssrc;            /* 0: none */
  const char *cname;
  const char *msid_stream;
  const char *msid_track;
} CsSdpAnswerMedia;

typedef struct {
  guint64 sess_id;
  guint64 sess_version;
  const char *ice_ufrag;
  const char *ice_pwd;
  const char *fingerprint;     /* "sha-256 AB:CD:..." */
  const char *setup;           /* "passive" or "active" */
  gboolean ice_lite;
  const CsSdpAnswerMedia *media;   /* offer->n_media entries */
  const char *const *candidates;   /* "candidate:..." for the first m-line, NULL-terminated; may be NULL */
  gboolean end_of_candidates;
} CsSdpAnswerParams;

/* Writes the answer (CRLF lines, BUNDLE of the accepted mids, rtcp-mux,
 * rtcp-rsize when offered, a=ice-options:trickle). Returns (transfer full)
 * a newly allocated string. */
char *cs_sdp_write_answer (const CsSdpSession *offer, const CsSdpAnswerParams *params);

G_END_DECLS
