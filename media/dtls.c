/* dtls.c — DTLS-SRTP handshake (RFC 5763/5764) over the ICE transport.
 * Records go in through a memory BIO and out through a tiny BIO that sends
 * each datagram straight to libnice, so datagram boundaries (and the MTU
 * OpenSSL fragments to) survive. */
#include "internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#define DTLS_MTU 1200

static int
out_bio_write (BIO *bio, const char *data, int len)
{
  CsTransport *t = BIO_get_data (bio);
  if (!t || len <= 0)
    return len;
  if (t->capturing) {
    t->close_notify = g_realloc (t->close_notify, t->close_notify_len + len);
    memcpy (t->close_notify + t->close_notify_len, data, len);
    t->close_notify_len += len;
  } else {
    cs_transport_send (t, (const guint8 *) data, len);
  }
  return len;
}

static long
out_bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return DTLS_MTU;
  default:
    return 0;
  }
}

static int
out_bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static const BIO_METHOD *
out_bio_method (void)
{
  /* A method table, written once and read-only afterwards. */
  static gsize once = 0;
  static BIO_METHOD *method;
  if (g_once_init_enter (&once)) {
    method = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "cs-dtls-out");
    BIO_meth_set_write (method, out_bio_write);
    BIO_meth_set_ctrl (method, out_bio_ctrl);
    BIO_meth_set_create (method, out_bio_create);
    g_once_init_leave (&once, 1);
  }
  return method;
}

static void dtls_schedule_timer (CsTransport *t);

static gboolean
dtls_on_timer (gpointer data)
{
  CsTransport *t = data;
  g_clear_pointer (&t->dtls_timer, g_source_unref);
  if (t->ssl && !t->dtls_done) {
    DTLSv1_handle_timeout (t->ssl);
    dtls_schedule_timer (t);
  }
  return G_SOURCE_REMOVE;
}

static void
dtls_schedule_timer (CsTransport *t)
{
  struct timeval tv;
  if (t->dtls_timer) {
    g_source_destroy (t->dtls_timer);
    g_clear_pointer (&t->dtls_timer, g_source_unref);
  }
  if (t->dtls_done || !DTLSv1_get_timeout (t->ssl, &tv))
    return;
  guint ms = tv.tv_sec * 1000 + tv.tv_usec / 1000;
  t->dtls_timer = g_timeout_source_new (MAX (ms, 1));
  g_source_set_callback (t->dtls_timer, dtls_on_timer, t, NULL);
  g_source_attach (t->dtls_timer, t->context);
}

static void
dtls_fail (CsTransport *t, const char *why)
{
  g_warning ("%s: DTLS failed: %s", t->name, why);
  CS_STAT_ADD (t->stats, dtls_failures, 1);
  cs_transport_set_state (t, CS_PEER_STATE_FAILED);
}

