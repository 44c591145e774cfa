/* api-ws.c — the database calls of WebSocket sessions (admission, chat,
 * the files of a visit, notification subscriptions), made through the REST
 * API's records handle. session.c cannot include records.h (both name a
 * type CsSession), so it calls these with plain strings and JSON. */
#include "signaling/api-private.h"

#include <string.h>

static const CsOp ws_ops[] = {
  [CS_API_WS_ADMIT] = CS_OP_APPOINTMENT_ADMIT,
  [CS_API_WS_CHAT_POST] = CS_OP_CHAT_POST,
  [CS_API_WS_FILES_LIST] = CS_OP_VISIT_FILES_LIST,
};

typedef struct {
  CsRecords *db;                /* outlives the server; the CsApi may not */
  CsApiWsDone done;
  CsApiWsSessionDone session_done;
  gpointer user_data;
} WsCall;

/* The code a WebSocket error carries: the database's reason when it gave
 * one, else the REST code of the error (docs/api.md). Internal details stay
 * in the log. */
static const char *
error_code (const GError *error, char **reason, const char **message)
{
  *reason = NULL;
  *message = error->message;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  if (error->domain == CS_RECORDS_ERROR) {
    switch ((CsRecordsError) error->code) {
    case CS_RECORDS_ERROR_UNAVAILABLE:
      return "unavailable";
    case CS_RECORDS_ERROR_AUTH:
      return "unauthorized";
    case CS_RECORDS_ERROR_INVALID:
    case CS_RECORDS_ERROR_NOT_FOUND:
    case CS_RECORDS_ERROR_FORBIDDEN:
    case CS_RECORDS_ERROR_EXISTS:
    case CS_RECORDS_ERROR_CONFLICT:
      *reason = cs_records_error_reason (error, message);
      if (*reason)
        return *reason;
      return error->code == CS_RECORDS_ERROR_NOT_FOUND ? "not-found"
             : error->code == CS_RECORDS_ERROR_FORBIDDEN ? "forbidden"
             : error->code == CS_RECORDS_ERROR_INVALID ? "bad-request"
                                                       : "conflict";
    default:
      break;
    }
  }
  g_warning ("WebSocket database call: %s", error->message);
  *message = "internal error";
  return "internal";
}

static void
on_op (GObject *source, GAsyncResult *res, gpointer user_data)
{
  WsCall *c = user_data;
  g_autoptr (GError) error = NULL;
  json_t *out = cs_records_op_finish (c->db, res, &error);
  if (out) {
    c->done (c->user_data, out, NULL, NULL);
    json_decref (out);
  } else {
    g_autofree char *reason = NULL;
    const char *message;
    const char *code = error_code (error, &reason, &message);
    c->done (c->user_data, NULL, code, message);
  }
  g_free (c);
}

static gboolean
db_ready (CsApi *api)
{
  return api->records && cs_records_is_available (api->records);
}

void
cs_api_ws_op (CsApi *api, const char *sub, const char *room_role, const char *source,
              CsApiWsOp op, json_t *args, GCancellable *cancellable, CsApiWsDone done,
              gpointer user_data)
{
  g_return_if_fail (api != NULL && op < G_N_ELEMENTS (ws_ops) && done != NULL);
  if (!db_ready (api)) {
    done (user_data, NULL, "unavailable", "the database is unavailable; try again later");
    return;
  }
  /* Room tokens of visits name the account in "sub". The account's role
   * only widens what admins and clinic staff may read, so the least one
   * serves every room role but the doctors'. */
  gint64 id = 0;
  if (!sub || !cs_api_parse_id (sub, strlen (sub), &id))
    id = 0;
  CsRole role = g_strcmp0 (room_role, "doctor") == 0       ? CS_ROLE_DOCTOR
                : g_strcmp0 (room_role, "specialist") == 0 ? CS_ROLE_SPECIALIST
                                                           : CS_ROLE_PATIENT;
  CsActor actor = { .user_id = id, .role = role, .source = source };
  WsCall *c = g_new0 (WsCall, 1);
  c->db = api->records;
  c->done = done;
  c->user_data = user_data;
  cs_records_op_async (api->records, &actor, ws_ops[op], args, cancellable, on_op, c);
}

static void
on_session (GObject *source, GAsyncResult *res, gpointer user_data)
{
  WsCall *c = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsSession) session = cs_records_session_validate_finish (c->db, res, &error);
  if (session) {
    c->session_done (c->user_data, session->user_id, NULL, NULL);
  } else {
    g_autofree char *reason = NULL;
    const char *message;
    const char *code = error_code (error, &reason, &message);
    c->session_done (c->user_data, 0, code, message);
  }
  g_free (c);
}

void
cs_api_ws_session (CsApi *api, const char *bearer, GCancellable *cancellable,
                   CsApiWsSessionDone done, gpointer user_data)
{
  g_return_if_fail (api != NULL && bearer != NULL && done != NULL);
  if (!db_ready (api)) {
    done (user_data, 0, "unavailable", "the database is unavailable; try again later");
    return;
  }
  WsCall *c = g_new0 (WsCall, 1);
  c->db = api->records;
  c->session_done = done;
  c->user_data = user_data;
  cs_records_session_validate_async (api->records, bearer, cancellable, on_session, c);
}
