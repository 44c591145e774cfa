/* main.c — cs-loadgen: drives a real SFU on loopback with participants that
 * publish captured VP8 + Opus at real rates and check every packet they
 * receive, then prints what it measured (a table, and one JSON line last
 * for scripts). See docs/performance.md for the method.
 *
 *   cs-loadgen --token-secret HEX --url wss://127.0.0.1:PORT/ws --scenario consults --count 10
 *   cs-loadgen --sfu janus --url ws://127.0.0.1:8188/ --scenario consults --count 10
 *
 * Bounded by design: a participant cap, a fixed duration, loopback only. */
#define _GNU_SOURCE  /* sched_getaffinity */
#include "loadgen.h"

#include <curl/curl.h>

#include <gio/gio.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_PARTICIPANTS 300
#define HARD_MAX_PARTICIPANTS 1000
#define MAX_DURATION_S 600

/* ---- /proc sampling ---- */

typedef struct {
  double cpu_s;                     /* utime + stime */
  guint64 rss_kib;
  gboolean ok;
} ProcSample;

static ProcSample
proc_sample (int pid)
{
  ProcSample s = { 0 };
  char path[64];
  g_autofree char *stat = NULL, *status = NULL;
  g_snprintf (path, sizeof path, "/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return s;
  /* Fields after the command name, which may hold spaces and parentheses. */
  const char *p = strrchr (stat, ')');
  if (!p)
    return s;
  g_auto (GStrv) f = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (f) < 13)
    return s;
  /* f[0] is field 3 (state): utime is field 14, stime field 15. */
  double ticks = (double) sysconf (_SC_CLK_TCK);
  s.cpu_s = (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) / ticks;
  g_snprintf (path, sizeof path, "/proc/%d/status", pid);
  if (g_file_get_contents (path, &status, NULL, NULL)) {
    const char *r = strstr (status, "VmRSS:");
    if (r)
      s.rss_kib = g_ascii_strtoull (r + 6, NULL, 10);
  }
  s.ok = TRUE;
  return s;
}

static void
sleep_until (gint64 when_us)
{
  gint64 now;
  while ((now = g_get_monotonic_time ()) < when_us)
    g_usleep (MIN (when_us - now, 100000));
}

/* ---- options ---- */

static gboolean
parse_url (LgOptions *o, const char *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, error);
  if (!uri)
    return FALSE;
  const char *scheme = g_uri_get_scheme (uri), *host = g_uri_get_host (uri);
  o->tls = g_str_equal (scheme, "wss");
  if (!o->tls && !g_str_equal (scheme, "ws")) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--url: ws:// or wss:// only");
    return FALSE;
  }
  /* Loopback only: this tool floods whatever it points at. */
  if (g_str_equal (host, "localhost"))
    host = "127.0.0.1";
  GInetAddress *addr = g_inet_address_new_from_string (host);
  gboolean loopback = addr && g_inet_address_get_is_loopback (addr);
  g_clear_object (&addr);
  if (!loopback) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--url: %s is not a loopback address; the load generator only targets this machine", host);
    return FALSE;
  }
  o->host = g_strdup (host);
  int port = g_uri_get_port (uri);
  o->port = port > 0 ? port : o->tls ? 443 : 80;
  const char *path = g_uri_get_path (uri);
  o->path = g_strdup (path && *path ? path : "/");
  return TRUE;
}

/* TRUE when @addr is one of this host's own addresses: only those can be
 * bound, and traffic between them never leaves the machine. */
static gboolean
is_own_address (const char *addr)
{
  g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (addr);
  if (!ia)
    return FALSE;
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (ia, 0);
  g_autoptr (GSocket) sock = g_socket_new (g_inet_address_get_family (ia), G_SOCKET_TYPE_DATAGRAM,
                                           G_SOCKET_PROTOCOL_UDP, NULL);
  return sock && g_socket_bind (sock, sa, FALSE, NULL);
}

static guint
cpus_available (void)
{
  cpu_set_t set;
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    return MAX (1, CPU_COUNT (&set));
  return MAX (1, g_get_num_processors ());
}

