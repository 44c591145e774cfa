/* Unit tests of the NACK history in media/rtxstore.c. */
#include "media/internal.h"

#include <string.h>

#define MS 1000

static void
fill (guint8 *p, gsize len, guint16 seq)
{
  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) (seq * 7 + i);
}

static void
put (CsRtxStore *s, CsRtxRef *ring, guint16 seq, gsize len, gint64 now)
{
  guint8 payload[CS_MTU];
  fill (payload, len, seq);
  CsPacketView v = { seq, seq * 3000u, seq & 1, 0xff, (guint8) (seq & 3), payload, len };
  cs_rtx_store_put (s, ring, &v, now);
}

static void
assert_kept (CsRtxStore *s, CsRtxRef *ring, guint16 seq, gsize len)
{
  CsPacketView v;
  g_assert_true (cs_rtx_store_get (s, ring, seq, &v));
  g_assert_cmpuint (v.seq, ==, seq);
  g_assert_cmpuint (v.ts, ==, seq * 3000u);
  g_assert_cmpuint (v.marker, ==, seq & 1);
  g_assert_cmpuint (v.audio_level, ==, 0xff);
  g_assert_cmpuint (v.video_orientation, ==, seq & 3);
  guint8 want[CS_MTU];
  fill (want, len, seq);
  g_assert_cmpmem (v.payload, v.len, want, len);
}

static void
test_put_get (void)
{
  CsRtxStore *s = cs_rtx_store_new (500 * MS);
  CsRtxRef *a = g_new0 (CsRtxRef, CS_RTX_SLOTS);
  CsRtxRef *b = g_new0 (CsRtxRef, CS_RTX_SLOTS);
  CsPacketView v;
  g_assert_false (cs_rtx_store_get (s, a, 5, &v));   /* empty ring */
  /* Two sources interleaved, sizes from 1 byte to a full packet. */
  for (guint i = 0; i < 300; i++) {
    put (s, a, 65400 + i, 1 + (i * 37) % CS_MTU, 0);
    put (s, b, i, 1200, 0);
  }
  for (guint i = 0; i < 300; i++) {
    assert_kept (s, a, 65400 + i, 1 + (i * 37) % CS_MTU);   /* across the 16-bit wrap */
    assert_kept (s, b, i, 1200);
  }
  /* A sequence number that maps to a used slot but was never stored. */
  g_assert_false (cs_rtx_store_get (s, b, 300 + CS_RTX_SLOTS - 1, &v));
  g_assert_false (cs_rtx_store_get (s, b, CS_RTX_SLOTS, &v));
  /* A newer packet takes the slot of the one CS_RTX_SLOTS earlier. */
  put (s, b, CS_RTX_SLOTS, 100, 0);
  g_assert_false (cs_rtx_store_get (s, b, 0, &v));
  assert_kept (s, b, CS_RTX_SLOTS, 100);
  g_free (a);
  g_free (b);
  cs_rtx_store_free (s);
}

/* Memory follows bitrate x retention: 1,000 packets of 1,200 bytes a
 * second kept for 200 ms need ~240 KB, however much has gone through. */
static void
test_memory_follows_retention (void)
{
  CsRtxStore *s = cs_rtx_store_new (200 * MS);
  CsRtxRef *ring = g_new0 (CsRtxRef, CS_RTX_SLOTS);
  gsize base = cs_rtx_store_allocated (s);
  gint64 now = 0;
  guint16 seq = 0;
  for (guint i = 0; i < 20000; i++, seq++, now += MS)   /* 20 s */
    put (s, ring, seq, 1200, now);
  gsize bytes = cs_rtx_store_allocated (s) - base;
  g_test_message ("store after 20 s at 1,000 packets/s, 200 ms kept: %zu KiB", bytes / 1024);
  g_assert_cmpuint (bytes, <=, 240 * 1212 + 6 * 65536);
  /* Everything younger than the retention time is there... */
  for (guint16 back = 1; back <= 200; back++)
    assert_kept (s, ring, (guint16) (seq - back), 1200);
  /* ...and a packet twice as old is not, though its slot still refers to
   * it: its segment was recycled (and reused for newer packets). */
  CsPacketView v;
  g_assert_false (cs_rtx_store_get (s, ring, (guint16) (seq - 400), &v));

  /* Traffic stops: a tick much later gives back all but the segment being
   * written and a few spares. */
  cs_rtx_store_expire (s, now + 10 * G_USEC_PER_SEC);
  for (guint i = 0; i < 60; i++)   /* a minute of ticks */
    cs_rtx_store_trim (s);
  g_assert_cmpuint (cs_rtx_store_allocated (s) - base, <=, 5 * 65536);
  g_assert_false (cs_rtx_store_get (s, ring, (guint16) (seq - 100), &v));
  put (s, ring, seq, 1200, now + 10 * G_USEC_PER_SEC);
  assert_kept (s, ring, seq, 1200);
  g_free (ring);
  cs_rtx_store_free (s);
}

/* A reference into a recycled segment is stale: it must miss, not return
 * whatever packet of another source now lives at that offset. */
static void
test_stale_reference_misses (void)
{
  CsRtxStore *s = cs_rtx_store_new (10 * MS);
  CsRtxRef *old = g_new0 (CsRtxRef, CS_RTX_SLOTS);
  CsRtxRef *fresh = g_new0 (CsRtxRef, CS_RTX_SLOTS);
  put (s, old, 42, 1000, 0);
  assert_kept (s, old, 42, 1000);
  /* Another source fills several segments, long after. */
  for (guint i = 0; i < 300; i++)
    put (s, fresh, 42, 1000, G_USEC_PER_SEC + i * MS);
  CsPacketView v;
  g_assert_false (cs_rtx_store_get (s, old, 42, &v));
  assert_kept (s, fresh, 42, 1000);
  g_free (old);
  g_free (fresh);
  cs_rtx_store_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtxstore/put-get", test_put_get);
  g_test_add_func ("/rtxstore/memory-follows-retention", test_memory_follows_retention);
  g_test_add_func ("/rtxstore/stale-reference", test_stale_reference_misses);
  return g_test_run ();
}
