/* api-router.c — the REST route table and its matcher (pure). The table is
 * the single place that says which method and path reach which endpoint,
 * who may call it and which body fields it takes; docs/api.md mirrors it. */
#include "signaling/api-parse.h"

#include <string.h>

#define ANY CS_API_ANY_ROLE
#define SETUP CS_API_STAFF_SETUP

static const CsApiField register_fields[] = {
  { "email", CS_API_FIELD_STRING, TRUE },
  { "password", CS_API_FIELD_STRING, TRUE },
  { "display_name", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField login_fields[] = {
  { "email", CS_API_FIELD_STRING, TRUE },
  { "password", CS_API_FIELD_STRING, TRUE },
  { "totp_code", CS_API_FIELD_STRING, FALSE },
  { NULL },
};
static const CsApiField reset_request_fields[] = {
  { "email", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField reset_fields[] = {
  { "token", CS_API_FIELD_STRING, TRUE },
  { "password", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField password_fields[] = {
  { "old_password", CS_API_FIELD_STRING, TRUE },
  { "new_password", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField code_fields[] = {
  { "code", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField user_fields[] = {
  { "email", CS_API_FIELD_STRING, TRUE },
  { "password", CS_API_FIELD_STRING, TRUE },
  { "display_name", CS_API_FIELD_STRING, TRUE },
  { "role", CS_API_FIELD_STRING, TRUE },
  { "institution_id", CS_API_FIELD_INT, FALSE },
  { NULL },
};
static const CsApiField institution_fields[] = {
  { "name", CS_API_FIELD_STRING, TRUE },
  { "kind", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField profile_fields[] = {
  { "licence_number", CS_API_FIELD_STRING, TRUE },
  { "specialty", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField verify_fields[] = {
  { "verdict", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField room_fields[] = {
  { "room", CS_API_FIELD_STRING, TRUE },
  { NULL },
};

static const CsApiField department_fields[] = {
  { "institution_id", CS_API_FIELD_INT, TRUE },
  { "name", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField doctor_department_fields[] = {
  { "department_id", CS_API_FIELD_INT, TRUE },
  { NULL },
};
static const CsApiField roster_fields[] = {
  { "timezone", CS_API_FIELD_STRING, FALSE },
  { "templates", CS_API_FIELD_ARRAY, TRUE },
  { NULL },
};
static const CsApiField roster_exception_fields[] = {
  { "kind", CS_API_FIELD_STRING, TRUE },
  { "starts_at", CS_API_FIELD_STRING, TRUE },
  { "ends_at", CS_API_FIELD_STRING, TRUE },
  { "slot_minutes", CS_API_FIELD_INT, FALSE },
  { "visit_type", CS_API_FIELD_STRING, FALSE },
  { "note", CS_API_FIELD_STRING, FALSE },
  { NULL },
};
static const CsApiField book_fields[] = {
  { "slot_id", CS_API_FIELD_INT, TRUE },
  { "patient_id", CS_API_FIELD_INT, FALSE },
  { "reason", CS_API_FIELD_STRING, FALSE },
  { NULL },
};
static const CsApiField reason_fields[] = {
  { "reason", CS_API_FIELD_STRING, FALSE },
  { NULL },
};
static const CsApiField required_reason_fields[] = {
  { "reason", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField slot_fields[] = {
  { "slot_id", CS_API_FIELD_INT, TRUE },
  { NULL },
};
static const CsApiField summary_fields[] = {
  { "diagnosis", CS_API_FIELD_STRING, TRUE },
  { "advice", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField invite_fields[] = {
  { "role", CS_API_FIELD_STRING, FALSE },
  { "label", CS_API_FIELD_STRING, FALSE },
  { NULL },
};
static const CsApiField redeem_fields[] = {
  { "token", CS_API_FIELD_STRING, TRUE },
  { "name", CS_API_FIELD_STRING, FALSE },
  { NULL },
};
static const CsApiField referral_fields[] = {
  { "patient_id", CS_API_FIELD_INT, TRUE },
  { "to_institution_id", CS_API_FIELD_INT, TRUE },
  { "to_department_id", CS_API_FIELD_INT, FALSE },
  { "to_specialist_id", CS_API_FIELD_INT, FALSE },
  { "parent_id", CS_API_FIELD_INT, FALSE },
  { "reason", CS_API_FIELD_STRING, TRUE },
  { "urgency", CS_API_FIELD_STRING, FALSE },
  { NULL },
};
static const CsApiField accept_fields[] = {
  { "specialist_id", CS_API_FIELD_INT, FALSE },
  { NULL },
};
static const CsApiField schedule_fields[] = {
  { "slot_id", CS_API_FIELD_INT, TRUE },
  { "specialist_ids", CS_API_FIELD_ARRAY, FALSE },
  { NULL },
};
static const CsApiField report_fields[] = {
  { "report", CS_API_FIELD_STRING, TRUE },
  { NULL },
};
static const CsApiField empty_fields[] = {
  { NULL },
};

/* Indexed by CsApiEndpoint. Routes sharing a pattern must be adjacent
 * (the 405 Allow list is built from neighbours). */
static const CsApiRoute routes[CS_API_N_ENDPOINTS] = {
  { CS_HTTP_POST, "/auth/register", CS_API_REGISTER, "auth.register", CS_API_ANONYMOUS, register_fields },
  { CS_HTTP_POST, "/auth/login", CS_API_LOGIN, "auth.login", CS_API_ANONYMOUS, login_fields },
  { CS_HTTP_POST, "/auth/logout", CS_API_LOGOUT, "auth.logout", ANY | SETUP, NULL },
  { CS_HTTP_POST, "/auth/password-reset/request", CS_API_RESET_REQUEST, "auth.reset_request", CS_API_ANONYMOUS, reset_request_fields },
  { CS_HTTP_POST, "/auth/password-reset", CS_API_RESET, "auth.reset", CS_API_ANONYMOUS, reset_fields },
  { CS_HTTP_GET, "/me", CS_API_ME, "me", ANY | SETUP, NULL },
  { CS_HTTP_POST, "/me/password", CS_API_ME_PASSWORD, "me.password", ANY, password_fields },
  { CS_HTTP_POST, "/me/totp", CS_API_ME_TOTP, "me.totp", ANY | SETUP, NULL },
  { CS_HTTP_POST, "/me/totp/confirm", CS_API_ME_TOTP_CONFIRM, "me.totp_confirm", ANY | SETUP, code_fields },
  { CS_HTTP_GET, "/admin/users", CS_API_USERS_LIST, "admin.users_list", CS_API_ADMIN, NULL },
  { CS_HTTP_POST, "/admin/users", CS_API_USERS_CREATE, "admin.users_create", CS_API_ADMIN, user_fields },
  { CS_HTTP_GET, "/institutions", CS_API_INSTITUTIONS_LIST, "institutions.list",
    CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC | CS_API_ADMIN, NULL },
  { CS_HTTP_POST, "/institutions", CS_API_INSTITUTIONS_CREATE, "institutions.create", CS_API_ADMIN, institution_fields },
  { CS_HTTP_POST, "/institutions/{id}/patients/{id}", CS_API_INSTITUTION_PATIENT_ADD,
    "institution.patient_add", CS_API_CLINIC | CS_API_ADMIN, NULL },
  { CS_HTTP_DELETE, "/institutions/{id}/patients/{id}", CS_API_INSTITUTION_PATIENT_REMOVE,
    "institution.patient_remove", CS_API_CLINIC | CS_API_ADMIN, NULL },
  { CS_HTTP_GET, "/doctors/{id}", CS_API_DOCTOR_GET, "doctors.get",
    CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC | CS_API_ADMIN, NULL },
  { CS_HTTP_PUT, "/doctors/{id}/profile", CS_API_DOCTOR_PROFILE, "doctors.profile",
    CS_API_DOCTOR | CS_API_ADMIN, profile_fields },
  { CS_HTTP_POST, "/doctors/{id}/verify", CS_API_DOCTOR_VERIFY, "doctors.verify", CS_API_ADMIN, verify_fields },
  { CS_HTTP_POST, "/doctors/{id}/patients/{id}", CS_API_CARE_GRANT, "care.grant",
    CS_API_CLINIC | CS_API_ADMIN, NULL },
  { CS_HTTP_DELETE, "/doctors/{id}/patients/{id}", CS_API_CARE_REVOKE, "care.revoke",
    CS_API_CLINIC | CS_API_ADMIN, NULL },
  { CS_HTTP_GET, "/patients/{id}", CS_API_PATIENT_GET, "patient.read",
    CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC | CS_API_ADMIN, NULL },
  { CS_HTTP_GET, "/audit", CS_API_AUDIT_SEARCH, "audit.search", CS_API_AUDITOR, NULL },
  { CS_HTTP_GET, "/audit/export", CS_API_AUDIT_EXPORT, "audit.export", CS_API_AUDITOR, NULL },
  { CS_HTTP_GET, "/audit/verify", CS_API_AUDIT_VERIFY, "audit.verify", CS_API_AUDITOR, NULL },
  { CS_HTTP_POST, "/room-tokens", CS_API_ROOM_TOKEN, "room_tokens.create",
    CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC, room_fields },
#define PDCA (CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC | CS_API_ADMIN)
#define DCA (CS_API_DOCTOR | CS_API_CLINIC | CS_API_ADMIN)
#define R(m, pat, ep, name, acc, f, id0, id1) { m, pat, ep, name, acc, f, { id0, id1 }, FALSE }
  R (CS_HTTP_GET, "/departments", CS_API_DEPARTMENTS_LIST, "departments.list", ANY, NULL, NULL, NULL),
  R (CS_HTTP_POST, "/departments", CS_API_DEPARTMENT_CREATE, "departments.create", CS_API_ADMIN,
     department_fields, NULL, NULL),
  R (CS_HTTP_PUT, "/doctors/{id}/department", CS_API_DOCTOR_DEPARTMENT, "doctor.department",
     CS_API_CLINIC | CS_API_ADMIN, doctor_department_fields, "doctor_id", NULL),
  R (CS_HTTP_GET, "/doctors", CS_API_DOCTORS_SEARCH, "doctors.search", PDCA, NULL, NULL, NULL),
  R (CS_HTTP_GET, "/doctors/{id}/roster", CS_API_ROSTER_GET, "roster.get", PDCA, NULL,
     "doctor_id", NULL),
  R (CS_HTTP_PUT, "/doctors/{id}/roster", CS_API_ROSTER_SET, "roster.set", DCA, roster_fields,
     "doctor_id", NULL),
  R (CS_HTTP_POST, "/doctors/{id}/roster/exceptions", CS_API_ROSTER_EXCEPTION_ADD,
     "roster.exception", DCA, roster_exception_fields, "doctor_id", NULL),
  R (CS_HTTP_GET, "/doctors/{id}/slots", CS_API_SLOTS_LIST, "slots.list", PDCA, NULL,
     "doctor_id", NULL),
  R (CS_HTTP_GET, "/doctors/{id}/queue", CS_API_DOCTOR_QUEUE, "doctor.queue", DCA, NULL,
     "doctor_id", NULL),
  R (CS_HTTP_POST, "/slots/{id}/block", CS_API_SLOT_BLOCK, "slot.block", DCA, NULL, "slot_id", NULL),
  R (CS_HTTP_POST, "/slots/{id}/release", CS_API_SLOT_RELEASE, "slot.release", DCA, NULL,
     "slot_id", NULL),
  R (CS_HTTP_GET, "/appointments", CS_API_APPOINTMENTS_LIST, "appointments.list", PDCA, NULL,
     NULL, NULL),
  R (CS_HTTP_POST, "/appointments", CS_API_APPOINTMENT_BOOK, "appointment.book",
     CS_API_PATIENT | CS_API_CLINIC | CS_API_ADMIN, book_fields, NULL, NULL),
  R (CS_HTTP_GET, "/appointments/{id}", CS_API_APPOINTMENT_GET, "appointment.read", PDCA, NULL,
     "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/cancel", CS_API_APPOINTMENT_CANCEL, "appointment.cancel",
     PDCA, reason_fields, "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/reschedule", CS_API_APPOINTMENT_RESCHEDULE,
     "appointment.reschedule", PDCA, slot_fields, "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/check-in", CS_API_APPOINTMENT_CHECK_IN,
     "appointment.check_in", CS_API_PATIENT, NULL, "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/admit", CS_API_APPOINTMENT_ADMIT, "appointment.admit",
     CS_API_DOCTOR, NULL, "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/complete", CS_API_APPOINTMENT_COMPLETE,
     "appointment.complete", CS_API_DOCTOR, summary_fields, "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/no-show", CS_API_APPOINTMENT_NO_SHOW,
     "appointment.no_show", DCA, NULL, "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/room-token", CS_API_APPOINTMENT_ROOM_TOKEN,
     "appointment.room_token", CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC, NULL,
     "appointment_id", NULL),
  R (CS_HTTP_POST, "/appointments/{id}/invites", CS_API_INVITE_CREATE, "invite.create",
     CS_API_DOCTOR, invite_fields, "appointment_id", NULL),
  R (CS_HTTP_POST, "/invites/redeem", CS_API_INVITE_REDEEM, "invite.redeem", CS_API_ANONYMOUS,
     redeem_fields, NULL, NULL),
  R (CS_HTTP_GET, "/appointments/{id}/messages", CS_API_CHAT_LIST, "chat.read", PDCA, NULL,
     "appointment_id", NULL),
  R (CS_HTTP_GET, "/appointments/{id}/files", CS_API_VISIT_FILES_LIST, "files.list", PDCA, NULL,
     "appointment_id", NULL),
  { CS_HTTP_POST, "/appointments/{id}/files", CS_API_VISIT_FILE_UPLOAD, "file.upload",
    CS_API_PATIENT | CS_API_DOCTOR | CS_API_CLINIC, NULL, { "appointment_id", NULL }, TRUE },
  R (CS_HTTP_GET, "/appointments/{id}/files/{id}", CS_API_VISIT_FILE_GET, "file.read", PDCA, NULL,
     "owner_id", "file_id"),
  R (CS_HTTP_GET, "/notifications", CS_API_NOTIFICATIONS_LIST, "notifications.list", ANY, NULL,
     NULL, NULL),
  R (CS_HTTP_POST, "/notifications/{id}/read", CS_API_NOTIFICATION_READ, "notification.read", ANY,
     NULL, "notification_id", NULL),
  R (CS_HTTP_GET, "/admin/no-shows", CS_API_NO_SHOW_STATS, "admin.no_shows", CS_API_ADMIN, NULL,
     NULL, NULL),
  R (CS_HTTP_GET, "/referrals", CS_API_REFERRALS_LIST, "referrals.list", DCA, NULL, NULL, NULL),
  R (CS_HTTP_POST, "/referrals", CS_API_REFERRAL_CREATE, "referral.create", CS_API_DOCTOR,
     referral_fields, NULL, NULL),
  R (CS_HTTP_GET, "/referrals/{id}", CS_API_REFERRAL_GET, "referral.read", DCA, NULL,
     "referral_id", NULL),
  R (CS_HTTP_POST, "/referrals/{id}/accept", CS_API_REFERRAL_ACCEPT, "referral.accept",
     CS_API_DOCTOR | CS_API_CLINIC, accept_fields, "referral_id", NULL),
  R (CS_HTTP_POST, "/referrals/{id}/decline", CS_API_REFERRAL_DECLINE, "referral.decline",
     CS_API_DOCTOR | CS_API_CLINIC, required_reason_fields, "referral_id", NULL),
  R (CS_HTTP_POST, "/referrals/{id}/schedule", CS_API_REFERRAL_SCHEDULE, "referral.schedule",
     CS_API_DOCTOR | CS_API_CLINIC, schedule_fields, "referral_id", NULL),
  R (CS_HTTP_POST, "/referrals/{id}/report", CS_API_REFERRAL_REPORT, "referral.report",
     CS_API_DOCTOR, report_fields, "referral_id", NULL),
  R (CS_HTTP_POST, "/referrals/{id}/close", CS_API_REFERRAL_CLOSE, "referral.close",
     CS_API_DOCTOR | CS_API_CLINIC, empty_fields, "referral_id", NULL),
  R (CS_HTTP_POST, "/referrals/{id}/cancel", CS_API_REFERRAL_CANCEL, "referral.cancel",
     CS_API_DOCTOR | CS_API_CLINIC, reason_fields, "referral_id", NULL),
  { CS_HTTP_POST, "/referrals/{id}/documents", CS_API_REFERRAL_DOCUMENT_UPLOAD, "referral.document",
    CS_API_DOCTOR | CS_API_CLINIC, NULL, { "referral_id", NULL }, TRUE },
  R (CS_HTTP_GET, "/referrals/{id}/documents/{id}", CS_API_REFERRAL_DOCUMENT_GET, "file.read", DCA,
     NULL, "owner_id", "file_id"),
  /* FHIR: a search and a read per resource type (the type is the op's argument) */
#define FHIR(type, ep) \
  R (CS_HTTP_GET, "/fhir/" type, ep##_SEARCH, "fhir.search", PDCA, NULL, NULL, NULL), \
  R (CS_HTTP_GET, "/fhir/" type "/{id}", ep##_READ, "fhir.read", PDCA, NULL, "id", NULL)
  FHIR ("Schedule", CS_API_FHIR_SCHEDULE),
  FHIR ("Slot", CS_API_FHIR_SLOT),
  FHIR ("Appointment", CS_API_FHIR_APPOINTMENT),
  FHIR ("Encounter", CS_API_FHIR_ENCOUNTER),
  FHIR ("ServiceRequest", CS_API_FHIR_SERVICE_REQUEST),
#undef FHIR
#undef R
};

const char *
cs_http_method_to_string (CsHttpMethod method)
{
  static const char *const names[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "OTHER" };
  return method <= CS_HTTP_OTHER ? names[method] : "OTHER";
}

const CsApiRoute *
cs_api_route_get (CsApiEndpoint endpoint)
{
  g_return_val_if_fail (endpoint < CS_API_N_ENDPOINTS, NULL);
  return &routes[endpoint];
}

gboolean
cs_api_parse_id (const char *s, gsize len, gint64 *out)
{
  /* 19 digits hold every gint64; the first digit must not be 0. */
  if (len == 0 || len > 19 || s[0] < '1' || s[0] > '9')
    return FALSE;
  guint64 v = 0;
  for (gsize i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return FALSE;
    v = v * 10 + (guint64) (s[i] - '0');   /* no overflow below 20 digits */
  }
  if (v > G_MAXINT64)
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

/* Matches one pattern against @path; fills @ids. */
static gboolean
match_pattern (const char *pattern, const char *path, gsize len, gint64 *ids)
{
  const char *p = pattern, *s = path, *end = path + len;
  guint n_ids = 0;
  while (*p && s < end) {
    if (strncmp (p, "{id}", 4) == 0) {
      const char *seg_end = memchr (s, '/', (gsize) (end - s));
      if (!seg_end)
        seg_end = end;
      if (n_ids == CS_API_MAX_PATH_IDS || !cs_api_parse_id (s, (gsize) (seg_end - s), &ids[n_ids]))
        return FALSE;
      n_ids++;
      p += 4;
      s = seg_end;
    } else if (*p++ != *s++) {
      return FALSE;
    }
  }
  return *p == '\0' && s == end;
}

CsApiRouteResult
cs_api_route (CsHttpMethod method, const char *path, gsize len, CsApiMatch *out)
{
  g_return_val_if_fail (path != NULL && out != NULL, CS_API_ROUTE_NOT_FOUND);
  memset (out, 0, sizeof *out);
  gsize plen = strlen (CS_API_PREFIX);
  if (len <= plen || memcmp (path, CS_API_PREFIX, plen) != 0 || path[plen] != '/')
    return CS_API_ROUTE_NOT_FOUND;
  path += plen;
  len -= plen;

  gboolean path_known = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++) {
    gint64 ids[CS_API_MAX_PATH_IDS] = { 0 };
    if (!match_pattern (routes[i].pattern, path, len, ids))
      continue;
    if (routes[i].method == method) {
      out->route = &routes[i];
      memcpy (out->ids, ids, sizeof ids);
      return CS_API_ROUTE_OK;
    }
    /* The table is small and its methods short: "GET, POST" always fits. */
    if (path_known)
      g_strlcat (out->allow, ", ", sizeof out->allow);
    g_strlcat (out->allow, cs_http_method_to_string (routes[i].method), sizeof out->allow);
    path_known = TRUE;
  }
  return path_known ? CS_API_ROUTE_METHOD : CS_API_ROUTE_NOT_FOUND;
}
