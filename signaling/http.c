/* http.c — the HTTP side of the signaling port: the web client's static
 * files, GET /metrics, GET /healthz, and the REST API under /api/v1 (its
 * requests and bodies are read here and handed to api.c). Responses are
 * small (the web client, JSON), so each is held whole in memory and written
 * in chunks as the socket becomes writable. */
#include "signaling/signaling-private.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 16384
#define MAX_URI 1024
#define MAX_FILE_SIZE (32 * 1024 * 1024)

/* Same-origin everything; the client talks to wss: and plays MediaStreams
 * (blob:/mediastream: URLs). */
static const char csp[] =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
  "media-src 'self' blob: mediastream:; connect-src 'self' wss:; object-src 'none'; "
  "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

static const struct {
  const char *ext;
  const char *mime;
} mime_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".webmanifest", "application/manifest+json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".ico", "image/x-icon" },
  { ".woff2", "font/woff2" },
  { ".txt", "text/plain; charset=utf-8" },
};

static const char *
mime_for (const char *path)
{
  const char *dot = strrchr (path, '.');
  for (gsize i = 0; dot && i < G_N_ELEMENTS (mime_types); i++)
    if (g_ascii_strcasecmp (dot, mime_types[i].ext) == 0)
      return mime_types[i].mime;
  return NULL;
}

/* Maps a request path to a file under @web_root, or NULL. Refuses "..",
 * "." and hidden segments, backslashes and control characters, then checks
 * that the canonical path (symlinks resolved) is still inside the root. */
static char *
resolve_static (const char *web_root, const char *uri)
{
  if (uri[0] != '/' || strlen (uri) > MAX_URI)
    return NULL;
  for (const char *c = uri; *c; c++)
    if ((guchar) *c < 0x20 || *c == '\\' || *c == 0x7f)
      return NULL;
  g_auto (GStrv) segments = g_strsplit (uri + 1, "/", -1);
  guint n = g_strv_length (segments);
  for (guint i = 0; i < n; i++) {
    const char *seg = segments[i];
    if (seg[0] == '.' || (seg[0] == '\0' && i + 1 < n))
      return NULL;
  }
  g_autofree char *rel = g_str_has_suffix (uri, "/") ? g_strconcat (uri, "index.html", NULL)
                                                      : g_strdup (uri);
  g_autofree char *joined = g_build_filename (web_root, rel, NULL);
  g_autofree char *real = realpath (joined, NULL);
  if (!real || !g_str_has_prefix (real, web_root) || real[strlen (web_root)] != '/')
    return NULL;
  if (!g_file_test (real, G_FILE_TEST_IS_REGULAR))
    return NULL;
  return g_steal_pointer (&real);
}

static int
add_header (struct lws *wsi, const char *name, const char *value, guint8 **p, guint8 *end)
{
  return lws_add_http_header_by_name (wsi, (const unsigned char *) name,
                                      (const unsigned char *) value, (int) strlen (value), p,
                                      end);
}

/* Prepares the response: status line, headers and @body (transfer full)
 * are written from the WRITEABLE callback (write_response), so answers
 * that come later from the database go out the same way. */
static int
respond (struct lws *wsi, CsHttpConn *conn, unsigned int status, const char *mime,
         GBytes *body, const char *cache)
{
  g_clear_pointer (&conn->body, g_bytes_unref);
  conn->body = body;
  conn->offset = 0;
  conn->status = status;
  conn->mime = mime;
  conn->cache = cache;
  conn->headers_pending = TRUE;
  lws_callback_on_writable (wsi);
  return 0;
}

static int
respond_text (struct lws *wsi, CsHttpConn *conn, unsigned int status, const char *text)
{
  return respond (wsi, conn, status, "text/plain; charset=utf-8",
                  g_bytes_new_static (text, strlen (text)), "no-store");
}

