/* Unit tests of media/srtp-fast.c: our AES-CM and HMAC-SHA1 registered in
 * libsrtp must produce byte-identical SRTP/SRTCP to libsrtp's own ones.
 *
 * A libsrtp session keeps the cipher and auth objects it was created with,
 * so each test resets the crypto kernel (srtp_shutdown + srtp_init: stock
 * implementations), creates the reference sessions, installs ours, then
 * creates ours: both live side by side in one process. */
#include "media/internal.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

/* Exported by libsrtp2.so but declared in its uninstalled crypto_kernel.h:
 * the only way to see which implementation the kernel hands out. */
const srtp_cipher_type_t *srtp_crypto_kernel_get_cipher_type (srtp_cipher_type_id_t id);
const srtp_auth_type_t *srtp_crypto_kernel_get_auth_type (srtp_auth_type_id_t id);

#define BUF_LEN 1600
#define MAX_PAYLOAD 1400

/* OpenSSL allocations, counted through CRYPTO_set_mem_functions (test only). */
static gint openssl_allocs;
static gboolean counting_allocs;

static void *
count_malloc (size_t n, const char *file, int line)
{
  g_atomic_int_inc (&openssl_allocs);
  return malloc (n);
}

static void *
count_realloc (void *p, size_t n, const char *file, int line)
{
  g_atomic_int_inc (&openssl_allocs);
  return realloc (p, n);
}

static void
count_free (void *p, const char *file, int line)
{
  free (p);
}

typedef struct {
  const char *name;
  void (*set) (srtp_crypto_policy_t *policy);
  gsize key_len;                   /* master key + salt */
  gsize tag_len;                   /* SRTP auth tag */
} Profile;

