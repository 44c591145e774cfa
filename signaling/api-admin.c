/* api-admin.c — accounts created and listed by admins, and institutions
 * (docs/api.md, Administration). */
#include "signaling/api-private.h"

#include <string.h>

#define DB(call) ((call)->api->records)

static void
on_users_listed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = cs_records_users_list_finish (DB (call), res, &error);
  if (!users) {
    cs_api_fail_error (call, error);
    return;
  }
  json_t *items = json_array ();
  gint64 last = 0;
  for (guint i = 0; i < users->len; i++) {
    const CsUser *u = g_ptr_array_index (users, i);
    json_array_append_new (items, cs_api_user_json (u));
    last = u->id;
  }
  cs_api_reply (call, 200, cs_api_page (items, call->limit, last));
}

void
cs_api_users_list (CsApiCall *call)
{
  guint limit;
  gint64 after;
  if (!cs_api_page_params (call, 50, 100, &limit, &after))
    return;
  const char *r = cs_api_query (call, "role");
  CsRole role = r ? cs_role_from_string (r) : CS_ROLE_INVALID;
  if (r && role == CS_ROLE_INVALID) {
    cs_api_fail (call, 400, "bad-request", "role must be one of patient, doctor, specialist, "
                 "clinic_staff, admin, auditor");
    return;
  }
  call->limit = limit;
  cs_records_users_list_async (DB (call), &call->actor, role, after, limit, call->cancellable,
                               on_users_listed, call);
}

static void
on_user_created (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsUser) user = cs_records_create_user_finish (DB (call), res, &error);
  if (!user) {
    cs_api_fail_error (call, error);
    return;
  }
  cs_api_reply (call, 201, json_pack ("{s:o}", "user", cs_api_user_json (user)));
}

void
cs_api_users_create (CsApiCall *call)
{
  CsRole role = cs_role_from_string (cs_api_body_string (call, "role"));
  if (role == CS_ROLE_INVALID) {
    cs_api_fail (call, 400, "bad-request", "role must be one of patient, doctor, specialist, "
                 "clinic_staff, admin, auditor");
    return;
  }
  CsNewUser nu = {
    .email = cs_api_body_string (call, "email"),
    .password = cs_api_body_string (call, "password"),
    .display_name = cs_api_body_string (call, "display_name"),
    .role = role,
    .institution_id = cs_api_body_int (call, "institution_id"),
  };
  cs_records_create_user_async (DB (call), &call->actor, &nu, call->cancellable,
                                on_user_created, call);
}

static json_t *
institution_json (const CsInstitution *inst)
{
  return json_pack ("{s:I, s:s, s:s}", "id", (json_int_t) inst->id, "name", inst->name, "kind",
                    inst->kind == CS_INSTITUTION_HOSPITAL ? "hospital" : "primary_clinic");
}

static void
on_institutions_listed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = cs_records_institutions_list_finish (DB (call), res, &error);
  if (!list) {
    cs_api_fail_error (call, error);
    return;
  }
  json_t *items = json_array ();
  gint64 last = 0;
  for (guint i = 0; i < list->len; i++) {
    const CsInstitution *inst = g_ptr_array_index (list, i);
    json_array_append_new (items, institution_json (inst));
    last = inst->id;
  }
  cs_api_reply (call, 200, cs_api_page (items, call->limit, last));
}

void
cs_api_institutions_list (CsApiCall *call)
{
  guint limit;
  gint64 after;
  if (!cs_api_page_params (call, 50, 100, &limit, &after))
    return;
  call->limit = limit;
  cs_records_institutions_list_async (DB (call), after, limit, call->cancellable,
                                      on_institutions_listed, call);
}

static void
on_institution_created (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CsInstitution) inst = cs_records_institution_create_finish (DB (call), res, &error);
  if (!inst) {
    cs_api_fail_error (call, error);
    return;
  }
  cs_api_reply (call, 201, json_pack ("{s:o}", "institution", institution_json (inst)));
}

void
cs_api_institutions_create (CsApiCall *call)
{
  const char *kind = cs_api_body_string (call, "kind");
  CsInstitutionKind k;
  if (strcmp (kind, "hospital") == 0)
    k = CS_INSTITUTION_HOSPITAL;
  else if (strcmp (kind, "primary_clinic") == 0)
    k = CS_INSTITUTION_PRIMARY_CLINIC;
  else {
    cs_api_fail (call, 400, "bad-request", "kind must be hospital or primary_clinic");
    return;
  }
  cs_records_institution_create_async (DB (call), &call->actor,
                                       cs_api_body_string (call, "name"), k, call->cancellable,
                                       on_institution_created, call);
}
