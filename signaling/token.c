/* token.c — room tokens: compact JWS (RFC 7515) with HS256 only.
 *
 * Verification order matters: the header is checked first (so "alg":"none"
 * and friends are refused before anything else), then the signature over
 * the raw "header.payload" bytes, and only then is the signed payload
 * parsed. Nothing an attacker controls reaches the claim checks unsigned. */
#include "signaling/signaling.h"
#include "signaling/token-private.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define HS256_LEN 32
/* Far above any token we mint (~400 bytes), small enough to bound work. */
#define MAX_TOKEN_LEN 4096

static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; /* {"alg":"HS256","typ":"JWT"} */

static const char b64url_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
b64url_append (GString *out, const guint8 *data, gsize len)
{
  gsize i = 0;
  for (; i + 3 <= len; i += 3) {
    guint32 v = (guint32) data[i] << 16 | (guint32) data[i + 1] << 8 | data[i + 2];
    g_string_append_c (out, b64url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 12) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 6) & 63]);
    g_string_append_c (out, b64url_alphabet[v & 63]);
  }
  if (len - i == 1) {
    guint32 v = (guint32) data[i] << 16;
    g_string_append_c (out, b64url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 12) & 63]);
  } else if (len - i == 2) {
    guint32 v = (guint32) data[i] << 16 | (guint32) data[i + 1] << 8;
    g_string_append_c (out, b64url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 12) & 63]);
    g_string_append_c (out, b64url_alphabet[(v >> 6) & 63]);
  }
}

static int
b64url_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

/* Strict decoder: no padding, no whitespace, and the unused low bits of the
 * last character must be zero, so every byte string has one encoding and a
 * token cannot be altered without changing what is signed. @out must hold
 * len * 3 / 4 bytes. Returns the decoded length or -1. */
gssize
cs_b64url_decode (const char *in, gsize len, guint8 *out)
{
  if (len % 4 == 1)
    return -1;
  gsize o = 0;
  guint32 acc = 0;
  guint bits = 0;
  for (gsize i = 0; i < len; i++) {
    int v = b64url_value (in[i]);
    if (v < 0)
      return -1;
    acc = (acc << 6) | (guint32) v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (guint8) (acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0)
    return -1;
  return (gssize) o;
}

char *
cs_b64url_encode (const guint8 *data, gsize len)
{
  GString *s = g_string_sized_new (len * 4 / 3 + 4);
  b64url_append (s, data, len);
  return g_string_free (s, FALSE);
}

static gboolean
room_char_ok (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '-';
}

gboolean
cs_token_room_is_valid (const char *room)
{
  gsize n = room ? strlen (room) : 0;
  if (n < 1 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!room_char_ok (room[i]))
      return FALSE;
  return TRUE;
}

static const char *const roles[] = {
  "patient", "doctor", "specialist", "clinic", "guest", "observer",
};

gboolean
cs_token_role_is_valid (const char *role)
{
  for (gsize i = 0; role && i < G_N_ELEMENTS (roles); i++)
    if (strcmp (role, roles[i]) == 0)
      return TRUE;
  return FALSE;
}

/* 1..@max characters of valid UTF-8 without control characters (names are
 * shown to other participants; a NUL or escape sequence has no place there). */
gboolean
cs_token_text_is_valid (const char *s, glong max_chars)
{
  if (!s || !*s || !g_utf8_validate (s, -1, NULL))
    return FALSE;
  glong n = 0;
  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
    if (++n > max_chars)
      return FALSE;
  }
  return TRUE;
}

static gboolean
claims_are_valid (const CsTokenClaims *c)
{
  return cs_token_room_is_valid (c->room) && cs_token_text_is_valid (c->user, 64) &&
         cs_token_text_is_valid (c->name, 128) && cs_token_role_is_valid (c->role) &&
         c->exp > 0 && c->iat >= 0;
}

void
cs_token_claims_clear (CsTokenClaims *claims)
{
  if (!claims)
    return;
  g_clear_pointer (&claims->room, g_free);
  g_clear_pointer (&claims->user, g_free);
  g_clear_pointer (&claims->name, g_free);
  g_clear_pointer (&claims->role, g_free);
  claims->exp = 0;
  claims->iat = 0;
  claims->lobby = claims->host = FALSE;
}

static void
hs256 (const guint8 *secret, gsize secret_len, const char *data, gsize len,
       guint8 mac[HS256_LEN])
{
  unsigned int mac_len = HS256_LEN;
  /* A non-NULL key even when empty: OpenSSL treats NULL as "reuse the key". */
  static const guint8 empty;
  if (!HMAC (EVP_sha256 (), secret_len ? secret : &empty, (int) secret_len,
             (const unsigned char *) data, len, mac, &mac_len))
    g_error ("HMAC-SHA256 failed");  /* only on allocation failure */
}

/* Optional boolean claim: absent is FALSE, anything but true/false refused. */
static gboolean
get_bool_claim (json_t *payload, const char *name, gboolean *out)
{
  json_t *v = json_object_get (payload, name);
  if (!v)
    return TRUE;
  if (!json_is_boolean (v))
    return FALSE;
  *out = json_is_true (v);
  return TRUE;
}

