/* test-audit.c — the hash chain verifies; tampering in SQL is detected and
 * the first broken record named; the app role cannot change history;
 * search, pagination and export. */
#include "fixture.h"
#include "records/audit-chain.h"

#include <string.h>

static gint64
append (CsTestDb *t, gint64 actor, const char *action, gint64 patient)
{
  CsActor a = { .user_id = actor, .role = CS_ROLE_DOCTOR, .source = "198.51.100.7" };
  CsAuditEvent ev = { .action = action, .object_type = "emr", .object_id = "42",
                      .patient_id = patient, .result = "ok" };
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  cs_records_audit_append_async (t->db, &a, &ev, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  g_assert_true (cs_records_audit_append_finish (t->db, r, &id, &error));
  g_assert_no_error (error);
  return id;
}

static CsAuditReport *
verify (CsTestDb *t)
{
  g_autoptr (GError) error = NULL;
  cs_records_audit_verify_async (t->db, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  CsAuditReport *rep = cs_records_audit_verify_finish (t->db, r, &error);
  g_assert_no_error (error);
  return rep;
}

static void
test_chain_verifies (CsTestDb *t, gconstpointer data)
{
  g_autoptr (CsAuditReport) empty = verify (t);
  g_assert_cmpuint (empty->checked, ==, 0);
  g_assert_cmpint (empty->first_broken_id, ==, 0);

  for (int i = 0; i < 25; i++)
    append (t, 100 + i % 3, i % 2 ? "emr.read" : "emr.write", 500 + i % 4);
  g_autoptr (CsAuditReport) rep = verify (t);
  g_assert_cmpuint (rep->checked, ==, 25);
  g_assert_cmpint (rep->first_broken_id, ==, 0);
  g_assert_null (rep->reason);
  g_autofree char *head = cs_test_sql_value (t, "owner",
                                             "SELECT encode(hash, 'hex') FROM audit"
                                             " ORDER BY id DESC LIMIT 1", 0, NULL);
  g_autoptr (GString) hex = g_string_new (NULL);
  for (int i = 0; i < 32; i++)
    g_string_append_printf (hex, "%02x", rep->head_hash[i]);
  g_assert_cmpstr (hex->str, ==, head);

  /* The first row links to 32 zero bytes. */
  g_autofree char *genesis = cs_test_sql_value (t, "owner",
                                                "SELECT encode(prev_hash, 'hex') FROM audit"
                                                " ORDER BY id LIMIT 1", 0, NULL);
  g_assert_cmpstr (genesis, ==, "0000000000000000000000000000000000000000000000000000000000000000");
}

static void
test_clients_cannot_forge_chain_fields (CsTestDb *t, gconstpointer data)
{
  /* Whatever the app role sends for id, time or hashes, the trigger sets them. */
  g_free (cs_test_sql_value (t, "app",
                             "INSERT INTO audit (id, at, action, result, prev_hash, hash)"
                             " VALUES (999, '2000-01-01', 'forged', 'ok',"
                             " decode(repeat('ab', 32), 'hex'), decode(repeat('cd', 32), 'hex'))",
                             0, NULL));
  g_autofree char *row = cs_test_sql_value (t, "owner",
                                            "SELECT id || ' ' || (at > now() - interval '1 hour')"
                                            " FROM audit", 0, NULL);
  g_assert_cmpstr (row, ==, "1 true");
  g_autoptr (CsAuditReport) rep = verify (t);
  g_assert_cmpint (rep->first_broken_id, ==, 0);
}

static void
tamper (CsTestDb *t, const char *sql, gint64 id)
{
  char idbuf[24];
  g_snprintf (idbuf, sizeof idbuf, "%" G_GINT64_FORMAT, id);
  const char *params[] = { idbuf };
  /* The owner can do it, but only by switching the guard off first. */
  PGresult *res = cs_test_sql (t, "owner", sql, 1, params);
  g_assert_cmpint (PQresultStatus (res), ==, PGRES_FATAL_ERROR);
  g_assert_cmpstr (PQresultErrorField (res, PG_DIAG_SQLSTATE), ==, "42501");
  PQclear (res);
  g_free (cs_test_sql_value (t, "owner", "ALTER TABLE audit DISABLE TRIGGER audit_immutable",
                             0, NULL));
  g_free (cs_test_sql_value (t, "owner", sql, 1, params));
  g_free (cs_test_sql_value (t, "owner", "ALTER TABLE audit ENABLE TRIGGER audit_immutable",
                             0, NULL));
}

static void
test_tampering_detected (CsTestDb *t, gconstpointer data)
{
  gint64 ids[10];
  for (int i = 0; i < 10; i++)
    ids[i] = append (t, 7, "emr.read", 9);

  tamper (t, "UPDATE audit SET action = 'emr.nothing' WHERE id = $1", ids[6]);
  g_autoptr (CsAuditReport) rep = verify (t);
  g_assert_cmpint (rep->first_broken_id, ==, ids[6]);
  g_assert_cmpuint (rep->checked, ==, 7);
  g_test_message ("broken at %" G_GINT64_FORMAT ": %s", rep->first_broken_id, rep->reason);

  /* An earlier edit is the one named. */
  tamper (t, "UPDATE audit SET patient_id = NULL WHERE id = $1", ids[3]);
  g_autoptr (CsAuditReport) rep2 = verify (t);
  g_assert_cmpint (rep2->first_broken_id, ==, ids[3]);
}

static void
test_deletion_detected (CsTestDb *t, gconstpointer data)
{
  gint64 ids[5];
  for (int i = 0; i < 5; i++)
    ids[i] = append (t, 7, "emr.read", 9);
  tamper (t, "DELETE FROM audit WHERE id = $1", ids[2]);
  g_autoptr (CsAuditReport) rep = verify (t);
  g_assert_cmpint (rep->first_broken_id, ==, ids[3]);
  g_assert_nonnull (strstr (rep->reason, "prev_hash"));
}

static void
test_rehash_detected (CsTestDb *t, gconstpointer data)
{
  /* Editing a row and recomputing its own hash breaks the next link. */
  gint64 ids[4];
  for (int i = 0; i < 4; i++)
    ids[i] = append (t, 7, "emr.read", 9);
  tamper (t, "UPDATE audit SET result = 'denied' WHERE id = $1", ids[1]);
  tamper (t, "UPDATE audit a SET hash = audit_hash(a) WHERE id = $1", ids[1]);
  g_autoptr (CsAuditReport) rep = verify (t);
  g_assert_cmpint (rep->first_broken_id, ==, ids[2]);
}

static void
test_app_role_cannot_rewrite (CsTestDb *t, gconstpointer data)
{
  append (t, 1, "login", 0);
  const char *attempts[] = {
    "UPDATE audit SET result = 'failed'",
    "DELETE FROM audit",
    "TRUNCATE audit",
    "ALTER TABLE audit DISABLE TRIGGER audit_immutable",
    "DROP TABLE audit",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (attempts); i++) {
    PGresult *res = cs_test_sql (t, "app", attempts[i], 0, NULL);
    g_assert_cmpint (PQresultStatus (res), ==, PGRES_FATAL_ERROR);
    /* insufficient_privilege or must-be-owner (also 42501). */
    g_assert_cmpstr (PQresultErrorField (res, PG_DIAG_SQLSTATE), ==, "42501");
    PQclear (res);
  }
  g_autofree char *n = cs_test_sql_value (t, "owner", "SELECT count(*) FROM audit", 0, NULL);
  g_assert_cmpstr (n, ==, "1");
}

static GPtrArray *
search (CsTestDb *t, const CsAuditQuery *q)
{
  g_autoptr (GError) error = NULL;
  cs_records_audit_search_async (t->db, q, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r = cs_test_wait (t);
  GPtrArray *a = cs_records_audit_search_finish (t->db, r, &error);
  g_assert_no_error (error);
  return a;
}

static void
test_search_and_pages (CsTestDb *t, gconstpointer data)
{
  for (int i = 0; i < 30; i++)
    append (t, 100 + i % 3, i % 2 ? "emr.read" : "emr.write", 500 + i % 5);

  CsAuditQuery by_actor = { .actor_id = 101 };
  g_autoptr (GPtrArray) a = search (t, &by_actor);
  g_assert_cmpuint (a->len, ==, 10);
  CsAuditQuery by_patient_action = { .patient_id = 502, .action = "emr.write" };
  g_autoptr (GPtrArray) b = search (t, &by_patient_action);
  for (guint i = 0; i < b->len; i++) {
    CsAuditEntry *e = b->pdata[i];
    g_assert_cmpint (e->patient_id, ==, 502);
    g_assert_cmpstr (e->action, ==, "emr.write");
    g_assert_cmpstr (e->source, ==, "198.51.100.7");
  }
  g_assert_cmpuint (b->len, ==, 3);

  /* Pages of 7 cover everything once, in order. */
  CsAuditQuery page = { .limit = 7 };
  guint total = 0;
  gint64 last = 0;
  for (;;) {
    g_autoptr (GPtrArray) p = search (t, &page);
    for (guint i = 0; i < p->len; i++) {
      CsAuditEntry *e = p->pdata[i];
      g_assert_cmpint (e->id, >, last);
      last = e->id;
    }
    total += p->len;
    if (p->len < page.limit)
      break;
    page.after_id = last;
  }
  g_assert_cmpuint (total, ==, 30);

  /* Time range: everything is from the last minute, nothing from the future. */
  gint64 now = g_get_real_time ();
  CsAuditQuery recent = { .since = now - 60 * G_USEC_PER_SEC, .limit = 1000 };
  g_autoptr (GPtrArray) c = search (t, &recent);
  g_assert_cmpuint (c->len, ==, 30);
  CsAuditQuery future = { .since = now + 60 * G_USEC_PER_SEC };
  g_autoptr (GPtrArray) d = search (t, &future);
  g_assert_cmpuint (d->len, ==, 0);
  /* [since, until) around one exact timestamp returns that record. */
  CsAuditEntry *first = c->pdata[0];
  CsAuditQuery exact = { .since = first->at, .until = first->at + 1 };
  g_autoptr (GPtrArray) x = search (t, &exact);
  g_assert_cmpuint (x->len, >=, 1);
  g_assert_cmpint (((CsAuditEntry *) x->pdata[0])->id, ==, first->id);

  /* Each entry's hash recomputes in C exactly as the database made it. */
  for (guint i = 0; i < c->len; i++) {
    guint8 h[32];
    cs_audit_compute_hash (c->pdata[i], h);
    g_assert_cmpmem (h, 32, ((CsAuditEntry *) c->pdata[i])->hash, 32);
  }
}

static void
test_export (CsTestDb *t, gconstpointer data)
{
  for (int i = 0; i < 5; i++)
    append (t, 3, "emr.read", 4);
  CsAuditQuery q = { .actor_id = 3 };
  g_autoptr (GError) error = NULL;

  cs_records_audit_export_async (t->db, &q, CS_AUDIT_FORMAT_JSONL, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r1 = cs_test_wait (t);
  g_autoptr (GBytes) jsonl = cs_records_audit_export_finish (t->db, r1, &error);
  g_assert_no_error (error);
  g_autofree char *j = g_strndup (g_bytes_get_data (jsonl, NULL), g_bytes_get_size (jsonl));
  g_auto (GStrv) lines = g_strsplit (j, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 6);  /* 5 lines + trailing "" */
  g_assert_true (g_str_has_prefix (lines[0], "{\"id\":1,\"at\":\""));
  g_assert_nonnull (strstr (lines[0], "\"actor_id\":3,\"actor_role\":\"doctor\",\"action\":\"emr.read\""));

  cs_records_audit_export_async (t->db, &q, CS_AUDIT_FORMAT_CSV, NULL, cs_test_done, t);
  g_autoptr (GAsyncResult) r2 = cs_test_wait (t);
  g_autoptr (GBytes) csv = cs_records_audit_export_finish (t->db, r2, &error);
  g_assert_no_error (error);
  g_autofree char *c = g_strndup (g_bytes_get_data (csv, NULL), g_bytes_get_size (csv));
  g_assert_true (g_str_has_prefix (c, cs_audit_csv_header ()));
  g_auto (GStrv) rows = g_strsplit (c, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (rows), ==, 7);  /* header + 5 + trailing "" */
}

int
main (int argc, char **argv)
{
  cs_test_init (&argc, &argv);
  cs_test_add ("/records/audit/chain-verifies", test_chain_verifies);
  cs_test_add ("/records/audit/clients-cannot-forge-chain-fields",
               test_clients_cannot_forge_chain_fields);
  cs_test_add ("/records/audit/tampering-detected", test_tampering_detected);
  cs_test_add ("/records/audit/deletion-detected", test_deletion_detected);
  cs_test_add ("/records/audit/rehash-detected", test_rehash_detected);
  cs_test_add ("/records/audit/app-role-cannot-rewrite", test_app_role_cannot_rewrite);
  cs_test_add ("/records/audit/search-and-pages", test_search_and_pages);
  cs_test_add ("/records/audit/export", test_export);
  return g_test_run ();
}
