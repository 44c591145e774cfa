/* config.c — reads and checks consiliumd.conf. Every error names the file,
 * the [section] and the key, so a typo is fixed without reading code. */
#include "server/config.h"

#include <stdarg.h>
#include <string.h>

/* Shorter secrets make room tokens guessable offline. */
#define MIN_SECRET_BYTES 16

typedef struct {
  GKeyFile *kf;
  const char *path;
  char *dir;                    /* folder of the file, for relative paths */
} Reader;

static const char *const server_keys[] = {
  "listen_address", "port", "tls_cert", "tls_key", "web_root", "log_format", "public_url", NULL,
};
static const char *const auth_keys[] = { "token_secret", "room_token_ttl", NULL };
/* Read by records (cs_records_config_load); checked here for typos. */
static const char *const database_keys[] = {
  "database_url", "database_owner_url", "pool_size", "totp_key", "max_failed_logins",
  "lockout_seconds", "session_ttl_seconds", "session_idle_seconds", "reset_ttl_seconds",
  "argon2_t_cost", "argon2_m_cost_kib", NULL,
};
static const char *const clinic_keys[] = {
  "cancel_window_minutes", "room_open_minutes", "room_late_minutes", "slot_horizon_days",
  "file_max_bytes", "reminder_minutes", "reminder_interval_seconds", NULL,
};
static const char *const smtp_keys[] = {
  "url", "from", "starttls", "username", "password", "ca_file", "timeout_seconds", NULL,
};
static const char *const media_keys[] = {
  "workers", "bind_address", "port_min", "port_max", "max_video_bitrate",
  "max_participants", "stun_server", NULL,
};

static gboolean
fail (const Reader *r, GError **error, const char *group, const char *key,
      const char *fmt, ...) G_GNUC_PRINTF (5, 6);

static gboolean
fail (const Reader *r, GError **error, const char *group, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s: [%s] %s: %s",
               r->path, group, key, msg);
  return FALSE;
}

/* Other modules own other sections; ours must not carry unknown keys, as
 * those are almost always typos that would silently fall back to defaults. */
static gboolean
check_keys (const Reader *r, const char *group, const char *const *known, GError **error)
{
  if (!g_key_file_has_group (r->kf, group))
    return TRUE;
  g_auto (GStrv) keys = g_key_file_get_keys (r->kf, group, NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++)
    if (!g_strv_contains (known, keys[i]))
      return fail (r, error, group, keys[i], "unknown key");
  return TRUE;
}

/* A string value, or @def when the key is absent. Empty counts as absent
 * for optional keys. */
static gboolean
get_string (const Reader *r, const char *group, const char *key, const char *def,
            gboolean required, char **out, GError **error)
{
  g_autofree char *v = g_key_file_get_string (r->kf, group, key, NULL);
  if (v)
    g_strstrip (v);
  if (!v || !*v) {
    if (required)
      return fail (r, error, group, key, "missing (required)");
    *out = g_strdup (def);
    return TRUE;
  }
  *out = g_steal_pointer (&v);
  return TRUE;
}

static gboolean
get_path (const Reader *r, const char *group, const char *key, char **out, GError **error)
{
  g_autofree char *v = NULL;
  if (!get_string (r, group, key, NULL, TRUE, &v, error))
    return FALSE;
  *out = g_path_is_absolute (v) ? g_steal_pointer (&v) : g_build_filename (r->dir, v, NULL);
  return TRUE;
}

/* An optional path: NULL when absent, else absolute and readable. */
static gboolean
get_optional_file (const Reader *r, const char *group, const char *key, char **out,
                   GError **error)
{
  g_autofree char *v = NULL;
  if (!get_string (r, group, key, NULL, FALSE, &v, error))
    return FALSE;
  if (!v) {
    *out = NULL;
    return TRUE;
  }
  g_autofree char *abs = g_path_is_absolute (v) ? g_steal_pointer (&v)
                                                : g_build_filename (r->dir, v, NULL);
  if (!g_file_test (abs, G_FILE_TEST_IS_REGULAR))
    return fail (r, error, group, key, "\"%s\" is not a file", abs);
  *out = g_steal_pointer (&abs);
  return TRUE;
}

static gboolean
get_uint (const Reader *r, const char *group, const char *key, guint64 def, guint64 max,
          guint64 *out, GError **error)
{
  g_autofree char *v = g_key_file_get_string (r->kf, group, key, NULL);
  if (v)
    g_strstrip (v);
  if (!v || !*v) {
    *out = def;
    return TRUE;
  }
  g_autoptr (GError) e = NULL;
  if (!g_ascii_string_to_unsigned (v, 10, 0, max, out, &e))
    return fail (r, error, group, key, "\"%s\" is not an integer 0..%" G_GUINT64_FORMAT, v, max);
  return TRUE;
}

