/* ops.c — the clinical operations: one call of an SQL function
 * op_<name>(jsonb) per operation. The rules, the row changes and the audit
 * record live together in that function (migrations 0004-0006), so this
 * file only frames the request and decodes the answer. */
#include "records/records-private.h"

#include <string.h>

/* Indexed by CsOp. The SQL text is fixed per op: nothing a client sends
 * ever becomes part of a statement. */
static const struct {
  const char *name;
  const char *sql;
} ops[CS_N_OPS] = {
#define OP(id, name) [id] = { name, "SELECT op_" name "($1::jsonb)::text" }
  OP (CS_OP_DEPARTMENTS_LIST, "departments_list"),
  OP (CS_OP_DEPARTMENT_CREATE, "department_create"),
  OP (CS_OP_DOCTOR_DEPARTMENT, "doctor_department"),
  OP (CS_OP_DOCTORS_SEARCH, "doctors_search"),
  OP (CS_OP_ROSTER_GET, "roster_get"),
  OP (CS_OP_ROSTER_SET, "roster_set"),
  OP (CS_OP_ROSTER_EXCEPTION_ADD, "roster_exception_add"),
  OP (CS_OP_SLOTS_LIST, "slots_list"),
  OP (CS_OP_SLOT_BLOCK, "slot_block"),
  OP (CS_OP_SLOT_RELEASE, "slot_release"),
  OP (CS_OP_APPOINTMENT_BOOK, "appointment_book"),
  OP (CS_OP_APPOINTMENTS_LIST, "appointments_list"),
  OP (CS_OP_APPOINTMENT_GET, "appointment_get"),
  OP (CS_OP_APPOINTMENT_CANCEL, "appointment_cancel"),
  OP (CS_OP_APPOINTMENT_RESCHEDULE, "appointment_reschedule"),
  OP (CS_OP_APPOINTMENT_CHECK_IN, "appointment_check_in"),
  OP (CS_OP_APPOINTMENT_ADMIT, "appointment_admit"),
  OP (CS_OP_APPOINTMENT_COMPLETE, "appointment_complete"),
  OP (CS_OP_APPOINTMENT_NO_SHOW, "appointment_no_show"),
  OP (CS_OP_DOCTOR_QUEUE, "doctor_queue"),
  OP (CS_OP_NO_SHOW_STATS, "no_show_stats"),
  OP (CS_OP_NOTIFICATIONS_LIST, "notifications_list"),
  OP (CS_OP_NOTIFICATION_READ, "notification_read"),
  OP (CS_OP_ROOM_ACCESS, "room_access"),
  OP (CS_OP_INVITE_CREATE, "invite_create"),
  OP (CS_OP_INVITE_REDEEM, "invite_redeem"),
  OP (CS_OP_CHAT_POST, "chat_post"),
  OP (CS_OP_CHAT_LIST, "chat_list"),
  OP (CS_OP_VISIT_FILE_UPLOAD, "visit_file_upload"),
  OP (CS_OP_VISIT_FILES_LIST, "visit_files_list"),
  OP (CS_OP_FILE_GET, "file_get"),
  OP (CS_OP_REFERRAL_CREATE, "referral_create"),
  OP (CS_OP_REFERRALS_LIST, "referrals_list"),
  OP (CS_OP_REFERRAL_GET, "referral_get"),
  OP (CS_OP_REFERRAL_ACCEPT, "referral_accept"),
  OP (CS_OP_REFERRAL_DECLINE, "referral_decline"),
  OP (CS_OP_REFERRAL_SCHEDULE, "referral_schedule"),
  OP (CS_OP_REFERRAL_REPORT, "referral_report"),
  OP (CS_OP_REFERRAL_CLOSE, "referral_close"),
  OP (CS_OP_REFERRAL_CANCEL, "referral_cancel"),
  OP (CS_OP_REFERRAL_DOCUMENT_UPLOAD, "referral_document_upload"),
  OP (CS_OP_FHIR_READ, "fhir_read"),
  OP (CS_OP_FHIR_SEARCH, "fhir_search"),
#undef OP
};

const char *
cs_op_name (CsOp op)
{
  g_return_val_if_fail (op < CS_N_OPS, NULL);
  return ops[op].name;
}

char *
cs_records_error_reason (const GError *error, const char **out_text)
{
  const char *msg = error ? error->message : NULL;
  const char *end = msg && msg[0] == '[' ? strstr (msg, "] ") : NULL;
  if (!end || error->domain != CS_RECORDS_ERROR) {
    if (out_text)
      *out_text = msg;
    return NULL;
  }
  if (out_text)
    *out_text = end + 2;
  return g_strndup (msg + 1, (gsize) (end - msg - 1));
}