static gboolean
parse_options (LgOptions *o, int argc, char **argv, GError **error)
{
  g_autofree char *sfu = NULL, *scenario = NULL, *url = NULL, *secret = NULL, *srtp = NULL;
  g_autofree char *ice_bind = NULL;
  gint count = 0, threads = 0, max = DEFAULT_MAX_PARTICIPANTS, kbps = 0, pid = 0;
  double duration = 20, warmup = 5, join_ms = 20;
  gboolean no_twcc = FALSE;
  GOptionEntry entries[] = {
    { "sfu", 0, 0, G_OPTION_ARG_STRING, &sfu, "consilium (default) or janus", "KIND" },
    { "url", 0, 0, G_OPTION_ARG_STRING, &url, "signaling URL (wss://127.0.0.1:PORT/ws, ws://127.0.0.1:8188/)", "URL" },
    { "token-secret", 0, 0, G_OPTION_ARG_STRING, &secret, "consiliumd's [auth] token_secret (hex)", "HEX" },
    { "scenario", 0, 0, G_OPTION_ARG_STRING, &scenario, "consults (default), lecture or multisite", "NAME" },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "visits (consults), subscribers (lecture) or rooms of 6 (multisite)", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "measured window in seconds (default 20)", "S" },
    { "warmup", 'w', 0, G_OPTION_ARG_DOUBLE, &warmup, "seconds between the last join and the window (default 5)", "S" },
    { "join-interval", 0, 0, G_OPTION_ARG_DOUBLE, &join_ms, "ms between two joins on one thread (default 20)", "MS" },
    { "video-kbps", 0, 0, G_OPTION_ARG_INT, &kbps, "video bitrate per publisher (default: the capture's, ~1200)", "K" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "worker threads (default: CPUs we may run on)", "N" },
    { "max-participants", 0, 0, G_OPTION_ARG_INT, &max, "refuse plans larger than this (default 300)", "N" },
    { "sfu-pid", 0, 0, G_OPTION_ARG_INT, &pid, "SFU process to sample CPU time and RSS of", "PID" },
    { "ice-bind", 0, 0, G_OPTION_ARG_STRING, &ice_bind, "local address for our ICE candidates (default 127.0.0.1; "
      "must be this host's own)", "ADDR" },
    { "srtp", 0, 0, G_OPTION_ARG_STRING, &srtp, "cm (AES_CM_128_HMAC_SHA1_80, as Chromium; default), gcm or any", "P" },
    { "no-twcc", 0, 0, G_OPTION_ARG_NONE, &no_twcc, "do not send transport-wide sequence numbers", NULL },
    { "fixtures", 0, 0, G_OPTION_ARG_FILENAME, &o->fixtures_dir, "directory of vp8-640x480.rtp and opus-48k.rtp", "DIR" },
    { "expect-clean", 0, 0, G_OPTION_ARG_NONE, &o->expect_clean, "exit 1 on any loss, failure or no packets", NULL },
    { "per-stream", 0, 0, G_OPTION_ARG_NONE, &o->per_stream, "print every received stream", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "only the JSON line", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- load generator for consiliumd and Janus");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, error))
    return FALSE;

#define BAD(...) do { g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, __VA_ARGS__); return FALSE; } while (0)
  if (!sfu || g_str_equal (sfu, "consilium"))
    o->sfu = LG_SFU_CONSILIUM;
  else if (g_str_equal (sfu, "janus"))
    o->sfu = LG_SFU_JANUS;
  else
    BAD ("--sfu: consilium or janus");
  if (!scenario || g_str_equal (scenario, "consults"))
    o->scenario = LG_CONSULTS;
  else if (g_str_equal (scenario, "lecture"))
    o->scenario = LG_LECTURE;
  else if (g_str_equal (scenario, "multisite"))
    o->scenario = LG_MULTISITE;
  else
    BAD ("--scenario: consults, lecture or multisite");
  if (!url)
    BAD ("--url is required");
  if (!parse_url (o, url, error))
    return FALSE;
  o->ice_bind = g_strdup (ice_bind ? ice_bind : "127.0.0.1");
  if (!is_own_address (o->ice_bind))
    BAD ("--ice-bind: %s is not an address of this host", o->ice_bind);
  if (o->sfu == LG_SFU_CONSILIUM) {
    if (!secret)
      BAD ("--token-secret is required for consiliumd");
    gsize n = strlen (secret);
    if (n % 2 || n < 32)
      BAD ("--token-secret: hex, at least 16 bytes");
    o->secret = g_malloc (n / 2);
    o->secret_len = n / 2;
    for (gsize i = 0; i < n / 2; i++) {
      int hi = g_ascii_xdigit_value (secret[2 * i]), lo = g_ascii_xdigit_value (secret[2 * i + 1]);
      if (hi < 0 || lo < 0)
        BAD ("--token-secret: not hexadecimal");
      o->secret[i] = hi << 4 | lo;
    }
  }
  if (count < 0 || threads < 0 || kbps < 0 || pid < 0 || max <= 0)
    BAD ("negative counts");
  o->count = count ? (guint) count : o->scenario == LG_CONSULTS ? 10 : o->scenario == LG_LECTURE ? 20 : 2;
  if (max > HARD_MAX_PARTICIPANTS)
    BAD ("--max-participants: at most %d", HARD_MAX_PARTICIPANTS);
  o->max_participants = max;
  if (!(duration > 0 && duration <= MAX_DURATION_S) || !(warmup >= 0 && warmup <= 60) ||
      !(join_ms >= 0 && join_ms <= 1000))
    BAD ("--duration 0..%d s, --warmup 0..60 s, --join-interval 0..1000 ms", MAX_DURATION_S);
  o->duration_s = duration;
  o->warmup_s = warmup;
  o->drain_s = 0.5;
  o->join_interval_ms = join_ms;
  o->video_kbps = kbps;
  o->threads = threads ? (guint) threads : cpus_available ();
  o->sfu_pid = pid;
  o->twcc = !no_twcc;
  if (!srtp || g_str_equal (srtp, "cm"))
    o->srtp_profiles = g_strdup ("SRTP_AES128_CM_SHA1_80");
  else if (g_str_equal (srtp, "gcm"))
    o->srtp_profiles = g_strdup ("SRTP_AEAD_AES_128_GCM");
  else if (g_str_equal (srtp, "any"))
    o->srtp_profiles = g_strdup ("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
  else
    BAD ("--srtp: cm, gcm or any");
  if (!o->fixtures_dir) {
    const char *src = g_getenv ("CS_SOURCE_DIR");
    o->fixtures_dir = src ? g_build_filename (src, "tests", "fixtures", "loadgen", NULL)
                          : g_strdup (LG_FIXTURES_DIR);
  }
#undef BAD
  return TRUE;
}

/* ---- the plan ---- */

static GArray *
make_plan (LgRun *run, GError **error)
{
  const LgOptions *o = &run->opt;
  GArray *plan = g_array_new (FALSE, TRUE, sizeof (LgPlan));
  guint room_size = o->scenario == LG_CONSULTS ? 2 : o->scenario == LG_LECTURE ? o->count + 1
                                                                               : LG_ROOM_SIZE_MULTISITE;
  guint rooms = o->scenario == LG_LECTURE ? 1 : o->count;
  if ((guint64) rooms * room_size > o->max_participants) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%u participants planned, more than --max-participants %u",
                 rooms * room_size, o->max_participants);
    g_array_unref (plan);
    return NULL;
  }
  for (guint r = 0; r < rooms; r++) {
    guint first = plan->len;
    for (guint k = 0; k < room_size; k++) {
      LgPlan p = { .index = first + k, .room = r };
      /* In a lecture only the first participant publishes. */
      p.publish = o->scenario != LG_LECTURE || k == 0;
      for (guint j = 0; j < room_size; j++) {
        gboolean other_publishes = o->scenario != LG_LECTURE || j == 0;
        if (j == k || !other_publishes)
          continue;
        p.n_remote_publishers++;
        if (p.n_sources + 2 <= LG_MAX_SOURCES) {
          p.sources[p.n_sources++] = 2 * (first + j);
          p.sources[p.n_sources++] = 2 * (first + j) + 1;
        }
      }
      g_array_append_val (plan, p);
    }
  }
  run->n_rooms = rooms;
  run->n_participants = plan->len;
  return plan;
}

