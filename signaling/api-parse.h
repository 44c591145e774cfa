/* api-parse.h — the pure half of the REST API (docs/api.md): routing a
 * method and path to an endpoint with its path ids, strict id parsing, and
 * decoding a JSON request body against the endpoint's field list. No I/O,
 * no database, no logging: linked by the fuzzer (tests/fuzz/fuzz-http.c). */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

#define CS_API_PREFIX "/api/v1"
#define CS_API_MAX_BODY 65536

typedef enum {
  CS_HTTP_GET,
  CS_HTTP_POST,
  CS_HTTP_PUT,
  CS_HTTP_PATCH,
  CS_HTTP_DELETE,
  CS_HTTP_OTHER,                /* HEAD, OPTIONS, ...: never routed */
} CsHttpMethod;

const char *cs_http_method_to_string (CsHttpMethod method);

typedef enum {
  CS_API_REGISTER,
  CS_API_LOGIN,
  CS_API_LOGOUT,
  CS_API_RESET_REQUEST,
  CS_API_RESET,
  CS_API_ME,
  CS_API_ME_PASSWORD,
  CS_API_ME_TOTP,
  CS_API_ME_TOTP_CONFIRM,
  CS_API_USERS_LIST,
  CS_API_USERS_CREATE,
  CS_API_INSTITUTIONS_LIST,
  CS_API_INSTITUTIONS_CREATE,
  CS_API_INSTITUTION_PATIENT_ADD,
  CS_API_INSTITUTION_PATIENT_REMOVE,
  CS_API_DOCTOR_GET,
  CS_API_DOCTOR_PROFILE,
  CS_API_DOCTOR_VERIFY,
  CS_API_CARE_GRANT,
  CS_API_CARE_REVOKE,
  CS_API_PATIENT_GET,
  CS_API_AUDIT_SEARCH,
  CS_API_AUDIT_EXPORT,
  CS_API_AUDIT_VERIFY,
  CS_API_ROOM_TOKEN,
  /* clinical operations (api-clinic.c) */
  CS_API_DEPARTMENTS_LIST,
  CS_API_DEPARTMENT_CREATE,
  CS_API_DOCTOR_DEPARTMENT,
  CS_API_DOCTORS_SEARCH,
  CS_API_ROSTER_GET,
  CS_API_ROSTER_SET,
  CS_API_ROSTER_EXCEPTION_ADD,
  CS_API_SLOTS_LIST,
  CS_API_DOCTOR_QUEUE,
  CS_API_SLOT_BLOCK,
  CS_API_SLOT_RELEASE,
  CS_API_APPOINTMENTS_LIST,
  CS_API_APPOINTMENT_BOOK,
  CS_API_APPOINTMENT_GET,
  CS_API_APPOINTMENT_CANCEL,
  CS_API_APPOINTMENT_RESCHEDULE,
  CS_API_APPOINTMENT_CHECK_IN,
  CS_API_APPOINTMENT_ADMIT,
  CS_API_APPOINTMENT_COMPLETE,
  CS_API_APPOINTMENT_NO_SHOW,
  CS_API_APPOINTMENT_ROOM_TOKEN,
  CS_API_INVITE_CREATE,
  CS_API_INVITE_REDEEM,
  CS_API_CHAT_LIST,
  CS_API_VISIT_FILES_LIST,
  CS_API_VISIT_FILE_UPLOAD,
  CS_API_VISIT_FILE_GET,
  CS_API_NOTIFICATIONS_LIST,
  CS_API_NOTIFICATION_READ,
  CS_API_NO_SHOW_STATS,
  CS_API_REFERRALS_LIST,
  CS_API_REFERRAL_CREATE,
  CS_API_REFERRAL_GET,
  CS_API_REFERRAL_ACCEPT,
  CS_API_REFERRAL_DECLINE,
  CS_API_REFERRAL_SCHEDULE,
  CS_API_REFERRAL_REPORT,
  CS_API_REFERRAL_CLOSE,
  CS_API_REFERRAL_CANCEL,
  CS_API_REFERRAL_DOCUMENT_UPLOAD,
  CS_API_REFERRAL_DOCUMENT_GET,
  /* read-only FHIR R4 (api-clinic.c, docs/fhir.md) */
  CS_API_FHIR_SCHEDULE_SEARCH,
  CS_API_FHIR_SCHEDULE_READ,
  CS_API_FHIR_SLOT_SEARCH,
  CS_API_FHIR_SLOT_READ,
  CS_API_FHIR_APPOINTMENT_SEARCH,
  CS_API_FHIR_APPOINTMENT_READ,
  CS_API_FHIR_ENCOUNTER_SEARCH,
  CS_API_FHIR_ENCOUNTER_READ,
  CS_API_FHIR_SERVICE_REQUEST_SEARCH,
  CS_API_FHIR_SERVICE_REQUEST_READ,
  CS_API_N_ENDPOINTS
} CsApiEndpoint;

