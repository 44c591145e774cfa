/* internal.h — private types of media/. Everything here is owned by one
 * worker thread except CsMedia's main-thread fields (see media.c). */
#pragma once

#include "media.h"
#include "rtp.h"
#include "rtcp.h"
#include "sdp.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#include <agent.h>
#include <stun/stunagent.h>
#include <openssl/ssl.h>
#include <srtp2/srtp.h>

#define CS_MTU 1500
/* Room for the SRTP auth tag and an RTX OSN on top of a full packet. */
#define CS_PKT_MAX (CS_MTU + SRTP_MAX_TRAILER_LEN + 16)
/* NACK history: a reference per sequence number modulo CS_RTX_SLOTS per
 * video source (~4.6 s at 1.2 Mbit/s, ~1 s at 6 Mbit/s), packets themselves
 * kept CS_RTX_KEEP_US in the worker's store (rtxstore.c). */
#define CS_RTX_SLOTS 512
#define CS_RTX_KEEP_US (500 * 1000)
#define CS_TWCC_SLOTS 1024
#define CS_MAX_INS 8               /* published tracks per peer */
#define CS_KEYFRAME_INTERVAL_US (200 * 1000)
/* A NACK is a few bytes, a retransmission a full packet: cap what one
 * subscriber can make us send, so NACKs cannot amplify traffic. */
#define CS_RTX_MAX_PER_SECOND 200

typedef struct _CsWorker CsWorker;
typedef struct _CsRoom CsRoom;
typedef struct _CsPeer CsPeer;
typedef struct _CsInStream CsInStream;
typedef struct _CsOutStream CsOutStream;
typedef struct _CsRtxStore CsRtxStore;

/* ---- mailbox.c: FIFO of closures run on a GMainContext ---- */
typedef struct _CsMailbox CsMailbox;
typedef void (*CsMailboxFunc) (gpointer data);
CsMailbox *cs_mailbox_new (GMainContext *context);
void cs_mailbox_post (CsMailbox *box, CsMailboxFunc func, gpointer data, GDestroyNotify destroy);
/* Drops what is still queued (destroy notifies run) and detaches. */
void cs_mailbox_free (CsMailbox *box);

/* ---- cert.c: the process's DTLS identity ---- */
typedef struct {
  EVP_PKEY *key;
  X509 *x509;
  char fingerprint[128];           /* "sha-256 AB:CD:..." */
  SSL_CTX *ctx;                    /* DTLS, use_srtp, our cert */
} CsCert;
gboolean cs_cert_init (CsCert *cert, GError **error);
void cs_cert_clear (CsCert *cert);

/* ---- stats: written only by the owning worker, read by /metrics ---- */
#define CS_DELAY_BUCKETS 13
typedef struct {
  guint64 rtp_in_packets, rtp_in_bytes;
  guint64 rtp_out_packets, rtp_out_bytes;
  guint64 rtcp_in_packets, rtcp_out_packets;
  guint64 srtp_errors;             /* unprotect failures: unauthenticated or replayed */
  guint64 malformed_rtp, malformed_rtcp;
  guint64 unknown_ssrc;
  guint64 send_errors;
  guint64 nacks_in, nacks_out, retransmits;
  guint64 plis_in, plis_out;
  guint64 dtls_failures, ice_failures;
  guint64 inbox_packets;           /* read past libnice (io_uring or recvmmsg) */
  guint64 stun_answered;           /* consent checks answered past libnice */
  guint64 give_backs;              /* sockets handed back to libnice for a while */
  guint64 rtx_store_bytes;         /* memory of the NACK history (gauge, once a second) */
  guint64 peers, rooms;
  guint64 busy_ns;                 /* time spent handling packets */
  /* Forwarding delay (inbox.c): kernel arrival to submission of what the
   * datagram caused; counts per bucket of cs_delay_bounds_us, the last
   * one unbounded. */
  guint64 delay_buckets[CS_DELAY_BUCKETS + 1];
  guint64 delay_sum_us;
} CsStats;

extern const guint cs_delay_bounds_us[CS_DELAY_BUCKETS];
void cs_stats_add_delay (CsStats *stats, gint64 delay_us);

