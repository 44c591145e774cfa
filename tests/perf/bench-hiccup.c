/* bench-hiccup — what the machine alone adds to latency, measured on the
 * cores the bench uses: the floor under the bench's latency figures, as
 * bench-srtp is under its CPU figures.
 *
 *   bench-hiccup [--seconds S] [--core A] [--from B]
 *   bench-hiccup --cost-us C [--load L] [--tick-ms 1] [--seconds S] [--core A] [--from B]
 *
 * 1. Stalls: one thread spins on core A reading the clock; every gap over
 *    20 µs is time the core was taken from it (by the hypervisor on a
 *    VM, or by interrupts). Prints gaps of 1 ms and more and the share of
 *    time lost.
 * 2. Wake-ups: a thread on core B writes an eventfd every millisecond and
 *    one on core A, blocked in poll(), records how long it took to run
 *    again: what a sleeping SFU worker pays before it sees a packet. On a
 *    VM an idle vCPU halts and has to be scheduled again by the host.
 *
 * 3. With --cost-us C, instead: an ideal server. A thread on core A
 *    receives UDP datagrams over loopback and works on each (its
 *    receive, then calibrated arithmetic); core B sends them at random
 *    (Poisson) times, L / C per second for --load L, held back to the
 *    next --tick-ms boundary if given (the load generator sends from a
 *    1 ms tick). The arithmetic starts at C µs per packet in all and is
 *    scaled until the thread's CPU time is L of the wall clock: on a VM
 *    that reports no steal time, CPU time includes what the host took,
 *    the SFU's too, so "as busy as the SFU" is the fair match, not "C of
 *    arithmetic" plus steal again. Its delay, kernel arrival to work
 *    done, is what any server that busy would show here at that packet
 *    rate: the queueing theory predicts (an M/D/1 queue at 80 % load:
 *    p99 ~ a dozen C) plus what the machine's stalls and wake-ups add.
 *
 * Each takes S seconds (default 5). Loops are bounded; nothing leaves
 * 127.0.0.1. */
#define _GNU_SOURCE
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static gint64
clock_ns (clockid_t id)
{
  struct timespec t;
  clock_gettime (id, &t);
  return (gint64) t.tv_sec * 1000000000 + t.tv_nsec;
}

static gint64
now_ns (void)
{
  return clock_ns (CLOCK_MONOTONIC);
}

static void
pin (int core)
{
  cpu_set_t s;
  CPU_ZERO (&s);
  CPU_SET (core, &s);
  if (pthread_setaffinity_np (pthread_self (), sizeof s, &s) != 0)
    g_printerr ("bench-hiccup: cannot pin to core %d\n", core);
}

static int
cmp64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static double
quantile_ms (GArray *v, double q)
{
  if (v->len == 0)
    return 0;
  guint i = MIN ((guint) (q * v->len), v->len - 1);
  return g_array_index (v, gint64, i) / 1e6;
}

static void
stalls (int core, int seconds)
{
  pin (core);
  gint64 start = now_ns (), end = start + (gint64) seconds * 1000000000, last = start;
  gint64 lost = 0, max = 0;
  guint over_1ms = 0;
  for (gint64 t = start; t < end; t = now_ns ()) {
    gint64 gap = t - last;
    if (gap > 20000) {
      lost += gap;
      max = MAX (max, gap);
      over_1ms += gap >= 1000000;
    }
    last = t;
  }
  printf ("stalls on core %d (a thread spinning %d s): %u of 1 ms or more, longest %.2f ms, "
          "%.1f %% of the time lost to gaps over 20 us\n",
          core, seconds, over_1ms, max / 1e6, 100.0 * lost / (end - start));
}

typedef struct {
  int efd, core;
  volatile gint64 sent;
  volatile gboolean stop;
  GArray *waits;
} Wake;

static gpointer
waiter (gpointer data)
{
  Wake *w = data;
  pin (w->core);
  struct pollfd p = { .fd = w->efd, .events = POLLIN };
  while (!w->stop) {
    if (poll (&p, 1, 100) <= 0)
      continue;
    gint64 waited = now_ns () - w->sent;
    guint64 n;
    if (read (w->efd, &n, sizeof n) == sizeof n && n == 1)
      g_array_append_val (w->waits, waited);  /* two writes seen at once: no single wait */
  }
  return NULL;
}