static int
write_headers (struct lws *wsi, CsHttpConn *conn)
{
  guint8 buf[LWS_PRE + 2048];
  guint8 *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  conn->headers_pending = FALSE;
  if (lws_add_http_common_headers (wsi, conn->status, conn->mime,
                                   g_bytes_get_size (conn->body), &p, end) ||
      add_header (wsi, "x-content-type-options:", "nosniff", &p, end) ||
      add_header (wsi, "referrer-policy:", "no-referrer", &p, end) ||
      add_header (wsi, "x-frame-options:", "DENY", &p, end) ||
      add_header (wsi, "content-security-policy:", csp, &p, end) ||
      add_header (wsi, "cache-control:", conn->cache, &p, end) ||
      (conn->allow && add_header (wsi, "allow:", conn->allow, &p, end)) ||
      (conn->close_after && add_header (wsi, "connection:", "close", &p, end)) ||
      lws_finalize_write_http_header (wsi, start, &p, end))
    return -1;
  return 0;
}

/* The transaction is over: reset the per-request state for keep-alive. */
static int
complete (struct lws *wsi, CsHttpConn *conn)
{
  g_clear_pointer (&conn->body, g_bytes_unref);
  g_clear_pointer (&conn->allow, g_free);
  if (conn->close_after)
    return -1;
  conn->discard_body = FALSE;
  conn->call_started = FALSE;
  return lws_http_transaction_completed (wsi) ? -1 : 0;
}

