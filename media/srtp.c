/* srtp.c — SRTP sessions keyed from the DTLS exporter (RFC 5764 §4.2). */
#include "internal.h"

gboolean
cs_srtp_setup (CsTransport *t, SSL *ssl, gboolean server)
{
  SRTP_PROTECTION_PROFILE *profile = SSL_get_selected_srtp_profile (ssl);
  if (!profile)
    return FALSE;
  srtp_policy_t in, out;
  memset (&in, 0, sizeof in);
  memset (&out, 0, sizeof out);
  gsize key_len = 16, salt_len;
  switch (profile->id) {
  case SRTP_AEAD_AES_128_GCM:
    salt_len = 12;
    srtp_crypto_policy_set_aes_gcm_128_16_auth (&in.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth (&in.rtcp);
    break;
  case SRTP_AES128_CM_SHA1_80:
    salt_len = 14;
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&in.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&in.rtcp);
    break;
  default:
    return FALSE;
  }
  out.rtp = in.rtp;
  out.rtcp = in.rtcp;

  /* Exporter layout: client key, server key, client salt, server salt. */
  guint8 material[2 * (16 + 14)];
  gsize total = 2 * (key_len + salt_len);
  if (SSL_export_keying_material (ssl, material, total, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1)
    return FALSE;
  guint8 client[30], server_[30];
  memcpy (client, material, key_len);
  memcpy (server_, material + key_len, key_len);
  memcpy (client + key_len, material + 2 * key_len, salt_len);
  memcpy (server_ + key_len, material + 2 * key_len + salt_len, salt_len);

  in.ssrc.type = ssrc_any_inbound;
  in.key = server ? client : server_;
  in.window_size = 1024;
  out.ssrc.type = ssrc_any_outbound;
  out.key = server ? server_ : client;
  out.window_size = 1024;
  /* NACKed packets without RTX are resent with their original number. */
  out.allow_repeat_tx = 1;

  cs_srtp_clear (t);
  if (srtp_create (&t->srtp_in, &in) != srtp_err_status_ok)
    return FALSE;
  if (srtp_create (&t->srtp_out, &out) != srtp_err_status_ok) {
    cs_srtp_clear (t);
    return FALSE;
  }
  OPENSSL_cleanse (material, sizeof material);
  OPENSSL_cleanse (client, sizeof client);
  OPENSSL_cleanse (server_, sizeof server_);
  t->srtp_ready = TRUE;
  return TRUE;
}

void
cs_srtp_clear (CsTransport *t)
{
  t->srtp_ready = FALSE;
  if (t->srtp_in) {
    srtp_dealloc (t->srtp_in);
    t->srtp_in = NULL;
  }
  if (t->srtp_out) {
    srtp_dealloc (t->srtp_out);
    t->srtp_out = NULL;
  }
}
