/* stats.c — the forwarding delay histogram of a worker's CsStats. */
#include "internal.h"

/* Prometheus "le" bounds: fine below the 2 ms that matters for a call,
 * coarse above. */
const guint cs_delay_bounds_us[CS_DELAY_BUCKETS] = {
  50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 25000, 100000,
};

void
cs_stats_add_delay (CsStats *stats, gint64 delay_us)
{
  guint64 d = delay_us > 0 ? (guint64) delay_us : 0;
  guint b = 0;
  while (b < CS_DELAY_BUCKETS && d > cs_delay_bounds_us[b])
    b++;
  CS_STAT_ADD (stats, delay_buckets[b], 1);
  CS_STAT_ADD (stats, delay_sum_us, d);
}
