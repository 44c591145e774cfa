/* records.h — the one public header of records/: accounts, sessions, doctor
 * profiles, care relationships, institutions' patients and the audit
 * trail, in PostgreSQL.
 *
 * Threading: every cs_records_* call is made from the thread running the
 * GMainContext given to cs_records_new(); completions are delivered there
 * too, GIO style: foo_async() takes a GAsyncReadyCallback, and the callback
 * calls foo_finish() to get the result or a GError. Nothing blocks the loop
 * except cs_records_migrate_sync(), which runs once at start-up.
 *
 * Errors are in the CS_RECORDS_ERROR domain; the comment on each code says
 * which HTTP status the REST layer should answer with.
 *
 * Actors: calls that change data take a CsActor naming who asks, for the
 * audit trail and for the few checks done here (e.g. only admins create
 * staff). The REST layer stays responsible for checking a caller's role
 * against each endpoint; the checks here are a second line. */
#pragma once

#include <gio/gio.h>
#include <jansson.h>

G_BEGIN_DECLS

#define CS_RECORDS_ERROR (cs_records_error_quark ())
GQuark cs_records_error_quark (void);

typedef enum {
  CS_RECORDS_ERROR_FAILED,        /* unexpected database error (500) */
  CS_RECORDS_ERROR_UNAVAILABLE,   /* database unreachable; try again later (503) */
  CS_RECORDS_ERROR_INVALID,       /* malformed or out-of-range input (400) */
  CS_RECORDS_ERROR_NOT_FOUND,     /* no such record (404) */
  CS_RECORDS_ERROR_EXISTS,        /* unique value already taken, e.g. email (409) */
  CS_RECORDS_ERROR_AUTH,          /* wrong credentials or invalid session (401) */
  CS_RECORDS_ERROR_TOTP_REQUIRED, /* password right, one-time code needed (401) */
  CS_RECORDS_ERROR_LOCKED,        /* too many failed logins; retry later (429) */
  CS_RECORDS_ERROR_FORBIDDEN,     /* actor may not do this (403) */
  CS_RECORDS_ERROR_SCHEMA,        /* database schema newer than this binary or altered */
  CS_RECORDS_ERROR_CONFLICT,      /* refused by the state of the record, e.g. slot taken (409) */
} CsRecordsError;

/* Clinical operations (ops.c) fail with a machine-readable reason as well
 * (e.g. "slot-taken", "illegal-transition"): the message of such an error
 * is "[reason] text". Returns the reason (transfer full) or NULL, and sets
 * @out_text (transfer none, into @error's message) to the text after it. */
char *cs_records_error_reason (const GError *error, const char **out_text);

typedef enum {
  CS_ROLE_INVALID = -1,
  CS_ROLE_PATIENT,
  CS_ROLE_DOCTOR,
  CS_ROLE_SPECIALIST,
  CS_ROLE_CLINIC_STAFF,
  CS_ROLE_ADMIN,
  CS_ROLE_AUDITOR,
} CsRole;

/* "patient", "doctor", "specialist", "clinic_staff", "admin", "auditor". */
const char *cs_role_to_string (CsRole role);
CsRole cs_role_from_string (const char *s);
/* Staff roles (all but patient) must log in with TOTP. */
gboolean cs_role_requires_totp (CsRole role);

/* ---- configuration and lifetime ---------------------------------------- */

typedef struct {
  char *conninfo;          /* libpq string for the app role (consilium_app) */
  char *owner_conninfo;    /* for migrations (consilium_owner); NULL: conninfo */
  guint pool_size;         /* connections; default 4 */
  guint8 totp_key[32];     /* AES-256-GCM key for TOTP secrets at rest */
  guint max_failed_logins; /* lockout after this many failures in a row; 5 */
  guint lockout_seconds;   /* for this long; 900 */
  guint session_ttl_seconds;  /* absolute session lifetime; 43200 (12 h) */
  guint session_idle_seconds; /* idle timeout; 1800 */
  guint reset_ttl_seconds;    /* password reset token lifetime; 1800 */
  guint argon2_t_cost;     /* argon2id passes; 3 */
  guint argon2_m_cost_kib; /* memory; 65536 (64 MiB) */
  guint argon2_lanes;      /* parallelism; 1 */
  /* [clinic]: the rules of scheduling and visits (docs/config.md) */
  guint cancel_window_minutes; /* patients change a visit until this long before; 120 */
  guint room_open_minutes;     /* the room opens this long before the start; 15 */
  guint room_late_minutes;     /* and stays open this long after the end; 60 */
  guint slot_horizon_days;     /* slots exist this far ahead; 28 */
  guint file_max_bytes;        /* largest shared file; 10 MiB */
  guint reminder_minutes;      /* reminders go out this long before a visit; 60 */
} CsRecordsConfig;

