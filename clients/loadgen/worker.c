/* worker.c — one load-generator thread: a GMainContext running a
 * libwebsockets context and the CsClients of its participants, paced by
 * a 1 ms tick that starts joins (staggered) and sends every packet due
 * (what the pacer lets go: replay.c). */
#include "loadgen.h"

#include <stdarg.h>
#include <string.h>

#define TICK_MS 1

void
lg_client_fail (LgClient *c, const char *fmt, ...)
{
  if (c->state == LG_CLIENT_FAILED)
    return;
  c->state = LG_CLIENT_FAILED;
  c->sending = FALSE;
  va_list ap;
  va_start (ap, fmt);
  g_vsnprintf (c->error, sizeof c->error, fmt, ap);
  va_end (ap);
  if (!c->w->run->opt.quiet)
    g_printerr ("loadgen: %s: %s\n", c->name, c->error);
}

/* ---- CsClient events ---- */

/* Sends what every client owes by @now, and flushes it. */
static void
send_due (LgWorker *w, gint64 now)
{
  w->last_send_us = now;
  w->rx_since_send = 0;
  for (guint i = 0; i < w->clients->len; i++) {
    LgClient *c = g_ptr_array_index (w->clients, i);
    if (c->sending)
      lg_replay_tick (c, now);
  }
  cs_client_io_flush (w->io);
}

/* Near its core's limit this thread spends milliseconds on one batch of
 * received packets; sending only from the 1 ms tick then left gaps of
 * 1.5-2 ms with nothing sent, followed by everything owed at once, and the
 * SFU's delay measured those bursts. So sends also go out between
 * received packets, at most every SEND_EVERY_US. */
#define SEND_EVERY_US 250

static void
pc_rtp (gpointer ud, CsClient *pc, guint8 *packet, gsize len, gint64 arrival_us)
{
  LgClient *c = ud;
  LgWorker *w = c->w;
  lg_replay_receive (c, packet, len, arrival_us);
  if (++w->rx_since_send >= 16) {
    gint64 now = g_get_monotonic_time ();
    if (now - w->last_send_us >= SEND_EVERY_US)
      send_due (w, now);
    else
      w->rx_since_send = 0;
  }
}

static void
pc_state (gpointer ud, CsClient *pc, CsPeerState state)
{
  LgClient *c = ud;
  if (state == CS_PEER_STATE_FAILED) {
    lg_client_fail (c, "ICE or DTLS failed");
    return;
  }
  if (state != CS_PEER_STATE_CONNECTED || c->state == LG_CLIENT_FAILED)
    return;
  if (!c->connected_us)
    c->connected_us = g_get_monotonic_time ();
  /* A receiver of many streams on a busy core: 2 MiB of slack, not the
   * default ~200 KiB (about 0.2 s of five 1.2 Mbit/s streams). */
  cs_client_set_recv_buffer (pc, LG_RECV_BUFFER);
  c->state = LG_CLIENT_RUNNING;
  if (pc == c->pc && c->n_out && !c->sending) {
    lg_replay_start (c, g_get_monotonic_time ());
    c->sending = TRUE;
  }
}

static void
pc_candidate (gpointer ud, CsClient *pc, const char *candidate)
{
  LgClient *c = ud;
  if (c->on_candidate)
    c->on_candidate (c, pc, candidate);
}

static const CsClientEvents pc_events = { pc_rtp, NULL, pc_state, pc_candidate };

CsClient *
lg_client_new_pc (LgClient *c, const CsClientConfig *config)
{
  CsClientConfig cfg = *config;
  cfg.context = c->w->context;
  cfg.io = c->w->io;
  cfg.identity = c->w->run->identity;
  cfg.bind_address = c->w->run->opt.ice_bind;
  cfg.twcc_ext_id = c->w->run->opt.twcc ? LG_TWCC_ID : 0;
  g_autoptr (GError) error = NULL;
  CsClient *pc = cs_client_new (&cfg, &pc_events, c, &error);
  if (!pc)
    lg_client_fail (c, "cannot create the transport: %s", error->message);
  return pc;
}

void
lg_client_media_ready (LgClient *c)
{
  LgRun *run = c->w->run;
  c->n_out = 0;
  CsClientStream s;
  for (guint i = 0; c->pc && cs_client_get_stream (c->pc, i, &s); i++) {
    if (!s.sending || c->n_out == G_N_ELEMENTS (c->out))
      continue;
    gboolean video = s.kind == CS_MEDIA_KIND_VIDEO;
    LgOut *o = &c->out[c->n_out++];
    memset (o, 0, sizeof *o);
    o->id = 2 * c->plan.index + (video ? 1 : 0);
    o->track = video ? &run->video : &run->audio;
    o->pt = o->track->pt;
    o->ssrc = s.ssrc;
  }
}

