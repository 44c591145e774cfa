/* dtls.c — DTLS-SRTP handshake (RFC 5763/5764) over the ICE transport.
 * Records go in through a memory BIO and out through a tiny BIO that sends
 * each datagram straight to libnice, so datagram boundaries (and the MTU
 * OpenSSL fragments to) survive. */
#include "internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#define DTLS_MTU 1200

static int
out_bio_write (BIO *bio, const char *data, int len)
{
  CsPeer *peer = BIO_get_data (bio);
  if (peer && len > 0)
    cs_peer_send (peer, (const guint8 *) data, len);
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

static void dtls_schedule_timer (CsPeer *peer);

static gboolean
dtls_on_timer (gpointer data)
{
  CsPeer *peer = data;
  g_clear_pointer (&peer->dtls_timer, g_source_unref);
  if (peer->ssl && !peer->dtls_done) {
    DTLSv1_handle_timeout (peer->ssl);
    dtls_schedule_timer (peer);
  }
  return G_SOURCE_REMOVE;
}

static void
dtls_schedule_timer (CsPeer *peer)
{
  struct timeval tv;
  if (peer->dtls_timer) {
    g_source_destroy (peer->dtls_timer);
    g_clear_pointer (&peer->dtls_timer, g_source_unref);
  }
  if (peer->dtls_done || !DTLSv1_get_timeout (peer->ssl, &tv))
    return;
  guint ms = tv.tv_sec * 1000 + tv.tv_usec / 1000;
  peer->dtls_timer = g_timeout_source_new (MAX (ms, 1));
  g_source_set_callback (peer->dtls_timer, dtls_on_timer, peer, NULL);
  g_source_attach (peer->dtls_timer, peer->worker->context);
}

static void
dtls_fail (CsPeer *peer, const char *why)
{
  g_warning ("peer %s: DTLS failed: %s", peer->id, why);
  CS_STAT_ADD (&peer->worker->stats, dtls_failures, 1);
  cs_peer_set_state (peer, CS_PEER_STATE_FAILED);
}

static gboolean
fingerprint_matches (CsPeer *peer)
{
  const EVP_MD *md = NULL;
  if (!g_ascii_strcasecmp (peer->remote_fp_alg, "sha-256"))
    md = EVP_sha256 ();
  else if (!g_ascii_strcasecmp (peer->remote_fp_alg, "sha-384"))
    md = EVP_sha384 ();
  else if (!g_ascii_strcasecmp (peer->remote_fp_alg, "sha-512"))
    md = EVP_sha512 ();
  else if (!g_ascii_strcasecmp (peer->remote_fp_alg, "sha-1"))
    md = EVP_sha1 ();
  X509 *cert = SSL_get1_peer_certificate (peer->ssl);
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
  return g_ascii_strcasecmp (hex, peer->remote_fp) == 0;
}

static void
dtls_handshake_done (CsPeer *peer)
{
  peer->dtls_done = TRUE;
  if (!fingerprint_matches (peer)) {
    dtls_fail (peer, "certificate does not match the SDP fingerprint");
    return;
  }
  if (!cs_srtp_setup (peer, peer->ssl, peer->dtls_server)) {
    dtls_fail (peer, "no SRTP profile negotiated");
    return;
  }
  cs_peer_set_state (peer, CS_PEER_STATE_CONNECTED);
  /* A subscriber that can finally receive needs a key frame of everything. */
  for (guint i = 0; i < peer->outs->len; i++) {
    CsOutStream *out = g_ptr_array_index (peer->outs, i);
    if (out->src && out->kind == CS_MEDIA_KIND_VIDEO)
      cs_feedback_request_keyframe (out->src, TRUE);
  }
}

static void
dtls_step (CsPeer *peer)
{
  int r = SSL_do_handshake (peer->ssl);
  if (r == 1) {
    dtls_handshake_done (peer);
  } else {
    int err = SSL_get_error (peer->ssl, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      char buf[160];
      ERR_error_string_n (ERR_get_error (), buf, sizeof buf);
      dtls_fail (peer, buf);
      return;
    }
  }
  dtls_schedule_timer (peer);
}

gboolean
cs_dtls_setup (CsPeer *peer, gboolean server)
{
  if (peer->ssl)
    return TRUE;  /* renegotiation keeps the transport */
  peer->ssl = SSL_new (peer->worker->media->cert.ctx);
  if (!peer->ssl)
    return FALSE;
  peer->dtls_server = server;
  peer->rbio = BIO_new (BIO_s_mem ());
  BIO_set_mem_eof_return (peer->rbio, -1);
  BIO *wbio = BIO_new (out_bio_method ());
  BIO_set_data (wbio, peer);
  SSL_set_bio (peer->ssl, peer->rbio, wbio);
  SSL_set_options (peer->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu (peer->ssl, DTLS_MTU);
  if (server)
    SSL_set_accept_state (peer->ssl);
  else
    SSL_set_connect_state (peer->ssl);
  return TRUE;
}

void
cs_dtls_start (CsPeer *peer)
{
  if (peer->ssl && !peer->dtls_done)
    dtls_step (peer);
}

void
cs_dtls_receive (CsPeer *peer, const guint8 *buf, gsize len)
{
  if (!peer->ssl)
    return;  /* no offer yet: nothing to answer with */
  BIO_write (peer->rbio, buf, len);
  if (!peer->dtls_done) {
    dtls_step (peer);
    return;
  }
  /* After the handshake only alerts arrive (no application data in WebRTC
   * without data channels): read to notice close_notify. */
  guint8 sink[2048];
  int r = SSL_read (peer->ssl, sink, sizeof sink);
  if (r <= 0 && (SSL_get_shutdown (peer->ssl) & SSL_RECEIVED_SHUTDOWN))
    cs_peer_set_state (peer, CS_PEER_STATE_CLOSED);
}

void
cs_dtls_clear (CsPeer *peer)
{
  if (peer->dtls_timer) {
    g_source_destroy (peer->dtls_timer);
    g_clear_pointer (&peer->dtls_timer, g_source_unref);
  }
  if (peer->ssl) {
    /* close_notify lets the browser end the transport at once instead of
     * waiting for ICE to time out; then the BIO must forget the peer. */
    if (peer->dtls_done)
      SSL_shutdown (peer->ssl);
    BIO_set_data (SSL_get_wbio (peer->ssl), NULL);
    SSL_free (peer->ssl);
    peer->ssl = NULL;
  }
}
