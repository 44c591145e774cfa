/* media.c — the main-thread face of the media engine: places rooms on
 * workers, forwards requests to them and hands their events back. */
#include "internal.h"

#include <malloc.h>

G_DEFINE_QUARK (cs-media-error-quark, cs_media_error)

typedef struct {
  char *id;
  guint worker;
  guint n_peers;
} CsRoomRef;

static void
room_ref_free (gpointer p)
{
  CsRoomRef *ref = p;
  g_free (ref->id);
  g_free (ref);
}

const char *
cs_media_kind_to_string (CsMediaKind kind)
{
  return kind == CS_MEDIA_KIND_AUDIO ? "audio" : "video";
}

const char *
cs_peer_state_to_string (CsPeerState state)
{
  static const char *names[] = { "new", "connecting", "connected", "failed", "closed" };
  return (guint) state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

gboolean
cs_media_srtp_init (GError **error)
{
  /* libsrtp keeps process-wide crypto kernel state: initialise it once, and
   * register our AES-CM/HMAC-SHA1 before any srtp_create(), since a session
   * keeps the implementation it was created with. */
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    srtp_err_status_t st = srtp_init ();
    g_autoptr (GError) fast_error = NULL;
    if (st == srtp_err_status_ok && !cs_srtp_fast_install (&fast_error))
      g_warning ("SRTP: keeping libsrtp's own AES-CM/HMAC-SHA1: %s", fast_error->message);
    g_once_init_leave (&once, st == srtp_err_status_ok ? 1 : 2);
  }
  if (once != 1) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INTERNAL, "libsrtp failed to initialise");
    return FALSE;
  }
  return TRUE;
}

CsMedia *
cs_media_new (const CsMediaConfig *config, const CsMediaEvents *events,
              gpointer user_data, GError **error)
{
  g_return_val_if_fail (config && events, NULL);
  if (!cs_media_srtp_init (error))
    return NULL;

  /* Memory per participant: libnice allocates two 64 KiB buffers per
   * component (receive, and RFC 4571 framing that UDP never uses), a parsed
   * SDP is 1.5 MB of mostly unused scratch, and DTLS handshakes leave
   * freed buffers behind. glibc's default threshold rises to the largest
   * block freed so far, after which all of these come from worker arenas
   * already touched by earlier temporaries, and stay resident (~160 KiB per
   * participant in tests/perf/bench). A fixed 64 KiB threshold serves them
   * from fresh mappings instead, where only pages really written count.
   * Process-wide, but nothing on the forwarding path allocates. */
  mallopt (M_MMAP_THRESHOLD, 64 * 1024);

  CsMedia *media = g_new0 (CsMedia, 1);
  media->config = *config;
  media->bind_address = g_strdup (config->bind_address);
  media->stun_server = g_strdup (config->stun_server);
  media->config.bind_address = media->bind_address;
  media->config.stun_server = media->stun_server;
  if (!media->config.max_video_bitrate)
    media->config.max_video_bitrate = 2500000;
  media->events = *events;
  media->user_data = user_data;
  media->main_context = g_main_context_ref (config->main_context ? config->main_context
                                                                 : g_main_context_default ());
  media->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, room_ref_free);
  media->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!cs_cert_init (&media->cert, error)) {
    cs_media_free (media);
    return NULL;
  }
  media->main_box = cs_mailbox_new (media->main_context);
  media->n_workers = config->n_workers ? config->n_workers : g_get_num_processors ();
  media->workers = g_new0 (CsWorker *, media->n_workers);
  for (guint i = 0; i < media->n_workers; i++) {
    media->workers[i] = cs_worker_new (media, i, error);
    if (!media->workers[i]) {
      cs_media_free (media);
      return NULL;
    }
  }
  return media;
}

void
cs_media_free (CsMedia *media)
{
  if (!media)
    return;
  for (guint i = 0; media->workers && i < media->n_workers; i++)
    cs_worker_free (media->workers[i]);
  g_free (media->workers);
  cs_mailbox_free (media->main_box);
  g_clear_pointer (&media->peers, g_hash_table_unref);
  g_clear_pointer (&media->rooms, g_hash_table_unref);
  cs_cert_clear (&media->cert);
  g_main_context_unref (media->main_context);
  g_free (media->bind_address);
  g_free (media->stun_server);
  g_free (media);
}

const char *
cs_media_get_fingerprint (CsMedia *media)
{
  return media->cert.fingerprint;
}

/* ---- requests to workers ---- */

typedef struct {
  char *room_id;
  char *peer_id;
  char *text;          /* sdp or candidate */
  guint64 tag;
  CsWorker *worker;
} CsRequest;

static void
request_free (gpointer p)
{
  CsRequest *req = p;
  g_free (req->room_id);
  g_free (req->peer_id);
  g_free (req->text);
  g_free (req);
}

