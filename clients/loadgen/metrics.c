/* metrics.c — consiliumd's own forwarding delay, from its /metrics at the
 * edges of the window: the time from a datagram's arrival in the kernel to
 * the submission of what it caused, measured inside the SFU, so the load
 * generator's own delays (building, protecting, its loop) are not in it.
 * Janus has no such measure. */
#include "loadgen.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "consilium_media_forward_delay_seconds_bucket{"

static size_t
collect (char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len (user_data, data, size * n);
  return size * n;
}

gboolean
lg_delay_sample (const char *host, guint16 port, LgDelaySample *out)
{
  memset (out, 0, sizeof *out);
  g_autofree char *url = g_strdup_printf (strchr (host, ':') ? "https://[%s]:%u/metrics" : "https://%s:%u/metrics",
                                          host, port);
  CURL *curl = curl_easy_init ();
  if (!curl)
    return FALSE;
  g_autoptr (GString) body = g_string_new (NULL);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  /* Loopback, the same self-signed certificate the WebSocket accepts. */
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 5L);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, body);
  long status = 0;
  gboolean ok = curl_easy_perform (curl) == CURLE_OK &&
                curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
  curl_easy_cleanup (curl);
  if (!ok)
    return FALSE;
  /* Cumulative counts per bound, summed over workers (each in the same
   * order of bounds). */
  g_auto (GStrv) lines = g_strsplit (body->str, "\n", -1);
  guint b = 0;
  for (guint i = 0; lines[i]; i++) {
    const char *l = lines[i];
    if (!g_str_has_prefix (l, PREFIX))
      continue;
    const char *le = strstr (l, "le=\"");
    const char *value = strrchr (l, ' ');
    if (!le || !value)
      continue;
    if (g_str_has_prefix (le + 4, "+Inf")) {
      out->total += g_ascii_strtoull (value + 1, NULL, 10);
      b = 0;
      continue;
    }
    if (b == LG_DELAY_MAX_BOUNDS)
      continue;
    out->bound_us[b] = g_ascii_strtod (le + 4, NULL) * 1e6;
    out->cumulative[b] += g_ascii_strtoull (value + 1, NULL, 10);
    b++;
    out->n_bounds = MAX (out->n_bounds, b);
  }
  out->ok = out->n_bounds > 0;
  return out->ok;
}

double
lg_delay_quantile_us (const LgDelaySample *start, const LgDelaySample *end, double q)
{
  if (!start->ok || !end->ok || start->n_bounds != end->n_bounds || end->total <= start->total)
    return -1;
  double total = end->total - start->total, want = q * total, below = 0, lo = 0;
  for (guint b = 0; b < end->n_bounds; b++) {
    double upto = (double) (end->cumulative[b] - start->cumulative[b]);
    if (upto >= want) {
      /* Linear within the bucket, as Prometheus' histogram_quantile. */
      double in = upto - below;
      return lo + (end->bound_us[b] - lo) * (in > 0 ? (want - below) / in : 1);
    }
    below = upto;
    lo = end->bound_us[b];
  }
  return lo;                       /* past the last bound: at least that */
}
