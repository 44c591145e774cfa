/* inbox.c — batched receiving, past libnice. libnice 0.1.21 reads each
 * datagram with its own recvmsg() and ends every burst with one more that
 * fails with EAGAIN; dispatching its socket source also makes GLib remove
 * and re-add the source's fd to the poll set, two eventfd writes a time.
 *
 * Once ICE has selected a plain UDP pair, DTLS is done and the pair is
 * nominated (the moment the outbox starts sending on that socket too), a
 * worker reads the socket itself: one GSource for all its transports, at
 * libnice's priority but never blocked while dispatching (no fd churn),
 * with one multishot receive per socket on the worker's io_uring
 * (recvring.c) or, where that is unavailable, polling one epoll fd instead
 * of every socket (poll() costs per fd, per wake-up) and draining each
 * readable socket with recvmmsg() in batches of CS_INBOX_BATCH. Kernel
 * arrival stamps time each datagram (consilium_media_forward_delay_seconds
 * and TWCC). libnice's sources for the component move to a "parking"
 * context that the worker polls once a second, so libnice still gets
 * whatever arrives on its other sockets, and its timers stay where they
 * were.
 *
 * libnice 0.1.21 cannot be handed a packet read by someone else, so what
 * it would do with the STUN that arrives on the selected socket is done
 * here, as far as the steady state needs: a binding request from one of
 * libnice's remote candidates (consent freshness on the selected pair, RFC
 * 7675, and the checks browsers keep sending on their backup pairs, each
 * every few seconds) that authenticates with our credentials, does not
 * conflict with our role and does not nominate a pair other than the
 * selected one is answered as libnice answers it (libnice's own stun/
 * usage code builds the reply); binding indications (keepalives) are
 * dropped as libnice drops them. Any other STUN (an unknown address, a
 * response, an ICE restart's new credentials, a role conflict, a new
 * nomination) gives the socket back to libnice for CS_INBOX_BACKOFF_US:
 * that one packet is lost and STUN's retransmissions bring it again to
 * libnice. Media is taken from any remote candidate, as libnice takes it:
 * Chromium may send on a pair it prefers while libnice keeps another
 * selected. */
#define _GNU_SOURCE  /* recvmmsg */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <stun/usages/ice.h>

/* Per socket per dispatch, so one busy socket cannot starve the others. */
#define MAX_BATCHES 8
#define MAX_EVENTS 64

struct _CsInbox {
  GSource source;
  CsStats *stats;
  CsOutbox *outbox;                /* flushed after each dispatch; may be NULL */
  GMainContext *parking;
  StunAgent stun;
  int epfd;
  /* CsTransport* reading here, at the slot their epoll events name;
   * NULL: free (reused only outside dispatches, so events read in one
   * never name a newcomer). */
  GPtrArray *members;
  guint n_members;
  guint n_other_sockets;           /* members whose component has more sockets */
  GPtrArray *waiting;              /* CsTransport* that gave their socket back */
  gboolean dispatching;
  CsRecvRing *ring;                /* NULL: epoll and recvmmsg */
  guint32 generation;
  struct epoll_event events[MAX_EVENTS];
  struct mmsghdr msgs[CS_INBOX_BATCH];
  struct iovec iov[CS_INBOX_BATCH];
  gint64 realtime_offset;          /* CLOCK_MONOTONIC - CLOCK_REALTIME, µs */
  /* Kernel arrival times of the datagrams handled since the last flush,
   * for the forwarding delay histogram. */
  gint64 arrivals[CS_INBOX_ARRIVALS];
  guint n_arrivals;
  union {
    struct cmsghdr align;
    guint8 buf[CMSG_SPACE (sizeof (struct timespec))];
  } cmsg[CS_INBOX_BATCH];
  struct sockaddr_storage from[CS_INBOX_BATCH];
  guint8 bufs[CS_INBOX_BATCH][CS_PKT_MAX];
  guint8 reply[STUN_MAX_MESSAGE_SIZE_IPV6];
};

typedef struct {
  const char *ufrag;               /* ours: requests carry "<ours>:<theirs>" */
  const char *pwd;
} Credentials;

