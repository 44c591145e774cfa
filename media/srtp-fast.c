/* srtp-fast.c — AES-CM and HMAC-SHA1 for libsrtp, keyed once per session.
 *
 * Debian's libsrtp2 is built on NSS: its AES-CM creates a new PKCS#11
 * context (a key schedule) in every set_iv, and its HMAC goes through
 * PKCS#11 on every call: ~4.5 µs per 1,200-byte AES_CM_128_HMAC_SHA1_80
 * protect.
 *
 * libsrtp lets a program register its own implementation of a cipher or
 * auth type id (srtp_replace_cipher_type / srtp_replace_auth_type); ours key
 * OpenSSL once in init(), so a packet costs one counter-block reset, one CTR
 * pass and one HMAC from precomputed inner/outer SHA-1 states, with no
 * allocation. See docs/performance.md for the figures.
 *
 * The contract, as libsrtp's own implementations honour it:
 * - cipher key = AES key || 14-octet salt (30 or 46 octets);
 * - set_iv(iv): counter block = (salt || 0x0000) XOR iv; the last two
 *   octets are the per-packet block counter (RFC 3711 §4.1.1). encrypt and
 *   decrypt XOR keystream in place, and successive calls continue the same
 *   keystream until the next set_iv;
 * - auth: start() per packet, update() over the packet, compute() over the
 *   trailing ROC (or the whole SRTCP packet), writing out_len octets (10, or
 *   4 for the _32 profiles).
 * libsrtp allocates these per srtp_t (cloned streams share their template's):
 * a session is used by one worker thread only, so no locking is needed. */

/* SHA1_Init & co. are deprecated in OpenSSL 3 but are the only way to copy
 * a SHA-1 state without a heap allocation: EVP_MD_CTX_copy_ex and
 * EVP_MAC_init both allocate a provider context per call in 3.0. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "internal.h"

#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

/* ---- AES-CM (integer counter mode) ---- */

typedef struct {
  EVP_CIPHER_CTX *evp;             /* key schedule from init(); set_iv() keeps it */
  int key_size;                    /* 16 or 32 */
  guint8 salt[16];                 /* 14-octet salt, then the zero block counter */
  guint32 keystream_left;          /* octets before the 16-bit block counter wraps */
} CsIcm;

typedef struct {
  srtp_cipher_t base;              /* what libsrtp holds; base.state = &icm */
  CsIcm icm;
} CsIcmCipher;

static const srtp_cipher_type_t icm_128_type;
static const srtp_cipher_type_t icm_256_type;

static srtp_err_status_t
icm_alloc (const srtp_cipher_type_t *type, int key_size, srtp_cipher_pointer_t *cp, int key_len)
{
  if (key_len != key_size + SRTP_SALT_LEN)
    return srtp_err_status_bad_param;
  EVP_CIPHER_CTX *evp = EVP_CIPHER_CTX_new ();
  if (!evp)
    return srtp_err_status_alloc_fail;
  CsIcmCipher *self = g_new0 (CsIcmCipher, 1);
  self->icm.evp = evp;
  self->icm.key_size = key_size;
  self->base.type = type;
  self->base.state = &self->icm;
  self->base.key_len = key_len;
  self->base.algorithm = type->id;
  *cp = &self->base;
  return srtp_err_status_ok;
}

static srtp_err_status_t
icm_128_alloc (srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
  return icm_alloc (&icm_128_type, 16, cp, key_len);
}

static srtp_err_status_t
icm_256_alloc (srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
  return icm_alloc (&icm_256_type, 32, cp, key_len);
}

static srtp_err_status_t
icm_dealloc (srtp_cipher_pointer_t cp)
{
  CsIcmCipher *self = (CsIcmCipher *) cp;
  if (!self)
    return srtp_err_status_bad_param;
  EVP_CIPHER_CTX_free (self->icm.evp);      /* cleanses the key schedule */
  OPENSSL_cleanse (self, sizeof *self);
  g_free (self);
  return srtp_err_status_ok;
}