static gboolean
load_server (const Reader *r, CsServerConfig *c, GError **error)
{
  const char *g = "server";
  guint64 port;
  g_autofree char *log_format = NULL;
  if (!check_keys (r, g, server_keys, error) ||
      !get_string (r, g, "listen_address", "127.0.0.1", FALSE, &c->listen_address, error) ||
      !get_uint (r, g, "port", 8443, G_MAXUINT16, &port, error) ||
      !get_path (r, g, "tls_cert", &c->tls_cert, error) ||
      !get_path (r, g, "tls_key", &c->tls_key, error) ||
      !get_path (r, g, "web_root", &c->web_root, error) ||
      !get_string (r, g, "log_format", "text", FALSE, &log_format, error) ||
      !get_string (r, g, "public_url", NULL, FALSE, &c->public_url, error))
    return FALSE;
  c->port = (guint16) port;
  if (c->public_url) {
    if (!g_str_has_prefix (c->public_url, "https://") &&
        !g_str_has_prefix (c->public_url, "http://"))
      return fail (r, error, g, "public_url", "\"%s\" is not an http(s):// URL", c->public_url);
    gsize n = strlen (c->public_url);
    while (n > 0 && c->public_url[n - 1] == '/')
      c->public_url[--n] = '\0';
  }
  if (strcmp (log_format, "text") == 0)
    c->log_format = CS_LOG_FORMAT_TEXT;
  else if (strcmp (log_format, "json") == 0)
    c->log_format = CS_LOG_FORMAT_JSON;
  else
    return fail (r, error, g, "log_format", "\"%s\" is neither \"text\" nor \"json\"", log_format);
  return TRUE;
}

static gboolean
load_auth (const Reader *r, CsServerConfig *c, GError **error)
{
  const char *g = "auth";
  g_autofree char *hex = NULL;
  guint64 ttl;
  if (!check_keys (r, g, auth_keys, error) ||
      !get_string (r, g, "token_secret", NULL, TRUE, &hex, error) ||
      !get_uint (r, g, "room_token_ttl", 3600, 7 * 86400, &ttl, error))
    return FALSE;
  if (ttl < 60)
    return fail (r, error, g, "room_token_ttl", "must be at least 60 seconds");
  c->room_token_ttl = (guint) ttl;
  gsize n = strlen (hex);
  if (n % 2 != 0)
    return fail (r, error, g, "token_secret", "not hexadecimal (odd length)");
  if (n / 2 < MIN_SECRET_BYTES)
    return fail (r, error, g, "token_secret",
                 "too short: %" G_GSIZE_FORMAT " bytes, at least %d needed "
                 "(openssl rand -hex 32)", n / 2, MIN_SECRET_BYTES);
  g_autofree guint8 *secret = g_malloc (n / 2);
  for (gsize i = 0; i < n / 2; i++) {
    int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return fail (r, error, g, "token_secret", "not hexadecimal");
    secret[i] = (guint8) (hi << 4 | lo);
  }
  c->token_secret = g_bytes_new_take (g_steal_pointer (&secret), n / 2);
  return TRUE;
}

static gboolean
load_media (const Reader *r, CsServerConfig *c, GError **error)
{
  const char *g = "media";
  guint64 workers, port_min, port_max, bitrate, max_participants;
  if (!check_keys (r, g, media_keys, error) ||
      !get_uint (r, g, "workers", 0, 1024, &workers, error) ||
      !get_string (r, g, "bind_address", NULL, FALSE, &c->bind_address, error) ||
      !get_uint (r, g, "port_min", 0, G_MAXUINT16, &port_min, error) ||
      !get_uint (r, g, "port_max", 0, G_MAXUINT16, &port_max, error) ||
      !get_uint (r, g, "max_video_bitrate", 2500000, G_MAXUINT32, &bitrate, error) ||
      !get_uint (r, g, "max_participants", 16, 1024, &max_participants, error) ||
      !get_string (r, g, "stun_server", NULL, FALSE, &c->stun_server, error))
    return FALSE;
  if ((port_min == 0) != (port_max == 0) || port_min > port_max)
    return fail (r, error, g, "port_min", "port_min..port_max must be a range (or both 0)");
  if (max_participants == 0)
    return fail (r, error, g, "max_participants", "must be at least 1");
  if (bitrate < 30000)
    return fail (r, error, g, "max_video_bitrate", "below 30000 bit/s no video is usable");
  if (c->stun_server && !strchr (c->stun_server, ':'))
    return fail (r, error, g, "stun_server", "\"%s\" is not host:port", c->stun_server);
  c->workers = (guint) workers;
  c->port_min = (guint16) port_min;
  c->port_max = (guint16) port_max;
  c->max_video_bitrate = (guint32) bitrate;
  c->max_participants = (guint) max_participants;
  return TRUE;
}

/* An absent or empty database_url means no database: the REST API then
 * answers 503 and only calls with minted tokens work. */