static bool
validate_username (StunAgent *agent, StunMessage *message, uint8_t *username, uint16_t username_len,
                   uint8_t **password, size_t *password_len, void *user_data)
{
  const Credentials *c = user_data;
  gsize n = strlen (c->ufrag);
  if (username_len <= n || memcmp (username, c->ufrag, n) != 0 || username[n] != ':')
    return false;
  *password = (uint8_t *) c->pwd;
  *password_len = strlen (c->pwd);
  return true;
}

CsStunVerdict
cs_stun_answer (StunAgent *agent, const char *ufrag, const char *pwd, gboolean controlling,
                gboolean nominated, const guint8 *p, gsize len, const struct sockaddr_storage *from, socklen_t from_len,
                guint8 *reply, gsize *reply_len, const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = "not a binding request";
  if (len < 20)
    return CS_STUN_NOT_OURS;
  guint16 type = (p[0] << 8) | p[1];
  if (type == 0x0011)
    return CS_STUN_IGNORED;        /* binding indication: a keepalive, nothing to do */
  if (type != 0x0001)
    return CS_STUN_NOT_OURS;       /* responses, errors, other methods: libnice's */
  Credentials c = { ufrag, pwd };
  StunMessage req;
  *why = "not our credentials";
  if (stun_agent_validate (agent, &req, p, len, validate_username, &c) != STUN_VALIDATION_SUCCESS)
    return CS_STUN_NOT_OURS;
  *why = "a role conflict";
  /* A peer claiming our role is a conflict libnice must resolve. */
  uint64_t tie;
  if (stun_message_find64 (&req, controlling ? STUN_ATTRIBUTE_ICE_CONTROLLING : STUN_ATTRIBUTE_ICE_CONTROLLED,
                           &tie) == STUN_MESSAGE_RETURN_SUCCESS)
    return CS_STUN_NOT_OURS;
  /* Nominating another pair changes the selected one: libnice's call. */
  *why = "a nomination of another pair";
  if (!nominated && stun_message_has_attribute (&req, STUN_ATTRIBUTE_USE_CANDIDATE))
    return CS_STUN_NOMINATION;
  *why = "no reply could be built";
  StunMessage msg;
  size_t n = *reply_len;
  bool control = controlling;
  if (stun_usage_ice_conncheck_create_reply (agent, &req, &msg, reply, &n, from, from_len, &control, 0,
                                             STUN_USAGE_ICE_COMPATIBILITY_RFC5245)
        != STUN_USAGE_ICE_RETURN_SUCCESS || n == 0)
    return CS_STUN_NOT_OURS;
  *reply_len = n;
  return CS_STUN_ANSWERED;
}

/* Deals with the STUN message as libnice would have, or gives the socket
 * back to libnice for it: TRUE then. */
static gboolean
answer_stun (CsInbox *ib, CsTransport *t, const guint8 *p, gsize len, const struct sockaddr_storage *from,
             gboolean selected)
{
  socklen_t from_len = from->ss_family == AF_INET6 ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);
  gsize n = sizeof ib->reply;
  const char *why;
  gboolean nominated = selected || cs_sockaddr_equal ((const struct sockaddr *) from,
                                                      (const struct sockaddr *) &t->nomination_seen);
  switch (cs_stun_answer (&ib->stun, t->ufrag, t->pwd, t->controlling, nominated, p, len, from, from_len,
                          ib->reply, &n, &why)) {
  case CS_STUN_IGNORED:
    return FALSE;
  case CS_STUN_NOMINATION:
    /* Once libnice has handled it, the same nomination again changes
     * nothing (a nominated pair stays nominated): answered here then. */
    memset (&t->nomination_seen, 0, sizeof t->nomination_seen);
    memcpy (&t->nomination_seen, from, from_len);
    cs_transport_give_back (t, why);
    return TRUE;
  case CS_STUN_NOT_OURS:
    cs_transport_give_back (t, why);
    return TRUE;
  case CS_STUN_ANSWERED:
    break;
  }
  CS_STAT_ADD (ib->stats, stun_answered, 1);
  /* The outbox keeps a pointer to the address: only t->dest lives long
   * enough. Checks on other pairs (a browser's backups) are rare. */
  if (ib->outbox && selected)
    cs_outbox_push (ib->outbox, t->read_fd, &t->dest, t->dest_len, ib->reply, n);
  else if (sendto (t->read_fd, ib->reply, n, MSG_DONTWAIT, (const struct sockaddr *) from, from_len) < 0)
    CS_STAT_ADD (ib->stats, send_errors, 1);
  return FALSE;
}

