/* worker.c — one media worker: a thread running its own GMainContext.
 * Rooms pinned here are touched by this thread only, so forwarding needs
 * no locks. */
#include "internal.h"

/* Each peer's feedback (TWCC every 50 ms, reports every second) runs in
 * one of PHASES ticks of TICK_MS: sending it for every peer at once held up
 * forwarding for ~0.5 ms every 50 ms with 100 peers on a worker. */
#define TICK_MS 5
#define PHASES 10
#define TICKS_PER_SECOND (1000 / TICK_MS)

static gboolean
worker_tick (gpointer data)
{
  CsWorker *w = data;
  guint tick = ++w->tick_count;
  guint phase = tick % PHASES;
  /* A peer's second is its twentieth pass, wherever the worker's falls. */
  gboolean peers_second = (tick / PHASES) % (TICKS_PER_SECOND / PHASES) == 0;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, w->peers);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    CsPeer *peer = v;
    if (peer->tick_phase == phase)
      cs_feedback_tick (peer, peers_second);
  }
  cs_rtx_store_expire (w->rtx, cs_now_us ());
  if (tick % TICKS_PER_SECOND == 0) {
    cs_rtx_store_trim (w->rtx);
    __atomic_store_n (&w->stats.rtx_store_bytes, cs_rtx_store_allocated (w->rtx), __ATOMIC_RELAXED);
    cs_inbox_service (w->inbox);
  }
  return G_SOURCE_CONTINUE;
}

guint
cs_worker_next_phase (CsWorker *w)
{
  return w->next_phase++ % PHASES;
}

static gpointer
worker_main (gpointer data)
{
  CsWorker *w = data;
  g_main_context_push_thread_default (w->context);
  g_main_loop_run (w->loop);
  g_main_context_pop_thread_default (w->context);
  return NULL;
}

CsWorker *
cs_worker_new (CsMedia *media, guint index, GError **error)
{
  CsWorker *w = g_new0 (CsWorker, 1);
  w->media = media;
  w->index = index;
  w->context = g_main_context_new ();
  w->loop = g_main_loop_new (w->context, FALSE);
  w->box = cs_mailbox_new (w->context);
  w->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) cs_room_free);
  w->peers = g_hash_table_new (g_str_hash, g_str_equal);
  w->outbox = cs_outbox_new (w->context, &w->stats);
  w->rtx = cs_rtx_store_new (CS_RTX_KEEP_US);
  w->inbox = cs_inbox_new (w->context, w->outbox, &w->stats);
  w->tick = g_timeout_source_new (TICK_MS);
  g_source_set_callback (w->tick, worker_tick, w, NULL);
  g_source_attach (w->tick, w->context);
  char name[16];
  g_snprintf (name, sizeof name, "cs-media-%u", index);
  w->thread = g_thread_try_new (name, worker_main, w, error);
  if (!w->thread) {
    cs_worker_free (w);
    return NULL;
  }
  return w;
}

void
cs_worker_post (CsWorker *worker, CsMailboxFunc func, gpointer data, GDestroyNotify destroy)
{
  cs_mailbox_post (worker->box, func, data, destroy);
}

static void
worker_shutdown (gpointer data)
{
  CsWorker *w = data;
  /* Peers (and their NiceAgents) die on the thread that owns their context. */
  g_hash_table_remove_all (w->peers);
  g_hash_table_remove_all (w->rooms);
  g_main_loop_quit (w->loop);
}

void
cs_worker_free (CsWorker *w)
{
  if (!w)
    return;
  if (w->thread) {
    cs_worker_post (w, worker_shutdown, w, NULL);
    g_thread_join (w->thread);
  } else {
    worker_shutdown (w);
  }
  g_source_destroy (w->tick);
  g_source_unref (w->tick);
  cs_inbox_free (w->inbox);
  cs_outbox_free (w->outbox);
  cs_rtx_store_free (w->rtx);
  cs_mailbox_free (w->box);
  g_hash_table_unref (w->peers);
  g_hash_table_unref (w->rooms);
  g_main_loop_unref (w->loop);
  g_main_context_unref (w->context);
  g_free (w);
}
