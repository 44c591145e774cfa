/* cert.c — the ECDSA P-256 certificate and DTLS context shared by all
 * peers. Made once at start: key generation costs milliseconds, and one
 * fingerprint for the whole process is what browsers expect of a server. */
#include "internal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

static int
verify_any (int preverify_ok, X509_STORE_CTX *ctx)
{
  /* Browsers use self-signed certificates: trust comes from the SDP
   * fingerprint, which dtls.c checks after the handshake. */
  return 1;
}

gboolean
cs_cert_init (CsCert *cert, GError **error)
{
  memset (cert, 0, sizeof *cert);
  cert->key = EVP_EC_gen ("P-256");
  if (!cert->key)
    goto fail;
  cert->x509 = X509_new ();
  X509_set_version (cert->x509, 2);
  guint8 serial[8];
  RAND_bytes (serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn (serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert->x509));
  BN_free (bn);
  X509_gmtime_adj (X509_getm_notBefore (cert->x509), -86400);
  X509_gmtime_adj (X509_getm_notAfter (cert->x509), 30L * 86400);
  X509_set_pubkey (cert->x509, cert->key);
  X509_NAME *name = X509_get_subject_name (cert->x509);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const guint8 *) "consilium", -1, -1, 0);
  X509_set_issuer_name (cert->x509, name);
  if (!X509_sign (cert->x509, cert->key, EVP_sha256 ()))
    goto fail;

  guint8 md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  X509_digest (cert->x509, EVP_sha256 (), md, &md_len);
  char *p = g_stpcpy (cert->fingerprint, "sha-256 ");
  for (unsigned i = 0; i < md_len; i++)
    p += g_snprintf (p, 4, i ? ":%02X" : "%02X", md[i]);

  cert->ctx = SSL_CTX_new (DTLS_method ());
  if (!cert->ctx)
    goto fail;
  SSL_CTX_set_min_proto_version (cert->ctx, DTLS1_2_VERSION);
  SSL_CTX_use_certificate (cert->ctx, cert->x509);
  SSL_CTX_use_PrivateKey (cert->ctx, cert->key);
  SSL_CTX_set_verify (cert->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
  SSL_CTX_set_read_ahead (cert->ctx, 1);
  /* Our preference wins when we are the DTLS server: GCM is ~4x cheaper. */
  if (SSL_CTX_set_tlsext_use_srtp (cert->ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0)
    goto fail;
  SSL_CTX_set1_groups_list (cert->ctx, "P-256:X25519");
  return TRUE;

fail:
  g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INTERNAL,
               "cannot create the DTLS certificate: %s", ERR_reason_error_string (ERR_get_error ()));
  cs_cert_clear (cert);
  return FALSE;
}

void
cs_cert_clear (CsCert *cert)
{
  g_clear_pointer (&cert->ctx, SSL_CTX_free);
  g_clear_pointer (&cert->x509, X509_free);
  g_clear_pointer (&cert->key, EVP_PKEY_free);
}