char *
cs_token_sign (const guint8 *secret, gsize secret_len, const CsTokenClaims *claims)
{
  g_return_val_if_fail (secret != NULL || secret_len == 0, NULL);
  g_return_val_if_fail (claims != NULL, NULL);
  if (!claims_are_valid (claims))
    return NULL;

  json_t *payload = json_pack ("{s:s, s:s, s:s, s:s, s:I}", "room", claims->room,
                               "sub", claims->user, "name", claims->name,
                               "role", claims->role, "exp", (json_int_t) claims->exp);
  if (claims->iat)
    json_object_set_new (payload, "iat", json_integer (claims->iat));
  if (claims->lobby)
    json_object_set_new (payload, "lobby", json_true ());
  if (claims->host)
    json_object_set_new (payload, "host", json_true ());
  char *json = json_dumps (payload, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (payload);

  GString *token = g_string_new (header_b64);
  g_string_append_c (token, '.');
  b64url_append (token, (const guint8 *) json, strlen (json));
  free (json);

  guint8 mac[HS256_LEN];
  hs256 (secret, secret_len, token->str, token->len, mac);
  g_string_append_c (token, '.');
  b64url_append (token, mac, sizeof mac);
  return g_string_free (token, FALSE);
}

/* Decodes one base64url part and parses it as a JSON object. */
static json_t *
decode_json_part (const char *b64, gsize len)
{
  g_autofree guint8 *raw = g_malloc (len * 3 / 4 + 1);
  gssize n = cs_b64url_decode (b64, len, raw);
  if (n <= 0)
    return NULL;
  json_t *obj = json_loadb ((const char *) raw, (gsize) n,
                            JSON_REJECT_DUPLICATES, NULL);
  if (obj && !json_is_object (obj))
    g_clear_pointer (&obj, json_decref);
  return obj;
}

static gboolean
header_is_hs256 (json_t *header)
{
  const char *alg = json_string_value (json_object_get (header, "alg"));
  json_t *typ = json_object_get (header, "typ");
  /* "crit" names extensions we would have to understand: refuse them all. */
  if (json_object_get (header, "crit"))
    return FALSE;
  if (typ && g_strcmp0 (json_string_value (typ), "JWT") != 0)
    return FALSE;
  return g_strcmp0 (alg, "HS256") == 0;
}

static gboolean
get_int_claim (json_t *payload, const char *key, gboolean required, gint64 *out)
{
  json_t *v = json_object_get (payload, key);
  if (!v) {
    *out = 0;
    return !required;
  }
  if (!json_is_integer (v))
    return FALSE;
  *out = json_integer_value (v);
  return TRUE;
}

CsTokenResult
cs_token_verify (const guint8 *secret, gsize secret_len, const char *token,
                 gint64 now, CsTokenClaims *claims)
{
  g_return_val_if_fail (secret != NULL || secret_len == 0, CS_TOKEN_MALFORMED);
  g_return_val_if_fail (claims != NULL, CS_TOKEN_MALFORMED);
  if (!token)
    return CS_TOKEN_MALFORMED;

  gsize len = strnlen (token, MAX_TOKEN_LEN + 1);
  if (len > MAX_TOKEN_LEN)
    return CS_TOKEN_MALFORMED;
  const char *dot1 = memchr (token, '.', len);
  const char *dot2 = dot1 ? memchr (dot1 + 1, '.', len - (gsize) (dot1 + 1 - token)) : NULL;
  if (!dot2 || memchr (dot2 + 1, '.', len - (gsize) (dot2 + 1 - token)))
    return CS_TOKEN_MALFORMED;
  gsize header_len = (gsize) (dot1 - token);
  gsize payload_len = (gsize) (dot2 - dot1 - 1);
  gsize sig_len = len - (gsize) (dot2 + 1 - token);
  if (header_len == 0 || payload_len == 0 || sig_len == 0)
    return CS_TOKEN_MALFORMED;

  json_t *header = decode_json_part (token, header_len);
  gboolean header_ok = header && header_is_hs256 (header);
  json_decref (header);
  if (!header_ok)
    return CS_TOKEN_MALFORMED;

  guint8 sig[HS256_LEN + 3];
  if (sig_len > (HS256_LEN * 4 + 2) / 3 ||
      cs_b64url_decode (dot2 + 1, sig_len, sig) != HS256_LEN)
    return CS_TOKEN_MALFORMED;
  guint8 mac[HS256_LEN];
  hs256 (secret, secret_len, token, (gsize) (dot2 - token), mac);
  if (CRYPTO_memcmp (mac, sig, HS256_LEN) != 0)
    return CS_TOKEN_BAD_SIGNATURE;

  json_t *payload = decode_json_part (dot1 + 1, payload_len);
  if (!payload)
    return CS_TOKEN_MALFORMED;

  CsTokenClaims c = {
    .room = g_strdup (json_string_value (json_object_get (payload, "room"))),
    .user = g_strdup (json_string_value (json_object_get (payload, "sub"))),
    .name = g_strdup (json_string_value (json_object_get (payload, "name"))),
    .role = g_strdup (json_string_value (json_object_get (payload, "role"))),
  };
  gboolean ints_ok = get_int_claim (payload, "exp", TRUE, &c.exp) &&
                     get_int_claim (payload, "iat", FALSE, &c.iat) &&
                     get_bool_claim (payload, "lobby", &c.lobby) &&
                     get_bool_claim (payload, "host", &c.host);
  json_decref (payload);

  CsTokenResult res = CS_TOKEN_OK;
  if (!ints_ok || !claims_are_valid (&c))
    res = CS_TOKEN_BAD_CLAIMS;
  else if (c.exp <= now)
    res = CS_TOKEN_EXPIRED;

  if (res != CS_TOKEN_OK) {
    cs_token_claims_clear (&c);
    return res;
  }
  *claims = c;
  return CS_TOKEN_OK;
}
