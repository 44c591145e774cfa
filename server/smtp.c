/* smtp.c — the mailer: messages are composed on the main thread, queued
 * (bounded) to one sender thread that speaks SMTP through libcurl, and
 * their outcomes come back to the main context through one GSource. One
 * attempt per message: a mail server that is down costs one failure per
 * message, never a retry storm. */
#include "server/smtp.h"

#include <curl/curl.h>
#include <string.h>

struct _CsMailer {
  CsSmtpConfig cfg;             /* a copy */
  char *envelope_from;          /* "<from>" */
  char *domain;                 /* of from, for Message-IDs */
  CsMailerDone done;
  gpointer user_data;
  GAsyncQueue *jobs;            /* Job *: main thread -> sender */
  GAsyncQueue *results;         /* Job *: sender -> main thread */
  GSource *results_source;      /* made ready by the sender after each push */
  GThread *thread;
  gint stopping;                /* atomic: aborts the message being sent */
  /* Main thread only. */
  guint64 sent, failed, dropped;
  guint64 warned_batch;         /* the last batch whose failure was logged */
  gboolean warned;
};

typedef struct {
  guint64 batch;
  gint64 tag;
  char *rcpt;                   /* "<to>"; NULL marks the end of the queue */
  char *message;
  gsize len, pos;
  gboolean sent;
  CURLcode code;
  long reply;                   /* the SMTP server's last reply code, 0 if none */
  char errbuf[CURL_ERROR_SIZE];
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;
  g_free (job->rcpt);
  g_free (job->message);
  g_free (job);
}

void
cs_smtp_config_clear (CsSmtpConfig *cfg)
{
  if (!cfg)
    return;
  g_free (cfg->url);
  g_free (cfg->from);
  g_free (cfg->username);
  if (cfg->password)
    memset (cfg->password, 0, strlen (cfg->password));
  g_free (cfg->password);
  g_free (cfg->ca_file);
  memset (cfg, 0, sizeof *cfg);
}

gboolean
cs_smtp_address_is_valid (const char *address)
{
  if (!address)
    return FALSE;
  const char *at = strchr (address, '@');
  gsize n = strlen (address);
  if (!at || at == address || at[1] == '\0' || strchr (at + 1, '@') || n > 254)
    return FALSE;
  for (const char *p = address; *p; p++)
    if (*p <= ' ' || *p >= 0x7f || strchr ("<>()[]\\,;:\"", *p))
      return FALSE;
  return TRUE;
}

/* ---- composing ------------------------------------------------------------- */

/* RFC 2047 encoded words for a subject that is not plain ASCII: base64
 * UTF-8, at most 45 bytes (60 encoded characters) per word so every
 * folded line stays under 78, cut between characters. */
static void
append_subject (GString *out, const char *subject)
{
  gboolean ascii = TRUE;
  for (const char *p = subject; *p; p++)
    if (*p < ' ' || *p >= 0x7f)
      ascii = FALSE;
  g_string_append (out, "Subject: ");
  if (ascii) {
    g_string_append_printf (out, "%s\r\n", subject);
    return;
  }
  const char *p = subject;
  while (*p) {
    const char *end = p;
    while (*end) {
      const char *next = g_utf8_next_char (end);
      if (next - p > 45)
        break;
      end = next;
    }
    g_autofree char *b64 = g_base64_encode ((const guchar *) p, (gsize) (end - p));
    g_string_append_printf (out, "%s=?UTF-8?B?%s?=", p == subject ? "" : "\r\n ", b64);
    p = end;
  }
  g_string_append (out, "\r\n");
}

/* RFC 5322 wants English day and month names whatever the locale. */
static void
append_date (GString *out, GDateTime *date)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr (GDateTime) utc = g_date_time_to_utc (date);
  g_string_append_printf (out, "Date: %s, %02d %s %d %02d:%02d:%02d +0000\r\n",
                          days[g_date_time_get_day_of_week (utc) - 1],
                          g_date_time_get_day_of_month (utc),
                          months[g_date_time_get_month (utc) - 1], g_date_time_get_year (utc),
                          g_date_time_get_hour (utc), g_date_time_get_minute (utc),
                          g_date_time_get_second (utc));
}

/* The whole message: CRLF lines, the body base64 (no 8BITMIME needed,
 * and no line of the body can be taken for the end of the data). */