/* ---- the thread ---- */

static void
client_free (LgClient *c)
{
  if (c->w->run->opt.sfu == LG_SFU_JANUS)
    lg_janus_free (c);
  else
    lg_consilium_free (c);
  lg_ws_free (c->ws);
  cs_client_free (c->pc);
  cs_client_free (c->sub_pc);
  g_free (c);
}

static gboolean
tick (gpointer data)
{
  LgWorker *w = data;
  LgRun *run = w->run;
  gint64 now = g_get_monotonic_time ();
  while (w->next_join < w->clients->len && now >= w->next_join_us) {
    LgClient *c = g_ptr_array_index (w->clients, w->next_join++);
    w->next_join_us += (gint64) (run->opt.join_interval_ms * 1000);
    c->join_us = now;
    c->state = LG_CLIENT_JOINING;
    if (run->opt.sfu == LG_SFU_JANUS)
      lg_janus_start (c);
    else
      lg_consilium_start (c);
  }
  send_due (w, now);
  if (now >= run->stop_us) {
    g_main_loop_quit (w->loop);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gpointer
worker_main (gpointer data)
{
  LgWorker *w = data;
  LgRun *run = w->run;
  g_main_context_push_thread_default (w->context);

  void *foreign_loops[] = { w->loop };
  struct lws_context_creation_info info = {
    .options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT,
    .foreign_loops = foreign_loops,
    .port = CONTEXT_PORT_NO_LISTEN,
    .protocols = lg_ws_protocols (),
    .count_threads = 1,
    .fd_limit_per_thread = 64 + 4 * w->clients->len,
  };
  g_mutex_lock (&run->lws_lock);
  w->lws = lws_create_context (&info);
  run->n_lws_created++;
  g_cond_broadcast (&run->lws_cond);
  while (run->n_lws_created < run->opt.threads)
    g_cond_wait (&run->lws_cond, &run->lws_lock);
  g_mutex_unlock (&run->lws_lock);
  if (!w->lws) {
    for (guint i = 0; i < w->clients->len; i++)
      lg_client_fail (g_ptr_array_index (w->clients, i),
                      "cannot create a libwebsockets context (libwebsockets-evlib-glib missing?)");
  } else {
    w->next_join_us = run->start_us;
    GSource *t = g_timeout_source_new (TICK_MS);
    g_source_set_callback (t, tick, w, NULL);
    g_source_attach (t, w->context);
    g_source_unref (t);
    g_main_loop_run (w->loop);
  }

  /* Results stay in the LgClients; transports and sockets go now. */
  for (guint i = 0; i < w->clients->len; i++) {
    LgClient *c = g_ptr_array_index (w->clients, i);
    c->sending = FALSE;
    if (run->opt.sfu == LG_SFU_JANUS)
      lg_janus_free (c);
    else
      lg_consilium_free (c);
    lg_ws_free (g_steal_pointer (&c->ws));
    g_clear_pointer (&c->pc, cs_client_free);
    g_clear_pointer (&c->sub_pc, cs_client_free);
  }
  if (w->lws) {
    g_mutex_lock (&run->lws_lock);
    lws_context_destroy (w->lws);
    g_mutex_unlock (&run->lws_lock);
  }
  while (g_main_context_iteration (w->context, FALSE))
    ;
  g_clear_pointer (&w->io, cs_client_io_free);
  g_main_context_pop_thread_default (w->context);
  return NULL;
}

LgWorker *
lg_worker_new (LgRun *run, guint index)
{
  LgWorker *w = g_new0 (LgWorker, 1);
  w->run = run;
  w->index = index;
  w->context = g_main_context_new ();
  w->loop = g_main_loop_new (w->context, FALSE);
  w->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  /* Batched sending and receiving, as the SFU does: the load generator must
   * not be the bottleneck near the SFU's capacity. */
  w->io = cs_client_io_new (w->context);
  return w;
}

void
lg_worker_start (LgWorker *w)
{
  char name[16];
  g_snprintf (name, sizeof name, "loadgen-%u", w->index);
  w->thread = g_thread_new (name, worker_main, w);
}

void
lg_worker_join (LgWorker *w)
{
  g_thread_join (w->thread);
  w->thread = NULL;
}

void
lg_worker_free (LgWorker *w)
{
  if (!w)
    return;
  g_ptr_array_unref (w->clients);
  cs_client_io_free (w->io);
  g_main_loop_unref (w->loop);
  g_main_context_unref (w->context);
  g_free (w);
}