static int
write_response (struct lws *wsi, CsHttpConn *conn)
{
  if (!conn->body)
    return 0;
  if (conn->headers_pending) {
    if (write_headers (wsi, conn) < 0)
      return -1;
    if (g_bytes_get_size (conn->body) == 0)
      return complete (wsi, conn);
    /* One write per WRITEABLE callback: the body follows in the next. */
    lws_callback_on_writable (wsi);
    return 0;
  }
  gsize size;
  const guint8 *data = g_bytes_get_data (conn->body, &size);
  gsize n = MIN (size - conn->offset, CHUNK);
  gboolean last = conn->offset + n == size;
  guint8 *buf = g_malloc (LWS_PRE + n);
  memcpy (buf + LWS_PRE, data + conn->offset, n);
  int written = lws_write (wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
  g_free (buf);
  if (written < (int) n)
    return -1;
  conn->offset += n;
  if (!last) {
    lws_callback_on_writable (wsi);
    return 0;
  }
  return complete (wsi, conn);
}

void
cs_signaling_append_metrics (CsSignaling *sig, GString *out)
{
  const CsSigMetrics *m = &sig->metrics;
  g_string_append_printf (out,
    "# HELP consilium_signaling_connections_total WebSocket connections accepted.\n"
    "# TYPE consilium_signaling_connections_total counter\n"
    "consilium_signaling_connections_total %" G_GUINT64_FORMAT "\n"
    "# HELP consilium_signaling_connections WebSocket connections open.\n"
    "# TYPE consilium_signaling_connections gauge\n"
    "consilium_signaling_connections %" G_GUINT64_FORMAT "\n"
    "# HELP consilium_signaling_http_requests_total HTTP requests served.\n"
    "# TYPE consilium_signaling_http_requests_total counter\n"
    "consilium_signaling_http_requests_total %" G_GUINT64_FORMAT "\n",
    m->connections_total, m->connections, m->http_requests);

  g_string_append (out,
    "# HELP consilium_signaling_messages_total Valid client messages, by type.\n"
    "# TYPE consilium_signaling_messages_total counter\n");
  for (guint t = 0; t < CS_SIG_N_MSG_TYPES; t++)
    g_string_append_printf (out, "consilium_signaling_messages_total{type=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            cs_sig_msg_type_to_string (t), m->messages[t]);

  g_string_append (out,
    "# HELP consilium_signaling_errors_total Error replies sent, by code.\n"
    "# TYPE consilium_signaling_errors_total counter\n");
  for (guint c = 1; c < CS_SIG_N_ERRORS; c++)
    g_string_append_printf (out, "consilium_signaling_errors_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            cs_sig_error_code_to_string (c), m->errors[c]);

  guint waiting = 0;
  GHashTableIter it;
  gpointer room;
  g_hash_table_iter_init (&it, sig->rooms);
  while (g_hash_table_iter_next (&it, NULL, &room))
    waiting += ((CsSigRoom *) room)->lobby->len;
  g_string_append_printf (out,
    "# HELP consilium_signaling_rooms Rooms with participants or waiting connections.\n"
    "# TYPE consilium_signaling_rooms gauge\n"
    "consilium_signaling_rooms %u\n"
    "# HELP consilium_signaling_participants Participants joined in all rooms.\n"
    "# TYPE consilium_signaling_participants gauge\n"
    "consilium_signaling_participants %u\n"
    "# HELP consilium_signaling_waiting Connections waiting in a room's lobby.\n"
    "# TYPE consilium_signaling_waiting gauge\n"
    "consilium_signaling_waiting %u\n",
    g_hash_table_size (sig->rooms), g_hash_table_size (sig->peers), waiting);

  if (sig->metrics_func)
    sig->metrics_func (out, sig->metrics_data);
}

/* ---- REST API dispatch (api.c) */

/* CsApiRespondFunc: the call's one answer. @user_data is the wsi; the
 * connection's state is found from it, so nothing dangles if it closed
 * (an abandoned call never responds). */
static void
api_respond (gpointer user_data, guint status, const char *content_type, const char *allow,
             GBytes *body)
{
  struct lws *wsi = user_data;
  CsHttpConn *conn = lws_wsi_user (wsi);
  conn->call = NULL;
  g_free (conn->allow);
  conn->allow = g_strdup (allow);
  if (status == HTTP_STATUS_REQ_ENTITY_TOO_LARGE || status == HTTP_STATUS_LENGTH_REQUIRED) {
    /* The rest of an oversized body is not read: the connection cannot be
     * reused. */
    conn->close_after = TRUE;
    conn->discard_body = TRUE;
  }
  respond (wsi, conn, status, content_type, body, "no-store");
}

static CsHttpMethod
request_method (struct lws *wsi)
{
  static const struct {
    enum lws_token_indexes token;
    CsHttpMethod method;
  } methods[] = {
    { WSI_TOKEN_GET_URI, CS_HTTP_GET },
    { WSI_TOKEN_POST_URI, CS_HTTP_POST },
    { WSI_TOKEN_PUT_URI, CS_HTTP_PUT },
    { WSI_TOKEN_PATCH_URI, CS_HTTP_PATCH },
    { WSI_TOKEN_DELETE_URI, CS_HTTP_DELETE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (lws_hdr_total_length (wsi, methods[i].token) > 0)
      return methods[i].method;
  return CS_HTTP_OTHER;
}

/* A header's value, or NULL when absent (transfer full). */
static char *
header_dup (struct lws *wsi, enum lws_token_indexes token)
{
  int len = lws_hdr_total_length (wsi, token);
  if (len <= 0)
    return NULL;
  char *v = g_malloc (len + 1);
  if (lws_hdr_copy (wsi, v, len + 1, token) < 0) {
    g_free (v);
    return NULL;
  }
  return v;
}

static void
add_query (struct lws *wsi, CsApiCall *call)
{
  /* lws splits the query string at '&' and URL-decodes each part. */
  char frag[1024];
  for (int i = 0; i < 32; i++) {
    int n = lws_hdr_copy_fragment (wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0)
      break;
    char *eq = strchr (frag, '=');
    if (eq)
      *eq = '\0';
    cs_api_call_add_query (call, frag, eq ? eq + 1 : "");
  }
}

static int
handle_api (CsSignaling *sig, struct lws *wsi, CsHttpConn *conn, const char *uri)
{
  char source[64] = "";
  lws_get_peer_simple (wsi, source, sizeof source);
  g_autofree char *authorization = header_dup (wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  g_autofree char *content_type = header_dup (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
  g_autofree char *length = header_dup (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);

  CsApiCall *call = cs_api_call_new (sig->api, request_method (wsi), uri, source,
                                     authorization, content_type, api_respond, wsi);
  conn->call = call;
  add_query (wsi, call);

  guint64 declared = 0;
  if (length && !g_ascii_string_to_unsigned (length, 10, 0, G_MAXUINT64, &declared, NULL))
    declared = G_MAXUINT64;
  /* This lws does not deliver chunked request bodies: ask for a length. */
  if (!length && lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
    cs_api_call_refuse_length (call);
    return 0;
  }
  if (declared == 0) {
    conn->call_started = TRUE;
    cs_api_call_run (call);
    return 0;
  }
  /* Refuse an oversized body before reading any of it. */
  if (declared > cs_api_call_body_limit (call))
    cs_api_call_append_body (call, NULL, declared > G_MAXSIZE ? G_MAXSIZE : (gsize) declared);
  /* Otherwise wait for LWS_CALLBACK_HTTP_BODY_COMPLETION. */
  return 0;
}

static int
handle_request (CsSignaling *sig, struct lws *wsi, CsHttpConn *conn, const char *uri)
{
  sig->metrics.http_requests++;
  if (g_str_has_prefix (uri, CS_API_PREFIX "/") || strcmp (uri, CS_API_PREFIX) == 0)
    return handle_api (sig, wsi, conn, uri);

  if (lws_hdr_total_length (wsi, WSI_TOKEN_GET_URI) <= 0)
    return respond_text (wsi, conn, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");

  if (strcmp (uri, "/healthz") == 0)
    return respond_text (wsi, conn, HTTP_STATUS_OK, "ok\n");

  if (strcmp (uri, "/metrics") == 0) {
    GString *out = g_string_new (NULL);
    cs_signaling_append_metrics (sig, out);
    gsize len = out->len;
    return respond (wsi, conn, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
                    g_bytes_new_take (g_string_free (out, FALSE), len), "no-store");
  }

  g_autofree char *path = resolve_static (sig->web_root, uri);
  const char *mime = path ? mime_for (path) : NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  GStatBuf st;
  if (!mime || g_stat (path, &st) != 0 || st.st_size > MAX_FILE_SIZE ||
      !g_file_get_contents (path, &contents, &len, NULL))
    return respond_text (wsi, conn, HTTP_STATUS_NOT_FOUND, "not found\n");
  return respond (wsi, conn, HTTP_STATUS_OK, mime,
                  g_bytes_new_take (g_steal_pointer (&contents), len), "no-cache");
}

int
cs_http_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
  CsHttpConn *conn = user;
  switch (reason) {
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    return 1;  /* WebSockets must ask for "consilium-v1" */
  case LWS_CALLBACK_HTTP:
    return handle_request (lws_context_user (lws_get_context (wsi)), wsi, conn, in);
  case LWS_CALLBACK_HTTP_BODY:
    /* A refused call has answered already (conn->call is NULL then). */
    if (conn->call && !conn->discard_body)
      cs_api_call_append_body (conn->call, in, len);
    return 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    /* A POST with "Content-Length: 0" started already in handle_request. */
    if (conn->call && !conn->discard_body && !conn->call_started) {
      conn->call_started = TRUE;
      cs_api_call_run (conn->call);
    }
    return 0;
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return write_response (wsi, conn);
  case LWS_CALLBACK_CLOSED_HTTP:
    if (conn) {
      g_clear_pointer (&conn->call, cs_api_call_abandon);
      g_clear_pointer (&conn->body, g_bytes_unref);
      g_clear_pointer (&conn->allow, g_free);
    }
    return 0;
  default:
    return lws_callback_http_dummy (wsi, reason, user, in, len);
  }
}
