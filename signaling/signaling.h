/* signaling.h — HTTPS + WebSocket front of consiliumd: static web client,
 * /metrics, /healthz and the JSON signaling protocol of docs/signaling.md.
 * Runs libwebsockets on the main GLib loop. Public header of signaling/. */
#pragma once

#include <glib.h>
#include <jansson.h>
#include "media/media.h"

G_BEGIN_DECLS

#define CS_SIGNALING_ERROR (cs_signaling_error_quark ())
GQuark cs_signaling_error_quark (void);

typedef enum {
  CS_SIGNALING_ERROR_CONFIG,
  CS_SIGNALING_ERROR_LISTEN,
} CsSignalingError;

/* Appends Prometheus text to @out; called on the main thread for GET /metrics. */
typedef void (*CsMetricsFunc) (GString *out, gpointer user_data);

typedef struct _CsRecords CsRecords;  /* records/records.h */

typedef struct {
  GMainLoop *loop;              /* libwebsockets runs on this loop (transfer none) */
  const char *listen_address;   /* "127.0.0.1" */
  guint16 port;                 /* 0: pick a free port (tests); see cs_signaling_get_port() */
  const char *tls_cert;         /* PEM paths; both required: every port is TLS */
  const char *tls_key;
  const char *web_root;         /* folder served at / (clients/web) */
  const guint8 *token_secret;   /* HMAC-SHA256 key for room tokens */
  gsize token_secret_len;
  guint max_participants;       /* per room */
  const char *const *ice_urls;  /* NULL-terminated STUN/TURN URLs for "ice_servers"; may be NULL */
  CsRecords *records;           /* (nullable) (transfer none) the REST API's database; must
                                 * outlive the CsSignaling. NULL: /api/v1 answers 503 */
  guint room_token_ttl;         /* seconds, tokens from POST /api/v1/room-tokens; 0: 3600 */
  guint file_max_bytes;         /* largest upload body ([clinic] file_max_bytes); 0: 10 MiB */
} CsSignalingConfig;

typedef struct _CsSignaling CsSignaling;

CsSignaling *cs_signaling_new (const CsSignalingConfig *config, GError **error);
void cs_signaling_free (CsSignaling *sig);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSignaling, cs_signaling_free)

guint16 cs_signaling_get_port (CsSignaling *sig);

/* The media engine is created after the signaling front, with these events
 * and the CsSignaling as user_data, then handed over here (transfer none). */
const CsMediaEvents *cs_signaling_media_events (void);
void cs_signaling_set_media (CsSignaling *sig, CsMedia *media);
void cs_signaling_set_metrics_func (CsSignaling *sig, CsMetricsFunc func, gpointer user_data);
/* The server's public base URL ("https://host:port", no final slash), for
 * absolute URLs in answers (FHIR). @url is copied. */
void cs_signaling_set_public_url (CsSignaling *sig, const char *url);

/* A visit's patient was admitted (POST /api/v1/appointments/{id}/admit, or
 * a host's "admit"): @user's connections waiting in @room's lobby enter it,
 * and later ones skip the lobby. Returns how many entered. */
guint cs_signaling_room_admit_user (CsSignaling *sig, const char *room, const char *user);
/* Sends {"type":"notification","notification":@notification} (a JSON
 * object, transfer none) to every WebSocket that subscribed for account
 * @user_id. Returns how many got it. */
guint cs_signaling_notify_user (CsSignaling *sig, gint64 user_id, json_t *notification);

/* Room tokens (JWT HS256, claims in docs/signaling.md). */
typedef struct {
  char *room;
  char *user;
  char *name;
  char *role;
  gint64 exp;   /* seconds since the epoch */
  gint64 iat;
  gboolean lobby;  /* waits in the room's lobby until a host admits it */
  gboolean host;   /* may admit, mute and remove others */
} CsTokenClaims;

void cs_token_claims_clear (CsTokenClaims *claims);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CsTokenClaims, cs_token_claims_clear)

typedef enum {
  CS_TOKEN_OK = 0,
  CS_TOKEN_MALFORMED = -1,     /* not three base64url parts, bad JSON, wrong alg */
  CS_TOKEN_BAD_SIGNATURE = -2,
  CS_TOKEN_BAD_CLAIMS = -3,    /* missing, ill-typed or out-of-range claim */
  CS_TOKEN_EXPIRED = -4,
} CsTokenResult;

/* Returns a newly allocated token (transfer full). */
char *cs_token_sign (const guint8 *secret, gsize secret_len, const CsTokenClaims *claims);
/* Verifies @token at time @now (seconds); fills @claims only on CS_TOKEN_OK. */
CsTokenResult cs_token_verify (const guint8 *secret, gsize secret_len, const char *token,
                               gint64 now, CsTokenClaims *claims);

G_END_DECLS