static gboolean
fingerprint_matches (CsTransport *t)
{
  const EVP_MD *md = NULL;
  if (!g_ascii_strcasecmp (t->remote_fp_alg, "sha-256"))
    md = EVP_sha256 ();
  else if (!g_ascii_strcasecmp (t->remote_fp_alg, "sha-384"))
    md = EVP_sha384 ();
  else if (!g_ascii_strcasecmp (t->remote_fp_alg, "sha-512"))
    md = EVP_sha512 ();
  else if (!g_ascii_strcasecmp (t->remote_fp_alg, "sha-1"))
    md = EVP_sha1 ();
  X509 *cert = SSL_get1_peer_certificate (t->ssl);
  if (!md || !cert) {
    X509_free (cert);
    return FALSE;
  }
  guint8 digest[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  X509_digest (cert, md, digest, &n);
  X509_free (cert);
  char hex[EVP_MAX_MD_SIZE * 3 + 1], *p = hex;
  for (unsigned i = 0; i < n; i++)
    p += g_snprintf (p, 4, i ? ":%02X" : "%02X", digest[i]);
  return g_ascii_strcasecmp (hex, t->remote_fp) == 0;
}

static void
dtls_handshake_done (CsTransport *t)
{
  t->dtls_done = TRUE;
  if (!fingerprint_matches (t)) {
    dtls_fail (t, "certificate does not match the SDP fingerprint");
    return;
  }
  if (!cs_srtp_setup (t, t->ssl, t->dtls_server)) {
    dtls_fail (t, "no SRTP profile negotiated");
    return;
  }
  cs_transport_set_state (t, CS_PEER_STATE_CONNECTED);
}

static void
dtls_step (CsTransport *t)
{
  int r = SSL_do_handshake (t->ssl);
  if (r == 1) {
    dtls_handshake_done (t);
  } else {
    int err = SSL_get_error (t->ssl, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      char buf[160];
      ERR_error_string_n (ERR_get_error (), buf, sizeof buf);
      dtls_fail (t, buf);
      return;
    }
  }
  dtls_schedule_timer (t);
}

gboolean
cs_dtls_setup (CsTransport *t, gboolean server)
{
  if (t->ssl || t->dtls_done)
    return TRUE;  /* renegotiation keeps the transport */
  t->ssl = SSL_new (t->ssl_ctx);
  if (!t->ssl)
    return FALSE;
  t->dtls_server = server;
  t->rbio = BIO_new (BIO_s_mem ());
  BIO_set_mem_eof_return (t->rbio, -1);
  BIO *wbio = BIO_new (out_bio_method ());
  BIO_set_data (wbio, t);
  SSL_set_bio (t->ssl, t->rbio, wbio);
  SSL_set_options (t->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu (t->ssl, DTLS_MTU);
  if (server)
    SSL_set_accept_state (t->ssl);
  else
    SSL_set_connect_state (t->ssl);
  return TRUE;
}

void
cs_dtls_start (CsTransport *t)
{
  if (t->ssl && !t->dtls_done)
    dtls_step (t);
}

void
cs_dtls_receive (CsTransport *t, const guint8 *buf, gsize len)
{
  if (!t->ssl)
    return;  /* no offer yet, or the session is released (cs_dtls_release) */
  BIO_write (t->rbio, buf, len);
  if (!t->dtls_done) {
    dtls_step (t);
    return;
  }
  /* After the handshake only alerts (no application data in WebRTC
   * without data channels) and retransmitted flights arrive, until the
   * session is released: read to notice close_notify. */
  guint8 sink[2048];
  int r = SSL_read (t->ssl, sink, sizeof sink);
  if (r <= 0 && (SSL_get_shutdown (t->ssl) & SSL_RECEIVED_SHUTDOWN))
    cs_transport_set_state (t, CS_PEER_STATE_CLOSED);
}

/* A peer only sends SRTP once it has the keys, after the last flight of
 * the handshake reached it: nothing will need retransmitting. What remains
 * useful of the session is the close_notify for the end of the call (the
 * next record of epoch 1; nothing else is ever sent in it), made now. The
 * SSL object, with the flight OpenSSL keeps for retransmission, goes: ~34
 * KiB a participant. Alerts the peer sends later are not read; its leaving
 * shows in signaling and in ICE consent. */
void
cs_dtls_release (CsTransport *t)
{
  if (!t->ssl || !t->dtls_done)
    return;
  t->capturing = TRUE;
  SSL_shutdown (t->ssl);
  t->capturing = FALSE;
  BIO_set_data (SSL_get_wbio (t->ssl), NULL);
  SSL_free (t->ssl);
  t->ssl = NULL;
}

void
cs_dtls_clear (CsTransport *t)
{
  if (t->dtls_timer) {
    g_source_destroy (t->dtls_timer);
    g_clear_pointer (&t->dtls_timer, g_source_unref);
  }
  if (t->ssl) {
    /* close_notify lets the browser end the transport at once instead of
     * waiting for ICE to time out; then the BIO must forget the transport. */
    if (t->dtls_done)
      SSL_shutdown (t->ssl);
    BIO_set_data (SSL_get_wbio (t->ssl), NULL);
    SSL_free (t->ssl);
    t->ssl = NULL;
  }
  if (t->close_notify) {
    cs_transport_send (t, t->close_notify, t->close_notify_len);
    g_clear_pointer (&t->close_notify, g_free);
    t->close_notify_len = 0;
  }
}