static CsRequest *
request_new (CsWorker *worker, const char *room_id, const char *peer_id, const char *text, guint64 tag)
{
  CsRequest *req = g_new0 (CsRequest, 1);
  req->worker = worker;
  req->room_id = g_strdup (room_id);
  req->peer_id = g_strdup (peer_id);
  req->text = g_strdup (text);
  req->tag = tag;
  return req;
}

static void
do_peer_add (gpointer data)
{
  CsRequest *req = data;
  CsWorker *w = req->worker;
  if (g_hash_table_contains (w->peers, req->peer_id))
    return;
  CsRoom *room = g_hash_table_lookup (w->rooms, req->room_id);
  if (!room) {
    room = cs_room_new (w, req->room_id);
    g_hash_table_insert (w->rooms, room->id, room);
    CS_STAT_ADD (&w->stats, rooms, 1);
  }
  CsPeer *peer = cs_peer_new (room, req->peer_id);
  if (!peer) {
    cs_media_emit_state (w->media, req->peer_id, CS_PEER_STATE_FAILED);
    return;
  }
  peer->tick_phase = cs_worker_next_phase (w);
  g_ptr_array_add (room->peers, peer);
  g_hash_table_insert (w->peers, peer->id, peer);
  CS_STAT_ADD (&w->stats, peers, 1);
}

static void
do_offer (gpointer data)
{
  CsRequest *req = data;
  CsPeer *peer = g_hash_table_lookup (req->worker->peers, req->peer_id);
  if (!peer) {
    cs_media_emit_answer (req->worker->media, req->peer_id, req->tag, NULL, NULL, NULL,
                          g_error_new (CS_MEDIA_ERROR, CS_MEDIA_ERROR_NO_PEER, "no such participant"));
    return;
  }
  cs_negotiate_offer (peer, req->tag, req->text);
}

static void
do_candidate (gpointer data)
{
  CsRequest *req = data;
  CsPeer *peer = g_hash_table_lookup (req->worker->peers, req->peer_id);
  if (peer)
    cs_transport_add_remote_candidate (&peer->t, req->text);
}

static void
do_peer_remove (gpointer data)
{
  CsRequest *req = data;
  CsWorker *w = req->worker;
  CsPeer *peer = g_hash_table_lookup (w->peers, req->peer_id);
  if (!peer)
    return;
  CsRoom *room = peer->room;
  g_hash_table_remove (w->peers, req->peer_id);
  g_ptr_array_remove (room->peers, peer);   /* frees the peer */
  CS_STAT_ADD (&w->stats, peers, -1);
  if (room->peers->len == 0) {
    g_hash_table_remove (w->rooms, room->id);
    CS_STAT_ADD (&w->stats, rooms, -1);
  }
}

static CsWorker *
worker_of_peer (CsMedia *media, const char *peer_id)
{
  CsRoomRef *ref = g_hash_table_lookup (media->peers, peer_id);
  return ref ? media->workers[ref->worker] : NULL;
}

void
cs_media_peer_add (CsMedia *media, const char *room_id, const char *peer_id)
{
  g_return_if_fail (media && room_id && peer_id);
  if (g_hash_table_contains (media->peers, peer_id))
    return;
  CsRoomRef *ref = g_hash_table_lookup (media->rooms, room_id);
  if (!ref) {
    /* Pin the room to the worker with the fewest peers. */
    guint *load = g_new0 (guint, media->n_workers);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init (&it, media->rooms);
    while (g_hash_table_iter_next (&it, NULL, &v))
      load[((CsRoomRef *) v)->worker] += ((CsRoomRef *) v)->n_peers;
    guint best = 0;
    for (guint i = 1; i < media->n_workers; i++)
      if (load[i] < load[best])
        best = i;
    g_free (load);
    ref = g_new0 (CsRoomRef, 1);
    ref->id = g_strdup (room_id);
    ref->worker = best;
    g_hash_table_insert (media->rooms, ref->id, ref);
  }
  ref->n_peers++;
  g_hash_table_insert (media->peers, g_strdup (peer_id), ref);
  CsWorker *w = media->workers[ref->worker];
  cs_worker_post (w, do_peer_add, request_new (w, room_id, peer_id, NULL, 0), request_free);
}

void
cs_media_peer_offer (CsMedia *media, const char *peer_id, guint64 tag, const char *sdp)
{
  g_return_if_fail (media && peer_id && sdp);
  CsWorker *w = worker_of_peer (media, peer_id);
  if (!w) {
    cs_media_emit_answer (media, peer_id, tag, NULL, NULL, NULL,
                          g_error_new (CS_MEDIA_ERROR, CS_MEDIA_ERROR_NO_PEER, "no such participant"));
    return;
  }
  cs_worker_post (w, do_offer, request_new (w, NULL, peer_id, sdp, tag), request_free);
}

