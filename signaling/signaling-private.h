/* signaling-private.h — shared internals of signaling/: the CsSignaling
 * context, sessions (one per WebSocket) and rooms. Everything here runs on
 * the main thread. */
#pragma once

#include <libwebsockets.h>

#include "signaling/api.h"
#include "signaling/protocol.h"
#include "signaling/signaling.h"

G_BEGIN_DECLS

typedef struct _CsSession CsSession;
typedef struct _CsSigRoom CsSigRoom;

typedef struct {
  guint64 connections_total;    /* WebSockets accepted */
  guint64 connections;          /* open now */
  guint64 messages[CS_SIG_N_MSG_TYPES];  /* valid requests, by type */
  guint64 errors[CS_SIG_N_ERRORS];       /* error replies, by code */
  guint64 http_requests;
} CsSigMetrics;

struct _CsSignaling {
  GMainLoop *loop;
  struct lws_context *lws;
  struct lws_vhost *vhost;
  guint16 port;
  char *web_root;               /* canonical (realpath) */
  GBytes *token_secret;
  guint max_participants;
  GStrv ice_urls;
  CsMedia *media;               /* (nullable) (transfer none) */
  CsApi *api;                   /* REST API (docs/api.md); always set */
  CsMetricsFunc metrics_func;
  gpointer metrics_data;
  GHashTable *rooms;            /* room id → CsSigRoom (owned) */
  GHashTable *sessions;         /* connection id → CsSession (every open WebSocket; not owned) */
  GHashTable *peers;            /* participant id → CsSession (joined only; not owned) */
  GCancellable *alive;          /* cancelled when the server stops: database answers
                                 * that come later find nobody to tell */
  guint64 next_offer_tag;
  gboolean shutting_down;       /* no broadcasts while lws tears connections down */
  CsSigMetrics metrics;
};

/* ---- session.c: one WebSocket connection and, once joined, its participant */

typedef enum {
  CS_SESSION_CONNECTED,         /* no join yet */
  CS_SESSION_WAITING,           /* in a room's lobby until a host admits it */
  CS_SESSION_JOINED,
  CS_SESSION_LEFT,              /* left, refused or removed; waiting for the close */
} CsSessionState;

/* A track a participant publishes, from the media answers. */
typedef struct {
  char *track;
  CsMediaKind kind;
} CsPublished;

struct _CsSession {
  CsSignaling *sig;
  struct lws *wsi;
  CsSessionState state;

  /* reassembly of the current incoming message */
  GByteArray *rx;
  gboolean rx_in_message;
  gboolean rx_too_large;
  gboolean rx_binary;

  /* outgoing messages, each with LWS_PRE bytes of headroom */
  GQueue out;
  gsize out_bytes;
  gboolean close_after_flush;
  enum lws_close_status close_status;

  char id[18];                  /* "p" + 16 hex digits, from the connection on; the
                                 * participant id once joined (or waiting) */
  gint64 subscribed_user;       /* "subscribe": notifications of this account; 0: none */
  GQueue db_queue;              /* requests for the database, run one at a time so
                                 * their answers keep the order they were sent in */
  gboolean db_busy;

  /* participant (states WAITING and JOINED) */
  char *user;
  char *name;
  char *role;
  gboolean host;                /* token claim: may admit, mute and remove */
  CsSigId join_id;              /* "joined" after admission answers the join */
  gint64 waiting_since;         /* µs since the epoch (WAITING) */
  gboolean can_publish;
  gboolean audio_muted;
  gboolean video_muted;
  CsSigRoom *room;
  gboolean offer_pending;
  guint64 offer_tag;
  CsSigId offer_id;
  GArray *published;            /* CsPublished, in the publisher's m-line order */
  char *streams_sent;           /* last "streams" message sent, to send only changes */
};

CsSession *cs_session_new (CsSignaling *sig, struct lws *wsi);
/* The WebSocket is gone: leaves the room and frees @s. */
void cs_session_closed (CsSession *s);
/* A complete incoming message. */
void cs_session_handle_frame (CsSession *s, const char *data, gsize len);
void cs_session_send_error (CsSession *s, const CsSigId *id, CsSigErrorCode code,
                            const char *message);