/* TRUE when @t gave its socket back to libnice on this datagram. Data is
 * taken from any of libnice's remote candidates, as libnice takes it: a
 * browser may send on another valid pair than the one selected here (SRTP
 * authenticates it either way). */
static gboolean
receive (CsInbox *ib, CsTransport *t, guint8 *p, gsize len, const struct sockaddr_storage *from)
{
  gboolean stun = len > 0 && p[0] < 4;
  gboolean selected = cs_sockaddr_equal ((const struct sockaddr *) from, (const struct sockaddr *) &t->dest);
  if (!selected && !cs_transport_knows_remote (t, from)) {
    /* A new address is ICE business (a peer-reflexive candidate). */
    if (!stun) {
      CS_STAT_ADD (ib->stats, malformed_rtp, 1);
      return FALSE;
    }
    cs_transport_give_back (t, "STUN from an unknown address");
    return TRUE;
  }
  if (stun)
    return answer_stun (ib, t, p, len, from, selected);
  CS_STAT_ADD (ib->stats, inbox_packets, 1);
  cs_transport_receive (t, p, len);
  return FALSE;
}

/* When the kernel queued the datagram (SO_TIMESTAMPNS, CLOCK_REALTIME),
 * on the monotonic clock. */
static gint64
stamp_us (const struct timespec *ts, gint64 realtime_offset)
{
  return (gint64) ts->tv_sec * G_USEC_PER_SEC + ts->tv_nsec / 1000 + realtime_offset;
}

/* The same from recvmmsg's control messages; 0 if the kernel did not say. */
static gint64
arrival_us (struct msghdr *h, gint64 realtime_offset)
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR (h); c; c = CMSG_NXTHDR (h, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy (&ts, CMSG_DATA (c), sizeof ts);
      return stamp_us (&ts, realtime_offset);
    }
  return 0;
}

/* Each handled datagram's time in the worker, from the kernel's arrival
 * stamp to now, when what it caused has been submitted (the outbox has
 * just been flushed): consilium_media_forward_delay_seconds. */
static void
record_delays (gpointer data)
{
  CsInbox *ib = data;
  if (ib->n_arrivals == 0)
    return;
  gint64 now = cs_now_us ();
  for (guint i = 0; i < ib->n_arrivals; i++)
    cs_stats_add_delay (ib->stats, now - ib->arrivals[i]);
  ib->n_arrivals = 0;
}

static void
note_arrival (CsInbox *ib, gint64 arrival_us)
{
  if (arrival_us <= 0)
    return;
  if (ib->n_arrivals == CS_INBOX_ARRIVALS) {
    if (ib->outbox)
      cs_outbox_flush (ib->outbox);  /* records them */
    else
      record_delays (ib);
  }
  ib->arrivals[ib->n_arrivals++] = arrival_us;
}

/* One datagram from @t's socket, both paths: TRUE when @t gave its socket
 * back to libnice on it. @arrival: kernel stamp, 0 if none (libnice's own
 * path zeroes t->arrival_us for what it delivers). */
static gboolean
handle (CsInbox *ib, CsTransport *t, guint8 *p, gsize len, gboolean truncated,
        const struct sockaddr_storage *from, gint64 arrival)
{
  t->arrival_us = arrival;
  note_arrival (ib, arrival);
  gboolean gave_back = FALSE;
  if (!truncated)
    gave_back = receive (ib, t, p, len, from);
  else
    CS_STAT_ADD (ib->stats, malformed_rtp, 1);
  /* What this datagram caused leaves together, and soon. */
  if (ib->outbox)
    cs_outbox_flush_early (ib->outbox);
  return gave_back;
}

