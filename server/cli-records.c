/* cli-records.c — see cli-records.h. */
#include "server/cli-records.h"

#define CONNECT_TIMEOUT_MS 10000
#define POLL_MS 20

typedef struct {
  GMainLoop *loop;
  CsRecords *db;
} Wait;

static gboolean
on_timeout (gpointer user_data)
{
  Wait *w = user_data;
  g_main_loop_quit (w->loop);
  return G_SOURCE_CONTINUE;   /* removed by cs_cli_records_open */
}

/* The pool reports no "connected" event: poll, briefly, as a one-shot
 * command can afford to. */
static gboolean
poll_available (gpointer user_data)
{
  Wait *w = user_data;
  if (cs_records_is_available (w->db))
    g_main_loop_quit (w->loop);
  return G_SOURCE_CONTINUE;
}

CsRecords *
cs_cli_records_open (const CsRecordsConfig *cfg, GMainLoop *loop, GError **error)
{
  g_autoptr (CsRecords) db = cs_records_new (cfg, NULL, error);
  if (!db)
    return NULL;
  Wait w = { .loop = loop, .db = db };
  guint timeout = g_timeout_add (CONNECT_TIMEOUT_MS, on_timeout, &w);
  guint poll = g_timeout_add (POLL_MS, poll_available, &w);
  g_main_loop_run (loop);
  g_source_remove (timeout);
  g_source_remove (poll);
  if (!cs_records_is_available (db)) {
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_UNAVAILABLE,
                 "database unreachable (no connection within %d s)", CONNECT_TIMEOUT_MS / 1000);
    return NULL;
  }
  return g_steal_pointer (&db);
}
