/* loadgen.h — private types of the load generator (clients/loadgen).
 *
 * Threads: the main thread parses options, plans the scenario, starts the
 * workers and samples the SFU's /proc entries at the edges of the measured
 * window. Each worker owns a GMainContext with its own libwebsockets
 * context (GLib event library) and its clients' CsClients, so a client's
 * signaling, ICE, DTLS and media all run on one thread: no locks. Worker
 * results are read by the main thread only after the worker has exited.
 *
 * Probe trailer: every RTP payload we send ends with 16 bytes,
 *   [u32 stream id][u32 counter][u64 send time, CLOCK_MONOTONIC µs]
 * (big-endian), appended after the captured payload so the VP8 payload
 * descriptor at the start stays intact for SFUs that parse it. The send
 * time is the last 8 bytes. */
#pragma once

#include "media/media.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <srtp2/srtp.h>

G_BEGIN_DECLS

#define LG_TRAILER_LEN 16
#define LG_BUF 1600                 /* one packet being built or received */
#define LG_MAX_SOURCES 16           /* remote streams one client receives */
#define LG_TWCC_ID 3                /* transport-cc extension id we offer */
#define LG_ROOM_SIZE_MULTISITE 6
#define LG_RECV_BUFFER (2 * 1024 * 1024)

typedef enum { LG_SFU_CONSILIUM, LG_SFU_JANUS } LgSfuKind;
typedef enum { LG_CONSULTS, LG_LECTURE, LG_MULTISITE } LgScenario;

/* ---- replay.c: captured media ---- */

typedef struct {
  const guint8 *payload;            /* into LgTrack.blob */
  guint16 len;
  guint8 marker;
  guint32 ts;                       /* relative to the loop's first packet */
} LgPacket;

typedef struct {
  CsMediaKind kind;
  guint8 pt;
  guint32 clock_rate;
  guint32 loop_ts;                  /* RTP ticks of one loop */
  guint32 frame_ticks;              /* RTP ticks from one frame to the next */
  guint64 loop_bytes;               /* payload bytes of one loop */
  LgPacket *packets;
  guint n_packets;
  char *blob;                       /* the file's bytes (owned) */
} LgTrack;

gboolean lg_track_load (LgTrack *track, const char *path, CsMediaKind kind, guint8 pt,
                        guint32 clock_rate, guint32 frame_ticks, GError **error);
void lg_track_clear (LgTrack *track);

/* Latency histogram: 5 µs buckets to 10 ms, then 1 ms buckets to 1 s. */
#define LG_HIST_FINE 2000
#define LG_HIST_FINE_US 5
#define LG_HIST_COARSE 990
typedef struct {
  guint64 fine[LG_HIST_FINE];
  guint64 coarse[LG_HIST_COARSE];
  guint64 over;
  guint64 n;
  gint64 max_us;
} LgHist;

void lg_hist_add (LgHist *h, gint64 us);
void lg_hist_merge (LgHist *into, const LgHist *from);
/* Upper bound (µs) of the bucket holding quantile @q (0..1); 0 when empty. */
gint64 lg_hist_quantile (const LgHist *h, double q);

/* One stream a publisher sends. */
typedef struct {
  guint32 id;                       /* global: 2 * participant + (video) */
  const LgTrack *track;
  guint32 ssrc;
  guint8 pt;
  guint16 seq;
  guint32 ts_base;                  /* random RTP timestamp origin */
  guint idx;                        /* next packet of the loop */
  guint64 loops;
  gint64 t0_us;                     /* when loop 0's first packet was due */
  gint64 paced_us;                  /* the pacer lets the next packet go from then */
  guint32 counter;
  guint64 sent, sent_window, bytes;
  guint64 resyncs;                  /* fell > 3 ms behind and resumed late */
} LgOut;

/* One remote stream as received. */
typedef struct {
  guint32 src_id;
  guint64 received, received_window;
  guint32 last_counter;
  guint64 reordered;                /* counter went backwards or repeated */
  double jitter_us;                 /* RFC 3550 interarrival jitter of the transit time */
  gint64 last_transit_us;
  gboolean have_transit;
} LgIn;

typedef struct _LgRun LgRun;
typedef struct _LgWorker LgWorker;
typedef struct _LgClient LgClient;
typedef struct _LgWs LgWs;
/* A dialect's trickle hook: sends our local candidate (NULL: the end). */
typedef void (*LgCandidateFunc) (LgClient *client, CsClient *pc, const char *candidate);

/* Paces a publisher's streams: sends every packet due by @now. */
void lg_replay_start (LgClient *client, gint64 now_us);
void lg_replay_tick (LgClient *client, gint64 now_us);
/* CsClientEvents.rtp of receiving clients. */
void lg_replay_receive (LgClient *client, guint8 *packet, gsize len, gint64 arrival_us);

/* ---- metrics.c: consiliumd's forwarding delay histogram ---- */

#define LG_DELAY_MAX_BOUNDS 32
typedef struct {
  gboolean ok;
  guint n_bounds;
  double bound_us[LG_DELAY_MAX_BOUNDS];
  guint64 cumulative[LG_DELAY_MAX_BOUNDS];   /* summed over workers */
  guint64 total;
} LgDelaySample;
/* GET https://@host:@port/metrics (consiliumd's). */
gboolean lg_delay_sample (const char *host, guint16 port, LgDelaySample *out);
/* Quantile @q of the delays recorded between the two samples, µs; -1 when
 * nothing was recorded. */