static const Profile profiles[] = {
  /* _aes_cm_128_hmac_sha1_80 is a macro for this one */
  { "aes-cm-128-hmac-sha1-80", srtp_crypto_policy_set_rtp_default, 30, 10 },
  { "aes-cm-128-hmac-sha1-32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32, 30, 4 },
  { "aes-cm-256-hmac-sha1-80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80, 46, 10 },
  /* GCM itself stays libsrtp's; its key derivation runs on AES-CM. */
  { "aead-aes-128-gcm", srtp_crypto_policy_set_aes_gcm_128_16_auth, 28, 16 },
};

typedef struct {
  srtp_t out, in;
} Session;

static void
session_init (Session *s, const Profile *p, const guint8 *key)
{
  srtp_policy_t out, in;
  memset (&out, 0, sizeof out);
  p->set (&out.rtp);
  p->set (&out.rtcp);
  in = out;
  out.ssrc.type = ssrc_any_outbound;
  in.ssrc.type = ssrc_any_inbound;
  out.key = in.key = (guint8 *) key;
  out.window_size = in.window_size = 1024;
  g_assert_cmpint (srtp_create (&s->out, &out), ==, srtp_err_status_ok);
  g_assert_cmpint (srtp_create (&s->in, &in), ==, srtp_err_status_ok);
}

static void
session_clear (Session *s)
{
  srtp_dealloc (s->out);
  srtp_dealloc (s->in);
}

static gboolean
kernel_has_ours (void)
{
  const srtp_cipher_type_t *c128 = srtp_crypto_kernel_get_cipher_type (SRTP_AES_ICM_128);
  const srtp_cipher_type_t *c256 = srtp_crypto_kernel_get_cipher_type (SRTP_AES_ICM_256);
  const srtp_auth_type_t *hmac = srtp_crypto_kernel_get_auth_type (SRTP_HMAC_SHA1);
  return g_str_has_suffix (c128->description, "(consilium)")
         && g_str_has_suffix (c256->description, "(consilium)")
         && g_str_has_suffix (hmac->description, "(consilium)");
}

/* Back to libsrtp's own implementations. */
static void
reset_kernel (void)
{
  g_assert_cmpint (srtp_shutdown (), ==, srtp_err_status_ok);
  g_assert_cmpint (srtp_init (), ==, srtp_err_status_ok);
  g_assert_false (kernel_has_ours ());
}

static void
install (void)
{
  GError *error = NULL;
  g_assert_true (cs_srtp_fast_install (&error));
  g_assert_no_error (error);
  g_assert_true (kernel_has_ours ());
}

/* Stock sessions and ours, keyed alike. */
static void
make_pair (const Profile *p, GRand *rand, Session *stock, Session *fast)
{
  guint8 key[SRTP_MAX_KEY_LEN];
  for (gsize i = 0; i < p->key_len; i++)
    key[i] = g_rand_int (rand);
  reset_kernel ();
  session_init (stock, p, key);
  install ();
  session_init (fast, p, key);
}

/* An RTP packet with random CSRCs, header extension, marker and payload. */
static gsize
make_rtp (GRand *rand, guint8 *buf, guint32 ssrc, guint16 seq, gsize payload_len)
{
  guint cc = g_rand_int_range (rand, 0, 4) == 0 ? g_rand_int_range (rand, 1, 16) : 0;
  gboolean ext = g_rand_boolean (rand);
  buf[0] = 0x80 | (ext ? 0x10 : 0) | cc;
  buf[1] = (g_rand_boolean (rand) ? 0x80 : 0) | g_rand_int_range (rand, 96, 128);
  buf[2] = seq >> 8;
  buf[3] = seq;
  guint32 ts = g_rand_int (rand);
  memcpy (buf + 4, &(guint32) { GUINT32_TO_BE (ts) }, 4);
  memcpy (buf + 8, &(guint32) { GUINT32_TO_BE (ssrc) }, 4);
  gsize len = 12;
  for (guint i = 0; i < cc * 4; i++)
    buf[len++] = g_rand_int (rand);
  if (ext) {
    guint words = g_rand_int_range (rand, 0, 9);
    buf[len++] = 0xbe;
    buf[len++] = 0xde;
    buf[len++] = 0;
    buf[len++] = words;
    for (guint i = 0; i < words * 4; i++)
      buf[len++] = g_rand_int (rand);
  }
  for (gsize i = 0; i < payload_len; i++)
    buf[len++] = g_rand_int (rand);
  return len;
}

/* Every payload length up to 64, then random ones up to MAX_PAYLOAD. */
static gsize
payload_len_for (GRand *rand, guint i)
{
  if (i <= 64)
    return i;
  if (i % 97 == 0)
    return MAX_PAYLOAD;
  return g_rand_int_range (rand, 0, MAX_PAYLOAD + 1);
}

static void
test_rtp_matches_stock (gconstpointer data)
{
  const Profile *p = data;
  GRand *rand = g_rand_new_with_seed (3711);
  Session stock, fast;
  make_pair (p, rand, &stock, &fast);

  static const guint32 ssrcs[] = { 0x11223344, 0xdeadbeef, 0x00000001 };
  guint16 seq[G_N_ELEMENTS (ssrcs)] = { 65000, 1, 32768 };   /* the first rolls over (ROC 1) */
  for (guint i = 0; i < 3000; i++) {
    guint s = i % G_N_ELEMENTS (ssrcs);
    guint8 plain[BUF_LEN], a[BUF_LEN], b[BUF_LEN];
    gsize len = make_rtp (rand, plain, ssrcs[s], seq[s]++, payload_len_for (rand, i));
    int alen = len, blen = len;
    memcpy (a, plain, len);
    memcpy (b, plain, len);
    g_assert_cmpint (srtp_protect (stock.out, a, &alen), ==, srtp_err_status_ok);
    g_assert_cmpint (srtp_protect (fast.out, b, &blen), ==, srtp_err_status_ok);
    g_assert_cmpint (alen, ==, len + p->tag_len);
    g_assert_cmpmem (a, alen, b, blen);

    /* Each side accepts the other's output. */
    g_assert_cmpint (srtp_unprotect (fast.in, a, &alen), ==, srtp_err_status_ok);
    g_assert_cmpmem (a, alen, plain, len);
    g_assert_cmpint (srtp_unprotect (stock.in, b, &blen), ==, srtp_err_status_ok);
    g_assert_cmpmem (b, blen, plain, len);
  }
  session_clear (&stock);
  session_clear (&fast);
  g_rand_free (rand);
}

/* A compound-looking RTCP packet: SR or RR header, random body. */
static gsize
make_rtcp (GRand *rand, guint8 *buf, guint32 ssrc, gsize body_words)
{
  buf[0] = 0x80 | g_rand_int_range (rand, 0, 4);
  buf[1] = g_rand_boolean (rand) ? 200 : 201;
  buf[2] = body_words >> 8;
  buf[3] = body_words;
  memcpy (buf + 4, &(guint32) { GUINT32_TO_BE (ssrc) }, 4);
  gsize len = 8;
  for (gsize i = 0; i < (body_words - 1) * 4; i++)
    buf[len++] = g_rand_int (rand);
  return len;
}

static void
test_rtcp_matches_stock (gconstpointer data)
{
  const Profile *p = data;
  GRand *rand = g_rand_new_with_seed (5761);
  Session stock, fast;
  make_pair (p, rand, &stock, &fast);

  for (guint i = 0; i < 1000; i++) {
    guint32 ssrc = i % 2 ? 0xcafef00d : 0x01020304;
    gsize words = i < 64 ? i + 1 : (gsize) g_rand_int_range (rand, 1, MAX_PAYLOAD / 4);
    guint8 plain[BUF_LEN], a[BUF_LEN], b[BUF_LEN];
    gsize len = make_rtcp (rand, plain, ssrc, words);
    int alen = len, blen = len;
    memcpy (a, plain, len);
    memcpy (b, plain, len);
    g_assert_cmpint (srtp_protect_rtcp (stock.out, a, &alen), ==, srtp_err_status_ok);
    g_assert_cmpint (srtp_protect_rtcp (fast.out, b, &blen), ==, srtp_err_status_ok);
    g_assert_cmpmem (a, alen, b, blen);

    g_assert_cmpint (srtp_unprotect_rtcp (fast.in, a, &alen), ==, srtp_err_status_ok);
    g_assert_cmpmem (a, alen, plain, len);
    g_assert_cmpint (srtp_unprotect_rtcp (stock.in, b, &blen), ==, srtp_err_status_ok);
    g_assert_cmpmem (b, blen, plain, len);
  }
  session_clear (&stock);
  session_clear (&fast);
  g_rand_free (rand);
}

/* A flipped bit anywhere (header, payload, tag) fails authentication, and
 * the failure leaves the stream usable. */
static void
test_tampered_rejected (void)
{
  const Profile *p = &profiles[0];
  GRand *rand = g_rand_new_with_seed (2104);
  Session stock, fast;
  make_pair (p, rand, &stock, &fast);

  guint8 plain[BUF_LEN], prot[BUF_LEN], bad[BUF_LEN];
  gsize len = make_rtp (rand, plain, 0x5eed, 100, 1200);
  int plen = len;
  memcpy (prot, plain, len);
  g_assert_cmpint (srtp_protect (fast.out, prot, &plen), ==, srtp_err_status_ok);
  const int positions[] = { 1, 11, 12, plen / 2, plen - p->tag_len - 1, plen - p->tag_len, plen - 1 };
  for (guint i = 0; i < G_N_ELEMENTS (positions); i++) {
    int blen = plen;
    memcpy (bad, prot, plen);
    bad[positions[i]] ^= 0x04;
    g_assert_cmpint (srtp_unprotect (fast.in, bad, &blen), ==, srtp_err_status_auth_fail);
  }
  g_assert_cmpint (srtp_unprotect (fast.in, prot, &plen), ==, srtp_err_status_ok);
  g_assert_cmpmem (prot, plen, plain, len);

  len = make_rtcp (rand, plain, 0x5eed, 20);
  plen = len;
  memcpy (prot, plain, len);
  g_assert_cmpint (srtp_protect_rtcp (fast.out, prot, &plen), ==, srtp_err_status_ok);
  for (int pos = 0; pos < plen; pos += 7) {
    int blen = plen;
    memcpy (bad, prot, plen);
    bad[pos] ^= 0x80;
    g_assert_cmpint (srtp_unprotect_rtcp (fast.in, bad, &blen), !=, srtp_err_status_ok);
  }
  g_assert_cmpint (srtp_unprotect_rtcp (fast.in, prot, &plen), ==, srtp_err_status_ok);
  g_assert_cmpmem (prot, plen, plain, len);

  session_clear (&stock);
  session_clear (&fast);
  g_rand_free (rand);
}

static srtp_cipher_t *
kernel_cipher (srtp_cipher_type_id_t id, const guint8 *key, int key_len)
{
  const srtp_cipher_type_t *type = srtp_crypto_kernel_get_cipher_type (id);
  srtp_cipher_t *c = NULL;
  g_assert_cmpint (srtp_cipher_type_alloc (type, &c, key_len, 0), ==, srtp_err_status_ok);
  g_assert_cmpint (srtp_cipher_init (c, key), ==, srtp_err_status_ok);
  return c;
}

/* RFC 3711 Appendix B.2: AES-CM keystream, session key and salt given. */
static void
test_rfc3711_keystream (void)
{
  static const guint8 key[30] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
  };
  static const guint8 first[48] = {         /* counter ...0000 to ...0002 */
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
    0x41, 0xe9, 0x5b, 0x3b, 0xb0, 0xa2, 0xe8, 0xdd, 0x47, 0x79, 0x01, 0xe4, 0xfc, 0xa8, 0x94, 0xc0,
  };
  static const guint8 last[48] = {          /* counter ...feff to ...ff01 */
    0xec, 0x8c, 0xdf, 0x73, 0x98, 0x60, 0x7c, 0xb0, 0xf2, 0xd2, 0x16, 0x75, 0xea, 0x9e, 0xa1, 0xe4,
    0x36, 0x2b, 0x7c, 0x3c, 0x67, 0x73, 0x51, 0x63, 0x18, 0xa0, 0x77, 0xd7, 0xfc, 0x50, 0x73, 0xae,
    0x6a, 0x2c, 0xc3, 0x78, 0x78, 0x89, 0x37, 0x4f, 0xbe, 0xb4, 0xc8, 0x1b, 0x17, 0xba, 0x6c, 0x44,
  };
  reset_kernel ();
  install ();
  srtp_cipher_t *c = kernel_cipher (SRTP_AES_ICM_128, key, sizeof key);

  guint8 iv[16] = { 0 }, buf[48] = { 0 };
  guint32 len = sizeof buf;
  g_assert_cmpint (srtp_cipher_set_iv (c, iv, srtp_direction_encrypt), ==, srtp_err_status_ok);
  g_assert_cmpint (srtp_cipher_encrypt (c, buf, &len), ==, srtp_err_status_ok);
  g_assert_cmpmem (buf, len, first, sizeof first);

  /* The keystream continues across calls until the next set_iv. */
  iv[14] = 0xfe;
  iv[15] = 0xff;
  memset (buf, 0, sizeof buf);
  g_assert_cmpint (srtp_cipher_set_iv (c, iv, srtp_direction_decrypt), ==, srtp_err_status_ok);
  static const guint32 chunks[] = { 5, 11, 1, 31 };
  guint off = 0;
  for (guint i = 0; i < G_N_ELEMENTS (chunks); i++) {
    len = chunks[i];
    g_assert_cmpint (srtp_cipher_decrypt (c, buf + off, &len), ==, srtp_err_status_ok);
    off += chunks[i];
  }
  g_assert_cmpmem (buf, sizeof buf, last, sizeof last);

  /* The 16-bit block counter must not wrap into the salt (RFC 3711 §4.1.1). */
  iv[14] = iv[15] = 0xff;
  g_assert_cmpint (srtp_cipher_set_iv (c, iv, srtp_direction_encrypt), ==, srtp_err_status_ok);
  len = 16;
  g_assert_cmpint (srtp_cipher_encrypt (c, buf, &len), ==, srtp_err_status_ok);
  len = 1;
  g_assert_cmpint (srtp_cipher_encrypt (c, buf, &len), ==, srtp_err_status_terminus);

  g_assert_cmpint (srtp_cipher_dealloc (c), ==, srtp_err_status_ok);
}

/* RFC 2202 §3 case 3, full and truncated to SRTP's 80 and 32 bits. */
static void
test_rfc2202_hmac (void)
{
  static const guint8 tag[20] = {
    0x12, 0x5d, 0x73, 0x42, 0xb9, 0xac, 0x11, 0xcd, 0x91, 0xa3,
    0x9a, 0xf4, 0x8a, 0xa1, 0x7b, 0x4f, 0x63, 0xf1, 0x75, 0xd3,
  };
  guint8 key[20], data[50];
  memset (key, 0xaa, sizeof key);
  memset (data, 0xdd, sizeof data);
  reset_kernel ();
  install ();
  const srtp_auth_type_t *type = srtp_crypto_kernel_get_auth_type (SRTP_HMAC_SHA1);
  static const int tag_lens[] = { 20, 10, 4 };
  for (guint i = 0; i < G_N_ELEMENTS (tag_lens); i++) {
    srtp_auth_t *a = NULL;
    guint8 out[20] = { 0 };
    g_assert_cmpint (srtp_auth_type_alloc (type, &a, sizeof key, tag_lens[i]), ==, srtp_err_status_ok);
    g_assert_cmpint (srtp_auth_init (a, key), ==, srtp_err_status_ok);
    /* Twice: start() must forget the previous message. */
    for (guint round = 0; round < 2; round++) {
      g_assert_cmpint (srtp_auth_start (a), ==, srtp_err_status_ok);
      g_assert_cmpint (srtp_auth_update (a, data, 17), ==, srtp_err_status_ok);
      g_assert_cmpint (srtp_auth_compute (a, data + 17, sizeof data - 17, out), ==, srtp_err_status_ok);
      g_assert_cmpmem (out, tag_lens[i], tag, tag_lens[i]);
    }
    g_assert_cmpint (srtp_auth_dealloc (a), ==, srtp_err_status_ok);
  }
}

/* libsrtp's own self-tests (its vectors, and ours) on what is registered. */
static void
test_kernel_self_tests (void)
{
  reset_kernel ();
  install ();
  /* Installing again is harmless: the tests run once more. */
  install ();
  g_assert_cmpint (srtp_cipher_type_self_test (srtp_crypto_kernel_get_cipher_type (SRTP_AES_ICM_128)),
                   ==, srtp_err_status_ok);
  g_assert_cmpint (srtp_cipher_type_self_test (srtp_crypto_kernel_get_cipher_type (SRTP_AES_ICM_256)),
                   ==, srtp_err_status_ok);
  g_assert_cmpint (srtp_auth_type_self_test (srtp_crypto_kernel_get_auth_type (SRTP_HMAC_SHA1)),
                   ==, srtp_err_status_ok);
}

/* Keys are scheduled at srtp_create; packets allocate nothing. */
static void
test_no_allocation_per_packet (void)
{
  if (!counting_allocs) {
    g_test_skip ("OpenSSL allocated before the counter could be installed");
    return;
  }
  const Profile *p = &profiles[0];
  GRand *rand = g_rand_new_with_seed (42);
  Session stock, fast;
  gint before = g_atomic_int_get (&openssl_allocs);
  make_pair (p, rand, &stock, &fast);
  /* Ours live in OpenSSL contexts (stock libsrtp here is NSS-based). */
  g_assert_cmpint (g_atomic_int_get (&openssl_allocs), >, before);

  guint8 pkt[BUF_LEN], rtcp[BUF_LEN];
  gsize len = make_rtp (rand, pkt, 0xa110c, 0, 1200);
  gsize rtcp_len = make_rtcp (rand, rtcp, 0xa110c, 20);
  before = g_atomic_int_get (&openssl_allocs);
  for (guint i = 0; i < 1000; i++) {
    guint8 buf[BUF_LEN];
    int n = len;
    memcpy (buf, pkt, len);
    buf[2] = i >> 8;
    buf[3] = i;
    g_assert_cmpint (srtp_protect (fast.out, buf, &n), ==, srtp_err_status_ok);
    g_assert_cmpint (srtp_unprotect (fast.in, buf, &n), ==, srtp_err_status_ok);
    n = rtcp_len;
    memcpy (buf, rtcp, rtcp_len);
    g_assert_cmpint (srtp_protect_rtcp (fast.out, buf, &n), ==, srtp_err_status_ok);
    g_assert_cmpint (srtp_unprotect_rtcp (fast.in, buf, &n), ==, srtp_err_status_ok);
  }
  g_assert_cmpint (g_atomic_int_get (&openssl_allocs), ==, before);

  session_clear (&stock);
  session_clear (&fast);
  g_rand_free (rand);
}

/* One session per thread, as the workers use them: concurrent sessions
 * give the same bytes as one alone. */
typedef struct {
  srtp_t out;
  const guint8 (*packets)[BUF_LEN];
  const int *lens;
  guint n;
  guint8 digest[32];
} ThreadJob;

static gpointer
protect_all (gpointer data)
{
  ThreadJob *job = data;
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  for (guint i = 0; i < job->n; i++) {
    guint8 buf[BUF_LEN];
    int n = job->lens[i];
    memcpy (buf, job->packets[i], n);
    g_assert_cmpint (srtp_protect (job->out, buf, &n), ==, srtp_err_status_ok);
    g_checksum_update (sum, buf, n);
  }
  gsize dlen = sizeof job->digest;
  g_checksum_get_digest (sum, job->digest, &dlen);
  g_checksum_free (sum);
  return NULL;
}

static void
test_sessions_per_thread (void)
{
  const Profile *p = &profiles[0];
  enum { N = 500, THREADS = 4 };
  GRand *rand = g_rand_new_with_seed (1024);
  guint8 (*packets)[BUF_LEN] = g_malloc_n (N, sizeof *packets);
  int lens[N];
  for (guint i = 0; i < N; i++)
    lens[i] = make_rtp (rand, packets[i], 0x7777, i, payload_len_for (rand, i));
  guint8 key[30];
  for (guint i = 0; i < sizeof key; i++)
    key[i] = g_rand_int (rand);
  reset_kernel ();
  install ();

  Session ref;
  session_init (&ref, p, key);
  ThreadJob expect = { ref.out, (const guint8 (*)[BUF_LEN]) packets, lens, N, { 0 } };
  protect_all (&expect);

  Session sessions[THREADS];
  ThreadJob jobs[THREADS];
  GThread *threads[THREADS];
  for (guint t = 0; t < THREADS; t++) {
    session_init (&sessions[t], p, key);
    jobs[t] = expect;
    jobs[t].out = sessions[t].out;
    threads[t] = g_thread_new ("srtp", protect_all, &jobs[t]);
  }
  for (guint t = 0; t < THREADS; t++) {
    g_thread_join (threads[t]);
    g_assert_cmpmem (jobs[t].digest, sizeof jobs[t].digest, expect.digest, sizeof expect.digest);
    session_clear (&sessions[t]);
  }
  session_clear (&ref);
  g_free (packets);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  /* Before anything touches OpenSSL, or it refuses. */
  counting_allocs = CRYPTO_set_mem_functions (count_malloc, count_realloc, count_free);
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (srtp_init (), ==, srtp_err_status_ok);

  for (guint i = 0; i < G_N_ELEMENTS (profiles); i++) {
    g_autofree char *rtp = g_strdup_printf ("/media/srtp-fast/rtp-matches-stock/%s", profiles[i].name);
    g_autofree char *rtcp = g_strdup_printf ("/media/srtp-fast/rtcp-matches-stock/%s", profiles[i].name);
    g_test_add_data_func (rtp, &profiles[i], test_rtp_matches_stock);
    g_test_add_data_func (rtcp, &profiles[i], test_rtcp_matches_stock);
  }
  g_test_add_func ("/media/srtp-fast/tampered-rejected", test_tampered_rejected);
  g_test_add_func ("/media/srtp-fast/rfc3711-keystream", test_rfc3711_keystream);
  g_test_add_func ("/media/srtp-fast/rfc2202-hmac", test_rfc2202_hmac);
  g_test_add_func ("/media/srtp-fast/kernel-self-tests", test_kernel_self_tests);
  g_test_add_func ("/media/srtp-fast/no-allocation-per-packet", test_no_allocation_per_packet);
  g_test_add_func ("/media/srtp-fast/sessions-per-thread", test_sessions_per_thread);
  int ret = g_test_run ();
  srtp_shutdown ();
  return ret;
}
