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
  GHashTable *peers;            /* participant id → CsSession (joined only; not owned) */
  guint64 next_offer_tag;
  gboolean shutting_down;       /* no broadcasts while lws tears connections down */
  CsSigMetrics metrics;
};

/* ---- session.c: one WebSocket connection and, once joined, its participant */

typedef enum {
  CS_SESSION_CONNECTED,         /* no join yet */
  CS_SESSION_JOINED,
  CS_SESSION_LEFT,              /* left, or refused; waiting for the close */
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

  /* participant (state JOINED) */
  char id[18];                  /* "p" + 16 hex digits */
  char *user;
  char *name;
  char *role;
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
/* Queues @json (transfer full) for sending. */
void cs_session_send (CsSession *s, char *json);
/* LWS_CALLBACK_SERVER_WRITEABLE: writes one queued message. Returns -1
 * when the connection must now close. */
int cs_session_write (CsSession *s);
void cs_session_participant (const CsSession *s, CsSigParticipant *out);
/* api-session.c: audits "room.join" / "room.leave" of a joined session
 * whose token names an account (numeric sub); no-op otherwise. */
void cs_session_audit_room (CsSession *s, const char *action);

/* ---- room.c: membership and the per-participant "streams" lists */

struct _CsSigRoom {
  char *id;
  GPtrArray *members;           /* CsSession, in join order (not owned) */
};

CsSigRoom *cs_sig_room_new (const char *id);
void cs_sig_room_free (CsSigRoom *room);
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
