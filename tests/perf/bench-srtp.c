/* bench-srtp — cost of SRTP on this machine, stock libsrtp vs media/srtp-fast.c,
 * and the floor of the send path: protect + sendmmsg to a loopback socket.
 *
 *   build-srtp/tests/perf/bench-srtp [--packets N] [--rounds R]
 *
 * Times are CPU time of this thread (CLOCK_THREAD_CPUTIME_ID), so other
 * load on the machine inflates them less than wall time would; each figure
 * is the best of R rounds of N operations. Loopback sends are charged to
 * the sender (the kernel delivers to the receiving socket in its context);
 * the receiving socket is drained between batches, outside the timing. */
#define _GNU_SOURCE                 /* sendmmsg, recvmmsg */

#include "media/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT_LEN 1200                /* RTP header + payload, before the tag */
#define BATCH 32
#define BUF_LEN (PKT_LEN + SRTP_MAX_TRAILER_LEN)

static guint n_packets = 20000;
static guint n_rounds = 7;

static gint64
cpu_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static void
make_packet (guint8 *buf, guint16 seq)
{
  memset (buf, 0, PKT_LEN);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq;
  buf[8] = 0x12;                    /* SSRC 0x12345678 */
  buf[9] = 0x34;
  buf[10] = 0x56;
  buf[11] = 0x78;
  for (guint i = 12; i < PKT_LEN; i++)
    buf[i] = i * 7;
}

/* out: the session measured when protecting; in: when unprotecting, fed by
 * feed (same key, so the same bytes whichever implementation made them). */
typedef struct {
  srtp_t out, in, feed;
  guint16 out_seq;                  /* sequence numbers only move forward: */
  guint16 feed_seq;                 /* libsrtp refuses to re-send an old index */
} Session;

static srtp_t
session_new (void (*set) (srtp_crypto_policy_t *), const guint8 *key, gboolean outbound)
{
  srtp_policy_t policy;
  memset (&policy, 0, sizeof policy);
  set (&policy.rtp);
  set (&policy.rtcp);
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = (guint8 *) key;
  policy.window_size = 1024;
  srtp_t session = NULL;
  if (srtp_create (&session, &policy) != srtp_err_status_ok)
    g_error ("srtp_create failed");
  return session;
}

static void
session_init (Session *s, void (*set) (srtp_crypto_policy_t *), const guint8 *key)
{
  s->out = session_new (set, key, TRUE);
  s->in = session_new (set, key, FALSE);
  s->feed = session_new (set, key, TRUE);
  s->out_seq = s->feed_seq = 0;
}

static void
session_clear (Session *s)
{
  srtp_dealloc (s->out);
  srtp_dealloc (s->in);
  srtp_dealloc (s->feed);
}

/* µs per srtp_protect of a fresh 1,200-byte packet (copy included, as in
 * the forwarding loop, which builds each packet before protecting it). */
static double
bench_protect (Session *s, const guint8 *plain)
{
  gint64 best = G_MAXINT64;
  guint8 buf[BUF_LEN];
  for (guint r = 0; r < n_rounds; r++) {
    gint64 t0 = cpu_ns ();
    for (guint i = 0; i < n_packets; i++) {
      int len = PKT_LEN;
      guint16 seq = s->out_seq++;
      memcpy (buf, plain, PKT_LEN);
      buf[2] = seq >> 8;
      buf[3] = seq;
      if (srtp_protect (s->out, buf, &len) != srtp_err_status_ok)
        g_error ("srtp_protect failed");
    }
    best = MIN (best, cpu_ns () - t0);
  }
  return best / 1000.0 / n_packets;
}

/* µs per srtp_unprotect, in batches of BATCH as a recvmmsg would hand
 * them over: the feed session protects a batch (not timed), then in
 * unprotects it while it is still in cache. Sequence numbers keep going
 * across rounds (the replay window forbids reuse), rolling the ROC over. */
