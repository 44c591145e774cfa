/* smtp.h — e-mail through a configured SMTP server (libcurl), sent by one
 * thread of its own so the main loop never waits on a mail server. Private
 * header of server/; the [smtp] keys are in docs/config.md. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  CS_SMTP_STARTTLS_REQUIRED,    /* smtp://: upgrade or do not send */
  CS_SMTP_STARTTLS_OPTIONAL,    /* smtp://: upgrade when offered */
  CS_SMTP_STARTTLS_OFF,         /* smtp://: plain text (a relay on loopback) */
} CsSmtpStarttls;

typedef struct {
  char *url;                    /* smtp://host:port or smtps://host:port; NULL: no e-mail */
  char *from;                   /* envelope and header sender, a bare address */
  CsSmtpStarttls starttls;      /* ignored for smtps:// (TLS from the start) */
  char *username;               /* NULL: no AUTH */
  char *password;
  char *ca_file;                /* NULL: the system's CA store */
  guint timeout_seconds;        /* per message, connection included */
} CsSmtpConfig;

void cs_smtp_config_clear (CsSmtpConfig *cfg);

/* TRUE for an address safe to put in an envelope and a header: printable
 * ASCII without spaces, quotes, angle brackets or commas, one '@' with text
 * on both sides. */
gboolean cs_smtp_address_is_valid (const char *address);

typedef struct _CsMailer CsMailer;

/* Messages queued beyond this are dropped (and counted): a dead mail
 * server must not grow the process without bound. */
#define CS_MAILER_QUEUE_MAX 256

/* Called on the mailer's GMainContext once per queued message, after the
 * one attempt to send it; @tag is cs_mailer_send()'s. */
typedef void (*CsMailerDone) (gint64 tag, gboolean sent, gpointer user_data);

/* Starts the sender thread. @cfg is copied; @cfg->url must be set.
 * Results are delivered on @context (transfer none). */
CsMailer *cs_mailer_new (const CsSmtpConfig *cfg, GMainContext *context, CsMailerDone done,
                         gpointer user_data);
/* Stops the thread (a message being sent is aborted); results not yet
 * delivered are discarded without calling done. NULL-safe. */
void cs_mailer_free (CsMailer *mailer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsMailer, cs_mailer_free)

/* Queues one plain-text UTF-8 message to @to (transfer none, copied).
 * @batch groups the messages of one round: a failing mail server is
 * logged once per batch, the other failures only counted. Returns FALSE
 * (and counts the message as dropped, or as failed for an invalid @to)
 * when it was not queued. Main thread only. */
gboolean cs_mailer_send (CsMailer *mailer, guint64 batch, gint64 tag, const char *to,
                         const char *subject, const char *body);

/* Messages sent, failed and dropped since the start. */
void cs_mailer_get_counts (CsMailer *mailer, guint64 *sent, guint64 *failed, guint64 *dropped);

G_END_DECLS
