/* media.h — the SFU core: the one public header of media/.
 *
 * Threading: every cs_media_* function below is called from the main
 * thread (the one running the GMainContext passed in CsMediaConfig). The
 * work happens on media worker threads; results come back through the
 * CsMediaEvents callbacks, always invoked on the main context, in the order
 * the worker produced them.
 *
 * Pure codecs (RTP, RTCP, SDP) have their own headers in this folder
 * (rtp.h, rtcp.h, sdp.h) and are usable by tests and tools directly.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CS_MEDIA_ERROR (cs_media_error_quark ())
GQuark cs_media_error_quark (void);

typedef enum {
  CS_MEDIA_ERROR_INVALID_SDP,      /* offer could not be parsed */
  CS_MEDIA_ERROR_UNSUPPORTED_SDP,  /* parsed, but we cannot answer it (no BUNDLE, no rtcp-mux, no usable codec ...) */
  CS_MEDIA_ERROR_NO_PEER,          /* unknown participant id */
  CS_MEDIA_ERROR_ICE,              /* libnice refused something */
  CS_MEDIA_ERROR_INTERNAL,
} CsMediaError;

typedef enum {
  CS_MEDIA_KIND_AUDIO,
  CS_MEDIA_KIND_VIDEO,
} CsMediaKind;

typedef enum {
  CS_PEER_STATE_NEW,
  CS_PEER_STATE_CONNECTING,
  CS_PEER_STATE_CONNECTED,    /* ICE ready and DTLS-SRTP keys installed */
  CS_PEER_STATE_FAILED,       /* ICE failed, DTLS failed or fingerprint mismatch */
  CS_PEER_STATE_CLOSED,
} CsPeerState;

const char *cs_media_kind_to_string (CsMediaKind kind);
const char *cs_peer_state_to_string (CsPeerState state);

typedef struct {
  GMainContext *main_context;  /* where events are delivered; (transfer none) */
  guint n_workers;             /* 0: one per online CPU */
  const char *bind_address;    /* local address for ICE host candidates, e.g. "127.0.0.1"; NULL: all */
  guint16 port_min;            /* UDP port range for ICE; 0,0: any */
  guint16 port_max;
  guint32 max_video_bitrate;   /* bit/s announced to publishers in REMB */
  const char *stun_server;     /* "host:port" or NULL */
} CsMediaConfig;

/* One track as seen in an answer. All strings (transfer none), valid only
 * during the callback. */
typedef struct {
  const char *mid;             /* the m-line in this peer's SDP */
  const char *track_id;        /* "<participant>:<publisher mid>"; stable id of the source track */
  const char *participant_id;  /* who publishes it */
  CsMediaKind kind;
} CsMediaStream;

typedef struct {
  /* Answer to cs_media_peer_offer(). On failure @sdp is NULL and @error set
   * (domain CS_MEDIA_ERROR). @published: tracks this peer sends us;
   * @subscribed: remote tracks bound to this peer's recvonly m-lines. */
  void (*answer) (gpointer user_data, const char *peer_id, guint64 tag,
                  const char *sdp,
                  const CsMediaStream *published, guint n_published,
                  const CsMediaStream *subscribed, guint n_subscribed,
                  const GError *error);
  /* A local ICE candidate ("candidate:..." attribute value, no "a=") for
   * m-line index 0 / the first BUNDLE mid @mid; @candidate NULL means
   * end-of-candidates. */
  void (*candidate) (gpointer user_data, const char *peer_id,
                     const char *mid, const char *candidate);
  void (*state) (gpointer user_data, const char *peer_id, CsPeerState state);
} CsMediaEvents;

typedef struct _CsMedia CsMedia;

/* Starts the worker threads and creates the DTLS certificate. */
CsMedia *cs_media_new (const CsMediaConfig *config, const CsMediaEvents *events,
                       gpointer user_data, GError **error);
void cs_media_free (CsMedia *media);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsMedia, cs_media_free)

/* "sha-256 AB:CD:..." of the DTLS certificate; (transfer none). */
const char *cs_media_get_fingerprint (CsMedia *media);

/* Creates a peer in @room_id (rooms are created on first use and pinned
 * to one worker). @peer_id must be unique in the process. */
void cs_media_peer_add (CsMedia *media, const char *room_id, const char *peer_id);
/* Feeds a remote SDP offer; the answer arrives via events->answer with @tag. */
void cs_media_peer_offer (CsMedia *media, const char *peer_id, guint64 tag, const char *sdp);
/* A remote trickle candidate ("candidate:..." with or without "a="), or
 * NULL / "" for end-of-candidates. Unusable candidates (TCP, mDNS, other
 * components) are ignored. */
void cs_media_peer_candidate (CsMedia *media, const char *peer_id, const char *candidate);
/* Removes the peer and its tracks; other peers' subscriptions to it end. */
void cs_media_peer_remove (CsMedia *media, const char *peer_id);

/* Appends Prometheus text-format metrics (packets, bytes, drops, NACKs,
 * PLIs, rooms, peers, per-worker load). Lock-free reads of worker counters. */
void cs_media_append_metrics (CsMedia *media, GString *out);

/* ---- Clients: the browser's side of the same transport -----------------
 * For load generators and tests: a client makes an offer (Opus + VP8/RTX,
 * optional send tracks, any number of recvonly slots), applies the SFU's
 * answer, runs ICE (controlling) and DTLS-SRTP, and hands every decrypted
 * packet to its callbacks. An answerer client (config.answerer) instead
 * answers an SFU's offer (Janus's VideoRoom subscribers), ICE-controlled.
 * It lives on the GMainContext given in its config; all calls and
 * callbacks happen there. */

