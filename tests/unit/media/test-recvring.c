/* Unit tests of media/recvring.c against the running kernel: real UDP
 * sockets on loopback, real io_uring multishot receives. Skipped where
 * io_uring cannot do it (the inbox then uses recvmmsg, which media-sfu-epoll
 * covers). */
#include "media/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  CsRecvRing *ring;
  int rx[2], tx;
  struct sockaddr_in rx_addr[2], tx_addr;
} Fixture;

static int
udp_socket (struct sockaddr_in *addr)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  g_assert_cmpint (fd, >=, 0);
  memset (addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  g_assert_cmpint (bind (fd, (struct sockaddr *) addr, len), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) addr, &len), ==, 0);
  /* Room for everything a test queues before reading. */
  int size = 4 << 20;
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  fx->ring = cs_recv_ring_new ();
  if (!fx->ring)
    return;
  for (guint i = 0; i < 2; i++)
    fx->rx[i] = udp_socket (&fx->rx_addr[i]);
  fx->tx = udp_socket (&fx->tx_addr);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  if (!fx->ring)
    return;
  cs_recv_ring_free (fx->ring);
  for (guint i = 0; i < 2; i++)
    close (fx->rx[i]);
  close (fx->tx);
}

static gboolean
no_ring (Fixture *fx)
{
  if (!fx->ring)
    g_test_skip ("io_uring multishot receive is not available here");
  return !fx->ring;
}

static void
send_to (Fixture *fx, guint i, const void *buf, gsize len)
{
  g_assert_cmpint (sendto (fx->tx, buf, len, 0, (struct sockaddr *) &fx->rx_addr[i], sizeof fx->rx_addr[i]), ==,
                   (gssize) len);
}

/* The next completion, waiting for it (up to a second). */
static gboolean
next (Fixture *fx, CsRecvd *d)
{
  for (guint i = 0; i < 1000; i++) {
    if (cs_recv_ring_next (fx->ring, d))
      return TRUE;
    g_usleep (1000);
    /* Task work (the receive itself) runs when we enter the kernel. */
    cs_recv_ring_submit (fx->ring);
    getppid ();
  }
  return FALSE;
}

static void
test_two_sockets (Fixture *fx, gconstpointer data)
{
  if (no_ring (fx))
    return;
  cs_recv_ring_arm (fx->ring, fx->rx[0], 10);
  cs_recv_ring_arm (fx->ring, fx->rx[1], 11);
  cs_recv_ring_submit (fx->ring);
  send_to (fx, 0, "zero", 4);
  send_to (fx, 1, "one", 3);
  send_to (fx, 0, "again", 5);
  const char *want0[] = { "zero", "again" };
  guint n0 = 0, n1 = 0;
  CsRecvd d;
  while (n0 + n1 < 3 && next (fx, &d)) {
    g_assert_true (d.more);
    g_assert_nonnull (d.data);
    g_assert_false (d.truncated);
    g_assert_false (d.stamped);
    /* The sender's address, as recvmsg gives it. */
    const struct sockaddr_in *from = (const struct sockaddr_in *) &d.from;
    g_assert_cmpint (from->sin_family, ==, AF_INET);
    g_assert_cmpint (from->sin_port, ==, fx->tx_addr.sin_port);
    if (d.tag == 10) {
      g_assert_cmpmem (d.data, d.len, want0[n0], strlen (want0[n0]));
      n0++;
    } else {
      g_assert_cmpuint (d.tag, ==, 11);
      g_assert_cmpmem (d.data, d.len, "one", 3);
      n1++;
    }
  }
  g_assert_cmpuint (n0, ==, 2);
  g_assert_cmpuint (n1, ==, 1);
}

static void
test_stamps_and_truncation (Fixture *fx, gconstpointer data)
{
  if (no_ring (fx))
    return;
  int on = 1;
  g_assert_cmpint (setsockopt (fx->rx[0], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on), ==, 0);
  cs_recv_ring_arm (fx->ring, fx->rx[0], 7);
  cs_recv_ring_submit (fx->ring);
  struct timespec before;
  clock_gettime (CLOCK_REALTIME, &before);
  static guint8 big[CS_PKT_MAX + 100];
  send_to (fx, 0, "small", 5);
  send_to (fx, 0, big, sizeof big);
  CsRecvd d;
  g_assert_true (next (fx, &d));
  g_assert_cmpmem (d.data, d.len, "small", 5);
  g_assert_true (d.stamped);
  g_assert_cmpint (d.stamp.tv_sec, >=, before.tv_sec);
  g_assert_true (next (fx, &d));
  g_assert_true (d.truncated);
  g_assert_true (d.more);
}

