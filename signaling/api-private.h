/* api-private.h — shared by the api*.c files: the CsApiCall being served,
 * the reply helpers and the endpoint handlers (one file per area). */
#pragma once

#include "records/api-support.h"
#include "records/records.h"
#include "signaling/api.h"

G_BEGIN_DECLS

struct _CsApi {
  CsRecords *records;           /* (nullable) (transfer none) */
  GBytes *token_secret;
  guint room_token_ttl;
  CsSignaling *signaling;       /* (transfer none) for cs_signaling_room_admit_user() */
  gsize file_max_bytes;         /* body limit of raw_body routes */
  char *public_url;             /* base of absolute URLs (FHIR); NULL: relative */
};

struct _CsApiCall {
  CsApi *api;
  CsApiRespondFunc respond;     /* NULL once abandoned */
  gpointer respond_data;
  GCancellable *cancellable;
  gboolean running;             /* a handler started: completion frees the call */

  CsHttpMethod method;
  char *path;
  char *source;                 /* peer address, for the audit trail */
  char *bearer;                 /* token of "Authorization: Bearer ..." */
  char *content_type;
  GByteArray *body;
  gsize body_limit;             /* cs_api_call_body_limit() */
  GHashTable *query;            /* name → value (owned) */

  CsApiMatch match;             /* route and path ids */
  json_t *json;                 /* decoded body (owned), or NULL */
  CsSession *session;           /* records session of the caller, or NULL */
  CsActor actor;                /* from @session; source = @source */
  guint limit;                  /* page size of a list endpoint */
};

typedef void (*CsApiHandler) (CsApiCall *call);

/* ---- replies (api.c): each ends the call (responds unless abandoned, then
 * frees it). A handler must end every path with exactly one of them. */

/* @body: (transfer full) (nullable: no content, for 204). */
void cs_api_reply (CsApiCall *call, guint status, json_t *body);
void cs_api_reply_bytes (CsApiCall *call, guint status, const char *content_type,
                         GBytes *body);
void cs_api_fail (CsApiCall *call, guint status, const char *code, const char *fmt, ...)
  G_GNUC_PRINTF (4, 5);
/* Maps a records error (or cancellation) to its status and code. */
void cs_api_fail_error (CsApiCall *call, const GError *error);
/* 204 when @ok, else the error's status: the end of most change calls. */
void cs_api_reply_done (CsApiCall *call, gboolean ok, const GError *error);
void cs_api_fail_forbidden (CsApiCall *call, const char *why);

/* ---- helpers (api.c) */

/* The end of a cs_records_session_validate_async() for @call: TRUE with
 * call->session and call->actor set, or FALSE once answered (401 or the
 * error). */
gboolean cs_api_session_finish (CsApiCall *call, GAsyncResult *res);

/* A string field of the decoded body, or NULL when absent. */
const char *cs_api_body_string (CsApiCall *call, const char *name);
gint64 cs_api_body_int (CsApiCall *call, const char *name);
/* Query parameter, or NULL. */
const char *cs_api_query (CsApiCall *call, const char *name);
/* limit (1..@max, default @def) and cursor (an id, 0 when absent); FALSE
 * after answering 400. */
gboolean cs_api_page_params (CsApiCall *call, guint def, guint max, guint *limit,
                             gint64 *after_id);
/* {"items": @items, "next_cursor": ...}: a cursor only on a full page. */
json_t *cs_api_page (json_t *items, guint limit, gint64 last_id);
/* ISO 8601 UTC with microseconds (transfer full). */
char *cs_api_iso_time (gint64 us);
json_t *cs_api_user_json (const CsUser *user);
json_t *cs_api_id_or_null (gint64 id);
/* Appends an audit record, fire and forget (a failure is logged). */
void cs_api_audit_append (CsApi *api, const CsActor *actor, const CsAuditEvent *event);
/* Appends an audit record for the caller, fire and forget. */
void cs_api_audit (CsApiCall *call, const char *action, const char *object_type,
                   gint64 object_id, gint64 patient_id, const char *result);

/* ---- handlers, by CsApiEndpoint */

/* api-auth.c */
void cs_api_register (CsApiCall *call);
void cs_api_login (CsApiCall *call);
void cs_api_logout (CsApiCall *call);
void cs_api_reset_request (CsApiCall *call);
void cs_api_reset (CsApiCall *call);
void cs_api_me (CsApiCall *call);
void cs_api_me_password (CsApiCall *call);
void cs_api_me_totp (CsApiCall *call);
void cs_api_me_totp_confirm (CsApiCall *call);
/* api-admin.c */
void cs_api_users_list (CsApiCall *call);
void cs_api_users_create (CsApiCall *call);
void cs_api_institutions_list (CsApiCall *call);
void cs_api_institutions_create (CsApiCall *call);
/* api-institutions.c */
void cs_api_institution_patient_add (CsApiCall *call);
void cs_api_institution_patient_remove (CsApiCall *call);
/* api-doctors.c */
void cs_api_doctor_get (CsApiCall *call);
void cs_api_doctor_profile (CsApiCall *call);
void cs_api_doctor_verify (CsApiCall *call);
void cs_api_care_grant (CsApiCall *call);
void cs_api_care_revoke (CsApiCall *call);
void cs_api_patient_get (CsApiCall *call);
/* api-audit.c */
void cs_api_audit_search (CsApiCall *call);
void cs_api_audit_export (CsApiCall *call);
void cs_api_audit_verify (CsApiCall *call);
/* api-rooms.c */
void cs_api_room_token (CsApiCall *call);
/* api-clinic.c: most clinical endpoints are one records operation */
void cs_api_clinic_op (CsApiCall *call);
void cs_api_appointment_room_token (CsApiCall *call);
void cs_api_invite_redeem (CsApiCall *call);
void cs_api_file_upload (CsApiCall *call);
void cs_api_file_get (CsApiCall *call);
void cs_api_fhir (CsApiCall *call);

G_END_DECLS