void
cs_media_peer_candidate (CsMedia *media, const char *peer_id, const char *candidate)
{
  g_return_if_fail (media && peer_id);
  CsWorker *w = worker_of_peer (media, peer_id);
  if (w)
    cs_worker_post (w, do_candidate, request_new (w, NULL, peer_id, candidate ? candidate : "", 0),
                    request_free);
}

void
cs_media_peer_remove (CsMedia *media, const char *peer_id)
{
  g_return_if_fail (media && peer_id);
  CsRoomRef *ref = g_hash_table_lookup (media->peers, peer_id);
  if (!ref)
    return;
  CsWorker *w = media->workers[ref->worker];
  cs_worker_post (w, do_peer_remove, request_new (w, NULL, peer_id, NULL, 0), request_free);
  g_hash_table_remove (media->peers, peer_id);
  if (--ref->n_peers == 0)
    g_hash_table_remove (media->rooms, ref->id);
}

/* ---- events from workers ---- */

typedef enum { EV_ANSWER, EV_CANDIDATE, EV_STATE } CsEventType;

typedef struct {
  CsMedia *media;
  CsEventType type;
  char *peer_id;
  guint64 tag;
  char *sdp;
  char *mid;
  char *candidate;
  GArray *published;    /* CsMediaStream with owned strings */
  GArray *subscribed;
  GError *error;
  CsPeerState state;
} CsEvent;

static void
streams_free (GArray *a)
{
  if (!a)
    return;
  for (guint i = 0; i < a->len; i++) {
    CsMediaStream *s = &g_array_index (a, CsMediaStream, i);
    g_free ((char *) s->mid);
    g_free ((char *) s->track_id);
    g_free ((char *) s->participant_id);
  }
  g_array_unref (a);
}

static void
event_free (gpointer p)
{
  CsEvent *ev = p;
  g_free (ev->peer_id);
  g_free (ev->sdp);
  g_free (ev->mid);
  g_free (ev->candidate);
  streams_free (ev->published);
  streams_free (ev->subscribed);
  g_clear_error (&ev->error);
  g_free (ev);
}

static void
event_dispatch (gpointer p)
{
  CsEvent *ev = p;
  const CsMediaEvents *e = &ev->media->events;
  switch (ev->type) {
  case EV_ANSWER:
    if (e->answer)
      e->answer (ev->media->user_data, ev->peer_id, ev->tag, ev->sdp,
                 ev->published ? (CsMediaStream *) ev->published->data : NULL,
                 ev->published ? ev->published->len : 0,
                 ev->subscribed ? (CsMediaStream *) ev->subscribed->data : NULL,
                 ev->subscribed ? ev->subscribed->len : 0, ev->error);
    break;
  case EV_CANDIDATE:
    if (e->candidate)
      e->candidate (ev->media->user_data, ev->peer_id, ev->mid, ev->candidate);
    break;
  case EV_STATE:
    if (e->state)
      e->state (ev->media->user_data, ev->peer_id, ev->state);
    break;
  }
}

static CsEvent *
event_new (CsMedia *media, CsEventType type, const char *peer_id)
{
  CsEvent *ev = g_new0 (CsEvent, 1);
  ev->media = media;
  ev->type = type;
  ev->peer_id = g_strdup (peer_id);
  return ev;
}

void
cs_media_emit_answer (CsMedia *media, const char *peer_id, guint64 tag, char *sdp,
                      GArray *published, GArray *subscribed, GError *error)
{
  CsEvent *ev = event_new (media, EV_ANSWER, peer_id);
  ev->tag = tag;
  ev->sdp = sdp;
  ev->published = published;
  ev->subscribed = subscribed;
  ev->error = error;
  cs_mailbox_post (media->main_box, event_dispatch, ev, event_free);
}

void
cs_media_emit_candidate (CsMedia *media, const char *peer_id, const char *mid, const char *candidate)
{
  CsEvent *ev = event_new (media, EV_CANDIDATE, peer_id);
  ev->mid = g_strdup (mid);
  ev->candidate = g_strdup (candidate);
  cs_mailbox_post (media->main_box, event_dispatch, ev, event_free);
}

void
cs_media_emit_state (CsMedia *media, const char *peer_id, CsPeerState state)
{
  CsEvent *ev = event_new (media, EV_STATE, peer_id);
  ev->state = state;
  cs_mailbox_post (media->main_box, event_dispatch, ev, event_free);
}

/* ---- metrics ---- */