/* ---- results ---- */

typedef struct {
  guint64 sent[2], expected[2], received[2], reordered;   /* [0] audio, [1] video */
  guint64 stray, bad, stalls;
  guint failed, connected, receivers, never_received;
  double jitter_sum_us, jitter_max_us;
  guint n_jitter;
  GArray *join_ms;                  /* double: join to first packet, per receiver */
  LgHist lat, late;
  double loadgen_cpu_s;
  ProcSample base, start, end;
  LgDelaySample delay_start, delay_end;   /* consiliumd's own, from /metrics */
} Totals;

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
quantile_ms (GArray *v, double q)
{
  if (v->len == 0)
    return 0;
  g_array_sort (v, cmp_double);
  guint i = MIN (v->len - 1, (guint) (q * v->len));
  return g_array_index (v, double, i);
}

static const LgIn *
find_in (const LgClient *c, guint32 src_id)
{
  for (guint k = 0; k < c->n_in; k++)
    if (c->in[k].src_id == src_id)
      return &c->in[k];
  return NULL;
}

/* One row per stream a subscriber should receive, found or not. */
static void
print_streams (LgRun *run, const guint64 *sent_window)
{
  printf ("  %-24s %-6s %-6s %10s %10s %8s %10s\n", "subscriber", "from", "kind", "expected",
          "received", "lost", "jitter ms");
  for (guint wi = 0; wi < run->opt.threads; wi++) {
    LgWorker *w = run->workers[wi];
    for (guint i = 0; i < w->clients->len; i++) {
      const LgClient *c = g_ptr_array_index (w->clients, i);
      for (guint s = 0; s < c->plan.n_sources; s++) {
        guint32 id = c->plan.sources[s];
        const LgIn *in = find_in (c, id);
        guint64 rec = in ? in->received_window : 0;
        printf ("  %-24s p%-5u %-6s %10" G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT " %8" G_GINT64_FORMAT
                " %10.3f\n", c->name, id / 2, id & 1 ? "video" : "audio", sent_window[id], rec,
                (gint64) sent_window[id] - (gint64) rec, in ? in->jitter_us / 1000 : 0.0);
      }
    }
  }
}