/* Who may call an endpoint, as a bit mask. The REST layer checks it before
 * the handler runs; handlers add relationship checks (own id, care). */
enum {
  CS_API_ANONYMOUS = 1 << 0,    /* no session needed (and none looked at) */
  CS_API_PATIENT = 1 << 1,
  CS_API_DOCTOR = 1 << 2,       /* doctor and specialist */
  CS_API_CLINIC = 1 << 3,
  CS_API_ADMIN = 1 << 4,
  CS_API_AUDITOR = 1 << 5,
  CS_API_STAFF_SETUP = 1 << 6,  /* also allowed to a totp_setup_required session */
};
#define CS_API_ANY_ROLE (CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC | CS_API_ADMIN | \
                         CS_API_AUDITOR)

typedef enum {
  CS_API_FIELD_STRING,
  CS_API_FIELD_INT,             /* a JSON integer >= 1 (ids) */
  CS_API_FIELD_ARRAY,           /* a JSON array (its items are checked by the handler) */
} CsApiFieldType;

typedef struct {
  const char *name;
  CsApiFieldType type;
  gboolean required;
} CsApiField;

/* One endpoint: the route table row. */
typedef struct {
  CsHttpMethod method;
  const char *pattern;          /* under CS_API_PREFIX; "{id}" is a path id */
  CsApiEndpoint endpoint;
  const char *name;             /* audit action of a refused call */
  guint access;                 /* CS_API_* bits */
  const CsApiField *fields;     /* body fields, NULL-name terminated; NULL: no body */
  const char *ids[2];           /* argument names of the path ids (clinical operations) */
  gboolean raw_body;            /* a file upload: any type, up to [clinic] file_max_bytes */
} CsApiRoute;

typedef enum {
  CS_API_ROUTE_OK = 0,
  CS_API_ROUTE_NOT_FOUND = -1,
  CS_API_ROUTE_METHOD = -2,     /* the path exists with other methods */
} CsApiRouteResult;

#define CS_API_MAX_PATH_IDS 2

typedef struct {
  const CsApiRoute *route;      /* CS_API_ROUTE_OK only */
  gint64 ids[CS_API_MAX_PATH_IDS];  /* the "{id}"s, in path order */
  char allow[48];               /* CS_API_ROUTE_METHOD: "GET, POST" */
} CsApiMatch;

/* Matches @path (@len bytes, no query string, starting with CS_API_PREFIX)
 * against the route table. */
CsApiRouteResult cs_api_route (CsHttpMethod method, const char *path, gsize len,
                               CsApiMatch *out);
/* The route of @endpoint (for tests and the fuzzer's dictionary). */
const CsApiRoute *cs_api_route_get (CsApiEndpoint endpoint);

/* Strict decimal id: 1..G_MAXINT64, digits only, no leading zero. */
gboolean cs_api_parse_id (const char *s, gsize len, gint64 *out);

/* Why a body or parameter was refused: an error code of docs/api.md and an
 * English message (names the field). */
typedef struct {
  const char *code;             /* static: "bad-json", "bad-request" */
  char message[160];
} CsApiProblem;

/* Decodes @data as a JSON object holding exactly @fields (unknown,
 * duplicate, ill-typed or missing-but-required fields are refused; strings
 * must not contain NUL). Returns the object (transfer full), or NULL with
 * @problem filled. @fields NULL: any body is ignored, returns NULL with
 * problem->code NULL. */
json_t *cs_api_body_decode (const char *data, gsize len, const CsApiField *fields,
                            CsApiProblem *problem);

/* Whether @content_type is application/json (optionally with parameters). */
gboolean cs_api_is_json_type (const char *content_type);

G_END_DECLS