static gboolean
load_database (const Reader *r, CsServerConfig *c, GError **error)
{
  const char *g = "database";
  g_autofree char *url = NULL;
  if (!check_keys (r, g, database_keys, error) || !check_keys (r, "clinic", clinic_keys, error) ||
      !get_string (r, g, "database_url", NULL, FALSE, &url, error))
    return FALSE;
  cs_records_config_init (&c->database);
  if (!url)
    return TRUE;
  g_autoptr (GError) e = NULL;
  if (!cs_records_config_load (&c->database, r->kf, &e)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s: %s", r->path,
                 e->message);
    return FALSE;
  }
  static const guint8 zero[32];
  if (memcmp (c->database.totp_key, zero, sizeof zero) == 0)
    return fail (r, error, g, "totp_key", "missing (required with database_url; "
                 "openssl rand -hex 32)");
  c->has_database = TRUE;
  return TRUE;
}

static gboolean
load_clinic (const Reader *r, CsServerConfig *c, GError **error)
{
  guint64 interval;
  if (!get_uint (r, "clinic", "reminder_interval_seconds", 60, 3600, &interval, error))
    return FALSE;
  if (interval == 0)
    return fail (r, error, "clinic", "reminder_interval_seconds", "must be at least 1");
  c->reminder_interval = (guint) interval;
  return TRUE;
}

/* Without url no e-mail is sent (the other keys are still checked). */
static gboolean
load_smtp (const Reader *r, CsServerConfig *c, GError **error)
{
  const char *g = "smtp";
  CsSmtpConfig *s = &c->smtp;
  g_autofree char *starttls = NULL;
  guint64 timeout;
  if (!check_keys (r, g, smtp_keys, error) ||
      !get_string (r, g, "url", NULL, FALSE, &s->url, error) ||
      !get_string (r, g, "from", NULL, s->url != NULL, &s->from, error) ||
      !get_string (r, g, "starttls", "required", FALSE, &starttls, error) ||
      !get_string (r, g, "username", NULL, FALSE, &s->username, error) ||
      !get_string (r, g, "password", NULL, FALSE, &s->password, error) ||
      !get_optional_file (r, g, "ca_file", &s->ca_file, error) ||
      !get_uint (r, g, "timeout_seconds", 30, 600, &timeout, error))
    return FALSE;
  if (timeout == 0)
    return fail (r, error, g, "timeout_seconds", "must be at least 1");
  s->timeout_seconds = (guint) timeout;
  if (strcmp (starttls, "required") == 0)
    s->starttls = CS_SMTP_STARTTLS_REQUIRED;
  else if (strcmp (starttls, "optional") == 0)
    s->starttls = CS_SMTP_STARTTLS_OPTIONAL;
  else if (strcmp (starttls, "off") == 0)
    s->starttls = CS_SMTP_STARTTLS_OFF;
  else
    return fail (r, error, g, "starttls", "\"%s\" is not required, optional or off", starttls);
  if (!s->url)
    return TRUE;

  gboolean smtps = g_ascii_strncasecmp (s->url, "smtps://", 8) == 0;
  const char *host = smtps ? s->url + 8
                     : g_ascii_strncasecmp (s->url, "smtp://", 7) == 0 ? s->url + 7 : NULL;
  if (!host || !*host || *host == '/' || *host == ':')
    return fail (r, error, g, "url", "\"%s\" is not smtp://HOST[:PORT] or smtps://HOST[:PORT]",
                 s->url);
  const char *slash = strchr (host, '/');
  const char *at = strchr (host, '@');
  if (at && (!slash || at < slash))
    return fail (r, error, g, "url", "credentials go in username and password, not in the URL");
  if (!cs_smtp_address_is_valid (s->from))
    return fail (r, error, g, "from", "\"%s\" is not a bare e-mail address", s->from);
  if (s->password && !s->username)
    return fail (r, error, g, "password", "set without username");
  /* A password must not cross the network in clear text. */
  if (s->username && !smtps && s->starttls != CS_SMTP_STARTTLS_REQUIRED)
    return fail (r, error, g, "username", "needs TLS: smtps:// or starttls=required");
  return TRUE;
}

gboolean
cs_server_config_load (CsServerConfig *config, const char *path, GError **error)
{
  g_return_val_if_fail (config != NULL && path != NULL, FALSE);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) e = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &e)) {
    g_set_error (error, e->domain, e->code, "%s: %s", path, e->message);
    return FALSE;
  }
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  Reader r = { kf, path, g_path_get_dirname (abs) };
  gboolean ok = load_server (&r, config, error) && load_auth (&r, config, error) &&
                load_media (&r, config, error) && load_database (&r, config, error) &&
                load_clinic (&r, config, error) && load_smtp (&r, config, error);
  g_free (r.dir);
  if (!ok)
    cs_server_config_clear (config);
  return ok;
}

void
cs_server_config_clear (CsServerConfig *c)
{
  if (!c)
    return;
  g_free (c->listen_address);
  g_free (c->tls_cert);
  g_free (c->tls_key);
  g_free (c->web_root);
  g_free (c->public_url);
  if (c->token_secret)
    g_bytes_unref (c->token_secret);
  g_free (c->bind_address);
  g_free (c->stun_server);
  cs_records_config_clear (&c->database);
  cs_smtp_config_clear (&c->smtp);
  memset (c, 0, sizeof *c);
}
