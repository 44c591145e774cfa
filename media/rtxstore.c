/* rtxstore.c — copies of recently forwarded video packets, kept to answer
 * NACKs. A fixed ring of full-size slots per source cost 330 KB for each
 * publisher whatever its bitrate, and kept ~2 s of history where a
 * retransmission is only useful for a round trip or two. Instead, each
 * worker appends packets, at their real size, to a log of 64 KiB segments
 * shared by all its sources, and recycles a segment once everything in it
 * is older than the retention time (Janus keeps 500 ms by default too).
 * Memory follows what the worker forwards: bitrate x retention, plus a
 * segment or two. A source only keeps, per sequence number modulo
 * CS_RTX_SLOTS, a reference (segment, offset, generation): a recycled
 * segment gets a new generation, so stale references simply miss.
 *
 * Segments come from a free list; the store allocates only when it grows,
 * never per packet, and gives memory back on the worker's tick. They are
 * mapped directly, 16 pages each (through malloc a 64 KiB block costs 17,
 * or stays in the arena once freed). */
#include "internal.h"

#include <string.h>
#include <sys/mman.h>

#define SEG_SIZE 65536
#define MAX_SEGS 4096              /* 256 MiB per worker: never reached in practice */
#define SPARE_SEGS 4               /* free segments always kept for reuse */

/* Record header, followed by the payload; records are 4-byte aligned. */
typedef struct {
  guint16 len;
  guint16 seq;
  guint32 ts;
  guint8 marker;
  guint8 audio_level;
  guint8 video_orientation;
  guint8 pad;
} Record;

typedef struct {
  guint8 *data;                    /* NULL: not allocated */
  guint32 gen;                     /* never 0 while in use */
  guint32 used;                    /* bytes written */
  gint64 newest_us;                /* arrival of the last record */
} Segment;

struct _CsRtxStore {
  gint64 keep_us;
  Segment segs[MAX_SEGS];
  guint n_segs;                    /* slots of segs[] ever used */
  guint16 live[MAX_SEGS];          /* FIFO of segments in use, oldest first */
  guint live_head, n_live;
  guint16 spare[MAX_SEGS];         /* free segments with memory */
  guint n_spare;
  guint16 empty[MAX_SEGS];         /* free segments without */
  guint n_empty;
  guint n_allocated;
};

CsRtxStore *
cs_rtx_store_new (gint64 keep_us)
{
  CsRtxStore *s = g_new0 (CsRtxStore, 1);
  s->keep_us = keep_us;
  return s;
}

void
cs_rtx_store_free (CsRtxStore *s)
{
  if (!s)
    return;
  for (guint i = 0; i < s->n_segs; i++)
    if (s->segs[i].data)
      munmap (s->segs[i].data, SEG_SIZE);
  g_free (s);
}

static Segment *
current (CsRtxStore *s)
{
  if (s->n_live == 0)
    return NULL;
  return &s->segs[s->live[(s->live_head + s->n_live - 1) % MAX_SEGS]];
}

static void
release_oldest (CsRtxStore *s)
{
  guint16 i = s->live[s->live_head];
  Segment *seg = &s->segs[i];
  s->live_head = (s->live_head + 1) % MAX_SEGS;
  s->n_live--;
  if (++seg->gen == 0)
    seg->gen = 1;                  /* every reference to it is now stale */
  seg->used = 0;
  s->spare[s->n_spare++] = i;
}

void
cs_rtx_store_trim (CsRtxStore *s)
{
  /* Two segments per call, and only past an eighth of what is in use:
   * usage goes up and down with key frames, and unmapping memory is
   * expensive (a TLB flush on every core; ~1.7 ms of CPU each in this VM).
   * Called once a second, so a store that shrank for good is back to size
   * within half a minute or so. */
  for (guint k = 0; k < 2 && s->n_spare > MAX (SPARE_SEGS, s->n_live / 8); k++) {
    guint16 i = s->spare[--s->n_spare];
    munmap (s->segs[i].data, SEG_SIZE);
    s->segs[i].data = NULL;
    s->n_allocated--;
    s->empty[s->n_empty++] = i;
  }
}

void
cs_rtx_store_expire (CsRtxStore *s, gint64 now)
{
  /* The segment being written stays: it is where the next packet goes. */
  while (s->n_live > 1 && s->segs[s->live[s->live_head]].newest_us < now - s->keep_us)
    release_oldest (s);
}

/* A segment to append to, or NULL when the store is at its cap. */
static Segment *
take_segment (CsRtxStore *s, gint64 now)
{
  cs_rtx_store_expire (s, now);
  guint16 i;
  if (s->n_spare > 0) {
    i = s->spare[--s->n_spare];
  } else if (s->n_empty > 0) {
    i = s->empty[--s->n_empty];
  } else if (s->n_segs < MAX_SEGS) {
    i = s->n_segs++;
    s->segs[i].gen = 1;
  } else if (s->n_live > 1) {
    release_oldest (s);            /* at the cap: history gets shorter */
    i = s->spare[--s->n_spare];
  } else {
    return NULL;
  }
  Segment *seg = &s->segs[i];
  if (!seg->data) {
    void *p = mmap (NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      s->empty[s->n_empty++] = i;  /* out of memory: no history for now */
      return NULL;
    }
    seg->data = p;
    s->n_allocated++;
  }
  seg->used = 0;
  s->live[(s->live_head + s->n_live) % MAX_SEGS] = i;
  s->n_live++;
  return seg;
}

void
cs_rtx_store_put (CsRtxStore *s, CsRtxRef *ring, const CsPacketView *v, gint64 now)
{
  gsize need = (sizeof (Record) + v->len + 3) & ~(gsize) 3;
  if (v->len > CS_MTU)
    return;
  Segment *seg = current (s);
  if (!seg || seg->used + need > SEG_SIZE) {
    if (!(seg = take_segment (s, now)))
      return;
  }
  guint32 off = seg->used;
  Record *r = (Record *) (seg->data + off);
  r->len = v->len;
  r->seq = v->seq;
  r->ts = v->ts;
  r->marker = v->marker;
  r->audio_level = v->audio_level;
  r->video_orientation = v->video_orientation;
  r->pad = 0;
  memcpy (r + 1, v->payload, v->len);
  seg->used += need;
  seg->newest_us = now;
  CsRtxRef *ref = &ring[v->seq % CS_RTX_SLOTS];
  ref->seg = seg - s->segs;
  ref->off = off;
  ref->gen = seg->gen;
}

gboolean
cs_rtx_store_get (const CsRtxStore *s, const CsRtxRef *ring, guint16 seq, CsPacketView *v)
{
  const CsRtxRef *ref = &ring[seq % CS_RTX_SLOTS];
  if (ref->gen == 0 || ref->seg >= s->n_segs)
    return FALSE;
  const Segment *seg = &s->segs[ref->seg];
  if (seg->gen != ref->gen || !seg->data || ref->off >= seg->used)
    return FALSE;
  const Record *r = (const Record *) (seg->data + ref->off);
  if (r->seq != seq)
    return FALSE;
  v->seq = r->seq;
  v->ts = r->ts;
  v->marker = r->marker;
  v->audio_level = r->audio_level;
  v->video_orientation = r->video_orientation;
  v->payload = (const guint8 *) (r + 1);
  v->len = r->len;
  return TRUE;
}

gsize
cs_rtx_store_allocated (const CsRtxStore *s)
{
  return sizeof *s + (gsize) s->n_allocated * SEG_SIZE;
}
