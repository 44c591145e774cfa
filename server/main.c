/* main.c — consiliumd: reads the configuration, migrates the database and
 * starts the records pool, the signaling front (with the REST API) and the
 * media engine on one GLib main loop, and stops them cleanly on
 * SIGINT/SIGTERM. Also mints room tokens (--mint-token), creates the first
 * admin (--create-admin) and verifies the audit chain (--verify-audit) for
 * run.sh and operators. */
#include "records/records.h"
#include "server/config.h"
#include "server/create-admin.h"
#include "server/verify-audit.h"
#include "signaling/signaling.h"

#include <glib-unix.h>
#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_TTL 3600
/* Housekeeping on the loop (records.h): reminders every [clinic]
 * reminder_interval_seconds (a minute), slots materialised to the horizon
 * every hour and once at start-up. */
#define SLOTS_INTERVAL_S 3600

/* Process-wide state lives here and only here. */
typedef struct {
  CsServerConfig config;
  GMainLoop *loop;
  CsSignaling *signaling;
  CsMedia *media;
  CsRecords *records;           /* NULL without [database] */
  CsMailer *mailer;             /* NULL without [smtp] url */
  char *public_url;             /* base of the links in e-mails */
  guint64 reminder_batch;       /* rounds of reminders, for the mailer's logging */
  guint sigint_id;
  guint sigterm_id;
  guint reminders_id;
  guint slots_id;
  gboolean reminders_running;   /* one query at a time, however slow the database */
  gboolean slots_running;
} CsServer;

/* Read by the log writer, which GLib allows to be installed only once:
 * text until the configuration says otherwise. */
static CsLogFormat log_format = CS_LOG_FORMAT_TEXT;

static const char *
level_name (GLogLevelFlags level)
{
  switch (level & G_LOG_LEVEL_MASK) {
  case G_LOG_LEVEL_ERROR:
    return "error";
  case G_LOG_LEVEL_CRITICAL:
    return "critical";
  case G_LOG_LEVEL_WARNING:
    return "warning";
  case G_LOG_LEVEL_MESSAGE:
    return "message";
  case G_LOG_LEVEL_INFO:
    return "info";
  default:
    return "debug";
  }
}

/* Fields worth printing besides the message; CODE_* and GLib internals are
 * noise in production logs. */
static gboolean
field_is_context (const char *key)
{
  return strcmp (key, "MESSAGE") != 0 && strcmp (key, "PRIORITY") != 0 &&
         strcmp (key, "GLIB_DOMAIN") != 0 && strcmp (key, "GLIB_OLD_LOG_API") != 0 &&
         !g_str_has_prefix (key, "CODE_");
}