static json_t *
clinic_cfg (const CsRecordsConfig *cfg)
{
  return json_pack ("{sI sI sI sI sI sI}",
                    "cancel_window_minutes", (json_int_t) cfg->cancel_window_minutes,
                    "room_open_minutes", (json_int_t) cfg->room_open_minutes,
                    "room_late_minutes", (json_int_t) cfg->room_late_minutes,
                    "slot_horizon_days", (json_int_t) cfg->slot_horizon_days,
                    "file_max_bytes", (json_int_t) cfg->file_max_bytes,
                    "reminder_minutes", (json_int_t) cfg->reminder_minutes);
}

/* The function's jsonb comes back as text in the first column; the task
 * returns that text, parsed only by callers that need a json_t. */
static void
on_op_result (GTask *task, PGresult *res)
{
  if (PQntuples (res) != 1 || PQgetisnull (res, 0, 0)) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_FAILED, "operation %s returned no JSON",
                              (const char *) g_task_get_task_data (task));
    return;
  }
  g_task_return_pointer (task, g_strdup (PQgetvalue (res, 0, 0)), g_free);
  g_object_unref (task);
}

static json_t *
parse_result (char *text, GError **error)
{
  if (!text)
    return NULL;
  json_error_t jerr;
  json_t *out = json_loads (text, JSON_DECODE_ANY, &jerr);
  g_free (text);
  if (!out)
    g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_FAILED, "operation result: %s", jerr.text);
  return out;
}

void
cs_records_op_async (CsRecords *db, const CsActor *actor, CsOp op, json_t *args,
                     GCancellable *cancellable, GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_return_if_fail (op < CS_N_OPS && actor != NULL);
  GTask *task = cs_task_new (db, cs_records_op_async, cancellable, callback, user_data);
  g_task_set_task_data (task, (gpointer) ops[op].name, NULL);
  json_t *req = json_pack ("{s{sI ss ss?} sO? so}",
                           "actor", "id", (json_int_t) actor->user_id,
                           "role", actor->user_id ? cs_role_to_string (actor->role) : "anonymous",
                           "source", actor->source,
                           "args", args,
                           "cfg", clinic_cfg (&db->cfg));
  if (!req) {
    cs_task_return_new_error (task, CS_RECORDS_ERROR_INVALID, "arguments are not a JSON object");
    return;
  }
  g_autofree char *text = json_dumps (req, JSON_COMPACT);
  json_decref (req);
  const char *params[] = { text };
  cs_task_query (task, on_op_result, ops[op].sql, 1, params);
}

json_t *
cs_records_op_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return parse_result (cs_task_finish_pointer (db, res, cs_records_op_async, error), error);
}

GBytes *
cs_records_op_finish_text (CsRecords *db, GAsyncResult *res, GError **error)
{
  char *text = cs_task_finish_pointer (db, res, cs_records_op_async, error);
  return text ? g_bytes_new_take (text, strlen (text)) : NULL;
}

/* ---- housekeeping ------------------------------------------------------------- */

static void
on_done (GTask *task, PGresult *res)
{
  (void) res;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
cs_records_slots_extend_async (CsRecords *db, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_slots_extend_async, NULL, callback, user_data);
  char days[16];
  g_snprintf (days, sizeof days, "%u", db->cfg.slot_horizon_days);
  const char *params[] = { days };
  cs_task_query (task, on_done, "SELECT slots_materialize_all($1::int)", 1, params);
}

gboolean
cs_records_slots_extend_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_slots_extend_async, error);
}

void
cs_records_reminders_due_async (CsRecords *db, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_reminders_due_async, NULL, callback, user_data);
  g_task_set_task_data (task, (gpointer) "reminders_due", NULL);
  char minutes[16];
  g_snprintf (minutes, sizeof minutes, "%u", db->cfg.reminder_minutes);
  const char *params[] = { minutes };
  cs_task_query (task, on_op_result,
                 "SELECT coalesce(jsonb_agg(jsonb_build_object('notification_id', notification_id,"
                 " 'user_id', user_id, 'email', email,"
                 " 'name', name, 'appointment', appointment)), '[]')::text"
                 " FROM reminders_due($1::int)",
                 1, params);
}

json_t *
cs_records_reminders_due_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return parse_result (cs_task_finish_pointer (db, res, cs_records_reminders_due_async, error),
                       error);
}

void
cs_records_notification_emailed_async (CsRecords *db, gint64 notification_id,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = cs_task_new (db, cs_records_notification_emailed_async, NULL, callback, user_data);
  char id[24];
  g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, notification_id);
  const char *params[] = { id };
  cs_task_query (task, on_done, "UPDATE notifications SET emailed_at = now() WHERE id = $1::bigint",
                 1, params);
}

gboolean
cs_records_notification_emailed_finish (CsRecords *db, GAsyncResult *res, GError **error)
{
  return cs_task_finish_boolean (db, res, cs_records_notification_emailed_async, error);
}
