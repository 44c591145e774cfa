/* test-crypto.c — tokens, token hashes, AES-256-GCM sealing. */
#include "records/records-private.h"

#include <string.h>

static void
test_tokens (void)
{
  g_autofree char *a = cs_token_new ();
  g_autofree char *b = cs_token_new ();
  g_assert_cmpuint (strlen (a), ==, 64);
  g_assert_cmpstr (a, !=, b);
  g_autofree char *h = cs_token_hash_hex ("abc");
  /* SHA-256("abc"), FIPS 180-2 */
  g_assert_cmpstr (h, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_hex (void)
{
  guint8 out[2];
  g_assert_true (cs_hex_decode ("0aFf", out, 2));
  g_assert_cmpuint (out[0], ==, 0x0a);
  g_assert_cmpuint (out[1], ==, 0xff);
  g_assert_false (cs_hex_decode ("0a", out, 2));
  g_assert_false (cs_hex_decode ("0aZZ", out, 2));
  g_assert_false (cs_hex_decode (NULL, out, 2));
}

static void
test_seal (void)
{
  guint8 key[32], other[32];
  memset (key, 1, sizeof key);
  memset (other, 2, sizeof other);
  const guint8 secret[] = "twenty bytes secret!";
  g_autofree char *sealed = cs_secret_seal_hex (key, "42", secret, 20);
  g_autofree char *sealed2 = cs_secret_seal_hex (key, "42", secret, 20);
  g_assert_cmpuint (strlen (sealed), ==, 2 * (12 + 20 + 16));
  g_assert_cmpstr (sealed, !=, sealed2);  /* fresh nonce each time */

  g_autoptr (GBytes) ok = cs_secret_open_hex (key, "42", sealed);
  g_assert_nonnull (ok);
  g_assert_cmpmem (g_bytes_get_data (ok, NULL), g_bytes_get_size (ok), secret, 20);

  g_assert_null (cs_secret_open_hex (other, "42", sealed));   /* wrong key */
  g_assert_null (cs_secret_open_hex (key, "43", sealed));     /* other user */
  sealed[30] = sealed[30] == '0' ? '1' : '0';                 /* flipped bit */
  g_assert_null (cs_secret_open_hex (key, "42", sealed));
  g_assert_null (cs_secret_open_hex (key, "42", "00"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/crypto/tokens", test_tokens);
  g_test_add_func ("/records/crypto/hex", test_hex);
  g_test_add_func ("/records/crypto/seal", test_seal);
  return g_test_run ();
}
