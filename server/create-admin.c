/* create-admin.c — see create-admin.h. Runs before (and instead of) the
 * server, on a main loop of its own. */
#include "server/create-admin.h"

#include "records/api-support.h"
#include "server/cli-records.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PASSWORD 1024

typedef struct {
  GMainLoop *loop;
  CsRecords *db;
  CsUser *user;
  GError *error;
} Bootstrap;

/* One line from stdin, without its newline; no echo on a terminal. */
static char *
read_password (void)
{
  gboolean tty = isatty (STDIN_FILENO);
  struct termios old, quiet;
  if (tty) {
    fprintf (stderr, "Password for the new admin: ");
    fflush (stderr);
    tcgetattr (STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t) ECHO;
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  char buf[MAX_PASSWORD + 2];
  char *line = fgets (buf, sizeof buf, stdin);
  if (tty) {
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
    fprintf (stderr, "\n");
  }
  if (!line)
    return NULL;
  buf[strcspn (buf, "\r\n")] = '\0';
  char *out = g_strdup (buf);
  memset (buf, 0, sizeof buf);
  return out;
}

static void
on_created (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Bootstrap *b = user_data;
  b->user = cs_records_bootstrap_admin_finish (b->db, res, &b->error);
  g_main_loop_quit (b->loop);
}

int
cs_create_admin (const CsServerConfig *config, const char *email, const char *name)
{
  if (!email) {
    g_printerr ("consiliumd: --create-admin needs --email\n");
    return 2;
  }
  if (!config->has_database) {
    g_printerr ("consiliumd: --create-admin needs [database] database_url in the configuration\n");
    return 2;
  }
  g_autofree char *password = read_password ();
  if (!password || !*password) {
    g_printerr ("consiliumd: no password on standard input\n");
    return 2;
  }

  const CsRecordsConfig *dbc = &config->database;
  g_autoptr (GError) error = NULL;
  if (!cs_records_migrate_sync (dbc->owner_conninfo ? dbc->owner_conninfo : dbc->conninfo, NULL,
                                &error)) {
    g_printerr ("consiliumd: database: %s\n", error->message);
    return 1;
  }
  Bootstrap b = { .loop = g_main_loop_new (NULL, FALSE) };
  b.db = cs_cli_records_open (dbc, b.loop, &error);
  int status = 0;
  if (!b.db) {
    g_printerr ("consiliumd: database: %s\n", error->message);
    status = 1;
  } else {
    CsNewUser nu = { .email = email, .password = password,
                     .display_name = name ? name : "Administrator" };
    cs_records_bootstrap_admin_async (b.db, &nu, "cli", NULL, on_created, &b);
    g_main_loop_run (b.loop);
    if (b.user) {
      printf ("consiliumd: created admin %s (id %" G_GINT64_FORMAT "); set up TOTP at the "
              "first login\n", b.user->email, b.user->id);
    } else {
      g_printerr ("consiliumd: %s\n", b.error->message);
      status = g_error_matches (b.error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID) ||
               g_error_matches (b.error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_EXISTS) ? 2 : 1;
    }
  }
  memset (password, 0, strlen (password));
  cs_user_free (b.user);
  g_clear_error (&b.error);
  cs_records_free (b.db);
  g_main_loop_unref (b.loop);
  return status;
}