typedef struct _CsDtlsIdentity CsDtlsIdentity;
/* A certificate + DTLS context that many clients may share (transfer full).
 * Initialises libsrtp for the process (once, like cs_media_new()): do not
 * call srtp_init() yourself. */
CsDtlsIdentity *cs_dtls_identity_new (GError **error);
void cs_dtls_identity_free (CsDtlsIdentity *identity);
/* Restricts the DTLS-SRTP profiles offered/accepted (OpenSSL's
 * "SRTP_AES128_CM_SHA1_80:..." syntax); call before creating clients. The
 * default prefers SRTP_AEAD_AES_128_GCM. */
gboolean cs_dtls_identity_set_srtp_profiles (CsDtlsIdentity *identity, const char *profiles,
                                             GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsDtlsIdentity, cs_dtls_identity_free)

typedef struct _CsClient CsClient;
/* Batched I/O shared by the clients of one GMainContext: once a client is
 * connected over a plain UDP pair, its SRTP leaves with one sendmmsg() per
 * socket per loop iteration and arrives through recvmmsg(), past libnice,
 * as the SFU's does. Free it after its clients. */
typedef struct _CsClientIo CsClientIo;
CsClientIo *cs_client_io_new (GMainContext *context);
void cs_client_io_free (CsClientIo *io);
/* Sends what the clients have queued now, not at the end of the loop
 * iteration. */
void cs_client_io_flush (CsClientIo *io);

typedef struct {
  /* Decrypted RTP / RTCP; @packet may be modified, valid during the call.
   * @arrival_us (monotonic clock): when the kernel queued the datagram if
   * the client reads through a CsClientIo, else when it was decrypted. */
  void (*rtp) (gpointer user_data, CsClient *client, guint8 *packet, gsize len, gint64 arrival_us);
  void (*rtcp) (gpointer user_data, CsClient *client, guint8 *packet, gsize len);
  void (*state) (gpointer user_data, CsClient *client, CsPeerState state);
  /* A local candidate to trickle ("candidate:..."), NULL at the end. */
  void (*candidate) (gpointer user_data, CsClient *client, const char *candidate);
} CsClientEvents;

typedef struct {
  GMainContext *context;            /* (transfer none) */
  CsDtlsIdentity *identity;         /* (transfer none) */
  const char *bind_address;
  guint16 port_min, port_max;
  gboolean send_audio;              /* mid "a0": Opus, sendonly */
  gboolean send_video;              /* mid "v0": VP8 + RTX, sendonly */
  guint recv_audio;                 /* recvonly slots "ra0".. */
  guint recv_video;                 /* recvonly slots "rv0".. */
  guint8 twcc_ext_id;               /* transport-cc extension id we offer (0: none) */
  gboolean answerer;                /* answers the remote offer (cs_client_create_answer);
                                     * the send/recv fields above are then ignored */
  CsClientIo *io;                   /* (transfer none) (nullable): batched I/O on
                                     * @context; NULL: every packet through libnice */
} CsClientConfig;

/* Fixed payload types and header extension ids of the client's offer. */
#define CS_CLIENT_PT_OPUS 111
#define CS_CLIENT_PT_VP8 96
#define CS_CLIENT_PT_RTX 97

typedef struct {
  const char *mid;                  /* (transfer none) */
  CsMediaKind kind;
  gboolean sending;                 /* ours: we publish on it */
  gboolean receiving;               /* the answer binds a remote track to it */
  guint32 ssrc, rtx_ssrc;           /* ours when sending, the SFU's when receiving */
  const char *track_id;             /* a=msid track of a receiving slot, or NULL */
} CsClientStream;

CsClient *cs_client_new (const CsClientConfig *config, const CsClientEvents *events,
                         gpointer user_data, GError **error);
void cs_client_free (CsClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsClient, cs_client_free)

/* (transfer full) the offer; stays the same for the client's lifetime. */
char *cs_client_create_offer (CsClient *client);
gboolean cs_client_set_answer (CsClient *client, const char *sdp, GError **error);
/* Answerer only: applies the remote @offer and returns (transfer full) our
 * answer. Opus and VP8 (+ RTX) m-lines are accepted: sendonly/sendrecv ones
 * become receiving streams (the offer's SSRCs), recvonly ones sending
 * streams (SSRCs of our own); anything else is rejected. Our DTLS role is
 * client unless the offer says setup:active. Local candidates trickle
 * through events->candidate. May be called again for a new offer. */
char *cs_client_create_answer (CsClient *client, const char *offer, GError **error);
void cs_client_add_remote_candidate (CsClient *client, const char *candidate);
CsPeerState cs_client_get_state (CsClient *client);
guint cs_client_get_n_streams (CsClient *client);
/* Fills @out for m-line @index; FALSE when out of range. */
gboolean cs_client_get_stream (CsClient *client, guint index, CsClientStream *out);
/* Protects @packet in place and sends it; @cap must leave room for the
 * SRTP trailer (16 bytes). Returns the bytes sent or -1. */
int cs_client_send_rtp (CsClient *client, guint8 *packet, gsize len, gsize cap);
int cs_client_send_rtcp (CsClient *client, guint8 *packet, gsize len, gsize cap);
/* Once connected: sets SO_RCVBUF of the selected UDP socket (the kernel
 * doubles it, capped by net.core.rmem_max), so a load generator that
 * receives many streams on one thread rides out scheduling hiccups.
 * FALSE when no pair is selected yet or the kernel refuses. */
gboolean cs_client_set_recv_buffer (CsClient *client, int bytes);
/* Sends @data as is on the ICE transport (no SRTP): for fault tests. */
void cs_client_send_raw (CsClient *client, const guint8 *data, gsize len);

G_END_DECLS
