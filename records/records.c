/* records.c — the CsRecords handle: configuration, roles, error domain. */
#include "records/records-private.h"

#include <openssl/crypto.h>
#include <string.h>

G_DEFINE_QUARK (cs-records-error-quark, cs_records_error)

static const char *const role_names[] = {
  [CS_ROLE_PATIENT] = "patient",
  [CS_ROLE_DOCTOR] = "doctor",
  [CS_ROLE_SPECIALIST] = "specialist",
  [CS_ROLE_CLINIC_STAFF] = "clinic_staff",
  [CS_ROLE_ADMIN] = "admin",
  [CS_ROLE_AUDITOR] = "auditor",
};

const char *
cs_role_to_string (CsRole role)
{
  if (role < 0 || (gsize) role >= G_N_ELEMENTS (role_names))
    return NULL;
  return role_names[role];
}

CsRole
cs_role_from_string (const char *s)
{
  for (gsize i = 0; s && i < G_N_ELEMENTS (role_names); i++)
    if (strcmp (s, role_names[i]) == 0)
      return (CsRole) i;
  return CS_ROLE_INVALID;
}

gboolean
cs_role_requires_totp (CsRole role)
{
  return role != CS_ROLE_PATIENT && role != CS_ROLE_INVALID;
}

void
cs_records_config_init (CsRecordsConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->pool_size = 4;
  cfg->max_failed_logins = 5;
  cfg->lockout_seconds = 900;
  cfg->session_ttl_seconds = 12 * 3600;
  cfg->session_idle_seconds = 1800;
  cfg->reset_ttl_seconds = 1800;
  /* RFC 9106's second recommended option, one lane (threads are ours). */
  cfg->argon2_t_cost = 3;
  cfg->argon2_m_cost_kib = 64 * 1024;
  cfg->argon2_lanes = 1;
  cfg->cancel_window_minutes = 120;
  cfg->room_open_minutes = 15;
  cfg->room_late_minutes = 60;
  cfg->slot_horizon_days = 28;
  cfg->file_max_bytes = 10 * 1024 * 1024;
  cfg->reminder_minutes = 60;
}

void
cs_records_config_clear (CsRecordsConfig *cfg)
{
  g_clear_pointer (&cfg->conninfo, g_free);
  g_clear_pointer (&cfg->owner_conninfo, g_free);
  OPENSSL_cleanse (cfg->totp_key, sizeof cfg->totp_key);
}

static gboolean
load_uint_in (GKeyFile *kf, const char *group, const char *key, guint min, guint max,
              guint *out, GError **error)
{
  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  GError *local = NULL;
  guint64 v = g_key_file_get_uint64 (kf, group, key, &local);
  if (local || v < min || v > max) {
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID,
                 "[%s] %s must be an integer in %u..%u", group, key, min, max);
    g_clear_error (&local);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

static gboolean
load_uint (GKeyFile *kf, const char *key, guint min, guint max, guint *out, GError **error)
{
  return load_uint_in (kf, "database", key, min, max, out, error);
}

gboolean
cs_records_config_load (CsRecordsConfig *cfg, GKeyFile *kf, GError **error)
{
  g_autofree char *url = g_key_file_get_string (kf, "database", "database_url", NULL);
  g_autofree char *owner = g_key_file_get_string (kf, "database", "database_owner_url", NULL);
  g_autofree char *key = g_key_file_get_string (kf, "database", "totp_key", NULL);

  if (key && !cs_hex_decode (g_strstrip (key), cfg->totp_key, sizeof cfg->totp_key)) {
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID,
                 "[database] totp_key must be 64 hex digits");
    return FALSE;
  }
  if (!load_uint (kf, "pool_size", 1, 64, &cfg->pool_size, error)
      || !load_uint (kf, "max_failed_logins", 1, 100, &cfg->max_failed_logins, error)
      || !load_uint (kf, "lockout_seconds", 1, 86400, &cfg->lockout_seconds, error)
      || !load_uint (kf, "session_ttl_seconds", 60, 30 * 86400, &cfg->session_ttl_seconds, error)
      || !load_uint (kf, "session_idle_seconds", 60, 86400, &cfg->session_idle_seconds, error)
      || !load_uint (kf, "reset_ttl_seconds", 60, 86400, &cfg->reset_ttl_seconds, error)
      || !load_uint (kf, "argon2_t_cost", 1, 16, &cfg->argon2_t_cost, error)
      || !load_uint (kf, "argon2_m_cost_kib", 8, 4 * 1024 * 1024, &cfg->argon2_m_cost_kib, error)
      || !load_uint_in (kf, "clinic", "cancel_window_minutes", 0, 30 * 1440,
                        &cfg->cancel_window_minutes, error)
      || !load_uint_in (kf, "clinic", "room_open_minutes", 0, 1440, &cfg->room_open_minutes, error)
      || !load_uint_in (kf, "clinic", "room_late_minutes", 0, 1440, &cfg->room_late_minutes, error)
      || !load_uint_in (kf, "clinic", "slot_horizon_days", 1, 366, &cfg->slot_horizon_days, error)
      || !load_uint_in (kf, "clinic", "file_max_bytes", 1024, 32 * 1024 * 1024,
                        &cfg->file_max_bytes, error)
      || !load_uint_in (kf, "clinic", "reminder_minutes", 1, 7 * 1440, &cfg->reminder_minutes, error))
    return FALSE;
  if (url) {
    g_free (cfg->conninfo);
    cfg->conninfo = g_steal_pointer (&url);
  }
  if (owner) {
    g_free (cfg->owner_conninfo);
    cfg->owner_conninfo = g_steal_pointer (&owner);
  }
  return TRUE;
}

CsRecords *
cs_records_new (const CsRecordsConfig *cfg, GMainContext *context, GError **error)
{
  static const guint8 zero_key[32];

  g_return_val_if_fail (cfg != NULL, NULL);
  if (!cfg->conninfo) {
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID,
                 "no database connection string configured");
    return NULL;
  }
  if (memcmp (cfg->totp_key, zero_key, sizeof zero_key) == 0) {
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID,
                 "no totp_key configured (64 hex digits)");
    return NULL;
  }
  /* Built once so an unknown email costs one full argon2 verification. */
  g_autofree char *dummy = cs_password_hash_sync (cfg, "consilium-timing-equalizer", error);
  if (!dummy)
    return NULL;

  CsRecords *db = g_new0 (CsRecords, 1);
  g_atomic_ref_count_init (&db->ref);
  db->cfg = *cfg;
  db->cfg.conninfo = g_strdup (cfg->conninfo);
  db->cfg.owner_conninfo = g_strdup (cfg->owner_conninfo);
  db->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  db->dummy_hash = g_steal_pointer (&dummy);
  db->pool = cs_pool_new (db->cfg.conninfo, db->cfg.pool_size, db->context);
  return db;
}

void
cs_records_unref (CsRecords *db)
{
  if (!g_atomic_ref_count_dec (&db->ref))
    return;
  cs_records_config_clear (&db->cfg);
  g_free (db->dummy_hash);
  g_main_context_unref (db->context);
  g_free (db);
}

void
cs_records_free (CsRecords *db)
{
  if (!db)
    return;
  /* Closed first: steps woken by the pool's cancellations start nothing new. */
  db->closed = TRUE;
  g_clear_pointer (&db->pool, cs_pool_free);
  cs_records_unref (db);
}

gboolean
cs_records_is_available (CsRecords *db)
{
  return db->pool && cs_pool_is_available (db->pool);
}