/* Relaxed single-writer counters: no lock prefix on x86, no torn reads. */
#define CS_STAT_ADD(stats, field, n) \
  __atomic_store_n (&(stats)->field, __atomic_load_n (&(stats)->field, __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define CS_STAT_GET(stats, field) __atomic_load_n (&(stats)->field, __ATOMIC_RELAXED)

/* ---- outbox.c: per-worker batched sendmmsg past libnice ---- */
#define CS_OUTBOX_SLOTS 64
/* The inbox flushes once this many wait, between datagrams: a full queue
 * held the first of 64 packets ~0.5 ms after it was ready (p99 at three
 * quarters of a core: lower in 8 of 10 runs paired with 64). */
#define CS_OUTBOX_EARLY 16
typedef struct _CsOutbox CsOutbox;
CsOutbox *cs_outbox_new (GMainContext *context, CsStats *stats);
void cs_outbox_free (CsOutbox *outbox);
/* Queues a copy of @buf; no copy when @buf is the slot cs_outbox_reserve()
 * returned, which is where the forwarding loop builds packets. */
void cs_outbox_push (CsOutbox *outbox, int fd, const struct sockaddr_storage *dest, socklen_t dest_len,
                     const guint8 *buf, gsize len);
/* The next slot's CS_PKT_MAX bytes, valid until the next push or flush. */
guint8 *cs_outbox_reserve (CsOutbox *outbox);
void cs_outbox_flush (CsOutbox *outbox);
/* Flushes if CS_OUTBOX_EARLY packets or more wait. */
void cs_outbox_flush_early (CsOutbox *outbox);
/* Called after every flush, packets or not (the inbox times its delays). */
typedef void (*CsOutboxFlushed) (gpointer data);
void cs_outbox_set_flushed_func (CsOutbox *outbox, CsOutboxFlushed func, gpointer data);

/* ---- transport.c: ICE + DTLS-SRTP over one libnice component ----
 * Shared by the SFU's peers (answerer, ICE-controlled) and by test/load
 * clients (offerer, ICE-controlling). The owner gets packets, state
 * changes and local candidates through a small function table. */
typedef struct _CsTransport CsTransport;
typedef struct _CsInbox CsInbox;
#define CS_MAX_REMOTES 8

typedef struct {
  void (*rtp) (gpointer owner, guint8 *buf, gsize len);    /* still SRTP-protected */
  void (*rtcp) (gpointer owner, guint8 *buf, gsize len);   /* still SRTCP-protected */
  void (*state) (gpointer owner, CsPeerState state);
  void (*candidate) (gpointer owner, const char *candidate);  /* NULL: gathering done */
} CsTransportFuncs;

typedef struct {
  GMainContext *context;
  const char *name;                /* for logs */
  gboolean controlling;
  const char *bind_address;
  guint16 port_min, port_max;
  const char *stun_server;
  SSL_CTX *ssl_ctx;
  CsStats *stats;
  CsOutbox *outbox;                /* NULL: every packet through libnice */
  CsInbox *inbox;                  /* NULL: libnice reads every packet */
  const CsTransportFuncs *funcs;
  gpointer owner;
} CsTransportConfig;

struct _CsTransport {
  const CsTransportFuncs *funcs;
  gpointer owner;
  char *name;
  GMainContext *context;
  CsStats *stats;
  SSL_CTX *ssl_ctx;
  CsOutbox *outbox;
  /* the selected pair's socket and peer, for sending past libnice */
  gboolean direct;
  int fd;
  struct sockaddr_storage dest;
  socklen_t dest_len;
  /* reading that socket ourselves (inbox.c) */
  CsInbox *inbox;
  gboolean reading;
  int read_fd;
  guint64 read_tag;                /* its receive on the inbox's ring */
  gint64 read_resume_us;           /* after giving the socket back to libnice */
  GMainContext *io_context;        /* where libnice's socket sources are */
  gboolean controlling;
  gboolean nominated;              /* ICE component READY */
  gboolean other_sockets;          /* libnice has sockets besides the selected one */
  /* libnice's remote candidates (UDP) when reading began: browsers keep
   * checking, and may send media on, pairs other than the selected one */
  struct sockaddr_in6 remotes[CS_MAX_REMOTES];
  guint n_remotes;
  /* Chromium keeps nominating its own pair when libnice, controlled, kept a
   * higher-priority one selected: libnice has seen this one's nomination */
  struct sockaddr_in6 nomination_seen;
  gint64 arrival_us;               /* of the datagram being handled, when the inbox knows it */
  NiceAgent *agent;
  guint stream_id;
  char *ufrag, *pwd;
  CsPeerState state;
  gboolean ice_ready;
  gboolean remote_set;             /* remote ICE credentials applied */
  char *remote_ufrag;
  GPtrArray *early_candidates;     /* remote candidates before the credentials */
  /* DTLS */
  SSL *ssl;
  BIO *rbio;
  gboolean dtls_server;
  gboolean dtls_done;
  char remote_fp_alg[16];
  char remote_fp[160];
  GSource *dtls_timer;
  /* Once the SSL session is released: the close_notify to send at the end */
  guint8 *close_notify;
  gsize close_notify_len;
  gboolean capturing;              /* records go to close_notify, not the wire */
  /* SRTP */
  srtp_t srtp_in, srtp_out;
  gboolean srtp_ready;
};

gboolean cs_transport_init (CsTransport *t, const CsTransportConfig *cfg);
void cs_transport_clear (CsTransport *t);
/* Applies the remote ICE credentials and DTLS identity from a description;
 * @dtls_server: our role. Idempotent for the same ufrag. */
gboolean cs_transport_set_remote (CsTransport *t, const char *ufrag, const char *pwd,
                                  const char *fp_alg, const char *fp, gboolean dtls_server);
void cs_transport_add_remote_candidate (CsTransport *t, const char *candidate);
void cs_transport_send (CsTransport *t, const guint8 *buf, gsize len);
void cs_transport_set_state (CsTransport *t, CsPeerState state);
/* Where to build the next outgoing packet (CS_PKT_MAX bytes): the outbox's
 * next slot when sending past libnice, so it is not copied again; else
 * @scratch. */
guint8 *cs_transport_packet_buffer (CsTransport *t, guint8 *scratch);
/* Unprotects an incoming packet in place: its new length, or -1 (counted
 * as an SRTP error). */
int cs_transport_unprotect (CsTransport *t, guint8 *buf, gsize len, gboolean rtcp);
/* Protect in place (room for the tag is the caller's) and send. */
int cs_transport_send_rtp (CsTransport *t, guint8 *buf, int len);
int cs_transport_send_rtcp (CsTransport *t, guint8 *buf, int len);
/* A datagram from the selected pair that is not STUN: RTP, RTCP or DTLS. */
void cs_transport_receive (CsTransport *t, guint8 *buf, gsize len);
/* Starts or stops reading the selected socket through the inbox. */
void cs_transport_update_reading (CsTransport *t);
gboolean cs_sockaddr_equal (const struct sockaddr *a, const struct sockaddr *b);   /* address and port */
/* Whether @from is one of libnice's remote candidates (t->remotes). */
gboolean cs_transport_knows_remote (const CsTransport *t, const struct sockaddr_storage *from);
/* Lets libnice read the socket again for a while (CS_INBOX_BACKOFF_US). */
void cs_transport_give_back (CsTransport *t, const char *why);

/* ---- recvring.c: multishot receives on an io_uring ---- */
typedef struct _CsRecvRing CsRecvRing;
typedef struct {
  guint64 tag;                     /* the socket's, from cs_recv_ring_arm(); 0: a cancellation */
  int res;                         /* < 0: -errno */
  gboolean more;                   /* FALSE: the receive ended and must be armed again */
  guint8 *data;                    /* NULL: no datagram; valid until the next cs_recv_ring_next() */
  gsize len;
  gboolean truncated;
  struct sockaddr_storage from;
  gboolean stamped;
  struct timespec stamp;           /* SO_TIMESTAMPNS, if the socket has it on */
} CsRecvd;
/* NULL when io_uring cannot do it here (or CS_NO_URING is set). */
CsRecvRing *cs_recv_ring_new (void);
void cs_recv_ring_free (CsRecvRing *r);
int cs_recv_ring_fd (CsRecvRing *r);   /* readable when completions wait */
/* Queued until cs_recv_ring_submit(); @tag must not be 0. */
void cs_recv_ring_arm (CsRecvRing *r, int fd, guint64 tag);
void cs_recv_ring_cancel (CsRecvRing *r, guint64 tag);
void cs_recv_ring_submit (CsRecvRing *r);
/* Sizes the buffers to @n_sockets (grows at once, shrinks as they return). */
void cs_recv_ring_set_sockets (CsRecvRing *r, guint n_sockets);
guint cs_recv_ring_buffers (CsRecvRing *r);  /* in circulation */
guint cs_recv_ring_ready (CsRecvRing *r);   /* completions waiting */
/* The next completion, if any, without a syscall. */
gboolean cs_recv_ring_next (CsRecvRing *r, CsRecvd *d);

/* ---- inbox.c: per-worker batched receiving past libnice ---- */
#define CS_INBOX_BATCH 32
#define CS_INBOX_ARRIVALS 256        /* delays noted per flush, at most */
#define CS_INBOX_BACKOFF_US (2 * G_USEC_PER_SEC)
CsInbox *cs_inbox_new (GMainContext *context, CsOutbox *outbox, CsStats *stats);
void cs_inbox_free (CsInbox *ib);
/* Where libnice's sources of the transports read here wait; polled by
 * cs_inbox_service(). */
GMainContext *cs_inbox_parking (CsInbox *ib);
/* Reads t->read_fd from now on; t->reading tells whether it could. */
void cs_inbox_add (CsInbox *ib, CsTransport *t);
void cs_inbox_remove (CsInbox *ib, CsTransport *t);    /* also from the waiting list */
/* cs_transport_update_reading (@t) again at the next service. */
void cs_inbox_wait (CsInbox *ib, CsTransport *t);
/* Once a second: libnice's parked sockets, transports waiting. */
void cs_inbox_service (CsInbox *ib);
typedef enum {
  CS_STUN_ANSWERED,                /* @reply holds the binding success response */
  CS_STUN_IGNORED,                 /* a binding indication: nothing to do */
  CS_STUN_NOMINATION,              /* nominates a pair libnice has not seen nominated */
  CS_STUN_NOT_OURS,                /* anything else: only libnice knows */
} CsStunVerdict;
/* What libnice (RFC 5245 mode) answers to a STUN message from a known
 * remote candidate, in the steady state: binding requests authenticated
 * with our @ufrag/@pwd, not claiming our role and, unless @nominated
 * (the selected pair's remote address, or one libnice has seen nominated),
 * not nominating (USE-CANDIDATE: maybe a new pair for libnice to select). @agent as libnice sets it up for that
 * mode; @reply_len: in, room; out, length; @why (may be NULL): what made
 * a message not ours. */
CsStunVerdict cs_stun_answer (StunAgent *agent, const char *ufrag, const char *pwd, gboolean controlling,
                              gboolean nominated,
                              const guint8 *p, gsize len, const struct sockaddr_storage *from,
                              socklen_t from_len, guint8 *reply, gsize *reply_len, const char **why);

/* ---- the engine ---- */
struct _CsMedia {
  CsMediaConfig config;            /* strings owned below */
  char *bind_address;
  char *stun_server;
  CsMediaEvents events;
  gpointer user_data;
  GMainContext *main_context;
  CsMailbox *main_box;
  CsCert cert;
  CsWorker **workers;
  guint n_workers;
  /* main thread only */
  GHashTable *rooms;               /* room id -> CsRoomRef */
  GHashTable *peers;               /* peer id -> room id (borrowed from CsRoomRef) */
};

struct _CsWorker {
  CsMedia *media;
  guint index;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  CsMailbox *box;
  GHashTable *rooms;               /* id -> CsRoom* (owned) */
  GHashTable *peers;               /* id -> CsPeer* (borrowed from rooms) */
  GSource *tick;                   /* 50 ms: TWCC, RR, REMB */
  CsOutbox *outbox;
  CsInbox *inbox;
  CsRtxStore *rtx;                 /* packets kept for NACKs, all rooms of this worker */
  guint tick_count;
  guint next_phase;                /* for the next peer's feedback */
  CsStats stats;
  /* scratch buffers for building packets: the hot path never allocates */
  guint8 out[CS_PKT_MAX];
  guint8 rtcp[CS_PKT_MAX];
};

struct _CsRoom {
  char *id;
  CsWorker *worker;
  GPtrArray *peers;                /* CsPeer* (owned) */
};

/* Where the store keeps one packet of a source; gen 0: nothing. */
typedef struct {
  guint16 seg;
  guint16 off;
  guint32 gen;
} CsRtxRef;

/* A track a peer publishes to us. */
struct _CsInStream {
  CsPeer *peer;
  CsMediaKind kind;
  char mid[33];
  char track_id[64];               /* "<peer id>:<mid>" */
  guint32 ssrc;                    /* 0 until known */
  guint32 rtx_ssrc;
  guint8 pt, rtx_pt;               /* rtx_pt 0: none */
  guint32 clock_rate;
  gboolean active;                 /* still offered as send */
  GPtrArray *subscribers;          /* CsOutStream* (borrowed) */
  CsRtxRef *ring;                  /* video only, CS_RTX_SLOTS, allocated at setup */
  /* receive statistics (RFC 3550 A.3, A.8) for our RR */
  gboolean seq_init;
  guint16 max_seq;
  guint32 cycles;
  guint32 base_seq;
  guint32 received, expected_prior, received_prior;
  double jitter;
  gint64 last_arrival_us;
  guint32 last_rtp_ts;
  guint32 last_sr;                 /* middle 32 bits of the last SR's NTP */
  gint64 last_sr_us;
  gint64 last_keyframe_request_us;
  gboolean keyframe_wanted;        /* a subscriber just connected: ask again until one passes */
  guint64 packets, bytes;
};

/* A remote track sent to a subscriber on one of its recvonly m-lines. */
struct _CsOutStream {
  CsPeer *peer;                    /* subscriber */
  CsInStream *src;                 /* NULL when the source went away */
  CsMediaKind kind;
  char mid[33];
  char src_track_id[64];
  char src_peer_id[64];
  guint32 ssrc, rtx_ssrc;
  guint8 pt, rtx_pt;
  guint8 audio_level_id, video_orientation_id;   /* subscriber's ext ids, 0: not negotiated */
  gboolean started;
  gboolean rebase;                 /* source SSRC changed: keep our numbering continuous */
  guint16 seq_delta;
  guint32 ts_delta;
  guint16 last_seq;
  guint32 last_ts;
  gint64 last_send_us;
  guint16 rtx_seq;
  gint64 rtx_window_us;            /* retransmission budget: start of this second */
  guint rtx_in_window;
  guint32 packets, octets;
  guint8 fraction_lost;            /* from the subscriber's RR */
  guint32 jitter;
};

struct _CsPeer {
  char *id;
  CsRoom *room;
  CsWorker *worker;
  guint tick_phase;                /* which of the worker's ticks runs its feedback */
  CsTransport t;
  GPtrArray *local_candidates;     /* gathered, not yet sent */
  gboolean gathering_done;
  gboolean answered;
  char first_mid[33];
  guint64 sdp_version;
  /* negotiated */
  guint32 rtcp_ssrc;               /* our sender SSRC in RTCP we originate */
  guint8 twcc_id, mid_id, audio_level_id, video_orientation_id;
  CsInStream *ins[CS_MAX_INS];
  guint n_ins;
  GPtrArray *outs;                 /* CsOutStream* (owned) */
  /* transport-wide CC receive side */
  guint32 twcc_arrival[CS_TWCC_SLOTS];  /* low 32 bits of the arrival in µs; 0: none */
  gboolean twcc_init;
  guint32 twcc_base;               /* unwrapped: first not yet reported */
  guint32 twcc_max;                /* unwrapped: highest received */
  guint8 twcc_fb_count;
  guint64 remb_bitrate;            /* this peer's latest REMB as a subscriber */
  gint64 remb_us;
};

/* media.c */
gboolean cs_media_srtp_init (GError **error);

/* worker.c */
CsWorker *cs_worker_new (CsMedia *media, guint index, GError **error);
void cs_worker_free (CsWorker *worker);
void cs_worker_post (CsWorker *worker, CsMailboxFunc func, gpointer data, GDestroyNotify destroy);
/* Spreads peers over the worker's feedback ticks. */
guint cs_worker_next_phase (CsWorker *w);

/* media.c: events from workers to the main thread */
void cs_media_emit_answer (CsMedia *media, const char *peer_id, guint64 tag, char *sdp /* transfer full */,
                           GArray *published, GArray *subscribed, GError *error /* transfer full */);
void cs_media_emit_candidate (CsMedia *media, const char *peer_id, const char *mid, const char *candidate);
void cs_media_emit_state (CsMedia *media, const char *peer_id, CsPeerState state);

/* room.c */
CsRoom *cs_room_new (CsWorker *worker, const char *id);
void cs_room_free (CsRoom *room);
/* Detaches every subscriber of @in (they go idle until renegotiated). */
void cs_room_unlink_source (CsInStream *in);

/* peer.c */
CsPeer *cs_peer_new (CsRoom *room, const char *id);
void cs_peer_free (CsPeer *peer);
CsInStream *cs_peer_find_in (CsPeer *peer, guint32 ssrc);
CsOutStream *cs_peer_find_out (CsPeer *peer, guint32 ssrc);
gint64 cs_now_us (void);

/* dtls.c */
gboolean cs_dtls_setup (CsTransport *t, gboolean server);
void cs_dtls_start (CsTransport *t);     /* client role: send ClientHello */
void cs_dtls_receive (CsTransport *t, const guint8 *buf, gsize len);
void cs_dtls_clear (CsTransport *t);
/* The peer's first authenticated SRTP or SRTCP packet: it has finished the
 * handshake, so the SSL session can go (see dtls.c). */
void cs_dtls_release (CsTransport *t);

/* srtp.c */
gboolean cs_srtp_setup (CsTransport *t, SSL *ssl, gboolean server);
void cs_srtp_clear (CsTransport *t);
gboolean cs_srtp_fast_install (GError **error);   /* srtp-fast.c: after srtp_init, before any srtp_create */

/* negotiate.c: offer in, answer out (worker thread) */
void cs_negotiate_offer (CsPeer *peer, guint64 tag, const char *sdp);

/* forward.c: hot path */
typedef struct {
  guint16 seq;                     /* publisher's numbering */
  guint32 ts;
  guint8 marker;
  guint8 audio_level;              /* 0xff: none */
  guint8 video_orientation;        /* 0xff: none */
  const guint8 *payload;
  gsize len;
} CsPacketView;
void cs_forward_receive (CsPeer *peer, guint8 *buf, gsize len);
gsize cs_forward_build (CsOutStream *out, const CsPacketView *v, gboolean as_rtx, gint64 now, guint8 *p);
void cs_forward_resend (CsOutStream *out, const CsPacketView *v);

/* rtxstore.c: recently forwarded video, for NACKs (one per worker) */
CsRtxStore *cs_rtx_store_new (gint64 keep_us);
void cs_rtx_store_free (CsRtxStore *s);
/* Copies @v and points @ring's slot for its sequence number at the copy. */
void cs_rtx_store_put (CsRtxStore *s, CsRtxRef *ring, const CsPacketView *v, gint64 now);
/* Fills @v (payload borrowed from the store, valid until the next put) if
 * the packet @seq that @ring refers to is still kept. */
gboolean cs_rtx_store_get (const CsRtxStore *s, const CsRtxRef *ring, guint16 seq, CsPacketView *v);
/* Recycles segments whose packets are all older than the retention time. */
void cs_rtx_store_expire (CsRtxStore *s, gint64 now);
/* Frees a spare segment beyond what usage swings need: once a second, not
 * on the hot path. */
void cs_rtx_store_trim (CsRtxStore *s);
gsize cs_rtx_store_allocated (const CsRtxStore *s);  /* bytes, for tests and metrics */

/* feedback.c: RTCP in and out */
void cs_feedback_receive (CsPeer *peer, const guint8 *buf, gsize len);
void cs_feedback_request_keyframe (CsInStream *in, gboolean force);
void cs_feedback_tick (CsPeer *peer, gboolean each_second);
void cs_feedback_record_twcc (CsPeer *peer, guint16 seq, gint64 now_us);
void cs_feedback_nack_upstream (CsInStream *in, guint16 first_missing, guint16 count);
void cs_feedback_update_rx_stats (CsInStream *in, guint16 seq, guint32 ts, gint64 now_us);
