/* test-audit-chain.c — the canonical form is exactly what docs/records.md
 * says, so third-party verifiers can rely on it. */
#include "records/audit-chain.h"

#include <string.h>

static void
test_canonical_bytes (void)
{
  CsAuditEntry e = { .id = 12, .at = 1700000000123456, .actor_id = 7,
                     .actor_role = (char *) "doctor", .action = (char *) "emr.read",
                     .object_type = NULL, .object_id = (char *) "a,b:c",
                     .patient_id = 0, .result = (char *) "ok",
                     .source = (char *) "10.0.0.1", .detail = (char *) "王" };
  memset (e.prev_hash, 0xab, 32);
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  cs_audit_canonical (&e, buf);
  const char *text = "consilium-audit-v1\n"
                     "2:12,16:1700000000123456,1:7,6:doctor,8:emr.read,~5:a,b:c,~2:ok,"
                     "8:10.0.0.1,3:王,";
  gsize tl = strlen (text);
  g_assert_cmpuint (buf->len, ==, tl + 32);
  g_assert_cmpmem (buf->data, tl, text, tl);
  for (int i = 0; i < 32; i++)
    g_assert_cmpuint (buf->data[tl + i], ==, 0xab);
}

static void
test_hash_covers_every_field (void)
{
  CsAuditEntry base = { .id = 1, .at = 2, .actor_id = 3, .actor_role = (char *) "r",
                        .action = (char *) "a", .object_type = (char *) "t",
                        .object_id = (char *) "o", .patient_id = 4, .result = (char *) "ok",
                        .source = (char *) "s", .detail = (char *) "d" };
  guint8 h0[32], h[32];
  cs_audit_compute_hash (&base, h0);

  CsAuditEntry e = base;
  e.id = 9;
  cs_audit_compute_hash (&e, h);
  g_assert_true (memcmp (h, h0, 32) != 0);
  e = base;
  e.at = 3;
  cs_audit_compute_hash (&e, h);
  g_assert_true (memcmp (h, h0, 32) != 0);
  e = base;
  e.detail = NULL;  /* NULL differs from any string, even "" */
  cs_audit_compute_hash (&e, h);
  g_assert_true (memcmp (h, h0, 32) != 0);
  e = base;
  e.prev_hash[31] = 1;
  cs_audit_compute_hash (&e, h);
  g_assert_true (memcmp (h, h0, 32) != 0);
  /* Shifting bytes between adjacent fields changes the hash (lengths). */
  CsAuditEntry x = base, y = base;
  x.object_type = (char *) "ab";
  x.object_id = (char *) "c";
  y.object_type = (char *) "a";
  y.object_id = (char *) "bc";
  guint8 hx[32], hy[32];
  cs_audit_compute_hash (&x, hx);
  cs_audit_compute_hash (&y, hy);
  g_assert_true (memcmp (hx, hy, 32) != 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/audit-chain/canonical-bytes", test_canonical_bytes);
  g_test_add_func ("/records/audit-chain/hash-covers-every-field", test_hash_covers_every_field);
  return g_test_run ();
}
