/* verify-audit.c — see verify-audit.h. Runs before (and instead of) the
 * server, on a main loop of its own. Read-only: no migrations, no audit
 * record of its own, so running it never moves the head it reports. */
#include "server/verify-audit.h"

#include "server/cli-records.h"

#include <stdio.h>

typedef struct {
  GMainLoop *loop;
  CsRecords *db;
  CsAuditReport *report;
  GError *error;
} Verify;

static void
on_verified (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Verify *v = user_data;
  v->report = cs_records_audit_verify_finish (v->db, res, &v->error);
  g_main_loop_quit (v->loop);
}

int
cs_verify_audit (const CsServerConfig *config)
{
  if (!config->has_database) {
    g_printerr ("consiliumd: --verify-audit needs [database] database_url in the configuration\n");
    return 2;
  }
  g_autoptr (GError) error = NULL;
  Verify v = { .loop = g_main_loop_new (NULL, FALSE) };
  v.db = cs_cli_records_open (&config->database, v.loop, &error);
  int status = 1;
  if (!v.db) {
    g_printerr ("consiliumd: database: %s\n", error->message);
  } else {
    cs_records_audit_verify_async (v.db, NULL, on_verified, &v);
    g_main_loop_run (v.loop);
    if (!v.report) {
      g_printerr ("consiliumd: database: %s\n", v.error->message);
    } else if (v.report->first_broken_id) {
      printf ("audit chain broken at record %" G_GINT64_FORMAT ": %s\n",
              v.report->first_broken_id, v.report->reason);
    } else {
      char head[65];
      for (guint i = 0; i < 32; i++)
        g_snprintf (head + 2 * i, 3, "%02x", v.report->head_hash[i]);
      printf ("audit chain ok: %" G_GUINT64_FORMAT " records, head %s\n", v.report->checked,
              head);
      status = 0;
    }
  }
  cs_audit_report_free (v.report);
  g_clear_error (&v.error);
  cs_records_free (v.db);
  g_main_loop_unref (v.loop);
  return status;
}
