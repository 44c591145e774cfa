/* server.c — the libwebsockets context on the main GLib loop: one TLS
 * vhost serving HTTP (http.c, the REST API in api*.c) and the "consilium-v1" WebSocket at /ws,
 * whose messages are reassembled here and handed to session.c. */
#include "signaling/signaling-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (cs-signaling-error-quark, cs_signaling_error)

/* WebSocket keep-alive (docs/signaling.md): lws sends a PING after 30 s
 * without traffic and drops the connection after 90 s without any. */
static const lws_retry_bo_t ws_keepalive = {
  .secs_since_valid_ping = 30,
  .secs_since_valid_hangup = 90,
};

static void
ws_receive (CsSession *s, struct lws *wsi, const guint8 *in, gsize len)
{
  /* lws hands a message over in pieces (fragments, and partial frames
   * larger than its rx buffer); a message starts after the previous final
   * piece. */
  if (!s->rx_in_message) {
    s->rx_in_message = TRUE;
    s->rx_binary = lws_frame_is_binary (wsi);
    s->rx_too_large = FALSE;
    g_byte_array_set_size (s->rx, 0);
  }
  if (!s->rx_binary && !s->rx_too_large) {
    if (s->rx->len + len > CS_SIG_MAX_FRAME) {
      s->rx_too_large = TRUE;   /* discard the rest of this message */
      g_byte_array_set_size (s->rx, 0);
    } else {
      g_byte_array_append (s->rx, in, (guint) len);
    }
  }
  if (!lws_is_final_fragment (wsi))
    return;
  s->rx_in_message = FALSE;
  if (s->rx_binary)
    cs_session_send_error (s, NULL, CS_SIG_ERR_BAD_MESSAGE, "binary frames are not accepted");
  else if (s->rx_too_large)
    cs_session_send_error (s, NULL, CS_SIG_ERR_MESSAGE_TOO_LARGE,
                           "message exceeds 65536 bytes");
  else
    cs_session_handle_frame (s, (const char *) s->rx->data, s->rx->len);
  g_byte_array_set_size (s->rx, 0);
}

