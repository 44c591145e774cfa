/* api-institutions.c — linking patients to an institution, which lets its
 * clinic staff read them (docs/api.md, Institutions' patients). */
#include "signaling/api-private.h"

#define DB(call) ((call)->api->records)

static void
on_link_changed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  CsApiCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = call->method == CS_HTTP_DELETE
                  ? cs_records_institution_patient_remove_finish (DB (call), res, &error)
                  : cs_records_institution_patient_add_finish (DB (call), res, &error);
  cs_api_reply_done (call, ok, error);
}

/* Clinic staff manage their own institution only. records checks it again
 * against the account's current row; refusing here on the session's view
 * spares the database and audits the attempt like any other 403. */
static gboolean
may_manage (CsApiCall *call)
{
  if (call->actor.role == CS_ROLE_CLINIC_STAFF
      && call->session->institution_id != call->match.ids[0]) {
    cs_api_fail_forbidden (call, "clinic staff manage only their own institution's patients");
    return FALSE;
  }
  return TRUE;
}

void
cs_api_institution_patient_add (CsApiCall *call)
{
  if (may_manage (call))
    cs_records_institution_patient_add_async (DB (call), &call->actor, call->match.ids[0],
                                              call->match.ids[1], call->cancellable,
                                              on_link_changed, call);
}

void
cs_api_institution_patient_remove (CsApiCall *call)
{
  if (may_manage (call))
    cs_records_institution_patient_remove_async (DB (call), &call->actor, call->match.ids[0],
                                                 call->match.ids[1], call->cancellable,
                                                 on_link_changed, call);
}