static void
test_cancel (Fixture *fx, gconstpointer data)
{
  if (no_ring (fx))
    return;
  cs_recv_ring_arm (fx->ring, fx->rx[0], 5);
  cs_recv_ring_submit (fx->ring);
  send_to (fx, 0, "mine", 4);
  CsRecvd d;
  g_assert_true (next (fx, &d));
  g_assert_cmpuint (d.tag, ==, 5);
  cs_recv_ring_cancel (fx->ring, 5);
  cs_recv_ring_submit (fx->ring);
  gboolean ended = FALSE;
  while (!ended && next (fx, &d))
    ended = d.tag == 5 && !d.more;
  g_assert_true (ended);
  g_assert_cmpint (d.res, ==, -ECANCELED);
  /* What arrives now stays in the socket for whoever reads it next. */
  send_to (fx, 0, "libnice's", 9);
  char buf[16];
  gssize n = -1;
  for (guint i = 0; i < 100 && n < 0; i++, g_usleep (1000))
    n = recv (fx->rx[0], buf, sizeof buf, MSG_DONTWAIT);
  g_assert_cmpmem (buf, n, "libnice's", 9);
  g_assert_false (cs_recv_ring_next (fx->ring, &d));
}

/* Reads @count datagrams numbered from @first off socket 0, armed with
 * @tag, in order, arming again each time the receive runs out of buffers;
 * returns how many times it did. */
static guint
read_numbered (Fixture *fx, guint64 tag, guint first, guint count)
{
  guint got = 0, ends = 0;
  CsRecvd d;
  while (got < count && next (fx, &d)) {
    g_assert_cmpuint (d.tag, ==, tag);
    if (d.data) {
      guint v;
      g_assert_cmpuint (d.len, ==, sizeof v);
      memcpy (&v, d.data, sizeof v);
      g_assert_cmpuint (v, ==, first + got);
      got++;
    }
    if (!d.more) {
      g_assert_cmpint (d.res, ==, -ENOBUFS);
      ends++;
      cs_recv_ring_arm (fx->ring, fx->rx[0], tag);
      cs_recv_ring_submit (fx->ring);
    }
  }
  g_assert_cmpuint (got, ==, count);
  return ends;
}

/* More datagrams than buffers: the receive ends with ENOBUFS, the socket
 * keeps the rest, and arming again gets them all, in order. */
static void
test_out_of_buffers (Fixture *fx, gconstpointer data)
{
  if (no_ring (fx))
    return;
  const guint total = 600;
  for (guint i = 0; i < total; i++)
    send_to (fx, 0, &i, sizeof i);
  cs_recv_ring_arm (fx->ring, fx->rx[0], 3);
  cs_recv_ring_submit (fx->ring);
  g_assert_cmpuint (read_numbered (fx, 3, 0, total), >=, 1);
}

/* The buffers follow the sockets armed: 500 datagrams queued on one socket
 * fit once 75 sockets' worth are in circulation (they would not in the
 * minimum), and the surplus leaves as buffers come back. (Not as many
 * datagrams as buffers: a receive that has used the last buffer ends with
 * ENOBUFS at its next try, whether or not more data came.) */
static void
test_buffers_follow_sockets (Fixture *fx, gconstpointer data)
{
  if (no_ring (fx))
    return;
  guint min = cs_recv_ring_buffers (fx->ring);
  g_assert_cmpuint (min, <, 500);
  cs_recv_ring_set_sockets (fx->ring, 75);
  g_assert_cmpuint (cs_recv_ring_buffers (fx->ring), >=, 600);
  for (guint i = 0; i < 500; i++)
    send_to (fx, 0, &i, sizeof i);
  cs_recv_ring_arm (fx->ring, fx->rx[0], 4);
  cs_recv_ring_submit (fx->ring);
  g_assert_cmpuint (read_numbered (fx, 4, 0, 500), ==, 0);

  cs_recv_ring_set_sockets (fx->ring, 1);
  for (guint i = 500; i < 900; i++)
    send_to (fx, 0, &i, sizeof i);
  cs_recv_ring_submit (fx->ring);
  g_assert_cmpuint (read_numbered (fx, 4, 500, 400), ==, 0);
  CsRecvd d;
  g_assert_false (cs_recv_ring_next (fx->ring, &d));  /* gives the last one back */
  g_assert_cmpuint (cs_recv_ring_buffers (fx->ring), ==, min);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/recvring/two-sockets", Fixture, NULL, fixture_setup, test_two_sockets, fixture_teardown);
  g_test_add ("/recvring/stamps-and-truncation", Fixture, NULL, fixture_setup, test_stamps_and_truncation,
              fixture_teardown);
  g_test_add ("/recvring/cancel", Fixture, NULL, fixture_setup, test_cancel, fixture_teardown);
  g_test_add ("/recvring/out-of-buffers", Fixture, NULL, fixture_setup, test_out_of_buffers, fixture_teardown);
  g_test_add ("/recvring/buffers-follow-sockets", Fixture, NULL, fixture_setup, test_buffers_follow_sockets,
              fixture_teardown);
  return g_test_run ();
}
