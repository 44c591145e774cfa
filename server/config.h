/* config.h — consiliumd's configuration file (GKeyFile), see
 * docs/config.md. Private header of server/. */
#pragma once

#include <glib.h>

#include "records/records.h"
#include "server/smtp.h"

G_BEGIN_DECLS

typedef enum {
  CS_LOG_FORMAT_TEXT,
  CS_LOG_FORMAT_JSON,
} CsLogFormat;

typedef struct {
  /* [server] */
  char *listen_address;
  guint16 port;
  char *tls_cert;               /* absolute paths: relative ones are */
  char *tls_key;                /* resolved against the file's folder */
  char *web_root;
  CsLogFormat log_format;
  char *public_url;             /* "https://host:port", no trailing '/'; NULL: from
                                 * listen_address and the bound port */
  /* [auth] */
  GBytes *token_secret;
  guint room_token_ttl;         /* seconds, for POST /api/v1/room-tokens */
  /* [media] */
  guint workers;
  char *bind_address;           /* NULL: all addresses */
  guint16 port_min;
  guint16 port_max;
  guint32 max_video_bitrate;
  guint max_participants;
  char *stun_server;            /* "host:port" or NULL */
  /* [database] (records/): has_database when database_url is set */
  gboolean has_database;
  CsRecordsConfig database;
  /* [clinic] reminder_interval_seconds (the rest is read by records/) */
  guint reminder_interval;
  /* [smtp]: smtp.url NULL when no e-mail is sent */
  CsSmtpConfig smtp;
} CsServerConfig;

/* Loads @path into @config (which must be zeroed). On failure @config is
 * left cleared and @error names the file, section and key. */
gboolean cs_server_config_load (CsServerConfig *config, const char *path, GError **error);
void cs_server_config_clear (CsServerConfig *config);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CsServerConfig, cs_server_config_clear)

G_END_DECLS