/* Reads @t's socket until it is empty (or MAX_BATCHES); FALSE when @t left
 * the inbox on the way (it may even be gone). */
static gboolean
drain (CsInbox *ib, CsTransport *t, guint slot)
{
  int fd = t->read_fd;
  for (guint b = 0; b < MAX_BATCHES; b++) {
    for (guint i = 0; i < CS_INBOX_BATCH; i++) {
      ib->iov[i].iov_base = ib->bufs[i];
      ib->iov[i].iov_len = CS_PKT_MAX;
      ib->msgs[i].msg_hdr.msg_name = &ib->from[i];
      ib->msgs[i].msg_hdr.msg_namelen = sizeof ib->from[i];
      ib->msgs[i].msg_hdr.msg_iov = &ib->iov[i];
      ib->msgs[i].msg_hdr.msg_iovlen = 1;
      ib->msgs[i].msg_hdr.msg_control = ib->cmsg[i].buf;
      ib->msgs[i].msg_hdr.msg_controllen = sizeof ib->cmsg[i].buf;
      ib->msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg (fd, ib->msgs, CS_INBOX_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return TRUE;                 /* EAGAIN, or an error libnice would ignore too */
    /* After a give-back @t is still there: the rest of the batch is
     * handled as usual, and libnice reads what comes next. Otherwise @t
     * leaving the inbox means it may be gone (what is left of the batch
     * is dropped, like UDP would). */
    gboolean gave_back = FALSE;
    for (int i = 0; i < n; i++) {
      if (!gave_back && g_ptr_array_index (ib->members, slot) != t)
        return FALSE;
      if (handle (ib, t, ib->bufs[i], ib->msgs[i].msg_len, (ib->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0,
                  &ib->from[i], arrival_us (&ib->msgs[i].msg_hdr, ib->realtime_offset)))
        gave_back = TRUE;
    }
    if (gave_back)
      return FALSE;
    if (n < CS_INBOX_BATCH)
      return TRUE;                 /* the queue was empty: no EAGAIN round trip */
  }
  return TRUE;
}

static void
read_slot (CsInbox *ib, guint slot, guint32 events)
{
  CsTransport *t = g_ptr_array_index (ib->members, slot);
  if (!t)
    return;
  if (events & EPOLLIN)
    drain (ib, t, slot);
  else if (events & (EPOLLERR | EPOLLHUP))
    cs_transport_give_back (t, "socket error");  /* libnice decides what a dead socket means */
}

/* The member a ring completion is for; NULL if it has left since. */
static CsTransport *
ring_member (CsInbox *ib, guint64 tag, guint *slot)
{
  *slot = (guint32) tag;
  CsTransport *t = tag && *slot < ib->members->len ? g_ptr_array_index (ib->members, *slot) : NULL;
  return t && t->read_tag == tag ? t : NULL;
}

/* Handles what the ring has received: the counterpart of epoll + drain.
 * At most what was there on entry: receives run whenever this thread
 * enters the kernel (the outbox's sends too), and a saturated worker must
 * still get to its timers and mailbox. */
static void
read_ring (CsInbox *ib)
{
  CsRecvd d;
  guint slot;
  guint budget = cs_recv_ring_ready (ib->ring);
  while (budget-- > 0 && cs_recv_ring_next (ib->ring, &d)) {
    CsTransport *t = ring_member (ib, d.tag, &slot);
    if (!t)
      continue;                    /* left the inbox (cancelled), or a cancellation's own */
    if (d.data) {
      handle (ib, t, d.data, d.len, d.truncated, &d.from, d.stamped ? stamp_us (&d.stamp, ib->realtime_offset) : 0);
      if (!ring_member (ib, d.tag, &slot))
        continue;                  /* left the inbox on it (cancelled there), maybe gone */
    }
    if (d.more)
      continue;
    /* The receive ended. Out of buffers: the worker is behind, the socket
     * keeps what came since (newer than anything before in the ring), so
     * read it in batches as without io_uring, which is cheaper per packet
     * when queues are long, then arm again. */
    if (d.res == -ENOBUFS && !drain (ib, t, slot))
      continue;
    if (d.res >= 0 || d.res == -ENOBUFS)
      cs_recv_ring_arm (ib->ring, t->read_fd, t->read_tag);
    else
      cs_transport_give_back (t, "socket error");  /* libnice decides what a dead socket means */
  }
  cs_recv_ring_submit (ib->ring);
}

#define KEEP_READING_US 1000

/* Reads the members epoll reports readable, or all of them (@all). */
static void
read_members (CsInbox *ib, gboolean all)
{
  gint64 until = ib->ring ? g_get_monotonic_time () + KEEP_READING_US : 0;
  do {
    ib->dispatching = TRUE;
    if (ib->ring) {
      read_ring (ib);
    } else if (all) {
      for (guint i = 0; i < ib->members->len; i++)
        read_slot (ib, i, EPOLLIN);
    } else {
      int n = epoll_wait (ib->epfd, ib->events, MAX_EVENTS, 0);
      for (int i = 0; i < n; i++)
        read_slot (ib, ib->events[i].data.u32, ib->events[i].events);
    }
    ib->dispatching = FALSE;
    /* Forwarded packets leave now rather than after the next poll. */
    if (ib->outbox)
      cs_outbox_flush (ib->outbox);
    else
      record_delays (ib);
    /* What came meanwhile (the flush entered the kernel, which ran the
     * receives) is read now, without a main-loop iteration for it, for up
     * to KEEP_READING_US so that timers and the mailbox still run. */
  } while (ib->ring && cs_recv_ring_ready (ib->ring) > 0 && g_get_monotonic_time () < until);
}

static gboolean
inbox_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  read_members ((CsInbox *) source, FALSE);
  return G_SOURCE_CONTINUE;
}

static void
inbox_finalize (GSource *source)
{
  CsInbox *ib = (CsInbox *) source;
  if (ib->outbox)
    cs_outbox_set_flushed_func (ib->outbox, NULL, NULL);
  g_ptr_array_unref (ib->members);
  g_ptr_array_unref (ib->waiting);
  g_main_context_unref (ib->parking);
  cs_recv_ring_free (ib->ring);
  if (ib->epfd >= 0)
    close (ib->epfd);
}

static GSourceFuncs inbox_funcs = { NULL, NULL, inbox_dispatch, inbox_finalize, NULL, NULL };

/* The kernel stamps arrivals on CLOCK_REALTIME; we (and the load
 * generator's send stamps) count on CLOCK_MONOTONIC. Their difference
 * only moves when the clock is stepped; read between two monotonic
 * readings, keeping the closest pair, so being preempted in between
 * cannot skew it. */
static void
measure_realtime_offset (CsInbox *ib)
{
  gint64 best_gap = G_MAXINT64;
  for (guint i = 0; i < 5; i++) {
    gint64 m1 = g_get_monotonic_time (), r = g_get_real_time (), m2 = g_get_monotonic_time ();
    if (m2 - m1 < best_gap) {
      best_gap = m2 - m1;
      ib->realtime_offset = m1 + (m2 - m1) / 2 - r;
    }
  }
}

CsInbox *
cs_inbox_new (GMainContext *context, CsOutbox *outbox, CsStats *stats)
{
  CsInbox *ib = (CsInbox *) g_source_new (&inbox_funcs, sizeof (CsInbox));
  ib->stats = stats;
  ib->outbox = outbox;
  ib->parking = g_main_context_new ();
  ib->members = g_ptr_array_new ();
  ib->waiting = g_ptr_array_new ();
  if (outbox)
    cs_outbox_set_flushed_func (outbox, record_delays, ib);
  ib->ring = cs_recv_ring_new ();
  measure_realtime_offset (ib);
  ib->epfd = ib->ring ? -1 : epoll_create1 (EPOLL_CLOEXEC);
  if (!ib->ring && ib->epfd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));  /* out of fds at start-up */
  g_debug ("inbox: %s", ib->ring ? "io_uring multishot receives" : "epoll and recvmmsg");
  g_source_add_unix_fd ((GSource *) ib, ib->ring ? cs_recv_ring_fd (ib->ring) : ib->epfd, G_IO_IN);
  /* As libnice's agents are set up by transport.c (RFC 5245 mode). */
  stun_agent_init (&ib->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  g_source_set_name ((GSource *) ib, "cs-inbox");
  /* Dispatching must not take the fds out of the poll set and put them
   * back (an eventfd write each way, per dispatch): nothing here recurses. */
  g_source_set_can_recurse ((GSource *) ib, TRUE);
  g_source_attach ((GSource *) ib, context);
  return ib;
}

void
cs_inbox_free (CsInbox *ib)
{
  if (!ib)
    return;
  g_return_if_fail (ib->n_members == 0);
  g_source_destroy ((GSource *) ib);
  g_source_unref ((GSource *) ib);
}

GMainContext *
cs_inbox_parking (CsInbox *ib)
{
  return ib->parking;
}


void
cs_inbox_add (CsInbox *ib, CsTransport *t)
{
  guint slot = ib->members->len;
  if (!ib->dispatching)
    for (guint i = 0; i < ib->members->len; i++)
      if (!g_ptr_array_index (ib->members, i)) {
        slot = i;
        break;
      }
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = slot };
  if (ib->ring) {
    if (++ib->generation == 0)
      ib->generation = 1;
    t->read_tag = (guint64) ib->generation << 32 | slot;
    cs_recv_ring_arm (ib->ring, t->read_fd, t->read_tag);
    cs_recv_ring_submit (ib->ring);
  } else if (epoll_ctl (ib->epfd, EPOLL_CTL_ADD, t->read_fd, &ev) < 0) {
    g_warning ("%s: epoll_ctl: %s; libnice keeps reading", t->name, g_strerror (errno));
    t->reading = FALSE;
    return;
  }
  int on = 1;
  setsockopt (t->read_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  if (slot == ib->members->len)
    g_ptr_array_add (ib->members, t);
  else
    ib->members->pdata[slot] = t;
  ib->n_members++;
  ib->n_other_sockets += t->other_sockets;
  t->reading = TRUE;
  if (ib->ring)
    cs_recv_ring_set_sockets (ib->ring, ib->n_members);
}

void
cs_inbox_remove (CsInbox *ib, CsTransport *t)
{
  g_ptr_array_remove_fast (ib->waiting, t);
  guint slot;
  if (!g_ptr_array_find (ib->members, t, &slot))
    return;
  if (ib->ring) {
    /* Now, not at the end of a dispatch: the receive holds the socket open
     * and libnice may close it as soon as we return. */
    cs_recv_ring_cancel (ib->ring, t->read_tag);
    cs_recv_ring_submit (ib->ring);
    t->read_tag = 0;
  } else {
    epoll_ctl (ib->epfd, EPOLL_CTL_DEL, t->read_fd, NULL);
  }
  ib->members->pdata[slot] = NULL;
  ib->n_members--;
  ib->n_other_sockets -= t->other_sockets;
  t->reading = FALSE;
  if (ib->ring)
    cs_recv_ring_set_sockets (ib->ring, ib->n_members);
}

void
cs_inbox_wait (CsInbox *ib, CsTransport *t)
{
  if (!g_ptr_array_find (ib->waiting, t, NULL))
    g_ptr_array_add (ib->waiting, t);
}

void
cs_inbox_service (CsInbox *ib)
{
  measure_realtime_offset (ib);
  /* libnice reads what reached its other sockets, if any member has some
   * (without a bind address, one per interface). Ours are emptied first,
   * or libnice would take whatever arrived since the last poll. */
  if (ib->n_other_sockets > 0) {
    read_members (ib, TRUE);
    for (guint i = 0; i < 8 && g_main_context_iteration (ib->parking, FALSE); i++)
      ;
  }
  for (guint i = ib->waiting->len; i-- > 0;) {
    CsTransport *t = g_ptr_array_index (ib->waiting, i);
    g_ptr_array_remove_index_fast (ib->waiting, i);
    cs_transport_update_reading (t);
  }
}
