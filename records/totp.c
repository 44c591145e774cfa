/* totp.c — RFC 4226 HOTP and RFC 6238 TOTP over OpenSSL's HMAC-SHA1. */
#include "records/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

guint32
cs_totp_hotp (const guint8 *key, gsize key_len, guint64 counter, guint digits)
{
  static const guint32 pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                   100000000, 1000000000 };
  guint8 msg[8], mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;

  g_return_val_if_fail (digits >= 1 && digits <= 9, 0);
  for (int i = 7; i >= 0; i--) {
    msg[i] = counter & 0xff;
    counter >>= 8;
  }
  if (!HMAC (EVP_sha1 (), key, (int) key_len, msg, sizeof msg, mac, &mac_len) || mac_len != 20)
    g_error ("HMAC-SHA1 failed");
  /* Dynamic truncation, RFC 4226 section 5.3. */
  guint off = mac[19] & 0x0f;
  guint32 bin = (guint32) (mac[off] & 0x7f) << 24 | (guint32) mac[off + 1] << 16
                | (guint32) mac[off + 2] << 8 | mac[off + 3];
  OPENSSL_cleanse (mac, sizeof mac);
  return bin % pow10[digits];
}

guint64
cs_totp_step (gint64 unix_time)
{
  return unix_time < 0 ? 0 : (guint64) unix_time / CS_TOTP_STEP_SECONDS;
}

gboolean
cs_totp_check (const guint8 *key, gsize key_len, const char *code, gint64 unix_time,
               guint window, guint64 *out_step)
{
  guint32 want = 0;
  if (!code || strlen (code) != CS_TOTP_DIGITS)
    return FALSE;
  for (const char *p = code; *p; p++) {
    if (!g_ascii_isdigit (*p))
      return FALSE;
    want = want * 10 + (guint32) (*p - '0');
  }

  guint64 now = cs_totp_step (unix_time), found = 0;
  gboolean match = FALSE;
  for (guint64 s = now > window ? now - window : 0; s <= now + window; s++) {
    /* No early exit: the time taken does not say which step matched. */
    gboolean hit = cs_totp_hotp (key, key_len, s, CS_TOTP_DIGITS) == want;
    if (hit && !match)
      found = s;
    match |= hit;
  }
  if (match && out_step)
    *out_step = found;
  return match;
}

char *
cs_base32_encode (const guint8 *data, gsize len)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  GString *out = g_string_sized_new ((len * 8 + 4) / 5 + 1);
  guint32 buffer = 0;
  int bits = 0;
  for (gsize i = 0; i < len; i++) {
    buffer = buffer << 8 | data[i];
    bits += 8;
    while (bits >= 5) {
      g_string_append_c (out, alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0)
    g_string_append_c (out, alphabet[(buffer << (5 - bits)) & 31]);
  return g_string_free (out, FALSE);
}
