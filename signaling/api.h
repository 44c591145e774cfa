/* api.h — the REST API (docs/api.md) as seen by the HTTP front (http.c),
 * the server context (server.c) and WebSocket sessions (session.c). Free of
 * records.h on purpose: records' CsSession and signaling's would clash.
 * Everything runs on the main thread. */
#pragma once

#include <glib.h>

#include "signaling/api-parse.h"

G_BEGIN_DECLS

typedef struct _CsApi CsApi;
typedef struct _CsApiCall CsApiCall;
typedef struct _CsRecords CsRecords;

/* @records: (nullable) (transfer none), must outlive the CsApi; NULL:
 * every API call answers 503. @token_secret: room token key (transfer none,
 * referenced). */
CsApi *cs_api_new (CsRecords *records, GBytes *token_secret, guint room_token_ttl);
void cs_api_free (CsApi *api);
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

G_END_DECLS
