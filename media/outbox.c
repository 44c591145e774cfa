/* outbox.c — batched sending, past libnice. libnice 0.1.21 sends each
 * datagram with its own sendmsg() (strace: no sendmmsg) under the agent's
 * lock. Once ICE has selected a pair on a plain UDP socket, a worker queues
 * SRTP packets here and sends them when the main-loop iteration ends, once
 * the inbox has handled a datagram with CS_OUTBOX_EARLY waiting, or when
 * the queue is full. ICE itself (checks, consent freshness), DTLS and
 * relayed (TURN) pairs stay with libnice.
 *
 * Every participant has its own socket, and with paced senders a flush
 * holds one or two packets per socket, so one sendmmsg() per socket is
 * still about a syscall per packet. With io_uring the whole queue goes in
 * one io_uring_enter(): each send is issued at submission, in order, and
 * completes there (UDP does not wait), so the slots are free on return.
 * A send that would block (full socket buffer) is cancelled and counted as
 * lost, as sendmmsg() would drop it. Without io_uring (an old kernel, a
 * seccomp filter, CS_NO_URING set), one sendmmsg() per socket. */
#define _GNU_SOURCE  /* sendmmsg */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <liburing.h>

struct _CsOutbox {
  GSource source;
  CsStats *stats;
  guint n;
  struct {
    int fd;
    const struct sockaddr_storage *dest;   /* the transport's; flushed before it dies */
    socklen_t dest_len;
    guint16 len;
    guint8 data[CS_PKT_MAX];
  } slots[CS_OUTBOX_SLOTS];
  struct mmsghdr msgs[CS_OUTBOX_SLOTS];
  struct iovec iov[CS_OUTBOX_SLOTS];
  CsOutboxFlushed flushed;          /* after each flush */
  gpointer flushed_data;
  gboolean ring_ready;              /* the ring exists (to free) */
  gboolean uring;                   /* and flushes use it */
  struct io_uring ring;
};

static gboolean
outbox_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return ((CsOutbox *) source)->n > 0;
}

static gboolean
outbox_check (GSource *source)
{
  return ((CsOutbox *) source)->n > 0;
}

static gboolean
outbox_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  cs_outbox_flush ((CsOutbox *) source);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs outbox_funcs = { outbox_prepare, outbox_check, outbox_dispatch, NULL, NULL, NULL };

CsOutbox *
cs_outbox_new (GMainContext *context, CsStats *stats)
{
  CsOutbox *ob = (CsOutbox *) g_source_new (&outbox_funcs, sizeof (CsOutbox));
  ob->stats = stats;
  /* Room for a full queue and as many cancellations. */
  ob->ring_ready = !g_getenv ("CS_NO_URING") && io_uring_queue_init (2 * CS_OUTBOX_SLOTS, &ob->ring, 0) == 0;
  ob->uring = ob->ring_ready;
  g_debug ("outbox: %s", ob->uring ? "io_uring" : "sendmmsg per socket");
  g_source_set_name ((GSource *) ob, "cs-outbox");
  /* After packet sources have run in this iteration, before sleeping. */
  g_source_set_priority ((GSource *) ob, G_PRIORITY_DEFAULT + 1);
  g_source_attach ((GSource *) ob, context);
  return ob;
}

void
cs_outbox_free (CsOutbox *ob)
{
  if (!ob)
    return;
  cs_outbox_flush (ob);
  if (ob->ring_ready)
    io_uring_queue_exit (&ob->ring);
  g_source_destroy ((GSource *) ob);
  g_source_unref ((GSource *) ob);
}

guint8 *
cs_outbox_reserve (CsOutbox *ob)
{
  if (ob->n == CS_OUTBOX_SLOTS)
    cs_outbox_flush (ob);
  return ob->slots[ob->n].data;
}

void
cs_outbox_push (CsOutbox *ob, int fd, const struct sockaddr_storage *dest, socklen_t dest_len,
                const guint8 *buf, gsize len)
{
  guint8 *slot = cs_outbox_reserve (ob);
  guint i = ob->n++;
  ob->slots[i].fd = fd;
  ob->slots[i].dest = dest;
  ob->slots[i].dest_len = dest_len;
  ob->slots[i].len = len;
  if (buf != slot)
    memcpy (slot, buf, len);
}

