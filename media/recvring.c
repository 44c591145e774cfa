/* recvring.c — receiving from many UDP sockets without a syscall per
 * socket. With paced senders each of a worker's sockets holds one or two
 * datagrams per wake-up, so epoll + recvmmsg() per readable socket costs
 * about a syscall per packet. Here every socket has one multishot
 * IORING_OP_RECVMSG on the worker's ring: the kernel reads each datagram
 * into a buffer of a provided-buffer ring as it arrives and posts a
 * completion; the worker polls the ring's fd and reads completions from
 * shared memory. Buffers go back to the kernel as soon as the datagram has
 * been handled (it is forwarded from copies).
 *
 * Kernels before 6.0 (no multishot recvmsg), seccomp filters that refuse
 * io_uring (Docker's default) and kernel.io_uring_disabled all make
 * cs_recv_ring_new() return NULL after a self-test, and the inbox keeps
 * using epoll and recvmmsg(); so does CS_NO_URING=1. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <liburing.h>

/* Buffers in circulation: BUFS_PER_SOCKET for each socket armed, at least
 * MIN_BUFS. Every datagram waiting for the worker holds one, so they bound
 * the stall the ring absorbs: 256 for 200 sockets was 2 ms at 120,000
 * packets/s (a VM's vCPU is taken away for longer than that now and then),
 * and each shortfall ended every socket's receive at once (ENOBUFS, a
 * drain and a re-arm each): 15,000-38,000 such ends per 5 s at that load.
 * Buffers never used are never touched: address space, not memory. */
#define MAX_BUFS 4096              /* ring entries, a power of two */
#define MIN_BUFS 256
#define BUFS_PER_SOCKET 8
#define NAME_LEN 32                /* >= sockaddr_in6, keeps the cmsg aligned */
#define CONTROL_LEN CMSG_SPACE (sizeof (struct timespec))
#define CS_ROUND_UP(n, m) (((n) + (m) - 1) / (m) * (m))
/* Rounded so that every buffer, and the cmsg in it, is aligned. */
#define BUF_LEN CS_ROUND_UP (sizeof (struct io_uring_recvmsg_out) + NAME_LEN + CONTROL_LEN + CS_PKT_MAX, 64)
#define GROUP 0

G_STATIC_ASSERT (NAME_LEN >= sizeof (struct sockaddr_in6) && NAME_LEN % 8 == 0);

struct _CsRecvRing {
  struct io_uring ring;
  struct io_uring_buf_ring *bufs;
  guint8 *mem;                     /* MAX_BUFS buffers of BUF_LEN */
  guint n_sockets;                 /* armed and not cancelled */
  guint n_spare;                   /* the rest circulate: the kernel's or held */
  guint16 spare[MAX_BUFS];         /* buffer ids out of circulation */
  struct msghdr tmpl;              /* what each multishot receive fills in */
  int held;                        /* buffer of the last completion, or -1 */
};

static guint
wanted (CsRecvRing *r)
{
  return CLAMP (r->n_sockets * BUFS_PER_SOCKET, MIN_BUFS, MAX_BUFS);
}

guint
cs_recv_ring_buffers (CsRecvRing *r)
{
  return MAX_BUFS - r->n_spare;
}

static void
add_buffer (CsRecvRing *r, guint16 bid)
{
  io_uring_buf_ring_add (r->bufs, r->mem + (gsize) bid * BUF_LEN, BUF_LEN, bid, MAX_BUFS - 1, 0);
  io_uring_buf_ring_advance (r->bufs, 1);
}

/* Back to the kernel, or out of circulation while there are too many. */
static void
give_buffer (CsRecvRing *r, guint16 bid)
{
  if (cs_recv_ring_buffers (r) > wanted (r))
    r->spare[r->n_spare++] = bid;
  else
    add_buffer (r, bid);
}

static void
fill (CsRecvRing *r)
{
  while (cs_recv_ring_buffers (r) < wanted (r))
    add_buffer (r, r->spare[--r->n_spare]);
}

/* One datagram to ourselves must come back through a multishot receive
 * that stays armed: the features this file needs, end to end. */
static gboolean
self_test (CsRecvRing *r)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return FALSE;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  gboolean ok = FALSE;
  CsRecvd d;
  if (bind (fd, (struct sockaddr *) &a, len) == 0 && getsockname (fd, (struct sockaddr *) &a, &len) == 0) {
    cs_recv_ring_arm (r, fd, 1);
    cs_recv_ring_submit (r);
    if (sendto (fd, "x", 1, 0, (struct sockaddr *) &a, len) == 1) {
      struct io_uring_cqe *cqe;
      struct __kernel_timespec wait = { .tv_sec = 1 };
      if (io_uring_wait_cqe_timeout (&r->ring, &cqe, &wait) == 0)
        ok = cs_recv_ring_next (r, &d) && d.tag == 1 && d.more && d.len == 1 && d.data[0] == 'x';
    }
    /* Until the receive's last completion: it holds the socket. */
    cs_recv_ring_cancel (r, 1);
    cs_recv_ring_submit (r);
    gboolean ended = FALSE;
    struct io_uring_cqe *cqe;
    struct __kernel_timespec wait = { .tv_sec = 1 };
    while (!ended && io_uring_wait_cqe_timeout (&r->ring, &cqe, &wait) == 0 && cs_recv_ring_next (r, &d))
      ended = d.tag == 1 && !d.more;
    ok = ok && ended;
  }
  close (fd);
  return ok;
}

