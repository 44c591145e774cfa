/* http.c — the HTTP side of the signaling port: the web client's static
 * files, GET /metrics and GET /healthz. Files are small (the web client),
 * so each response is read whole into memory and written in chunks as the
 * socket becomes writable. */
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

/* Sends the status line and headers, then @body (transfer full) as the
 * socket allows. */
static int
respond (struct lws *wsi, CsHttpConn *conn, unsigned int status, const char *mime,
         GBytes *body, const char *cache)
{
  guint8 buf[LWS_PRE + 2048];
  guint8 *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  gsize len = g_bytes_get_size (body);

  if (lws_add_http_common_headers (wsi, status, mime, len, &p, end) ||
      add_header (wsi, "x-content-type-options:", "nosniff", &p, end) ||
      add_header (wsi, "referrer-policy:", "no-referrer", &p, end) ||
      add_header (wsi, "x-frame-options:", "DENY", &p, end) ||
      add_header (wsi, "content-security-policy:", csp, &p, end) ||
      add_header (wsi, "cache-control:", cache, &p, end) ||
      lws_finalize_write_http_header (wsi, start, &p, end)) {
    g_bytes_unref (body);
    return -1;
  }
  if (len == 0) {
    g_bytes_unref (body);
    return lws_http_transaction_completed (wsi) ? -1 : 0;
  }
  g_clear_pointer (&conn->body, g_bytes_unref);
  conn->body = body;
  conn->offset = 0;
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
write_body (struct lws *wsi, CsHttpConn *conn)
{
  if (!conn->body)
    return 0;
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
  g_clear_pointer (&conn->body, g_bytes_unref);
  return lws_http_transaction_completed (wsi) ? -1 : 0;
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

  g_string_append_printf (out,
    "# HELP consilium_signaling_rooms Rooms with at least one participant.\n"
    "# TYPE consilium_signaling_rooms gauge\n"
    "consilium_signaling_rooms %u\n"
    "# HELP consilium_signaling_participants Participants joined in all rooms.\n"
    "# TYPE consilium_signaling_participants gauge\n"
    "consilium_signaling_participants %u\n",
    g_hash_table_size (sig->rooms), g_hash_table_size (sig->peers));

  if (sig->metrics_func)
    sig->metrics_func (out, sig->metrics_data);
}

static int
handle_request (CsSignaling *sig, struct lws *wsi, CsHttpConn *conn, const char *uri)
{
  sig->metrics.http_requests++;
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
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return write_body (wsi, conn);
  case LWS_CALLBACK_CLOSED_HTTP:
    if (conn)
      g_clear_pointer (&conn->body, g_bytes_unref);
    return 0;
  default:
    return lws_callback_http_dummy (wsi, reason, user, in, len);
  }
}