static int
ws_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
             size_t len)
{
  CsSignaling *sig = lws_context_user (lws_get_context (wsi));
  CsSession **session = user;

  switch (reason) {
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    char uri[8];
    if (lws_hdr_copy (wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 || strcmp (uri, "/ws") != 0)
      return 1;  /* refuse the upgrade */
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED:
    *session = cs_session_new (sig, wsi);
    return 0;
  case LWS_CALLBACK_RECEIVE:
    if (*session)
      ws_receive (*session, wsi, in, len);
    return 0;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return *session ? cs_session_write (*session) : 0;
  case LWS_CALLBACK_CLOSED:
    g_clear_pointer (session, cs_session_closed);
    return 0;
  default:
    return 0;
  }
}

static const struct lws_protocols protocols[] = {
  /* The first protocol also serves plain HTTP. */
  { "http", cs_http_callback, sizeof (CsHttpConn), 0, 0, NULL, 0 },
  { "consilium-v1", ws_callback, sizeof (CsSession *), 4096, 0, NULL, 0 },
  { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
lws_log_to_glib (int level, const char *line)
{
  gsize n = strlen (line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    n--;
  g_log_structured ("cs-lws", level == LLL_ERR ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO,
                    "MESSAGE", "%.*s", (int) n, line);
}

static gboolean
check_readable (const char *what, const char *path, GError **error)
{
  if (!path || !*path) {
    g_set_error (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_CONFIG, "%s is not set", what);
    return FALSE;
  }
  if (access (path, R_OK) != 0) {
    int err = errno;
    g_set_error (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_CONFIG, "%s %s: %s", what,
                 path, g_strerror (err));
    return FALSE;
  }
  return TRUE;
}

CsSignaling *
cs_signaling_new (const CsSignalingConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->loop != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_readable ("TLS certificate", config->tls_cert, error) ||
      !check_readable ("TLS key", config->tls_key, error))
    return NULL;
  if (!config->token_secret || config->token_secret_len == 0) {
    g_set_error_literal (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_CONFIG,
                         "the token secret is empty");
    return NULL;
  }
  if (config->max_participants == 0) {
    g_set_error_literal (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_CONFIG,
                         "max_participants must be at least 1");
    return NULL;
  }
  g_autofree char *web_root = config->web_root ? realpath (config->web_root, NULL) : NULL;
  if (!web_root || !g_file_test (web_root, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_CONFIG,
                 "web root %s is not a directory", config->web_root ? config->web_root : "(unset)");
    return NULL;
  }

  g_autoptr (CsSignaling) sig = g_new0 (CsSignaling, 1);
  sig->loop = g_main_loop_ref (config->loop);
  sig->web_root = g_steal_pointer (&web_root);
  sig->token_secret = g_bytes_new (config->token_secret, config->token_secret_len);
  sig->max_participants = config->max_participants;
  sig->ice_urls = g_strdupv ((char **) config->ice_urls);
  sig->api = cs_api_new (sig, config->records, sig->token_secret, config->room_token_ttl,
                         config->file_max_bytes);
  sig->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify) cs_sig_room_free);
  sig->sessions = g_hash_table_new (g_str_hash, g_str_equal);
  sig->peers = g_hash_table_new (g_str_hash, g_str_equal);
  sig->alive = g_cancellable_new ();

  lws_set_log_level (LLL_ERR | LLL_WARN, lws_log_to_glib);

  void *foreign_loops[] = { config->loop };
  struct lws_context_creation_info info = {
    .options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
               LWS_SERVER_OPTION_EXPLICIT_VHOSTS,
    .foreign_loops = foreign_loops,
    .user = sig,
    .port = CONTEXT_PORT_NO_LISTEN,
  };
  sig->lws = lws_create_context (&info);
  if (!sig->lws) {
    g_set_error_literal (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_LISTEN,
                         "cannot create the libwebsockets context (is the glib event "
                         "library plugin libwebsockets-evlib-glib installed?)");
    return NULL;
  }

  const char *addr = config->listen_address;
  struct lws_context_creation_info vinfo = {
    .vhost_name = "consilium",
    .protocols = protocols,
    .port = config->port,
    .iface = addr && *addr ? addr : NULL,
    .ssl_cert_filepath = config->tls_cert,
    .ssl_private_key_filepath = config->tls_key,
    /* HTTP/1.1 only: the WebSocket upgrade is plain RFC 6455. */
    .alpn = "http/1.1",
    .server_string = "consiliumd",
    .retry_and_idle_policy = &ws_keepalive,
    .options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT,
  };
  /* An IPv4 literal cannot be bound on lws' default dual-stack socket. */
  if (addr && strchr (addr, '.') && !strchr (addr, ':'))
    vinfo.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  sig->vhost = lws_create_vhost (sig->lws, &vinfo);
  if (!sig->vhost) {
    g_set_error (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_LISTEN,
                 "cannot listen on %s port %u with TLS (address in use, bad address, "
                 "or an unusable certificate/key)", addr ? addr : "*", config->port);
    return NULL;
  }
  int port = lws_get_vhost_listen_port (sig->vhost);
  if (port <= 0 || port > G_MAXUINT16) {
    g_set_error_literal (error, CS_SIGNALING_ERROR, CS_SIGNALING_ERROR_LISTEN,
                         "the listening port is unknown");
    return NULL;
  }
  sig->port = (guint16) port;
  return g_steal_pointer (&sig);
}

void
cs_signaling_free (CsSignaling *sig)
{
  if (!sig)
    return;
  /* Closing every connection makes each session leave its room; nobody is
   * left to tell. */
  sig->shutting_down = TRUE;
  if (sig->alive)
    g_cancellable_cancel (sig->alive);
  g_clear_pointer (&sig->lws, lws_context_destroy);
  g_clear_pointer (&sig->api, cs_api_free);  /* after lws: closing abandons API calls */
  g_clear_pointer (&sig->rooms, g_hash_table_unref);
  g_clear_pointer (&sig->sessions, g_hash_table_unref);
  g_clear_pointer (&sig->peers, g_hash_table_unref);
  g_clear_object (&sig->alive);
  g_clear_pointer (&sig->token_secret, g_bytes_unref);
  g_clear_pointer (&sig->ice_urls, g_strfreev);
  g_clear_pointer (&sig->loop, g_main_loop_unref);
  g_free (sig->web_root);
  g_free (sig);
}

guint16
cs_signaling_get_port (CsSignaling *sig)
{
  g_return_val_if_fail (sig != NULL, 0);
  return sig->port;
}

void
cs_signaling_set_media (CsSignaling *sig, CsMedia *media)
{
  g_return_if_fail (sig != NULL);
  sig->media = media;
}

void
cs_signaling_set_public_url (CsSignaling *sig, const char *url)
{
  g_return_if_fail (sig != NULL);
  cs_api_set_public_url (sig->api, url);
}

void
cs_signaling_set_metrics_func (CsSignaling *sig, CsMetricsFunc func, gpointer user_data)
{
  g_return_if_fail (sig != NULL);
  sig->metrics_func = func;
  sig->metrics_data = user_data;
}