static void
send_run (CsOutbox *ob, int fd, guint first, guint count)
{
  guint done = 0;
  while (done < count) {
    int r = sendmmsg (fd, ob->msgs + first + done, count - done, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      break;  /* full socket buffer or gone: drop the rest, like UDP would */
    }
    done += r;
  }
  if (done < count)
    CS_STAT_ADD (ob->stats, send_errors, count - done);
}

/* Message @m sends slot @j. */
static void
fill (CsOutbox *ob, guint m, guint j)
{
  ob->iov[m].iov_base = ob->slots[j].data;
  ob->iov[m].iov_len = ob->slots[j].len;
  memset (&ob->msgs[m], 0, sizeof ob->msgs[m]);
  ob->msgs[m].msg_hdr.msg_name = (void *) ob->slots[j].dest;
  ob->msgs[m].msg_hdr.msg_namelen = ob->slots[j].dest_len;
  ob->msgs[m].msg_hdr.msg_iov = &ob->iov[m];
  ob->msgs[m].msg_hdr.msg_iovlen = 1;
}

/* Reaps what has completed; TRUE once all @n sends have. */
static gboolean
reap (CsOutbox *ob, guint n, gboolean *done, guint *n_done)
{
  struct io_uring_cqe *cqe;
  unsigned head, seen = 0;
  io_uring_for_each_cqe (&ob->ring, head, cqe) {
    seen++;
    guint64 i = cqe->user_data;
    if (i >= n || done[i])
      continue;                    /* a cancellation's own completion */
    done[i] = TRUE;
    (*n_done)++;
    if (cqe->res < 0)
      CS_STAT_ADD (ob->stats, send_errors, 1);
  }
  io_uring_cq_advance (&ob->ring, seen);
  return *n_done == n;
}

static void
flush_uring (CsOutbox *ob, guint n)
{
  for (guint i = 0; i < n; i++) {
    struct io_uring_sqe *sqe = io_uring_get_sqe (&ob->ring);
    io_uring_prep_sendmsg (sqe, ob->slots[i].fd, &ob->msgs[i].msg_hdr, 0);
    io_uring_sqe_set_data64 (sqe, i);
  }
  io_uring_submit (&ob->ring);
  gboolean done[CS_OUTBOX_SLOTS] = { FALSE };
  guint n_done = 0;
  if (reap (ob, n, done, &n_done))
    return;
  /* Some wait for room in a socket buffer: the slots must not be reused
   * under them, so cancel them and wait for the outcome; and stop using
   * io_uring here, where waiting could hold up the worker again. */
  g_message ("outbox: %u of %u sends did not complete at submission; sendmmsg from now on", n - n_done, n);
  ob->uring = FALSE;
  for (guint i = 0; i < n; i++)
    if (!done[i]) {
      struct io_uring_sqe *sqe = io_uring_get_sqe (&ob->ring);
      io_uring_prep_cancel64 (sqe, i, 0);
      io_uring_sqe_set_data64 (sqe, G_MAXUINT64);
    }
  while (!reap (ob, n, done, &n_done))
    io_uring_submit_and_wait (&ob->ring, 1);
}

static void
send_all (CsOutbox *ob)
{
  guint n = ob->n;
  if (ob->uring) {
    for (guint i = 0; i < n; i++)
      fill (ob, i, i);
    flush_uring (ob, n);
    return;
  }
  /* Group by socket, keeping each destination's packets in order. */
  gboolean taken[CS_OUTBOX_SLOTS] = { FALSE };
  guint m = 0;
  for (guint i = 0; i < n; i++) {
    if (taken[i])
      continue;
    int fd = ob->slots[i].fd;
    guint first = m;
    for (guint j = i; j < n; j++) {
      if (taken[j] || ob->slots[j].fd != fd)
        continue;
      taken[j] = TRUE;
      fill (ob, m++, j);
    }
    send_run (ob, fd, first, m - first);
  }
}

void
cs_outbox_set_flushed_func (CsOutbox *ob, CsOutboxFlushed func, gpointer data)
{
  ob->flushed = func;
  ob->flushed_data = data;
}

void
cs_outbox_flush_early (CsOutbox *ob)
{
  if (ob->n >= CS_OUTBOX_EARLY)
    cs_outbox_flush (ob);
}

void
cs_outbox_flush (CsOutbox *ob)
{
  if (ob->n > 0)
    send_all (ob);
  ob->n = 0;
  if (ob->flushed)
    ob->flushed (ob->flushed_data);
}