static char *
compose (const char *from, const char *to, const char *subject, const char *body,
         const char *message_id, gsize *len)
{
  GString *out = g_string_new (NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  append_date (out, now);
  g_string_append_printf (out, "From: %s\r\nTo: %s\r\n", from, to);
  append_subject (out, subject);
  g_string_append_printf (out, "Message-ID: <%s>\r\n", message_id);
  g_string_append (out, "MIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=UTF-8\r\n"
                   "Content-Transfer-Encoding: base64\r\n"
                   "Auto-Submitted: auto-generated\r\n\r\n");

  g_auto (GStrv) lines = g_strsplit (body, "\n", -1);
  g_autofree char *crlf = g_strjoinv ("\r\n", lines);
  g_autofree char *b64 = g_base64_encode ((const guchar *) crlf, strlen (crlf));
  for (gsize i = 0, n = strlen (b64); i < n; i += 76) {
    g_string_append_len (out, b64 + i, (gssize) MIN (76, n - i));
    g_string_append (out, "\r\n");
  }
  *len = out->len;
  return g_string_free (out, FALSE);
}

/* ---- the sender thread ---------------------------------------------------------- */

static size_t
read_message (char *buf, size_t size, size_t nitems, void *data)
{
  Job *job = data;
  size_t n = MIN (size * nitems, job->len - job->pos);
  memcpy (buf, job->message + job->pos, n);
  job->pos += n;
  return n;
}

/* Called about once a second during a transfer: a stopping server must
 * not wait for a slow mail server. */
static int
abort_if_stopping (void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow)
{
  CsMailer *mailer = data;
  return g_atomic_int_get (&mailer->stopping);
}

static void
send_one (CsMailer *m, CURL *curl, Job *job)
{
  static const long use_ssl[] = {
    [CS_SMTP_STARTTLS_REQUIRED] = CURLUSESSL_ALL,
    [CS_SMTP_STARTTLS_OPTIONAL] = CURLUSESSL_TRY,
    [CS_SMTP_STARTTLS_OFF] = CURLUSESSL_NONE,
  };
  const CsSmtpConfig *c = &m->cfg;
  /* Keeps the connection cache: a batch goes out over one connection. */
  curl_easy_reset (curl);
  struct curl_slist *rcpt = curl_slist_append (NULL, job->rcpt);
  curl_easy_setopt (curl, CURLOPT_URL, c->url);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_MAIL_FROM, m->envelope_from);
  curl_easy_setopt (curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt (curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt (curl, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt (curl, CURLOPT_READDATA, job);
  curl_easy_setopt (curl, CURLOPT_USE_SSL, use_ssl[c->starttls]);
  if (c->ca_file)
    curl_easy_setopt (curl, CURLOPT_CAINFO, c->ca_file);
  if (c->username) {
    curl_easy_setopt (curl, CURLOPT_USERNAME, c->username);
    curl_easy_setopt (curl, CURLOPT_PASSWORD, c->password ? c->password : "");
  }
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, (long) c->timeout_seconds);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, (long) c->timeout_seconds);
  curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, abort_if_stopping);
  curl_easy_setopt (curl, CURLOPT_XFERINFODATA, m);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, job->errbuf);
  job->code = curl_easy_perform (curl);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &job->reply);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all (rcpt);
  job->sent = job->code == CURLE_OK;
}

static gpointer
sender_main (gpointer data)
{
  CsMailer *m = data;
  CURL *curl = curl_easy_init ();
  for (;;) {
    Job *job = g_async_queue_pop (m->jobs);
    if (!job->rcpt) {
      job_free (job);
      break;
    }
    if (!curl || g_atomic_int_get (&m->stopping))
      job->code = curl ? CURLE_ABORTED_BY_CALLBACK : CURLE_FAILED_INIT;
    else
      send_one (m, curl, job);
    g_async_queue_push (m->results, job);
    /* Thread-safe: wakes the main context up. */
    g_source_set_ready_time (m->results_source, 0);
  }
  if (curl)
    curl_easy_cleanup (curl);
  return NULL;
}

/* ---- results on the main context ------------------------------------------------ */

static gboolean
results_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  /* Before draining: a push racing with the drain makes it ready again. */
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