static void
collect (LgRun *run, Totals *t)
{
  guint n_streams = 2 * run->n_participants;
  g_autofree guint64 *sent_window = g_new0 (guint64, n_streams);
  t->join_ms = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint wi = 0; wi < run->opt.threads; wi++) {
    LgWorker *w = run->workers[wi];
    lg_hist_merge (&t->lat, &w->latency);
    lg_hist_merge (&t->late, &w->lateness);
    for (guint i = 0; i < w->clients->len; i++) {
      LgClient *c = g_ptr_array_index (w->clients, i);
      for (guint k = 0; k < c->n_out; k++) {
        t->stalls += c->out[k].resyncs;
        sent_window[c->out[k].id] = c->out[k].sent_window;
        t->sent[c->out[k].id & 1] += c->out[k].sent_window;
      }
    }
  }
  if (run->opt.per_stream && !run->opt.quiet)
    print_streams (run, sent_window);
  for (guint wi = 0; wi < run->opt.threads; wi++) {
    LgWorker *w = run->workers[wi];
    for (guint i = 0; i < w->clients->len; i++) {
      LgClient *c = g_ptr_array_index (w->clients, i);
      t->failed += c->state == LG_CLIENT_FAILED;
      t->connected += c->connected_us != 0;
      t->bad += c->bad_packets;
      if (c->plan.n_sources) {
        t->receivers++;
        if (c->first_rx_us) {
          double ms = (c->first_rx_us - c->join_us) / 1000.0;
          g_array_append_val (t->join_ms, ms);
        } else {
          t->never_received++;
        }
      }
      for (guint s = 0; s < c->plan.n_sources; s++) {
        guint32 id = c->plan.sources[s];
        t->expected[id & 1] += sent_window[id];
      }
      for (guint k = 0; k < c->n_in; k++) {
        const LgIn *in = &c->in[k];
        gboolean wanted = FALSE;
        for (guint s = 0; s < c->plan.n_sources && !wanted; s++)
          wanted = c->plan.sources[s] == in->src_id;
        if (!wanted) {
          t->stray += in->received;
          continue;
        }
        t->received[in->src_id & 1] += in->received_window;
        t->reordered += in->reordered;
        t->jitter_sum_us += in->jitter_us;
        t->jitter_max_us = MAX (t->jitter_max_us, in->jitter_us);
        t->n_jitter++;
      }
    }
  }
}

static const char *
scenario_name (LgScenario s)
{
  return s == LG_CONSULTS ? "consults" : s == LG_LECTURE ? "lecture" : "multisite";
}