/* Defaults everywhere; conninfo NULL and totp_key all zero (must be set). */
void cs_records_config_init (CsRecordsConfig *cfg);
/* Reads group [database] of @kf (and [clinic]: cancel_window_minutes,
 * room_open_minutes, room_late_minutes, slot_horizon_days, file_max_bytes,
 * reminder_minutes): database_url, database_owner_url,
 * pool_size, totp_key (64 hex digits), max_failed_logins, lockout_seconds,
 * session_ttl_seconds, session_idle_seconds, reset_ttl_seconds,
 * argon2_t_cost, argon2_m_cost_kib. Missing keys keep their value. */
gboolean cs_records_config_load (CsRecordsConfig *cfg, GKeyFile *kf, GError **error);
/* Frees the strings, leaves the rest. */
void cs_records_config_clear (CsRecordsConfig *cfg);

/* Applies the embedded migrations (records/migrations/NNNN_name.sql) to the
 * database at @owner_conninfo, each in its own transaction, serialized
 * between concurrent starters by an advisory lock. Blocking: call once at
 * start-up before cs_records_new(). Fails with CS_RECORDS_ERROR_SCHEMA if
 * the database is newer than this binary or an applied migration changed.
 * @out_version: (out) (optional) schema version after the call. */
gboolean cs_records_migrate_sync (const char *owner_conninfo, guint *out_version,
                                  GError **error);
/* Highest migration version embedded in this binary. */
guint cs_records_schema_version (void);

typedef struct _CsRecords CsRecords;

/* Starts connecting the pool (never blocks; a database that is down is
 * retried with backoff). @context: (nullable) where callbacks run; NULL:
 * the thread-default context. Fails only on bad configuration. */
CsRecords *cs_records_new (const CsRecordsConfig *cfg, GMainContext *context,
                           GError **error);
/* Operations still in flight complete with G_IO_ERROR_CANCELLED. NULL-safe. */
void cs_records_free (CsRecords *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsRecords, cs_records_free)

/* TRUE when at least one pooled connection is up. */
gboolean cs_records_is_available (CsRecords *db);

/* Who makes a call. Borrowed for the duration of the _async() call only. */
typedef struct {
  gint64 user_id;       /* 0: anonymous */
  CsRole role;
  const char *source;   /* client address as seen by the server; nullable */
} CsActor;

/* ---- institutions (institutions.c) -------------------------------------- */

typedef enum {
  CS_INSTITUTION_HOSPITAL,
  CS_INSTITUTION_PRIMARY_CLINIC,
} CsInstitutionKind;

typedef struct {
  gint64 id;
  char *name;
  CsInstitutionKind kind;
} CsInstitution;

void cs_institution_free (CsInstitution *inst);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsInstitution, cs_institution_free)