void
cs_media_append_metrics (CsMedia *media, GString *out)
{
#define METRIC(name, type, help, field)                                              \
  do {                                                                               \
    g_string_append_printf (out, "# HELP consilium_media_" name " " help "\n"         \
                                 "# TYPE consilium_media_" name " " type "\n");      \
    for (guint i = 0; i < media->n_workers; i++)                                     \
      g_string_append_printf (out, "consilium_media_" name "{worker=\"%u\"} %" G_GUINT64_FORMAT "\n", \
                              i, (guint64) CS_STAT_GET (&media->workers[i]->stats, field)); \
  } while (0)
  METRIC ("rooms", "gauge", "Rooms on the worker.", rooms);
  METRIC ("peers", "gauge", "Participants with a media transport on the worker.", peers);
  METRIC ("rtp_received_packets_total", "counter", "RTP packets received and authenticated.", rtp_in_packets);
  METRIC ("rtp_received_bytes_total", "counter", "Bytes of authenticated RTP received.", rtp_in_bytes);
  METRIC ("rtp_forwarded_packets_total", "counter", "RTP packets sent to subscribers.", rtp_out_packets);
  METRIC ("rtp_forwarded_bytes_total", "counter", "Bytes of RTP sent to subscribers.", rtp_out_bytes);
  METRIC ("rtcp_received_packets_total", "counter", "RTCP packets received.", rtcp_in_packets);
  METRIC ("rtcp_sent_packets_total", "counter", "RTCP packets sent.", rtcp_out_packets);
  METRIC ("srtp_errors_total", "counter", "SRTP/SRTCP packets dropped: failed authentication, replay or no keys yet.", srtp_errors);
  METRIC ("malformed_rtp_total", "counter", "Authenticated RTP packets dropped as malformed.", malformed_rtp);
  METRIC ("malformed_rtcp_total", "counter", "RTCP packets dropped as malformed.", malformed_rtcp);
  METRIC ("unknown_ssrc_total", "counter", "RTP packets dropped for an SSRC not in the SDP.", unknown_ssrc);
  METRIC ("send_errors_total", "counter", "Packets libnice could not send.", send_errors);
  METRIC ("nacks_received_total", "counter", "NACK feedback packets from subscribers.", nacks_in);
  METRIC ("nacks_sent_total", "counter", "NACK feedback packets sent to publishers.", nacks_out);
  METRIC ("retransmissions_total", "counter", "Packets retransmitted from the buffer.", retransmits);
  METRIC ("plis_received_total", "counter", "Key-frame requests (PLI/FIR) from subscribers.", plis_in);
  METRIC ("plis_sent_total", "counter", "Key-frame requests (PLI) sent to publishers.", plis_out);
  METRIC ("dtls_failures_total", "counter", "DTLS handshakes failed or fingerprint mismatches.", dtls_failures);
  METRIC ("ice_failures_total", "counter", "ICE transports that failed.", ice_failures);
  METRIC ("direct_received_packets_total", "counter", "Datagrams read past libnice (io_uring or recvmmsg).", inbox_packets);
  METRIC ("stun_answered_total", "counter", "ICE consent checks answered past libnice.", stun_answered);
  METRIC ("socket_give_backs_total", "counter", "Times a socket went back to libnice for unexpected STUN.", give_backs);
  METRIC ("rtx_store_bytes", "gauge", "Memory holding recently forwarded video for NACKs.", rtx_store_bytes);
  METRIC ("busy_nanoseconds_total", "counter", "Time the worker spent handling packets and feedback.", busy_ns);
#undef METRIC
  g_string_append (out, "# HELP consilium_media_forward_delay_seconds From a datagram's arrival (kernel "
                        "timestamp) to the submission of the packets it caused.\n"
                        "# TYPE consilium_media_forward_delay_seconds histogram\n");
  for (guint i = 0; i < media->n_workers; i++) {
    const CsStats *st = &media->workers[i]->stats;
    guint64 cumulative = 0;
    for (guint b = 0; b <= CS_DELAY_BUCKETS; b++) {
      cumulative += CS_STAT_GET (st, delay_buckets[b]);
      if (b < CS_DELAY_BUCKETS)
        g_string_append_printf (out, "consilium_media_forward_delay_seconds_bucket{worker=\"%u\",le=\"%g\"} %"
                                G_GUINT64_FORMAT "\n", i, cs_delay_bounds_us[b] / 1e6, cumulative);
      else
        g_string_append_printf (out, "consilium_media_forward_delay_seconds_bucket{worker=\"%u\",le=\"+Inf\"} %"
                                G_GUINT64_FORMAT "\n", i, cumulative);
    }
    g_string_append_printf (out, "consilium_media_forward_delay_seconds_sum{worker=\"%u\"} %.6f\n"
                                 "consilium_media_forward_delay_seconds_count{worker=\"%u\"} %" G_GUINT64_FORMAT "\n",
                            i, CS_STAT_GET (st, delay_sum_us) / 1e6, i, cumulative);
  }
}
