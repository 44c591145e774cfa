/* outbox.c — batched sending, past libnice. libnice 0.1.21 sends each
 * datagram with its own sendmsg() (strace: no sendmmsg) under the agent's
 * lock. Once ICE has selected a pair on a plain UDP socket, a worker queues
 * SRTP packets here and sends them with one sendmmsg() per socket when the
 * main-loop iteration ends (or the queue is full). ICE itself (checks,
 * consent freshness), DTLS and relayed (TURN) pairs stay with libnice. */
#define _GNU_SOURCE  /* sendmmsg */
#include "internal.h"

#include <errno.h>
#include <sys/socket.h>

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

void
cs_outbox_flush (CsOutbox *ob)
{
  guint n = ob->n;
  if (n == 0)
    return;
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
      ob->iov[m].iov_base = ob->slots[j].data;
      ob->iov[m].iov_len = ob->slots[j].len;
      memset (&ob->msgs[m], 0, sizeof ob->msgs[m]);
      ob->msgs[m].msg_hdr.msg_name = (void *) ob->slots[j].dest;
      ob->msgs[m].msg_hdr.msg_namelen = ob->slots[j].dest_len;
      ob->msgs[m].msg_hdr.msg_iov = &ob->iov[m];
      ob->msgs[m].msg_hdr.msg_iovlen = 1;
      m++;
    }
    send_run (ob, fd, first, m - first);
  }
  ob->n = 0;
}