double lg_delay_quantile_us (const LgDelaySample *start, const LgDelaySample *end, double q);

/* ---- ws.c: one WebSocket client connection on a worker's lws context ---- */

typedef struct {
  void (*open) (gpointer user_data);
  void (*message) (gpointer user_data, json_t *msg);   /* (transfer none) */
  void (*closed) (gpointer user_data, const char *why);
} LgWsEvents;

LgWs *lg_ws_connect (struct lws_context *lws, const char *host, guint16 port, const char *path,
                     gboolean tls, const char *protocol, const LgWsEvents *events,
                     gpointer user_data);
/* Queues @msg (transfer full) as one text message. */
void lg_ws_send (LgWs *ws, json_t *msg);
/* Closes (if open) and frees; no more events. NULL-safe. */
void lg_ws_free (LgWs *ws);
/* The lws_protocols table workers create their contexts with. */
const struct lws_protocols *lg_ws_protocols (void);

/* ---- the run ---- */

typedef struct {
  LgSfuKind sfu;
  LgScenario scenario;
  char *host;
  guint16 port;
  char *path;                       /* "/ws" (ours) or "/" (Janus) */
  char *ice_bind;                   /* local address of our ICE candidates */
  gboolean tls;
  guint8 *secret;                   /* room token HMAC key (ours) */
  gsize secret_len;
  guint count;                      /* visits, subscribers or rooms */
  double duration_s, warmup_s, drain_s;
  double join_interval_ms;          /* between two clients' joins on one worker */
  guint video_kbps;
  guint threads;
  guint max_participants;
  int sfu_pid;
  gboolean twcc;
  char *srtp_profiles;
  char *fixtures_dir;
  gboolean expect_clean;            /* exit 1 unless no loss and packets received */
  gboolean quiet;
  gboolean per_stream;              /* a row per received stream */
} LgOptions;

/* What one participant does, fixed before the run starts. */
typedef struct {
  guint index;                      /* global participant index */
  guint room;
  gboolean publish;
  guint n_sources;
  guint32 sources[LG_MAX_SOURCES];  /* stream ids it must receive */
  guint n_remote_publishers;        /* publishers in its room other than itself */
} LgPlan;

typedef enum {
  LG_CLIENT_IDLE,
  LG_CLIENT_JOINING,
  LG_CLIENT_RUNNING,
  LG_CLIENT_FAILED,
} LgClientState;

struct _LgClient {
  LgWorker *w;
  LgPlan plan;
  char name[32];
  LgClientState state;
  char error[160];
  gint64 join_us, connected_us, first_rx_us;
  LgWs *ws;
  CsClient *pc;                     /* ours: the one transport; Janus: the publisher's */
  CsClient *sub_pc;                 /* Janus: the subscriber's (answerer) */
  gboolean sending;
  LgOut out[2];
  guint n_out;
  LgIn in[LG_MAX_SOURCES];
  guint n_in;
  guint64 bad_packets;              /* decrypted but no valid probe trailer */
  guint16 twcc_seq;
  gpointer proto;                   /* the signaling dialect's state */
  LgCandidateFunc on_candidate;
};

struct _LgWorker {
  LgRun *run;
  guint index;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  struct lws_context *lws;
  GPtrArray *clients;               /* LgClient* (owned) */
  CsClientIo *io;                   /* batched I/O of all its transports */
  guint next_join;
  gint64 next_join_us;
  LgHist latency;
  LgHist lateness;                  /* of each send after its due time */
  gint64 last_send_us;              /* the last pass over the clients' sends */
  guint rx_since_send;
  guint8 buf[LG_BUF];
};

struct _LgRun {
  LgOptions opt;
  LgTrack video, audio;
  double speed;                     /* video timeline speed-up for --video-kbps */
  double native_video_kbps;         /* the capture's rate, RTP headers included */
  CsDtlsIdentity *identity;
  guint n_participants;
  guint n_rooms;
  guint32 room_base;                /* Janus numeric room ids / our room names */
  gint64 start_us, window_start_us, window_end_us, stop_us;
  LgWorker **workers;
  /* libwebsockets 4.1 keeps the OpenSSL ex_data index it stores a
   * connection under in a global that every lws_create_context() resets:
   * contexts are created one at a time, and no worker connects before all
   * exist (else a TLS handshake in flight finds no connection). */
  GMutex lws_lock;
  GCond lws_cond;
  guint n_lws_created;
};

/* worker.c */
LgWorker *lg_worker_new (LgRun *run, guint index);
void lg_worker_start (LgWorker *w);
void lg_worker_join (LgWorker *w);
void lg_worker_free (LgWorker *w);

/* Signaling dialects (sig-consilium.c, sig-janus.c). */
void lg_consilium_start (LgClient *client);
void lg_consilium_free (LgClient *client);   /* idempotent */
void lg_janus_start (LgClient *client);
void lg_janus_free (LgClient *client);       /* idempotent */

/* client.c: the glue between dialects and CsClient */
void lg_client_fail (LgClient *client, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
CsClient *lg_client_new_pc (LgClient *client, const CsClientConfig *config);
/* Called by a dialect once it knows its sending SSRCs (after the answer). */
void lg_client_media_ready (LgClient *client);

G_END_DECLS