static double
bench_unprotect (Session *s, const guint8 *plain)
{
  guint8 bufs[BATCH][BUF_LEN];
  int lens[BATCH];
  guint n_batches = MAX (n_packets / BATCH, 1);
  gint64 best = G_MAXINT64;
  for (guint r = 0; r < n_rounds; r++) {
    gint64 total = 0;
    for (guint b = 0; b < n_batches; b++) {
      for (guint i = 0; i < BATCH; i++) {
        guint16 seq = s->feed_seq++;
        memcpy (bufs[i], plain, PKT_LEN);
        bufs[i][2] = seq >> 8;
        bufs[i][3] = seq;
        lens[i] = PKT_LEN;
        if (srtp_protect (s->feed, bufs[i], &lens[i]) != srtp_err_status_ok)
          g_error ("srtp_protect failed");
      }
      gint64 t0 = cpu_ns ();
      for (guint i = 0; i < BATCH; i++)
        if (srtp_unprotect (s->in, bufs[i], &lens[i]) != srtp_err_status_ok)
          g_error ("srtp_unprotect failed");
      total += cpu_ns () - t0;
    }
    best = MIN (best, total);
  }
  return best / 1000.0 / (n_batches * BATCH);
}

typedef struct {
  int tx, rx;
  struct sockaddr_in to;
} Loopback;

static void
loopback_open (Loopback *lo)
{
  lo->rx = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  lo->tx = socket (AF_INET, SOCK_DGRAM, 0);
  if (lo->rx < 0 || lo->tx < 0)
    g_error ("socket: %s", g_strerror (errno));
  int size = 4 << 20;
  setsockopt (lo->rx, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  memset (&lo->to, 0, sizeof lo->to);
  lo->to.sin_family = AF_INET;
  lo->to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (lo->rx, (struct sockaddr *) &lo->to, sizeof lo->to) < 0)
    g_error ("bind: %s", g_strerror (errno));
  socklen_t alen = sizeof lo->to;
  getsockname (lo->rx, (struct sockaddr *) &lo->to, &alen);
}