/* Admin only. */
void cs_records_institution_create_async (CsRecords *db, const CsActor *actor,
                                          const char *name, CsInstitutionKind kind,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
CsInstitution *cs_records_institution_create_finish (CsRecords *db, GAsyncResult *res,
                                                     GError **error);
void cs_records_institution_get_async (CsRecords *db, gint64 id, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
CsInstitution *cs_records_institution_get_finish (CsRecords *db, GAsyncResult *res,
                                                  GError **error);

/* ---- users (users.c) ------------------------------------------------------ */

typedef struct {
  gint64 id;
  char *email;
  char *display_name;
  CsRole role;
  gint64 institution_id;  /* 0: none */
  gboolean totp_enabled;
  gboolean disabled;
} CsUser;

void cs_user_free (CsUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsUser, cs_user_free)

/* Input to registration; all (transfer none). */
typedef struct {
  const char *email;         /* 3..254 bytes, one '@', no spaces or controls */
  const char *password;      /* 10..1024 bytes */
  const char *display_name;  /* 1..200 characters */
  CsRole role;               /* ignored by register_patient */
  gint64 institution_id;     /* required for clinic_staff; 0: none */
} CsNewUser;

/* Self-registration; the role is always patient. @source: (nullable). */
void cs_records_register_patient_async (CsRecords *db, const CsNewUser *user,
                                        const char *source, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
CsUser *cs_records_register_patient_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* Admin creates any role (including other admins and auditors). */
void cs_records_create_user_async (CsRecords *db, const CsActor *actor,
                                   const CsNewUser *user, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
CsUser *cs_records_create_user_finish (CsRecords *db, GAsyncResult *res, GError **error);

void cs_records_user_get_async (CsRecords *db, gint64 id, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
CsUser *cs_records_user_get_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* ---- login and sessions (login.c, sessions.c) ---------------------------- */

typedef struct {
  gint64 id;
  gint64 user_id;
  CsRole role;
  gint64 institution_id;
  gint64 expires_at;          /* µs since the Unix epoch (absolute expiry) */
  gboolean totp_setup_required; /* staff account without TOTP yet: only TOTP
                                 * set-up should be allowed with this session */
  char *token;                /* only from login: the bearer token (64 hex
                               * digits); never stored, only its SHA-256 is */
} CsSession;

void cs_session_free (CsSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsSession, cs_session_free)

/* Password (+ TOTP code when the account has TOTP). Errors: AUTH (unknown
 * email or wrong password, indistinguishable and equally slow),
 * TOTP_REQUIRED (password right, @totp_code NULL), LOCKED. A wrong TOTP code
 * counts as a failed login. */
void cs_records_login_async (CsRecords *db, const char *email, const char *password,
                             const char *totp_code, const char *source,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
CsSession *cs_records_login_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* Looks up a bearer token and refreshes its idle timer. AUTH when unknown,
 * expired, idle too long, revoked or the user is disabled. */
void cs_records_session_validate_async (CsRecords *db, const char *token,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
CsSession *cs_records_session_validate_finish (CsRecords *db, GAsyncResult *res,
                                               GError **error);

/* Revokes the session holding @token. */
void cs_records_logout_async (CsRecords *db, const char *token, const char *source,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_logout_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* Revokes every live session of @user_id (the user themself or an admin).
 * @out_count: (out) (optional) how many were revoked. */
void cs_records_sessions_revoke_all_async (CsRecords *db, const CsActor *actor,
                                           gint64 user_id, GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_sessions_revoke_all_finish (CsRecords *db, GAsyncResult *res,
                                                guint *out_count, GError **error);

/* ---- passwords (passwords.c) ---------------------------------------------- */

/* The actor changes their own password; every session of theirs is revoked. */
void cs_records_password_change_async (CsRecords *db, const CsActor *actor,
                                       const char *old_password, const char *new_password,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_password_change_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* Issues a single-use reset token for @email. The token (transfer full) is
 * for the caller to deliver out of band; NULL (and no error) when no such
 * account exists, so callers answer both cases alike. */
void cs_records_password_reset_request_async (CsRecords *db, const char *email,
                                              const char *source, GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_password_reset_request_finish (CsRecords *db, GAsyncResult *res,
                                                   char **out_token, GError **error);

/* Spends @token: sets the password, clears lockout, revokes all sessions.
 * AUTH if the token is unknown, used or expired. */
void cs_records_password_reset_async (CsRecords *db, const char *token,
                                      const char *new_password, const char *source,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_password_reset_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* ---- TOTP enrolment (totp-setup.c; codes in totp.h) ----------------------- */

typedef struct {
  char *secret_base32;  /* to type in by hand */
  char *uri;            /* otpauth://totp/... for a QR code */
} CsTotpSetup;

void cs_totp_setup_free (CsTotpSetup *setup);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsTotpSetup, cs_totp_setup_free)

/* Starts enrolment for the actor: a fresh secret, kept pending until
 * confirmed. Replaces any earlier pending secret. */
void cs_records_totp_begin_async (CsRecords *db, const CsActor *actor,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
CsTotpSetup *cs_records_totp_begin_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* Confirms with a current code from the authenticator; TOTP is then on.
 * AUTH when the code is wrong. */
void cs_records_totp_confirm_async (CsRecords *db, const CsActor *actor, const char *code,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_totp_confirm_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* ---- doctor profiles (doctors.c) ------------------------------------------ */

typedef enum {
  CS_VERIFICATION_PENDING,
  CS_VERIFICATION_VERIFIED,
  CS_VERIFICATION_REJECTED,
} CsVerification;

typedef struct {
  gint64 user_id;
  char *licence_number;
  char *specialty;
  CsVerification verification;
  gint64 verified_by;  /* 0 while pending */
} CsDoctorProfile;

void cs_doctor_profile_free (CsDoctorProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsDoctorProfile, cs_doctor_profile_free)

/* Creates or updates the profile of doctor/specialist @doctor_id (the
 * doctor themself or an admin). Any change sends it back to pending. */
void cs_records_doctor_profile_set_async (CsRecords *db, const CsActor *actor,
                                          gint64 doctor_id, const char *licence_number,
                                          const char *specialty, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
CsDoctorProfile *cs_records_doctor_profile_set_finish (CsRecords *db, GAsyncResult *res,
                                                       GError **error);
void cs_records_doctor_profile_get_async (CsRecords *db, gint64 doctor_id,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
CsDoctorProfile *cs_records_doctor_profile_get_finish (CsRecords *db, GAsyncResult *res,
                                                       GError **error);
/* Admin only: @verdict VERIFIED or REJECTED. */
void cs_records_doctor_verify_async (CsRecords *db, const CsActor *actor, gint64 doctor_id,
                                     CsVerification verdict, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
CsDoctorProfile *cs_records_doctor_verify_finish (CsRecords *db, GAsyncResult *res,
                                                  GError **error);

/* ---- care relationships (care.c) ------------------------------------------ */

/* Lets @doctor_id see @patient_id (admin or clinic staff; appointments will
 * call this too). FORBIDDEN when the doctor is not verified. */
void cs_records_care_grant_async (CsRecords *db, const CsActor *actor, gint64 doctor_id,
                                  gint64 patient_id, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_care_grant_finish (CsRecords *db, GAsyncResult *res, GError **error);
void cs_records_care_revoke_async (CsRecords *db, const CsActor *actor, gint64 doctor_id,
                                   gint64 patient_id, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_care_revoke_finish (CsRecords *db, GAsyncResult *res, GError **error);
/* Whether @user_id may read @patient_id's clinical data: the patient
 * themself, a verified doctor/specialist in an active care relationship, or
 * clinic staff of an institution the patient is linked to (below). The same
 * rule is the SQL function can_access_patient(actor, patient). */
void cs_records_can_access_patient_async (CsRecords *db, gint64 user_id, gint64 patient_id,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_can_access_patient_finish (CsRecords *db, GAsyncResult *res,
                                               gboolean *out_allowed, GError **error);

/* ---- institution patients (institution-patients.c) ------------------------ */

/* Links @patient_id to @institution_id, so that the institution's clinic
 * staff may read the patient. Allowed to admins and to clinic staff of that
 * same institution, judged on the actor's current account row: FORBIDDEN
 * (and audited as denied) otherwise. INVALID when @patient_id is not a
 * patient or @institution_id does not exist. Adding a live link renews it. */
void cs_records_institution_patient_add_async (CsRecords *db, const CsActor *actor,
                                               gint64 institution_id, gint64 patient_id,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
gboolean cs_records_institution_patient_add_finish (CsRecords *db, GAsyncResult *res,
                                                    GError **error);
/* Ends a live link (same actors); NOT_FOUND when there was none. */
void cs_records_institution_patient_remove_async (CsRecords *db, const CsActor *actor,
                                                  gint64 institution_id, gint64 patient_id,
                                                  GCancellable *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer user_data);
gboolean cs_records_institution_patient_remove_finish (CsRecords *db, GAsyncResult *res,
                                                       GError **error);

/* ---- audit trail (audit.c; chain format in audit-chain.h) ----------------- */

typedef struct {
  const char *action;       /* e.g. "login", "emr.read"; required */
  const char *object_type;  /* nullable */
  const char *object_id;    /* nullable */
  gint64 patient_id;        /* 0: none */
  const char *result;       /* "ok", "denied", "failed", ...; required */
  const char *detail;       /* nullable; never patient data */
} CsAuditEvent;

typedef struct {
  gint64 id;
  gint64 at;                /* µs since the Unix epoch */
  gint64 actor_id;          /* 0: anonymous */
  char *actor_role;         /* nullable */
  char *action;
  char *object_type;        /* nullable */
  char *object_id;          /* nullable */
  gint64 patient_id;        /* 0: none */
  char *result;
  char *source;             /* nullable */
  char *detail;             /* nullable */
  guint8 prev_hash[32];
  guint8 hash[32];
} CsAuditEntry;

void cs_audit_entry_free (CsAuditEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsAuditEntry, cs_audit_entry_free)

/* Appends one record; the database assigns id, time and the chain hashes.
 * @out_id: (out) (optional). */
void cs_records_audit_append_async (CsRecords *db, const CsActor *actor,
                                    const CsAuditEvent *event, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_audit_append_finish (CsRecords *db, GAsyncResult *res, gint64 *out_id,
                                         GError **error);

typedef struct {
  gint64 actor_id;      /* 0: any */
  gint64 patient_id;    /* 0: any */
  const char *action;   /* NULL: any */
  gint64 since;         /* µs since epoch, inclusive; 0: unbounded */
  gint64 until;         /* exclusive; 0: unbounded */
  gint64 after_id;      /* keyset pagination: entries with id > after_id */
  guint limit;          /* page size, 1..1000; 0: 100 */
} CsAuditQuery;

/* One page, oldest first. Next page: after_id = last entry's id.
 * Returns (transfer full) (element-type CsAuditEntry). */
void cs_records_audit_search_async (CsRecords *db, const CsAuditQuery *query,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *cs_records_audit_search_finish (CsRecords *db, GAsyncResult *res, GError **error);

typedef struct {
  guint64 checked;          /* records walked */
  gint64 first_broken_id;   /* 0: the chain is intact */
  char *reason;             /* why first_broken_id is broken; NULL if intact */
  guint8 head_hash[32];     /* hash of the last record (zeros if empty): keep
                             * it somewhere else to detect truncation later */
} CsAuditReport;

void cs_audit_report_free (CsAuditReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsAuditReport, cs_audit_report_free)

/* Walks the whole chain from the first record, recomputing every hash. */
void cs_records_audit_verify_async (CsRecords *db, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
CsAuditReport *cs_records_audit_verify_finish (CsRecords *db, GAsyncResult *res,
                                               GError **error);

typedef enum {
  CS_AUDIT_FORMAT_JSONL,
  CS_AUDIT_FORMAT_CSV,
} CsAuditFormat;

/* Appends one entry as a JSON line or a CSV row (RFC 4180, with CRLF).
 * cs_audit_csv_header() is the CSV header row. */
void cs_audit_entry_format (const CsAuditEntry *entry, CsAuditFormat format, GString *out);
const char *cs_audit_csv_header (void);

/* Every entry matching @query (its after_id/limit are ignored; the export
 * pages through internally), formatted. Returns (transfer full). */
void cs_records_audit_export_async (CsRecords *db, const CsAuditQuery *query,
                                    CsAuditFormat format, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
GBytes *cs_records_audit_export_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* ---- clinical operations (ops.c; SQL in migrations 0004-0006) ------------ */

/* Scheduling, visits and referrals are SQL functions op_<name>(jsonb) that
 * check the actor, change rows and write the audit trail in one
 * transaction (docs/records.md). Each CsOp names one of them. */
typedef enum {
  CS_OP_DEPARTMENTS_LIST,
  CS_OP_DEPARTMENT_CREATE,
  CS_OP_DOCTOR_DEPARTMENT,
  CS_OP_DOCTORS_SEARCH,
  CS_OP_ROSTER_GET,
  CS_OP_ROSTER_SET,
  CS_OP_ROSTER_EXCEPTION_ADD,
  CS_OP_SLOTS_LIST,
  CS_OP_SLOT_BLOCK,
  CS_OP_SLOT_RELEASE,
  CS_OP_APPOINTMENT_BOOK,
  CS_OP_APPOINTMENTS_LIST,
  CS_OP_APPOINTMENT_GET,
  CS_OP_APPOINTMENT_CANCEL,
  CS_OP_APPOINTMENT_RESCHEDULE,
  CS_OP_APPOINTMENT_CHECK_IN,
  CS_OP_APPOINTMENT_ADMIT,
  CS_OP_APPOINTMENT_COMPLETE,
  CS_OP_APPOINTMENT_NO_SHOW,
  CS_OP_DOCTOR_QUEUE,
  CS_OP_NO_SHOW_STATS,
  CS_OP_NOTIFICATIONS_LIST,
  CS_OP_NOTIFICATION_READ,
  CS_OP_ROOM_ACCESS,
  CS_OP_INVITE_CREATE,
  CS_OP_INVITE_REDEEM,
  CS_OP_CHAT_POST,
  CS_OP_CHAT_LIST,
  CS_OP_VISIT_FILE_UPLOAD,
  CS_OP_VISIT_FILES_LIST,
  CS_OP_FILE_GET,
  CS_OP_REFERRAL_CREATE,
  CS_OP_REFERRALS_LIST,
  CS_OP_REFERRAL_GET,
  CS_OP_REFERRAL_ACCEPT,
  CS_OP_REFERRAL_DECLINE,
  CS_OP_REFERRAL_SCHEDULE,
  CS_OP_REFERRAL_REPORT,
  CS_OP_REFERRAL_CLOSE,
  CS_OP_REFERRAL_CANCEL,
  CS_OP_REFERRAL_DOCUMENT_UPLOAD,
  CS_OP_FHIR_READ,
  CS_OP_FHIR_SEARCH,
  CS_N_OPS
} CsOp;

/* "appointment_book" for CS_OP_APPOINTMENT_BOOK, and so on. */
const char *cs_op_name (CsOp op);

/* Runs @op for @actor with @args (a JSON object, transfer none; the
 * [clinic] settings are added). The result is the operation's JSON
 * (transfer full). Refusals are CS_RECORDS_ERROR_INVALID, _FORBIDDEN,
 * _NOT_FOUND or _CONFLICT with a reason (cs_records_error_reason). */
void cs_records_op_async (CsRecords *db, const CsActor *actor, CsOp op, json_t *args,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data);
json_t *cs_records_op_finish (CsRecords *db, GAsyncResult *res, GError **error);
/* The same result as JSON text, unparsed (transfer full): for answers that
 * are passed on as they are. Call one of the two finish functions. */
GBytes *cs_records_op_finish_text (CsRecords *db, GAsyncResult *res, GError **error);

/* Housekeeping run by the server: extends every roster's slots to the
 * horizon (hourly), and collects due reminders (every minute): an array of
 * {"notification_id", "user_id", "email", "name", "appointment"} (transfer full). */
void cs_records_slots_extend_async (CsRecords *db, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean cs_records_slots_extend_finish (CsRecords *db, GAsyncResult *res, GError **error);
void cs_records_reminders_due_async (CsRecords *db, GAsyncReadyCallback callback,
                                     gpointer user_data);
json_t *cs_records_reminders_due_finish (CsRecords *db, GAsyncResult *res, GError **error);
/* Sets emailed_at of notification @notification_id once its e-mail was
 * accepted by the mail server. */
void cs_records_notification_emailed_async (CsRecords *db, gint64 notification_id,
                                            GAsyncReadyCallback callback, gpointer user_data);
gboolean cs_records_notification_emailed_finish (CsRecords *db, GAsyncResult *res,
                                                 GError **error);

G_END_DECLS
