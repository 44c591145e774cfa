/* api-support.h — records calls the REST layer needs beyond records.h:
 * listing users and institutions (keyset pages) and bootstrapping the first
 * admin. Same conventions as records.h (main-loop threading, GIO-style
 * async pairs, CS_RECORDS_ERROR codes). Candidates to fold into records.h. */
#pragma once

#include "records/records.h"

G_BEGIN_DECLS

/* Admin only. Users with id > @after_id, by increasing id, at most @limit
 * (1..1000); @role CS_ROLE_INVALID: every role. Audited as user.list.
 * Returns (transfer full) (element-type CsUser). */
void cs_records_users_list_async (CsRecords *db, const CsActor *actor, CsRole role,
                                  gint64 after_id, guint limit, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *cs_records_users_list_finish (CsRecords *db, GAsyncResult *res, GError **error);

/* Institutions with id > @after_id, by increasing id, at most @limit.
 * Returns (transfer full) (element-type CsInstitution). */
void cs_records_institutions_list_async (CsRecords *db, gint64 after_id, guint limit,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *cs_records_institutions_list_finish (CsRecords *db, GAsyncResult *res,
                                                GError **error);

/* Creates an admin account with no actor: for the operator's command line
 * (consiliumd --create-admin), whose authority is access to the database
 * configuration. Audited as user.bootstrap with @source (e.g. "cli"). */
void cs_records_bootstrap_admin_async (CsRecords *db, const CsNewUser *user,
                                       const char *source, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
CsUser *cs_records_bootstrap_admin_finish (CsRecords *db, GAsyncResult *res, GError **error);

G_END_DECLS
