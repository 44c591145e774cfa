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
