/* ws.c — JSON-over-WebSocket client connections on a worker's
 * libwebsockets context (GLib event library, the worker's GMainContext).
 * Writes are queued and flushed when lws says the socket is writable;
 * fragmented messages are reassembled before parsing. */
#include "loadgen.h"

#include <string.h>

struct _LgWs {
  struct lws *wsi;
  LgWsEvents events;
  gpointer user_data;
  GQueue out;                       /* GBytes: LWS_PRE bytes + message */
  GString *in;
  gboolean closing;                 /* lg_ws_free() called while connected */
};

static void
ws_closed (LgWs *ws, const char *why)
{
  ws->wsi = NULL;
  if (ws->closing) {                /* owner already gone */
    g_queue_clear_full (&ws->out, (GDestroyNotify) g_bytes_unref);
    g_string_free (ws->in, TRUE);
    g_free (ws);
    return;
  }
  if (ws->events.closed)
    ws->events.closed (ws->user_data, why);
}

static int
ws_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
  LgWs *ws = user;
  switch (reason) {
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    if (ws->closing)
      return -1;
    if (ws->events.open)
      ws->events.open (ws->user_data);
    if (!g_queue_is_empty (&ws->out))
      lws_callback_on_writable (wsi);
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE: {
    if (ws->closing)
      return -1;
    g_string_append_len (ws->in, in, len);
    if (!lws_is_final_fragment (wsi))
      break;
    g_debug ("<- %.*s", (int) MIN (ws->in->len, 4000), ws->in->str);
    json_error_t err;
    json_t *msg = json_loadb (ws->in->str, ws->in->len, JSON_REJECT_DUPLICATES, &err);
    g_string_truncate (ws->in, 0);
    if (msg && json_is_object (msg) && ws->events.message)
      ws->events.message (ws->user_data, msg);
    else if (!msg)
      g_warning ("loadgen: bad JSON from the server: %s", err.text);
    json_decref (msg);
    break;
  }
  case LWS_CALLBACK_CLIENT_WRITEABLE: {
    if (ws->closing)
      return -1;
    GBytes *b = g_queue_pop_head (&ws->out);
    if (!b)
      break;
    gsize n;
    guint8 *data = (guint8 *) g_bytes_get_data (b, &n);
    int w = lws_write (wsi, data + LWS_PRE, n - LWS_PRE, LWS_WRITE_TEXT);
    g_bytes_unref (b);
    if (w < (int) (n - LWS_PRE))
      return -1;
    if (!g_queue_is_empty (&ws->out))
      lws_callback_on_writable (wsi);
    break;
  }
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    if (ws)
      ws_closed (ws, in && len ? (const char *) in : "connection error");
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    if (ws)
      ws_closed (ws, "closed by the server");
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols protocols[] = {
  { "loadgen", ws_callback, 0, 65536, 0, NULL, 0 },
  { NULL, NULL, 0, 0, 0, NULL, 0 },
};

const struct lws_protocols *
lg_ws_protocols (void)
{
  return protocols;
}

LgWs *
lg_ws_connect (struct lws_context *lws, const char *host, guint16 port, const char *path,
               gboolean tls, const char *protocol, const LgWsEvents *events, gpointer user_data)
{
  LgWs *ws = g_new0 (LgWs, 1);
  ws->events = *events;
  ws->user_data = user_data;
  ws->in = g_string_new (NULL);
  g_queue_init (&ws->out);
  struct lws_client_connect_info i = {
    .context = lws,
    .address = host,
    .port = port,
    .path = path,
    .host = host,
    .origin = host,
    .protocol = protocol,
    .local_protocol_name = "loadgen",
    .userdata = ws,
    /* Loopback only, the servers' certificates are self-signed test ones. */
    .ssl_connection = tls ? LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                            LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED : 0,
  };
  /* On an immediate failure lws has already called CONNECTION_ERROR,
   * which reported it through events->closed. */
  ws->wsi = lws_client_connect_via_info (&i);
  return ws;
}

void
lg_ws_send (LgWs *ws, json_t *msg)
{
  char *text = json_dumps (msg, JSON_COMPACT);
  json_decref (msg);
  if (!ws->wsi || !text) {
    free (text);
    return;
  }
  gsize n = strlen (text);
  g_debug ("-> %.*s", (int) MIN (n, 400), text);
  guint8 *buf = g_malloc (LWS_PRE + n);
  memcpy (buf + LWS_PRE, text, n);
  free (text);
  g_queue_push_tail (&ws->out, g_bytes_new_take (buf, LWS_PRE + n));
  lws_callback_on_writable (ws->wsi);
}

void
lg_ws_free (LgWs *ws)
{
  if (!ws)
    return;
  if (ws->wsi) {
    /* lws frees the connection from its loop; ws_closed() frees us then. */
    ws->closing = TRUE;
    lws_callback_on_writable (ws->wsi);
    return;
  }
  g_queue_clear_full (&ws->out, (GDestroyNotify) g_bytes_unref);
  g_string_free (ws->in, TRUE);
  g_free (ws);
}
