/* crypto.c — random tokens, their hashes, and AES-256-GCM for secrets kept
 * at rest (TOTP keys). OpenSSL only. */
#include "records/records-private.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16

void
cs_random_bytes (guint8 *buf, gsize len)
{
  /* No fallback: a server that cannot get randomness must not mint tokens. */
  if (RAND_bytes (buf, (int) len) != 1)
    g_error ("RAND_bytes failed: no entropy for tokens");
}

char *
cs_hex_encode (const guint8 *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc (len * 2 + 1);
  for (gsize i = 0; i < len; i++) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  out[len * 2] = '\0';
  return out;
}

gboolean
cs_hex_decode (const char *hex, guint8 *out, gsize len)
{
  if (!hex || strlen (hex) != len * 2)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    int hi = g_ascii_xdigit_value (hex[2 * i]);
    int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return FALSE;
    out[i] = (guint8) (hi << 4 | lo);
  }
  return TRUE;
}

char *
cs_token_new (void)
{
  guint8 raw[32];
  cs_random_bytes (raw, sizeof raw);
  char *hex = cs_hex_encode (raw, sizeof raw);
  OPENSSL_cleanse (raw, sizeof raw);
  return hex;
}

char *
cs_token_hash_hex (const char *token)
{
  guint8 digest[SHA256_DIGEST_LENGTH];
  SHA256 ((const guint8 *) token, strlen (token), digest);
  return cs_hex_encode (digest, sizeof digest);
}

char *
cs_secret_seal_hex (const guint8 key[32], const char *aad, const guint8 *plain, gsize len)
{
  gsize total = GCM_NONCE_LEN + len + GCM_TAG_LEN;
  g_autofree guint8 *buf = g_malloc (total);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0, fin = 0;
  gboolean ok;

  cs_random_bytes (buf, GCM_NONCE_LEN);
  ok = ctx
       && EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key, buf) == 1
       && EVP_EncryptUpdate (ctx, NULL, &n, (const guint8 *) aad, (int) strlen (aad)) == 1
       && EVP_EncryptUpdate (ctx, buf + GCM_NONCE_LEN, &n, plain, (int) len) == 1
       && EVP_EncryptFinal_ex (ctx, buf + GCM_NONCE_LEN + n, &fin) == 1
       && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
                               buf + GCM_NONCE_LEN + len) == 1;
  EVP_CIPHER_CTX_free (ctx);
  if (!ok)
    g_error ("AES-256-GCM encryption failed");
  return cs_hex_encode (buf, total);
}

GBytes *
cs_secret_open_hex (const guint8 key[32], const char *aad, const char *hex)
{
  gsize total = hex ? strlen (hex) / 2 : 0;
  if (total < GCM_NONCE_LEN + GCM_TAG_LEN)
    return NULL;
  g_autofree guint8 *buf = g_malloc (total);
  if (!cs_hex_decode (hex, buf, total))
    return NULL;

  gsize len = total - GCM_NONCE_LEN - GCM_TAG_LEN;
  guint8 *plain = g_malloc (len + 1);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0, fin = 0;
  gboolean ok = ctx
       && EVP_DecryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key, buf) == 1
       && EVP_DecryptUpdate (ctx, NULL, &n, (const guint8 *) aad, (int) strlen (aad)) == 1
       && EVP_DecryptUpdate (ctx, plain, &n, buf + GCM_NONCE_LEN, (int) len) == 1
       && EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN,
                               buf + GCM_NONCE_LEN + len) == 1
       && EVP_DecryptFinal_ex (ctx, plain + n, &fin) == 1;
  EVP_CIPHER_CTX_free (ctx);
  if (!ok) {
    OPENSSL_cleanse (plain, len);
    g_free (plain);
    return NULL;
  }
  return g_bytes_new_take (plain, len);
}