static gint64
lost_of (const Totals *t, guint k)
{
  return (gint64) t->expected[k] - (gint64) t->received[k];
}

static void
report (LgRun *run, Totals *t)
{
  const LgOptions *o = &run->opt;
  double win = o->duration_s;
  guint64 sent = t->sent[0] + t->sent[1], exp = t->expected[0] + t->expected[1];
  guint64 rec = t->received[0] + t->received[1];
  gint64 lost = lost_of (t, 0) + lost_of (t, 1);
  double cpu = t->end.cpu_s - t->start.cpu_s;
  gboolean have_sfu = t->start.ok && t->end.ok;
  double jitter = t->n_jitter ? t->jitter_sum_us / t->n_jitter : 0;
  double own_p50 = lg_delay_quantile_us (&t->delay_start, &t->delay_end, 0.5);
  double own_p99 = lg_delay_quantile_us (&t->delay_start, &t->delay_end, 0.99);

  if (!o->quiet) {
    printf ("loadgen: %s, %s, %u rooms, %u participants, %.0f s window, %u thread(s), "
            "video %.0f kbit/s (%.0f fps) + Opus per publisher\n",
            o->sfu == LG_SFU_JANUS ? "janus" : "consiliumd", scenario_name (o->scenario),
            run->n_rooms, run->n_participants, win, o->threads, run->native_video_kbps * run->speed,
            30 * run->speed);
    printf ("  %-6s %12s %12s %12s %10s %8s\n", "stream", "sent", "expected", "received", "lost", "loss %");
    for (guint k = 0; k < 2; k++)
      printf ("  %-6s %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT
              " %10" G_GINT64_FORMAT " %8.3f\n", k ? "video" : "audio", t->sent[k], t->expected[k],
              t->received[k], lost_of (t, k),
              t->expected[k] ? 100.0 * lost_of (t, k) / t->expected[k] : 0);
    printf ("  %-6s %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT
            " %10" G_GINT64_FORMAT " %8.3f\n", "total", sent, exp, rec, lost, exp ? 100.0 * lost / exp : 0);
    printf ("  forwarded %.0f packets/s; added latency p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
            "jitter mean %.3f ms, max %.3f ms\n", rec / win,
            lg_hist_quantile (&t->lat, 0.5) / 1000.0, lg_hist_quantile (&t->lat, 0.99) / 1000.0,
            t->lat.max_us / 1000.0, jitter / 1000.0, t->jitter_max_us / 1000.0);
    /* How smooth the offered load was: a loaded generator sends late. */
    printf ("  send lateness (after each packet's due time): p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
            lg_hist_quantile (&t->late, 0.5) / 1000.0, lg_hist_quantile (&t->late, 0.99) / 1000.0,
            t->late.max_us / 1000.0);
    printf ("  join to first packet: p50 %.0f ms, max %.0f ms, %u of %u receivers got nothing\n",
            quantile_ms (t->join_ms, 0.5), quantile_ms (t->join_ms, 1.0), t->never_received, t->receivers);
    printf ("  clients: %u connected, %u failed; %" G_GUINT64_FORMAT " reordered, %" G_GUINT64_FORMAT
            " stray, %" G_GUINT64_FORMAT " bad packets; loadgen CPU %.0f%%, %" G_GUINT64_FORMAT
            " stream resumptions after > 3 ms behind\n", t->connected, t->failed, t->reordered, t->stray, t->bad,
            100.0 * t->loadgen_cpu_s / win, t->stalls);
    if (have_sfu)
      printf ("  SFU pid %d: %.2f CPU-s in the window (%.1f%% of a core), %.2f CPU-s per million "
              "forwarded packets, %.0f forwarded packets/s per core; RSS %" G_GUINT64_FORMAT " KiB "
              "(idle %" G_GUINT64_FORMAT " KiB, %.1f KiB per participant)\n",
              o->sfu_pid, cpu, 100.0 * cpu / win, rec ? cpu * 1e6 / rec : 0, cpu > 0 ? rec / cpu : 0,
              t->end.rss_kib, t->base.rss_kib,
              ((double) t->end.rss_kib - t->base.rss_kib) / run->n_participants);
    if (own_p50 >= 0)
      printf ("  SFU's own forwarding delay (its /metrics, arrival to send): p50 %.3f ms, p99 %.3f ms\n",
              own_p50 / 1000, own_p99 / 1000);
  }
  g_autoptr (GString) j = g_string_new (NULL);
  g_string_append_printf (j, "{\"sfu\":\"%s\",\"scenario\":\"%s\",\"rooms\":%u,\"participants\":%u,"
                          "\"window_s\":%.3f,\"threads\":%u,",
                          o->sfu == LG_SFU_JANUS ? "janus" : "consilium", scenario_name (o->scenario),
                          run->n_rooms, run->n_participants, win, o->threads);
  g_string_append_printf (j, "\"sent\":%" G_GUINT64_FORMAT ",\"expected\":%" G_GUINT64_FORMAT
                          ",\"received\":%" G_GUINT64_FORMAT ",\"lost\":%" G_GINT64_FORMAT
                          ",\"lost_audio\":%" G_GINT64_FORMAT ",\"lost_video\":%" G_GINT64_FORMAT ",",
                          sent, exp, rec, lost, lost_of (t, 0), lost_of (t, 1));
  g_string_append_printf (j, "\"lat_p50_us\":%" G_GINT64_FORMAT ",\"lat_p99_us\":%" G_GINT64_FORMAT
                          ",\"lat_max_us\":%" G_GINT64_FORMAT ",\"jitter_us\":%.1f,\"jitter_max_us\":%.1f,",
                          lg_hist_quantile (&t->lat, 0.5), lg_hist_quantile (&t->lat, 0.99), t->lat.max_us,
                          jitter, t->jitter_max_us);
  g_string_append_printf (j, "\"send_late_p99_us\":%" G_GINT64_FORMAT ",", lg_hist_quantile (&t->late, 0.99));
  g_string_append_printf (j, "\"join_first_p50_ms\":%.1f,\"join_first_max_ms\":%.1f,\"never_received\":%u,"
                          "\"failed\":%u,\"connected\":%u,\"reordered\":%" G_GUINT64_FORMAT
                          ",\"bad\":%" G_GUINT64_FORMAT ",\"send_resumptions\":%" G_GUINT64_FORMAT ",\"loadgen_cpu_s\":%.3f",
                          quantile_ms (t->join_ms, 0.5), quantile_ms (t->join_ms, 1.0), t->never_received,
                          t->failed, t->connected, t->reordered, t->bad, t->stalls, t->loadgen_cpu_s);
  if (have_sfu)
    g_string_append_printf (j, ",\"sfu_cpu_s\":%.3f,\"sfu_rss_idle_kib\":%" G_GUINT64_FORMAT
                            ",\"sfu_rss_start_kib\":%" G_GUINT64_FORMAT ",\"sfu_rss_end_kib\":%" G_GUINT64_FORMAT,
                            cpu, t->base.rss_kib, t->start.rss_kib, t->end.rss_kib);
  if (own_p50 >= 0)
    g_string_append_printf (j, ",\"sfu_delay_p50_us\":%.0f,\"sfu_delay_p99_us\":%.0f", own_p50, own_p99);
  g_string_append (j, "}");
  printf ("%s\n", j->str);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  LgRun *run = g_new0 (LgRun, 1);
  g_mutex_init (&run->lws_lock);
  g_cond_init (&run->lws_cond);
  if (!parse_options (&run->opt, argc, argv, &error)) {
    g_printerr ("cs-loadgen: %s\n", error->message);
    return 2;
  }
  LgOptions *o = &run->opt;
  g_autoptr (GArray) plan = make_plan (run, &error);
  if (!plan) {
    g_printerr ("cs-loadgen: %s\n", error->message);
    return 2;
  }
  g_autofree char *vpath = g_build_filename (o->fixtures_dir, "vp8-640x480.rtp", NULL);
  g_autofree char *apath = g_build_filename (o->fixtures_dir, "opus-48k.rtp", NULL);
  if (!lg_track_load (&run->video, vpath, CS_MEDIA_KIND_VIDEO, CS_CLIENT_PT_VP8, 90000, 3000, &error) ||
      !lg_track_load (&run->audio, apath, CS_MEDIA_KIND_AUDIO, CS_CLIENT_PT_OPUS, 48000, 960, &error)) {
    g_printerr ("cs-loadgen: %s\n", error->message);
    return 2;
  }
  double bytes = 0;
  for (guint i = 0; i < run->video.n_packets; i++)
    bytes += run->video.packets[i].len + 12;
  run->native_video_kbps = bytes * 8 / (run->video.loop_ts / 90000.0) / 1000;
  /* Faster (or slower) through the same capture: the frame rate scales. */
  run->speed = o->video_kbps ? o->video_kbps / run->native_video_kbps : 1.0;

  lws_set_log_level (LLL_ERR, NULL);
  run->identity = cs_dtls_identity_new (&error);
  if (!run->identity || !cs_dtls_identity_set_srtp_profiles (run->identity, o->srtp_profiles, &error)) {
    g_printerr ("cs-loadgen: %s\n", error->message);
    return 2;
  }

  /* A room's participants share a thread, so more threads than rooms idle. */
  o->threads = MIN (o->threads, run->n_rooms);
  run->room_base = (guint32) getpid () % 100000;
  run->workers = g_new0 (LgWorker *, o->threads);
  for (guint i = 0; i < o->threads; i++)
    run->workers[i] = lg_worker_new (run, i);
  /* Rooms stay on one thread, like the SFU's own workers pin them. */
  for (guint i = 0; i < plan->len; i++) {
    const LgPlan *p = &g_array_index (plan, LgPlan, i);
    LgWorker *w = run->workers[p->room % o->threads];
    LgClient *c = g_new0 (LgClient, 1);
    c->w = w;
    c->plan = *p;
    g_snprintf (c->name, sizeof c->name, "lg%u-r%u-p%u", run->room_base, p->room, p->index);
    g_ptr_array_add (w->clients, c);
  }
  guint per_thread = (run->n_participants + o->threads - 1) / o->threads;
  gint64 now = g_get_monotonic_time ();
  run->start_us = now + 100000;
  run->window_start_us = run->start_us + (gint64) (per_thread * o->join_interval_ms * 1000) +
                         (gint64) (o->warmup_s * G_USEC_PER_SEC);
  run->window_end_us = run->window_start_us + (gint64) (o->duration_s * G_USEC_PER_SEC);
  run->stop_us = run->window_end_us + (gint64) (o->drain_s * G_USEC_PER_SEC);

  Totals t = { 0 };
  if (o->sfu_pid)
    t.base = proc_sample (o->sfu_pid);
  if (o->sfu_pid && !t.base.ok) {
    g_printerr ("cs-loadgen: cannot read /proc/%d\n", o->sfu_pid);
    return 2;
  }
  curl_global_init (CURL_GLOBAL_DEFAULT);  /* before any thread: not thread-safe */
  for (guint i = 0; i < o->threads; i++)
    lg_worker_start (run->workers[i]);
  sleep_until (run->window_start_us);
  ProcSample self0 = proc_sample (getpid ());
  if (o->sfu_pid)
    t.start = proc_sample (o->sfu_pid);
  if (o->sfu == LG_SFU_CONSILIUM && o->tls)
    lg_delay_sample (o->host, o->port, &t.delay_start);
  sleep_until (run->window_end_us);
  if (o->sfu_pid)
    t.end = proc_sample (o->sfu_pid);
  if (t.delay_start.ok)
    lg_delay_sample (o->host, o->port, &t.delay_end);
  ProcSample self1 = proc_sample (getpid ());
  t.loadgen_cpu_s = self1.cpu_s - self0.cpu_s;
  for (guint i = 0; i < o->threads; i++)
    lg_worker_join (run->workers[i]);

  collect (run, &t);
  report (run, &t);
  gint64 lost = lost_of (&t, 0) + lost_of (&t, 1);
  gboolean clean = t.failed == 0 && lost == 0 && t.received[0] + t.received[1] > 0 &&
                   t.never_received == 0 && t.bad == 0;

  g_array_unref (t.join_ms);
  for (guint i = 0; i < o->threads; i++)
    lg_worker_free (run->workers[i]);
  g_free (run->workers);
  cs_dtls_identity_free (run->identity);
  lg_track_clear (&run->video);
  lg_track_clear (&run->audio);
  int status = o->expect_clean && !clean ? 1 : 0;
  g_free (o->host);
  g_free (o->path);
  g_free (o->ice_bind);
  g_free (o->secret);
  g_free (o->srtp_profiles);
  g_free (o->fixtures_dir);
  g_mutex_clear (&run->lws_lock);
  g_cond_clear (&run->lws_cond);
  g_free (run);
  return status;
}