static void
wakeups (int core, int from, int seconds)
{
  Wake w = { .efd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC), .core = core,
             .waits = g_array_new (FALSE, FALSE, sizeof (gint64)) };
  if (w.efd < 0) {
    perror ("eventfd");
    exit (1);
  }
  GThread *th = g_thread_new ("waiter", waiter, &w);
  pin (from);
  g_usleep (10000);
  gint64 end = now_ns () + (gint64) seconds * 1000000000;
  guint sent = 0;
  while (now_ns () < end) {
    g_usleep (1000);
    w.sent = now_ns ();
    guint64 one = 1;
    if (write (w.efd, &one, sizeof one) == sizeof one)
      sent++;
  }
  g_usleep (20000);
  w.stop = TRUE;
  g_thread_join (th);
  g_array_sort (w.waits, cmp64);
  printf ("wake-ups on core %d from core %d (every ~1 ms, %d s, %u of %u measured): "
          "p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
          core, from, seconds, w.waits->len, sent, quantile_ms (w.waits, 0.5), quantile_ms (w.waits, 0.99),
          quantile_ms (w.waits, 1.0));
  g_array_unref (w.waits);
  close (w.efd);
}

/* Work that takes as long as its count says, wherever time is stolen:
 * calibrated once, at the fastest of several tries. */
static volatile guint64 sink;

static void
burn (guint64 n)
{
  guint64 x = sink;
  for (guint64 i = 0; i < n; i++)
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  sink = x;
}

static double
burn_per_us (void)
{
  const guint64 n = 200000;
  gint64 best = G_MAXINT64;
  for (int i = 0; i < 30; i++) {
    gint64 t = now_ns ();
    burn (n);
    best = MIN (best, now_ns () - t);
  }
  return n * 1000.0 / best;
}

#define BATCH 64

typedef struct {
  int fd, core;
  pthread_t thread;
  double cost_us, load;
  double scale;                    /* of the work burnt, holding busy at load */
  volatile gboolean stop;
  guint64 received;
  GArray *delays;
} Server;

static gpointer
server (gpointer data)
{
  Server *s = data;
  s->thread = pthread_self ();
  pin (s->core);
  double per_ns = burn_per_us () / 1000;
  s->scale = 1;
  gint64 wall_mark = 0, cpu_mark = 0;
  char bufs[BATCH][64], ctl[BATCH][CMSG_SPACE (sizeof (struct timespec))];
  struct iovec iov[BATCH];
  struct mmsghdr m[BATCH];
  while (!s->stop) {
    for (int i = 0; i < BATCH; i++) {
      iov[i] = (struct iovec) { bufs[i], sizeof bufs[i] };
      m[i].msg_hdr = (struct msghdr) { .msg_iov = &iov[i], .msg_iovlen = 1, .msg_control = ctl[i],
                                       .msg_controllen = sizeof ctl[i] };
    }
    gint64 cpu0 = clock_ns (CLOCK_THREAD_CPUTIME_ID);
    int n = recvmmsg (s->fd, m, BATCH, MSG_WAITFORONE, NULL);  /* SO_RCVTIMEO bounds the wait */
    /* C µs per packet in all, receiving included, as the SFU's cost is. */
    gint64 work_ns = (gint64) (n * s->cost_us * 1000 * s->scale) - (clock_ns (CLOCK_THREAD_CPUTIME_ID) - cpu0);
    for (int i = 0; i < n; i++) {
      if (work_ns > 0)
        burn ((guint64) (work_ns / n * per_ns));
      struct cmsghdr *c = CMSG_FIRSTHDR (&m[i].msg_hdr);
      if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPNS)
        continue;
      struct timespec at, wall;  /* the stamp is CLOCK_REALTIME */
      memcpy (&at, CMSG_DATA (c), sizeof at);
      clock_gettime (CLOCK_REALTIME, &wall);
      gint64 delay = (gint64) (wall.tv_sec - at.tv_sec) * 1000000000 + (wall.tv_nsec - at.tv_nsec);
      g_array_append_val (s->delays, delay);
      s->received++;
    }
    /* CPU time here includes what the host took (no steal time on this
     * VM), as the SFU's does: burn less or more until the thread is as
     * busy as the SFU was, not busier by the steal counted twice. */
    gint64 wall = now_ns ();
    if (wall - wall_mark >= 50000000) {
      gint64 cpu = clock_ns (CLOCK_THREAD_CPUTIME_ID);
      if (wall_mark)
        s->scale = CLAMP (s->scale * CLAMP (s->load * (wall - wall_mark) / MAX (cpu - cpu_mark, 1), 0.9, 1.1),
                          0.5, 1.5);
      wall_mark = wall, cpu_mark = cpu;
    }
  }
  return NULL;
}