/* Never written: g_source_new() just takes a non-const table. */
static GSourceFuncs results_funcs = { .dispatch = results_dispatch };

static gboolean
deliver_results (gpointer data)
{
  CsMailer *m = data;
  Job *job;
  while ((job = g_async_queue_try_pop (m->results))) {
    if (job->sent) {
      m->sent++;
    } else {
      m->failed++;
      /* The library's own text can name the server's reply, never the
       * recipient; the detail is for debugging only. */
      if (!m->warned || m->warned_batch != job->batch)
        g_warning ("e-mail not sent: %s (SMTP reply %ld); further failures of this round "
                   "are only counted (consilium_reminder_emails_total)",
                   curl_easy_strerror (job->code), job->reply);
      g_debug ("e-mail %" G_GINT64_FORMAT " not sent: %s", job->tag, job->errbuf);
      m->warned = TRUE;
      m->warned_batch = job->batch;
    }
    if (m->done)
      m->done (job->tag, job->sent, m->user_data);
    job_free (job);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- public ------------------------------------------------------------------ */

CsMailer *
cs_mailer_new (const CsSmtpConfig *cfg, GMainContext *context, CsMailerDone done,
               gpointer user_data)
{
  g_return_val_if_fail (cfg != NULL && cfg->url != NULL && cfg->from != NULL, NULL);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  CsMailer *m = g_new0 (CsMailer, 1);
  m->cfg = (CsSmtpConfig) {
    .url = g_strdup (cfg->url), .from = g_strdup (cfg->from), .starttls = cfg->starttls,
    .username = g_strdup (cfg->username), .password = g_strdup (cfg->password),
    .ca_file = g_strdup (cfg->ca_file), .timeout_seconds = cfg->timeout_seconds,
  };
  m->envelope_from = g_strdup_printf ("<%s>", cfg->from);
  m->domain = g_strdup (strchr (cfg->from, '@') + 1);
  m->done = done;
  m->user_data = user_data;
  m->jobs = g_async_queue_new_full (job_free);
  m->results = g_async_queue_new_full (job_free);
  m->results_source = g_source_new (&results_funcs, sizeof (GSource));
  g_source_set_name (m->results_source, "cs-smtp results");
  g_source_set_ready_time (m->results_source, -1);
  g_source_set_callback (m->results_source, deliver_results, m, NULL);
  g_source_attach (m->results_source, context);
  m->thread = g_thread_new ("cs-smtp", sender_main, m);
  return m;
}

void
cs_mailer_free (CsMailer *m)
{
  if (!m)
    return;
  g_atomic_int_set (&m->stopping, 1);
  g_async_queue_push (m->jobs, g_new0 (Job, 1));
  g_thread_join (m->thread);
  g_source_destroy (m->results_source);
  g_source_unref (m->results_source);
  g_async_queue_unref (m->jobs);
  g_async_queue_unref (m->results);
  g_free (m->envelope_from);
  g_free (m->domain);
  cs_smtp_config_clear (&m->cfg);
  g_free (m);
  curl_global_cleanup ();
}

gboolean
cs_mailer_send (CsMailer *m, guint64 batch, gint64 tag, const char *to, const char *subject,
                const char *body)
{
  g_return_val_if_fail (m != NULL && subject != NULL && body != NULL, FALSE);
  if (!cs_smtp_address_is_valid (to)) {
    m->failed++;
    g_debug ("e-mail %" G_GINT64_FORMAT " not sent: unusable address", tag);
    return FALSE;
  }
  if (g_async_queue_length (m->jobs) >= CS_MAILER_QUEUE_MAX) {
    m->dropped++;
    return FALSE;
  }
  Job *job = g_new0 (Job, 1);
  job->batch = batch;
  job->tag = tag;
  job->rcpt = g_strdup_printf ("<%s>", to);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *message_id = g_strdup_printf ("%s@%s", uuid, m->domain);
  job->message = compose (m->cfg.from, to, subject, body, message_id, &job->len);
  g_async_queue_push (m->jobs, job);
  return TRUE;
}

void
cs_mailer_get_counts (CsMailer *m, guint64 *sent, guint64 *failed, guint64 *dropped)
{
  g_return_if_fail (m != NULL);
  *sent = m->sent;
  *failed = m->failed;
  *dropped = m->dropped;
}