/* An error with a code from the database ("doctor-busy", ...). */
void cs_session_send_error_reason (CsSession *s, const CsSigId *id, const char *code,
                                   const char *message);
/* Leaves the room or its lobby (state LEFT); others are told. */
void cs_session_leave (CsSession *s);
/* Sends what is queued, then closes with @status. */
void cs_session_close (CsSession *s, enum lws_close_status status);
/* Queues @json (transfer full) for sending. */
void cs_session_send (CsSession *s, char *json);
/* LWS_CALLBACK_SERVER_WRITEABLE: writes one queued message. Returns -1
 * when the connection must now close. */
int cs_session_write (CsSession *s);
void cs_session_participant (const CsSession *s, CsSigParticipant *out);
/* A waiting session enters its room (s->room), as if it had just joined. */
void cs_session_enter (CsSession *s);
/* api-session.c: audits "room.join" / "room.leave" of a joined session
 * whose token names an account (numeric sub); no-op otherwise. */
void cs_session_audit_room (CsSession *s, const char *action);

/* ---- visit.c: what visits add to a room */

/* admit, mute-participant, remove, chat, file-shared and subscribe; the
 * state is checked already. */
void cs_visit_handle (CsSession *s, const CsSigRequest *req);
/* Drops the database requests @s still has queued. */
void cs_visit_session_closed (CsSession *s);

/* ---- room.c: membership and the per-participant "streams" lists */

struct _CsSigRoom {
  char *id;
  gint64 appointment_id;        /* N of a visit room "appt-N"; 0 otherwise */
  GPtrArray *members;           /* CsSession, in join order (not owned) */
  GPtrArray *lobby;             /* CsSession waiting, longest wait first (not owned) */
  GHashTable *admitted;         /* users (sub) admitted: they skip the lobby when back */
  GHashTable *removed;          /* users a host removed: they come back through the lobby */
};

/* The room lives while it has members or waiting connections. */
CsSigRoom *cs_sig_room_new (const char *id);
void cs_sig_room_free (CsSigRoom *room);
gboolean cs_sig_room_is_empty (const CsSigRoom *room);
/* The member or waiting connection with participant id @id, or NULL. */
CsSession *cs_sig_room_find (CsSigRoom *room, const char *id, gboolean *waiting);
/* Sends "lobby" to @host, or with NULL to every host in the room. */
void cs_sig_room_send_lobby (CsSigRoom *room, CsSession *host);
/* Lets @user in: its waiting connections enter (as far as the room has
 * space) and later ones skip the lobby. Returns how many entered. */
guint cs_sig_room_admit_user (CsSigRoom *room, const char *user, guint max_participants);
/* Sends @json (transfer full) to every member but @except (nullable). */
void cs_sig_room_broadcast (CsSigRoom *room, CsSession *except, char *json);
/* Sends "streams" to every member whose list of others' tracks changed
 * since the last one it was sent. */
void cs_sig_room_update_streams (CsSigRoom *room);

/* ---- http.c */

/* Per-connection state of the HTTP request being served. A response is
 * prepared (status, headers, body) and written from the WRITEABLE callback,
 * so API answers that come later from the database are sent the same way. */
typedef struct {
  CsApiCall *call;              /* API request waiting for its body or answer */
  gboolean discard_body;        /* refused (413): ignore the rest of the body */
  gboolean call_started;        /* run once: lws still reports the end of an empty body */
  gboolean headers_pending;
  gboolean close_after;         /* close instead of keep-alive (413) */
  guint status;
  const char *mime;             /* static */
  const char *cache;            /* static */
  char *allow;                  /* Allow header of a 405, or NULL */
  GBytes *body;
  gsize offset;
} CsHttpConn;

int cs_http_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len);
void cs_signaling_append_metrics (CsSignaling *sig, GString *out);

G_END_DECLS
