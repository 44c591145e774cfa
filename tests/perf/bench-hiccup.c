/* bench-hiccup — what the machine alone adds to latency, measured on the
 * cores the bench uses: the floor under the bench's latency figures, as
 * bench-srtp is under its CPU figures.
 *
 *   bench-hiccup [--seconds S] [--core A] [--from B]
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
 * Each takes S seconds (default 5). Loops are bounded; nothing leaves the
 * process. */
#define _GNU_SOURCE
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static gint64
now_ns (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (gint64) t.tv_sec * 1000000000 + t.tv_nsec;
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

int
main (int argc, char **argv)
{
  int seconds = 5, core = 0, from = 1;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "length of each measurement (1-60)", "S" },
    { "core", 0, 0, G_OPTION_ARG_INT, &core, "the core measured (the SFU's)", "A" },
    { "from", 0, 0, G_OPTION_ARG_INT, &from, "the core that wakes it (the load generator's)", "B" },
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
  if (seconds < 1 || seconds > 60 || core < 0 || from < 0 || core >= ncpu || from >= ncpu) {
    g_printerr ("bench-hiccup: --seconds 1..60, cores 0..%ld\n", ncpu - 1);
    return 2;
  }
  stalls (core, seconds);
  wakeups (core, from, seconds);
  return 0;
}
