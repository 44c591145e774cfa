/* test-audit-format.c — JSON lines and CSV escaping. */
#include "records/records.h"

#include <jansson.h>
#include <string.h>

static CsAuditEntry *
entry (void)
{
  CsAuditEntry *e = g_new0 (CsAuditEntry, 1);
  e->id = 5;
  e->at = 1700000000000001;
  e->actor_id = 9;
  e->actor_role = g_strdup ("auditor");
  e->action = g_strdup ("audit.export");
  e->object_id = g_strdup ("he said \"hi\",\r\nthen left");
  e->result = g_strdup ("ok");
  e->detail = g_strdup ("'; DROP TABLE audit; --");
  memset (e->hash, 0x11, 32);
  return e;
}

static void
test_jsonl (void)
{
  g_autoptr (CsAuditEntry) e = entry ();
  g_autoptr (GString) out = g_string_new (NULL);
  cs_audit_entry_format (e, CS_AUDIT_FORMAT_JSONL, out);
  g_assert_true (g_str_has_suffix (out->str, "}\n"));
  g_assert_null (strchr (out->str, '\r'));  /* one physical line */
  json_error_t err;
  json_t *o = json_loads (out->str, 0, &err);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_string_value (json_object_get (o, "object_id")), ==, e->object_id);
  g_assert_cmpstr (json_string_value (json_object_get (o, "detail")), ==, e->detail);
  g_assert_cmpstr (json_string_value (json_object_get (o, "at")), ==, "2023-11-14T22:13:20.000001Z");
  g_assert_true (json_is_null (json_object_get (o, "patient_id")));
  g_assert_true (json_is_null (json_object_get (o, "object_type")));
  g_assert_cmpint (json_integer_value (json_object_get (o, "at_us")), ==, e->at);
  g_assert_cmpstr (json_string_value (json_object_get (o, "prev_hash")), ==,
                   "0000000000000000000000000000000000000000000000000000000000000000");
  json_decref (o);
}

static void
test_csv (void)
{
  g_autoptr (CsAuditEntry) e = entry ();
  g_autoptr (GString) out = g_string_new (NULL);
  cs_audit_entry_format (e, CS_AUDIT_FORMAT_CSV, out);
  g_assert_cmpstr (out->str, ==,
                   "5,2023-11-14T22:13:20.000001Z,1700000000000001,9,\"auditor\",\"audit.export\","
                   ",\"he said \"\"hi\"\",\r\nthen left\",,\"ok\",,\"'; DROP TABLE audit; --\","
                   "0000000000000000000000000000000000000000000000000000000000000000,"
                   "1111111111111111111111111111111111111111111111111111111111111111\r\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/audit-format/jsonl", test_jsonl);
  g_test_add_func ("/records/audit-format/csv", test_csv);
  return g_test_run ();
}