/* Called again by libsrtp's self-test and on re-keying: a full re-key. */
static srtp_err_status_t
icm_init (void *state, const uint8_t *key)
{
  CsIcm *icm = state;
  const EVP_CIPHER *cipher = icm->key_size == 16 ? EVP_aes_128_ctr () : EVP_aes_256_ctr ();
  memset (icm->salt, 0, sizeof icm->salt);
  memcpy (icm->salt, key + icm->key_size, SRTP_SALT_LEN);
  icm->keystream_left = 0;
  if (EVP_EncryptInit_ex (icm->evp, cipher, NULL, key, NULL) != 1)
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t
icm_set_iv (void *state, uint8_t *iv, srtp_cipher_direction_t direction)
{
  CsIcm *icm = state;
  guint8 counter[16];
  for (guint i = 0; i < sizeof counter; i++)
    counter[i] = icm->salt[i] ^ iv[i];
  /* Only the counter block changes: no key schedule, no allocation. */
  if (EVP_CipherInit_ex (icm->evp, NULL, NULL, NULL, counter, -1) != 1)
    return srtp_err_status_cipher_fail;
  /* OpenSSL carries into the upper 112 bits; SRTP's counter is 16 bits. */
  icm->keystream_left = (0x10000u - ((guint32) counter[14] << 8 | counter[15])) * 16;
  return srtp_err_status_ok;
}

/* CTR mode: decryption is the same XOR. */
static srtp_err_status_t
icm_encrypt (void *state, uint8_t *buf, unsigned int *len)
{
  CsIcm *icm = state;
  if (*len > icm->keystream_left)
    return srtp_err_status_terminus;
  if (*len == 0)
    return srtp_err_status_ok;
  int out;
  if (EVP_EncryptUpdate (icm->evp, buf, &out, buf, (int) *len) != 1)
    return srtp_err_status_cipher_fail;
  icm->keystream_left -= *len;
  return srtp_err_status_ok;
}

/* Self-test vectors checked by srtp_replace_cipher_type() before it swaps
 * (libsrtp then also runs its own vectors against us). The IVs are zero;
 * the field is not const in libsrtp's struct but is only read. */
static const guint8 zero_iv[16];

/* RFC 3711 Appendix B.2: session key and salt, keystream blocks 0 and 1. */
static const guint8 icm_128_key[30] = {
  0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
  0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const guint8 icm_128_keystream[32] = {
  0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
  0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
};
/* RFC 6188 §7: the same for AES-256. */
static const guint8 icm_256_key[46] = {
  0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70, 0xa8, 0x5e, 0xc9, 0x3c, 0x40, 0xb1, 0xf0, 0x92,
  0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82, 0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98,
  0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const guint8 icm_256_keystream[32] = {
  0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25, 0x11, 0xc6, 0x77, 0xd0, 0x8b, 0x55, 0x15, 0xa4,
  0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8, 0x54, 0xf6, 0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac,
};
static const guint8 zero_plaintext[32];

static const srtp_cipher_test_case_t icm_128_test = {
  .key_length_octets = sizeof icm_128_key,
  .key = icm_128_key,
  .idx = (uint8_t *) zero_iv,
  .plaintext_length_octets = sizeof zero_plaintext,
  .plaintext = zero_plaintext,
  .ciphertext_length_octets = sizeof icm_128_keystream,
  .ciphertext = icm_128_keystream,
};

static const srtp_cipher_test_case_t icm_256_test = {
  .key_length_octets = sizeof icm_256_key,
  .key = icm_256_key,
  .idx = (uint8_t *) zero_iv,
  .plaintext_length_octets = sizeof zero_plaintext,
  .plaintext = zero_plaintext,
  .ciphertext_length_octets = sizeof icm_256_keystream,
  .ciphertext = icm_256_keystream,
};

static const srtp_cipher_type_t icm_128_type = {
  .alloc = icm_128_alloc,
  .dealloc = icm_dealloc,
  .init = icm_init,
  .encrypt = icm_encrypt,
  .decrypt = icm_encrypt,
  .set_iv = icm_set_iv,
  .description = "AES-128 counter mode, OpenSSL keyed once (consilium)",
  .test_data = &icm_128_test,
  .id = SRTP_AES_ICM_128,
};

static const srtp_cipher_type_t icm_256_type = {
  .alloc = icm_256_alloc,
  .dealloc = icm_dealloc,
  .init = icm_init,
  .encrypt = icm_encrypt,
  .decrypt = icm_encrypt,
  .set_iv = icm_set_iv,
  .description = "AES-256 counter mode, OpenSSL keyed once (consilium)",
  .test_data = &icm_256_test,
  .id = SRTP_AES_ICM_256,
};

/* ---- HMAC-SHA1 (RFC 2104) ---- */

typedef struct {
  SHA_CTX inner;                   /* after (key ^ ipad): the per-session precomputation */
  SHA_CTX outer;                   /* after (key ^ opad) */
  SHA_CTX running;                 /* inner + this packet so far */
} CsHmac;

typedef struct {
  srtp_auth_t base;                /* base.state = &hmac */
  CsHmac hmac;
} CsHmacAuth;

static const srtp_auth_type_t hmac_type;

static srtp_err_status_t
hmac_alloc (srtp_auth_pointer_t *ap, int key_len, int out_len)
{
  /* Longer keys would first be hashed; SRTP's are 20 octets. */
  if (key_len < 0 || key_len > SHA_CBLOCK || out_len < 0 || out_len > SHA_DIGEST_LENGTH)
    return srtp_err_status_bad_param;
  CsHmacAuth *self = g_new0 (CsHmacAuth, 1);
  self->base.type = &hmac_type;
  self->base.state = &self->hmac;
  self->base.out_len = out_len;
  self->base.key_len = key_len;
  self->base.prefix_len = 0;
  *ap = &self->base;
  return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_dealloc (srtp_auth_pointer_t ap)
{
  if (!ap)
    return srtp_err_status_bad_param;
  OPENSSL_cleanse (ap, sizeof (CsHmacAuth));   /* the states are key equivalents */
  g_free (ap);
  return srtp_err_status_ok;
}

static void
hmac_pad_state (SHA_CTX *sha, const uint8_t *key, int key_len, guint8 pad_byte)
{
  guint8 block[SHA_CBLOCK];
  memset (block, pad_byte, sizeof block);
  for (int i = 0; i < key_len; i++)
    block[i] ^= key[i];
  SHA1_Init (sha);
  SHA1_Update (sha, block, sizeof block);
  OPENSSL_cleanse (block, sizeof block);
}

static srtp_err_status_t
hmac_init (void *state, const uint8_t *key, int key_len)
{
  CsHmac *hmac = state;
  if (key_len < 0 || key_len > SHA_CBLOCK)
    return srtp_err_status_bad_param;
  hmac_pad_state (&hmac->inner, key, key_len, 0x36);
  hmac_pad_state (&hmac->outer, key, key_len, 0x5c);
  hmac->running = hmac->inner;
  return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_start (void *state)
{
  CsHmac *hmac = state;
  hmac->running = hmac->inner;
  return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_update (void *state, const uint8_t *buf, int len)
{
  CsHmac *hmac = state;
  if (len < 0)
    return srtp_err_status_bad_param;
  SHA1_Update (&hmac->running, buf, len);
  return srtp_err_status_ok;
}

static srtp_err_status_t
hmac_compute (void *state, const uint8_t *buf, int len, int tag_len, uint8_t *tag)
{
  CsHmac *hmac = state;
  if (len < 0 || tag_len < 0 || tag_len > SHA_DIGEST_LENGTH)
    return srtp_err_status_bad_param;
  guint8 digest[SHA_DIGEST_LENGTH];
  SHA1_Update (&hmac->running, buf, len);
  SHA1_Final (digest, &hmac->running);
  SHA_CTX outer = hmac->outer;
  SHA1_Update (&outer, digest, sizeof digest);
  SHA1_Final (digest, &outer);
  memcpy (tag, digest, tag_len);
  return srtp_err_status_ok;
}

/* RFC 2202 §3, test cases 1 and 2 (a full-block key and a short one). */
static const guint8 hmac_key_1[20] = {
  0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
  0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
};
static const guint8 hmac_tag_1[20] = {
  0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
  0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00,
};
static const guint8 hmac_tag_2[20] = {
  0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
  0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
};

static const srtp_auth_test_case_t hmac_test_2 = {
  .key_length_octets = 4,
  .key = (const uint8_t *) "Jefe",
  .data_length_octets = 28,
  .data = (const uint8_t *) "what do ya want for nothing?",
  .tag_length_octets = sizeof hmac_tag_2,
  .tag = hmac_tag_2,
};

static const srtp_auth_test_case_t hmac_test_1 = {
  .key_length_octets = sizeof hmac_key_1,
  .key = hmac_key_1,
  .data_length_octets = 8,
  .data = (const uint8_t *) "Hi There",
  .tag_length_octets = sizeof hmac_tag_1,
  .tag = hmac_tag_1,
  .next_test_case = &hmac_test_2,
};

static const srtp_auth_type_t hmac_type = {
  .alloc = hmac_alloc,
  .dealloc = hmac_dealloc,
  .init = hmac_init,
  .compute = hmac_compute,
  .update = hmac_update,
  .start = hmac_start,
  .description = "HMAC-SHA1 from precomputed pad states (consilium)",
  .test_data = &hmac_test_1,
  .id = SRTP_HMAC_SHA1,
};

/**
 * cs_srtp_fast_install:
 * @error: (nullable): where to put an error
 *
 * Registers the implementations above in libsrtp's crypto kernel for
 * AES_ICM_128, AES_ICM_256 and HMAC_SHA1 (the AES_CM_*_HMAC_SHA1_* profiles,
 * and the key derivation of every profile). libsrtp runs our vectors and its
 * own stock ones against each before swapping; on failure it keeps its own.
 *
 * Call once per process after srtp_init() and before any srtp_create():
 * it edits libsrtp's global state, and a session keeps the implementation
 * it was created with. srtp_shutdown() reverts to the stock ones.
 *
 * Returns: %TRUE when all three are registered.
 */
gboolean
cs_srtp_fast_install (GError **error)
{
  static const srtp_cipher_type_t *const ciphers[] = { &icm_128_type, &icm_256_type };
  srtp_err_status_t st;

  for (guint i = 0; i < G_N_ELEMENTS (ciphers); i++) {
    st = srtp_replace_cipher_type (ciphers[i], ciphers[i]->id);
    if (st != srtp_err_status_ok) {
      g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INTERNAL,
                   "libsrtp refused %s (srtp_err_status %d)", ciphers[i]->description, st);
      return FALSE;
    }
  }
  st = srtp_replace_auth_type (&hmac_type, hmac_type.id);
  if (st != srtp_err_status_ok) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INTERNAL,
                 "libsrtp refused %s (srtp_err_status %d)", hmac_type.description, st);
    return FALSE;
  }
  return TRUE;
}