static void
ideal_server (int core, int from, int seconds, double cost_us, double load, int tick_ms)
{
  int rx = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), tx = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int on = 1, big = 8 << 20;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  if (rx < 0 || tx < 0 || setsockopt (rx, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ||
      bind (rx, (struct sockaddr *) &a, sizeof a) < 0 || getsockname (rx, (struct sockaddr *) &a, &alen) < 0 ||
      connect (tx, (struct sockaddr *) &a, sizeof a) < 0) {
    perror ("bench-hiccup: socket");
    exit (1);
  }
  struct timeval wait = { 0, 100000 };
  setsockopt (rx, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  setsockopt (rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  Server s = { .fd = rx, .core = core, .cost_us = cost_us, .load = load, .delays = g_array_new (FALSE, FALSE, sizeof (gint64)) };
  GThread *th = g_thread_new ("server", server, &s);
  pin (from);
  g_usleep (100000);  /* calibration */
  /* Poisson arrivals at load / cost; the sender wakes every ~20 µs and
   * sends what has come due (by the last tick), so arrivals are exact to
   * that. */
  double rate_per_ns = load / (cost_us * 1000.0);
  GRand *rng = g_rand_new_with_seed (42);
  char payload[64] = { 0 };
  struct iovec iov = { payload, sizeof payload };
  struct mmsghdr m[BATCH];
  for (int i = 0; i < BATCH; i++)
    m[i].msg_hdr = (struct msghdr) { .msg_iov = &iov, .msg_iovlen = 1 };
  clockid_t server_clock;
  pthread_getcpuclockid (s.thread, &server_clock);
  gint64 cpu_start = clock_ns (server_clock);
  gint64 start = now_ns (), end = start + (gint64) seconds * 1000000000;
  double next = start;
  guint64 sent = 0;
  for (gint64 t = start; t < end; t = now_ns ()) {
    int n = 0;
    gint64 due = tick_ms ? t - (t - start) % (tick_ms * 1000000LL) : t;
    while (next <= due && n < BATCH) {
      n++;
      next += -log (1.0 - g_rand_double (rng)) / rate_per_ns;
    }
    if (n > 0) {
      int done = sendmmsg (tx, m, n, 0);
      sent += MAX (done, 0);
    } else {
      struct timespec nap = { 0, 20000 };
      nanosleep (&nap, NULL);
    }
  }
  gint64 cpu_end = clock_ns (server_clock);
  double scale = s.scale;
  g_usleep (200000);
  s.stop = TRUE;
  g_thread_join (th);
  double busy = (double) (cpu_end - cpu_start) / (end - start);
  g_array_sort (s.delays, cmp64);
  printf ("ideal server on core %d (%.2f us per packet, %.0f packets/s from core %d, Poisson%s, %d s): "
          "%.0f %% busy (work scaled by %.2f for that), %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " received; "
          "delay p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
          core, cost_us, rate_per_ns * 1e9, from, tick_ms ? " released on a 1 ms tick" : "", seconds,
          100.0 * busy, scale, s.received, sent,
          quantile_ms (s.delays, 0.5), quantile_ms (s.delays, 0.99), quantile_ms (s.delays, 1.0));
  g_rand_free (rng);
  g_array_unref (s.delays);
  close (rx);
  close (tx);
}

int
main (int argc, char **argv)
{
  int seconds = 5, core = 0, from = 1;
  double cost_us = 0, load = 0.8;
  int tick_ms = 0;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "length of each measurement (1-60)", "S" },
    { "core", 0, 0, G_OPTION_ARG_INT, &core, "the core measured (the SFU's)", "A" },
    { "from", 0, 0, G_OPTION_ARG_INT, &from, "the core that wakes it (the load generator's)", "B" },
    { "cost-us", 0, 0, G_OPTION_ARG_DOUBLE, &cost_us, "run an ideal server with this cost per packet instead", "C" },
    { "load", 0, 0, G_OPTION_ARG_DOUBLE, &load, "the ideal server's load (0.05-0.95, default 0.8)", "L" },
    { "tick-ms", 0, 0, G_OPTION_ARG_INT, &tick_ms, "release the ideal server's arrivals on this tick (0, 1)", "T" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- the machine's own latency floor");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("bench-hiccup: %s\n", error->message);
    return 2;
  }
  long ncpu = sysconf (_SC_NPROCESSORS_ONLN);
  if (seconds < 1 || seconds > 60 || core < 0 || from < 0 || core >= ncpu || from >= ncpu ||
      (cost_us != 0 && (cost_us < 0.5 || cost_us > 1000)) || load < 0.05 || load > 0.95 ||
      tick_ms < 0 || tick_ms > 1) {
    g_printerr ("bench-hiccup: --seconds 1..60, cores 0..%ld, --cost-us 0.5..1000, --load 0.05..0.95, --tick-ms 0..1\n", ncpu - 1);
    return 2;
  }
  if (cost_us > 0) {
    ideal_server (core, from, seconds, cost_us, load, tick_ms);
    return 0;
  }
  stalls (core, seconds);
  wakeups (core, from, seconds);
  return 0;
}