CsRecvRing *
cs_recv_ring_new (void)
{
  if (g_getenv ("CS_NO_URING"))
    return NULL;
  CsRecvRing *r = g_new0 (CsRecvRing, 1);
  r->held = -1;
  /* Many completions per wake-up; task work at our next syscall rather
   * than an interrupt per datagram. */
  struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN, .cq_entries = 4096 };
  int err = io_uring_queue_init_params (256, &r->ring, &p);
  if (err < 0) {
    g_message ("io_uring unavailable (%s): receiving with recvmmsg", g_strerror (-err));
    g_free (r);
    return NULL;
  }
  gsize ring_bytes = MAX_BUFS * sizeof (struct io_uring_buf);
  if (posix_memalign ((void **) &r->bufs, sysconf (_SC_PAGESIZE), ring_bytes) != 0)
    g_error ("out of memory");
  r->mem = g_malloc (MAX_BUFS * BUF_LEN);  /* mmap()ed by malloc: pages come as touched */
  for (guint i = 0; i < MAX_BUFS; i++)
    r->spare[r->n_spare++] = MAX_BUFS - 1 - i;  /* the lowest ids first */
  io_uring_buf_ring_init (r->bufs);
  struct io_uring_buf_reg reg = { .ring_addr = (guint64) (uintptr_t) r->bufs, .ring_entries = MAX_BUFS, .bgid = GROUP };
  err = io_uring_register_buf_ring (&r->ring, &reg, 0);
  if (err == 0) {
    fill (r);
    r->tmpl.msg_namelen = NAME_LEN;
    r->tmpl.msg_controllen = CONTROL_LEN;  /* room for SO_TIMESTAMPNS */
  }
  if (err < 0 || !self_test (r)) {
    g_message ("io_uring multishot receive unavailable (%s): receiving with recvmmsg",
               err < 0 ? g_strerror (-err) : "self-test failed");
    cs_recv_ring_free (r);
    return NULL;
  }
  return r;
}

void
cs_recv_ring_free (CsRecvRing *r)
{
  if (!r)
    return;
  io_uring_queue_exit (&r->ring);  /* cancels what is still armed */
  free (r->bufs);
  g_free (r->mem);
  g_free (r);
}

int
cs_recv_ring_fd (CsRecvRing *r)
{
  return r->ring.ring_fd;
}

static struct io_uring_sqe *
get_sqe (CsRecvRing *r)
{
  struct io_uring_sqe *sqe = io_uring_get_sqe (&r->ring);
  if (!sqe) {
    io_uring_submit (&r->ring);    /* full: make room */
    sqe = io_uring_get_sqe (&r->ring);
  }
  return sqe;
}

void
cs_recv_ring_set_sockets (CsRecvRing *r, guint n_sockets)
{
  r->n_sockets = n_sockets;
  fill (r);
}

void
cs_recv_ring_arm (CsRecvRing *r, int fd, guint64 tag)
{
  struct io_uring_sqe *sqe = get_sqe (r);
  io_uring_prep_recvmsg_multishot (sqe, fd, &r->tmpl, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = GROUP;
  io_uring_sqe_set_data64 (sqe, tag);
}

void
cs_recv_ring_cancel (CsRecvRing *r, guint64 tag)
{
  struct io_uring_sqe *sqe = get_sqe (r);
  io_uring_prep_cancel64 (sqe, tag, 0);
  io_uring_sqe_set_data64 (sqe, 0); /* tag 0 names no socket */
}

void
cs_recv_ring_submit (CsRecvRing *r)
{
  if (io_uring_sq_ready (&r->ring) > 0)
    io_uring_submit (&r->ring);
}

guint
cs_recv_ring_ready (CsRecvRing *r)
{
  return io_uring_cq_ready (&r->ring);
}

gboolean
cs_recv_ring_next (CsRecvRing *r, CsRecvd *d)
{
  if (r->held >= 0) {
    give_buffer (r, r->held);
    r->held = -1;
  }
  struct io_uring_cqe *cqe;
  if (io_uring_peek_cqe (&r->ring, &cqe) != 0)
    return FALSE;
  memset (d, 0, sizeof *d);
  d->tag = cqe->user_data;
  d->res = cqe->res;
  d->more = (cqe->flags & IORING_CQE_F_MORE) != 0;
  if (cqe->flags & IORING_CQE_F_BUFFER) {
    r->held = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    guint8 *buf = r->mem + (gsize) r->held * BUF_LEN;
    struct io_uring_recvmsg_out *o = cqe->res > 0 ? io_uring_recvmsg_validate (buf, cqe->res, &r->tmpl) : NULL;
    if (o) {
      d->data = io_uring_recvmsg_payload (o, &r->tmpl);
      d->len = io_uring_recvmsg_payload_length (o, cqe->res, &r->tmpl);
      d->truncated = (o->flags & MSG_TRUNC) != 0;
      memcpy (&d->from, io_uring_recvmsg_name (o), MIN (o->namelen, NAME_LEN));
      for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr (o, &r->tmpl); c;
           c = io_uring_recvmsg_cmsg_nexthdr (o, &r->tmpl, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          memcpy (&d->stamp, CMSG_DATA (c), sizeof d->stamp);
          d->stamped = TRUE;
        }
    }
  }
  io_uring_cqe_seen (&r->ring, cqe);
  return TRUE;
}