static guint
loopback_drain (Loopback *lo)
{
  static guint8 sink[BATCH][BUF_LEN];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  guint total = 0;
  for (;;) {
    memset (msgs, 0, sizeof msgs);
    for (guint i = 0; i < BATCH; i++) {
      iov[i].iov_base = sink[i];
      iov[i].iov_len = BUF_LEN;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg (lo->rx, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return total;
    total += n;
  }
}

/* µs per packet for protect + send of batches of BATCH packets, each
 * addressed like libnice does (unconnected socket, msg_name per packet). */
static double
bench_send (Session *s, const guint8 *plain, Loopback *lo, gboolean batched)
{
  guint8 bufs[BATCH][BUF_LEN];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  guint n_batches = MAX (n_packets / BATCH, 1);
  gint64 best = G_MAXINT64;
  for (guint r = 0; r < n_rounds; r++) {
    gint64 total = 0;
    guint received = 0;
    for (guint b = 0; b < n_batches; b++) {
      gint64 t0 = cpu_ns ();
      for (guint i = 0; i < BATCH; i++) {
        int len = PKT_LEN;
        guint16 seq = s->out_seq++;
        memcpy (bufs[i], plain, PKT_LEN);
        bufs[i][2] = seq >> 8;
        bufs[i][3] = seq;
        if (srtp_protect (s->out, bufs[i], &len) != srtp_err_status_ok)
          g_error ("srtp_protect failed");
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = len;
      }
      if (batched) {
        memset (msgs, 0, sizeof msgs);
        for (guint i = 0; i < BATCH; i++) {
          msgs[i].msg_hdr.msg_name = &lo->to;
          msgs[i].msg_hdr.msg_namelen = sizeof lo->to;
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        if (sendmmsg (lo->tx, msgs, BATCH, 0) != BATCH)
          g_error ("sendmmsg: %s", g_strerror (errno));
      } else {
        for (guint i = 0; i < BATCH; i++)
          if (sendto (lo->tx, iov[i].iov_base, iov[i].iov_len, 0,
                      (struct sockaddr *) &lo->to, sizeof lo->to) < 0)
            g_error ("sendto: %s", g_strerror (errno));
      }
      total += cpu_ns () - t0;
      received += loopback_drain (lo);
    }
    if (received != n_batches * BATCH)
      g_printerr ("warning: %u of %u packets reached the receiving socket\n",
                  received, n_batches * BATCH);
    best = MIN (best, total);
  }
  return best / 1000.0 / (n_batches * BATCH);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "packets", 'n', 0, G_OPTION_ARG_INT, &n_packets, "Packets per round", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &n_rounds, "Rounds; the best is kept", "R" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- SRTP cost per 1,200-byte packet");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  n_packets = MAX (n_packets, BATCH);
  n_rounds = MAX (n_rounds, 1);

  if (srtp_init () != srtp_err_status_ok)
    g_error ("srtp_init failed");
  guint8 key[SRTP_MAX_KEY_LEN];
  for (guint i = 0; i < sizeof key; i++)
    key[i] = g_random_int ();
  guint8 plain[PKT_LEN];
  make_packet (plain, 0);

  /* A session keeps the implementation it was created with: create the
   * stock ones before installing ours. */
  Session stock_cm, stock_gcm, fast_cm;
  session_init (&stock_cm, srtp_crypto_policy_set_rtp_default, key);
  session_init (&stock_gcm, srtp_crypto_policy_set_aes_gcm_128_16_auth, key);
  if (!cs_srtp_fast_install (&error))
    g_error ("%s", error->message);
  session_init (&fast_cm, srtp_crypto_policy_set_rtp_default, key);

  double stock_p = bench_protect (&stock_cm, plain), stock_u = bench_unprotect (&stock_cm, plain);
  double fast_p = bench_protect (&fast_cm, plain), fast_u = bench_unprotect (&fast_cm, plain);
  double gcm_p = bench_protect (&stock_gcm, plain), gcm_u = bench_unprotect (&stock_gcm, plain);

  Loopback lo;
  loopback_open (&lo);
  double mmsg = bench_send (&fast_cm, plain, &lo, TRUE);
  double one_by_one = bench_send (&fast_cm, plain, &lo, FALSE);
  close (lo.tx);
  close (lo.rx);

  g_print ("SRTP, %d-byte RTP packets, us of CPU per packet (best of %u rounds of %u)\n",
           PKT_LEN, n_rounds, n_packets);
  g_print ("%-44s %10s %10s\n", "", "protect", "unprotect");
  g_print ("%-44s %10.3f %10.3f\n", "AES_CM_128_HMAC_SHA1_80  libsrtp (stock)", stock_p, stock_u);
  g_print ("%-44s %10.3f %10.3f\n", "AES_CM_128_HMAC_SHA1_80  srtp-fast (ours)", fast_p, fast_u);
  g_print ("%-44s %10.3f %10.3f\n", "AEAD_AES_128_GCM         libsrtp (stock)", gcm_p, gcm_u);
  g_print ("%-44s %9.1fx %9.1fx\n", "speed-up, ours vs stock AES_CM", stock_p / fast_p, stock_u / fast_u);
  g_print ("\nsend floor, loopback UDP, ours AES_CM_128_HMAC_SHA1_80, us per packet\n");
  g_print ("%-44s %10.3f\n", "srtp_protect + sendmmsg (batches of 32)", mmsg);
  g_print ("%-44s %10.3f\n", "srtp_protect + sendto (one by one)", one_by_one);

  session_clear (&stock_cm);
  session_clear (&stock_gcm);
  session_clear (&fast_cm);
  srtp_shutdown ();
  return 0;
}