static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *domain = NULL, *message = NULL;
  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
    else if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  }
  /* Honour G_MESSAGES_DEBUG for debug output; info and above always go out. */
  if ((level & G_LOG_LEVEL_DEBUG) && g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;

  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ts = g_date_time_format_iso8601 (now);
  g_autofree char *line = NULL;

  if (log_format == CS_LOG_FORMAT_JSON) {
    json_t *obj = json_pack ("{s:s, s:s, s:s?, s:s?}", "ts", ts, "level", level_name (level),
                             "domain", domain, "message", message);
    for (gsize i = 0; i < n_fields; i++) {
      if (fields[i].length != -1 || !field_is_context (fields[i].key) || !*(const char *) fields[i].value)
        continue;
      g_autofree char *key = g_ascii_strdown (fields[i].key, -1);
      json_object_set_new (obj, key, json_string (fields[i].value));
    }
    char *s = json_dumps (obj, JSON_COMPACT);
    json_decref (obj);
    line = g_strdup (s);
    free (s);
  } else {
    GString *s = g_string_new (NULL);
    g_string_append_printf (s, "%s %s %s: %s", ts, level_name (level), domain ? domain : "-",
                            message ? message : "");
    for (gsize i = 0; i < n_fields; i++) {
      if (fields[i].length != -1 || !field_is_context (fields[i].key) || !*(const char *) fields[i].value)
        continue;
      g_autofree char *key = g_ascii_strdown (fields[i].key, -1);
      g_string_append_printf (s, " %s=%s", key, (const char *) fields[i].value);
    }
    line = g_string_free (s, FALSE);
  }
  fprintf (stderr, "%s\n", line);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

static gboolean
on_signal (gpointer user_data)
{
  CsServer *server = user_data;
  g_message ("shutting down");
  g_main_loop_quit (server->loop);
  return G_SOURCE_CONTINUE;
}

static void
append_metrics (GString *out, gpointer user_data)
{
  CsServer *server = user_data;
  if (server->media)
    cs_media_append_metrics (server->media, out);
  if (server->mailer) {
    guint64 sent, failed, dropped;
    cs_mailer_get_counts (server->mailer, &sent, &failed, &dropped);
    g_string_append_printf (out,
      "# HELP consilium_reminder_emails_total Reminder e-mails by outcome (dropped: queue full).\n"
      "# TYPE consilium_reminder_emails_total counter\n"
      "consilium_reminder_emails_total{result=\"sent\"} %" G_GUINT64_FORMAT "\n"
      "consilium_reminder_emails_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n"
      "consilium_reminder_emails_total{result=\"dropped\"} %" G_GUINT64_FORMAT "\n",
      sent, failed, dropped);
  }
}

/* ---- housekeeping timers */

static void
on_slots_extended (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsServer *server = user_data;
  g_autoptr (GError) error = NULL;
  if (cs_records_slots_extend_finish (server->records, res, &error)) {
    server->slots_running = FALSE;
    return;
  }
  /* Cancelled: the server is stopping and @server is being cleared. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  server->slots_running = FALSE;
  g_warning ("slots not extended: %s", error->message);
}

static gboolean
extend_slots (gpointer user_data)
{
  CsServer *server = user_data;
  if (!server->slots_running && cs_records_is_available (server->records)) {
    server->slots_running = TRUE;
    cs_records_slots_extend_async (server->records, on_slots_extended, server);
  }
  return G_SOURCE_CONTINUE;
}

static void
on_emailed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsServer *server = user_data;
  g_autoptr (GError) error = NULL;
  if (!cs_records_notification_emailed_finish (server->records, res, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("reminder e-mailed but not marked so: %s", error->message);
}

/* The mail server accepted (or refused) one reminder. A refused one keeps
 * emailed_at NULL and is not tried again (docs/operations.md). */
static void
on_mail_done (gint64 notification_id, gboolean sent, gpointer user_data)
{
  CsServer *server = user_data;
  if (sent && server->records)
    cs_records_notification_emailed_async (server->records, notification_id, on_emailed, server);
}

/* The reminder e-mail, in English and Chinese as the recipient's language
 * is not known. Only the time, the doctor's name and the link: never the
 * reason for the visit or anything about the patient. Times in UTC, as the
 * recipient's time zone is not known either. */
static gboolean
reminder_mail (const CsServer *server, json_t *r, char **subject, char **body)
{
  json_t *appt = json_object_get (r, "appointment");
  json_t *doctor = json_object_get (appt, "doctor");
  const char *starts = json_string_value (json_object_get (appt, "starts_at"));
  const char *type = json_string_value (json_object_get (appt, "visit_type"));
  const char *doctor_name = json_string_value (json_object_get (doctor, "name"));
  json_int_t appt_id = json_integer_value (json_object_get (appt, "id"));
  gboolean to_doctor = json_integer_value (json_object_get (r, "user_id")) ==
                       json_integer_value (json_object_get (doctor, "id"));
  g_autoptr (GDateTime) at = starts ? g_date_time_new_from_iso8601 (starts, NULL) : NULL;
  if (!at || appt_id <= 0)
    return FALSE;
  g_autoptr (GDateTime) utc = g_date_time_to_utc (at);
  g_autofree char *hm = g_date_time_format (utc, "%H:%M");
  g_autofree char *day = g_date_time_format (utc, "%Y-%m-%d");
  const char *en = "video visit", *zh = "视频就诊";
  if (g_strcmp0 (type, "audio") == 0)
    en = "audio visit", zh = "语音就诊";
  else if (g_strcmp0 (type, "follow_up") == 0)
    en = "follow-up visit", zh = "复诊";
  g_autofree char *link = g_strdup_printf ("%s/visit.html?appointment=%" JSON_INTEGER_FORMAT,
                                           server->public_url, appt_id);
  g_autofree char *with_en = !to_doctor && doctor_name ? g_strdup_printf (" with %s", doctor_name)
                                                       : g_strdup ("");
  g_autofree char *with_zh = !to_doctor && doctor_name ? g_strdup_printf ("与 %s 的", doctor_name)
                                                       : g_strdup ("的");
  *subject = g_strdup_printf ("Reminder: your %s at %s UTC / 就诊提醒", en, hm);
  *body = g_strdup_printf (
    "Your %s%s starts at %s UTC on %s.\n"
    "Join it here (sign in first if asked):\n%s\n\n"
    "您%s%s将于 %s %s（UTC）开始。\n"
    "请通过以下链接进入（如有提示，请先登录）：\n%s\n\n"
    "This message was sent automatically by Consilium; please do not reply.\n"
    "此邮件由 Consilium 自动发送，请勿回复。\n",
    en, with_en, hm, day, link, with_zh, zh, day, hm, link);
  return TRUE;
}

static void
email_reminder (CsServer *server, json_t *r)
{
  const char *email = json_string_value (json_object_get (r, "email"));
  json_int_t id = json_integer_value (json_object_get (r, "notification_id"));
  g_autofree char *subject = NULL, *body = NULL;
  if (email && reminder_mail (server, r, &subject, &body))
    cs_mailer_send (server->mailer, server->reminder_batch, id, email, subject, body);
}

/* Each due reminder becomes an in-app notification on the user's
 * subscribed WebSockets (docs/signaling.md, "notification"), and an e-mail
 * when [smtp] is configured. */
static void
on_reminders (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsServer *server = user_data;
  g_autoptr (GError) error = NULL;
  json_t *due = cs_records_reminders_due_finish (server->records, res, &error);
  if (!due && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  server->reminders_running = FALSE;
  if (!due) {
    g_warning ("reminders not collected: %s", error->message);
    return;
  }
  size_t i;
  json_t *r;
  guint pushed = 0;
  server->reminder_batch++;
  json_array_foreach (due, i, r) {
    if (server->mailer)
      email_reminder (server, r);
    json_t *appt = json_object_get (r, "appointment");
    /* The shape of GET /api/v1/notifications items, plus the appointment. */
    json_t *note = json_pack ("{s:O?, s:s, s:O?, s:{s:O?}, s:b, s:O?}",
                              "id", json_object_get (r, "notification_id"),
                              "kind", "appointment.reminder",
                              "appointment_id", json_object_get (appt, "id"),
                              "data", "starts_at", json_object_get (appt, "starts_at"),
                              "read", FALSE, "appointment", appt);
    if (note && server->signaling)
      pushed += cs_signaling_notify_user (server->signaling,
                                          json_integer_value (json_object_get (r, "user_id")),
                                          note);
    json_decref (note);
  }
  g_debug ("%zu reminders due, %u pushed to open pages", json_array_size (due), pushed);
  json_decref (due);
}

static gboolean
send_reminders (gpointer user_data)
{
  CsServer *server = user_data;
  if (!server->reminders_running && cs_records_is_available (server->records)) {
    server->reminders_running = TRUE;
    cs_records_reminders_due_async (server->records, on_reminders, server);
  }
  return G_SOURCE_CONTINUE;
}

static int
mint_token (const CsServerConfig *config, const char *room, const char *user, const char *name,
            const char *role, gint64 ttl)
{
  if (!room || !user || !name || !role) {
    g_printerr ("consiliumd: --mint-token needs --room, --user, --name and --role\n");
    return 2;
  }
  if (ttl <= 0) {
    g_printerr ("consiliumd: --ttl must be a positive number of seconds\n");
    return 2;
  }
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  CsTokenClaims claims = {
    .room = (char *) room, .user = (char *) user, .name = (char *) name,
    .role = (char *) role, .exp = now + ttl, .iat = now,
  };
  gsize len;
  const guint8 *secret = g_bytes_get_data (config->token_secret, &len);
  g_autofree char *token = cs_token_sign (secret, len, &claims);
  if (!token) {
    g_printerr ("consiliumd: invalid claims: --room must be 1-64 of [A-Za-z0-9_.-], "
                "--user 1-64 and --name 1-128 characters of UTF-8 text, --role one of "
                "patient, doctor, specialist, clinic, guest, observer\n");
    return 2;
  }
  printf ("%s\n", token);
  return 0;
}

static void
server_clear (CsServer *server)
{
  if (server->sigint_id)
    g_source_remove (server->sigint_id);
  if (server->sigterm_id)
    g_source_remove (server->sigterm_id);
  if (server->reminders_id)
    g_source_remove (server->reminders_id);
  if (server->slots_id)
    g_source_remove (server->slots_id);
  /* Before records: its results would mark notifications. */
  g_clear_pointer (&server->mailer, cs_mailer_free);
  /* Signaling first: its sessions still remove their peers from media. */
  g_clear_pointer (&server->signaling, cs_signaling_free);
  g_clear_pointer (&server->media, cs_media_free);
  g_clear_pointer (&server->records, cs_records_free);
  g_clear_pointer (&server->loop, g_main_loop_unref);
  g_clear_pointer (&server->public_url, g_free);
  cs_server_config_clear (&server->config);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CsServer, server_clear)

/* Migrations run before anything listens, so no request ever sees an old
 * schema; a database that is down at start is a start failure (later
 * outages are survived by the pool). */
static gboolean
records_start (CsServer *server, GError **error)
{
  const CsRecordsConfig *dbc = &server->config.database;
  if (!server->config.has_database) {
    g_message ("no [database] configured: the REST API answers 503");
    return TRUE;
  }
  guint version = 0;
  if (!cs_records_migrate_sync (dbc->owner_conninfo ? dbc->owner_conninfo : dbc->conninfo,
                                &version, error)) {
    g_prefix_error (error, "database: ");
    return FALSE;
  }
  g_info ("database schema at version %u", version);
  server->records = cs_records_new (dbc, g_main_loop_get_context (server->loop), error);
  if (!server->records)
    g_prefix_error (error, "database: ");
  return server->records != NULL;
}

/* "https://ADDR:PORT" (IPv6 in brackets), without the final '/'. */
static char *
base_url (const char *addr, guint16 port)
{
  gboolean v6 = strchr (addr, ':') != NULL;
  return g_strdup_printf ("https://%s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "", port);
}

static gboolean
server_start (CsServer *server, GError **error)
{
  const CsServerConfig *c = &server->config;
  server->loop = g_main_loop_new (NULL, FALSE);
  if (!records_start (server, error))
    return FALSE;

  g_autofree char *stun_url = c->stun_server ? g_strconcat ("stun:", c->stun_server, NULL) : NULL;
  const char *ice_urls[] = { stun_url, NULL };
  gsize secret_len;
  const guint8 *secret = g_bytes_get_data (c->token_secret, &secret_len);
  CsSignalingConfig sc = {
    .loop = server->loop,
    .listen_address = c->listen_address,
    .port = c->port,
    .tls_cert = c->tls_cert,
    .tls_key = c->tls_key,
    .web_root = c->web_root,
    .token_secret = secret,
    .token_secret_len = secret_len,
    .max_participants = c->max_participants,
    .ice_urls = ice_urls,
    .records = server->records,
    .room_token_ttl = c->room_token_ttl,
    .file_max_bytes = c->database.file_max_bytes,
  };
  server->signaling = cs_signaling_new (&sc, error);
  if (!server->signaling)
    return FALSE;

  CsMediaConfig mc = {
    .main_context = g_main_loop_get_context (server->loop),
    .n_workers = c->workers,
    .bind_address = c->bind_address,
    .port_min = c->port_min,
    .port_max = c->port_max,
    .max_video_bitrate = c->max_video_bitrate,
    .stun_server = c->stun_server,
  };
  server->media = cs_media_new (&mc, cs_signaling_media_events (), server->signaling, error);
  if (!server->media)
    return FALSE;
  cs_signaling_set_media (server->signaling, server->media);
  cs_signaling_set_metrics_func (server->signaling, append_metrics, server);

  /* Links in e-mails and FHIR's absolute URLs start here. */
  server->public_url = c->public_url ? g_strdup (c->public_url)
                                     : base_url (c->listen_address,
                                                 cs_signaling_get_port (server->signaling));
  cs_signaling_set_public_url (server->signaling, server->public_url);

  if (server->records) {
    extend_slots (server);
    server->slots_id = g_timeout_add_seconds (SLOTS_INTERVAL_S, extend_slots, server);
    server->reminders_id = g_timeout_add_seconds (c->reminder_interval, send_reminders, server);
    if (c->smtp.url) {
      server->mailer = cs_mailer_new (&c->smtp, g_main_loop_get_context (server->loop),
                                      on_mail_done, server);
      g_info ("reminders are also e-mailed, with links to %s", server->public_url);
    }
  }

  server->sigint_id = g_unix_signal_add (SIGINT, on_signal, server);
  server->sigterm_id = g_unix_signal_add (SIGTERM, on_signal, server);
  return TRUE;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_autofree char *config_path = NULL, *room = NULL, *user = NULL, *name = NULL, *role = NULL;
  g_autofree char *email = NULL;
  gboolean mint = FALSE, create_admin = FALSE, verify_audit = FALSE;
  gint64 ttl = DEFAULT_TTL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "mint-token", 0, 0, G_OPTION_ARG_NONE, &mint, "Print a room token and exit", NULL },
    { "room", 0, 0, G_OPTION_ARG_STRING, &room, "Room of the token", "ROOM" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "User id of the token (sub)", "USER" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      "Display name of the token (or of the admin to create)", "NAME" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role,
      "patient, doctor, specialist, clinic, guest or observer", "ROLE" },
    { "ttl", 0, 0, G_OPTION_ARG_INT64, &ttl, "Token lifetime in seconds (default 3600)", "SECONDS" },
    { "create-admin", 0, 0, G_OPTION_ARG_NONE, &create_admin,
      "Create an admin account (password on standard input) and exit", NULL },
    { "email", 0, 0, G_OPTION_ARG_STRING, &email, "Email of the admin to create", "EMAIL" },
    { "verify-audit", 0, 0, G_OPTION_ARG_NONE, &verify_audit,
      "Verify the audit hash chain, name the first broken record and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- Consilium teleconsultation server");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("consiliumd: %s\n", error->message);
    return 2;
  }
  if (!config_path) {
    g_printerr ("consiliumd: --config FILE is required\n");
    return 2;
  }

  g_auto (CsServer) server = { 0 };
  if (!cs_server_config_load (&server.config, config_path, &error)) {
    g_printerr ("consiliumd: %s\n", error->message);
    return 2;
  }
  if (mint)
    return mint_token (&server.config, room, user, name, role, ttl);
  if (create_admin)
    return cs_create_admin (&server.config, email, name);
  if (verify_audit)
    return cs_verify_audit (&server.config);

  log_format = server.config.log_format;
  g_log_set_writer_func (log_writer, NULL, NULL);

  if (!server_start (&server, &error)) {
    g_printerr ("consiliumd: %s\n", error->message);
    return 1;
  }
  g_autofree char *url = base_url (server.config.listen_address,
                                   cs_signaling_get_port (server.signaling));
  printf ("consiliumd: listening on %s/\n", url);
  fflush (stdout);

  g_main_loop_run (server.loop);
  return 0;
}
