/* api.h — the REST API (docs/api.md) as seen by the HTTP front (http.c),
 * the server context (server.c) and WebSocket sessions (session.c). Free of
 * records.h on purpose: records' CsSession and signaling's would clash.
 * Everything runs on the main thread. */
#pragma once

#include <gio/gio.h>

#include "signaling/api-parse.h"

G_BEGIN_DECLS

typedef struct _CsApi CsApi;
typedef struct _CsApiCall CsApiCall;
typedef struct _CsRecords CsRecords;
typedef struct _CsSignaling CsSignaling;

/* @records: (nullable) (transfer none), must outlive the CsApi; NULL:
 * every API call answers 503. @token_secret: room token key (transfer none,
 * referenced). @sig: (transfer none) the server the API belongs to (visit
 * admissions release its lobby: cs_signaling_room_admit_user()).
 * @file_max_bytes: largest upload body ([clinic] file_max_bytes; 0: 10 MiB);
 * other bodies are limited to CS_API_MAX_BODY. */
CsApi *cs_api_new (CsSignaling *sig, CsRecords *records, GBytes *token_secret,
                   guint room_token_ttl, gsize file_max_bytes);
void cs_api_free (CsApi *api);
/* Base of absolute URLs in answers (FHIR), e.g. "https://host:8443"; copied. */
void cs_api_set_public_url (CsApi *api, const char *url);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsApi, cs_api_free)

/* How a call hands its one response back to the HTTP front.
 * @content_type: a static string. @allow: (nullable) Allow header for 405,
 * copied. @body: (transfer full). */
typedef void (*CsApiRespondFunc) (gpointer user_data, guint status, const char *content_type,
                                  const char *allow, GBytes *body);

/* A request to a path under CS_API_PREFIX. All strings (transfer none),
 * nullable but @path. The call responds exactly once through @respond,
 * possibly from inside cs_api_call_run() or later from the main loop, and
 * then frees itself, unless abandoned first. */
CsApiCall *cs_api_call_new (CsApi *api, CsHttpMethod method, const char *path,
                            const char *source, const char *authorization,
                            const char *content_type, CsApiRespondFunc respond,
                            gpointer user_data);
/* One query parameter, already URL-decoded; a repeated name keeps the first. */
void cs_api_call_add_query (CsApiCall *call, const char *name, const char *value);
/* The largest body this call accepts: [clinic] file_max_bytes for a file
 * upload route, else CS_API_MAX_BODY. Known from the path, before the body. */
gsize cs_api_call_body_limit (CsApiCall *call);
/* Body bytes as they arrive. Returns FALSE once the body is too large: the
 * call has then answered 413 and is gone. */
gboolean cs_api_call_append_body (CsApiCall *call, const void *data, gsize len);
/* A body without Content-Length (chunked): answers 411 and is gone. */
void cs_api_call_refuse_length (CsApiCall *call);
/* The request is complete: route, check and dispatch. */
void cs_api_call_run (CsApiCall *call);
/* The connection closed before the response: never respond; the call frees
 * itself once its database operation (cancelled here) returns. */
void cs_api_call_abandon (CsApiCall *call);

/* Audit trail of the WebSocket side: @action "room.join" or "room.leave"
 * by the token's @user (audited only when numeric: an account id) with
 * room role @role in @room. Fire and forget; never blocks. NULL-safe. */
void cs_api_audit_room (CsApi *api, const char *user, const char *role, const char *room,
                        const char *action, const char *source);

/* ---- database calls of WebSocket sessions (api-ws.c) */

typedef enum {
  CS_API_WS_ADMIT,              /* appointment_admit {appointment_id} */
  CS_API_WS_CHAT_POST,          /* chat_post {appointment_id, sender_*, body} */
  CS_API_WS_FILES_LIST,         /* visit_files_list {appointment_id} */
} CsApiWsOp;

/* The one answer of a WebSocket call: @result (transfer none) on success;
 * else NULL and @code, a docs/api.md error code or the database's reason
 * ("doctor-busy", "unavailable", "cancelled", ...), and @message. */
typedef void (*CsApiWsDone) (gpointer user_data, json_t *result, const char *code,
                             const char *message);
/* Runs @op as the room participant with token @sub (an account when
 * numeric, else anonymous) and room role @room_role, connected from
 * @source (nullable). @args: (transfer none). @done is called exactly once,
 * possibly before this returns (database down). */
void cs_api_ws_op (CsApi *api, const char *sub, const char *room_role, const char *source,
                   CsApiWsOp op, json_t *args, GCancellable *cancellable, CsApiWsDone done,
                   gpointer user_data);

/* @user_id: the account of a valid session; 0 on failure (@code set). */
typedef void (*CsApiWsSessionDone) (gpointer user_data, gint64 user_id, const char *code,
                                    const char *message);
/* Validates the REST session token @bearer (a WebSocket "subscribe"). */
void cs_api_ws_session (CsApi *api, const char *bearer, GCancellable *cancellable,
                        CsApiWsSessionDone done, gpointer user_data);

G_END_DECLS
