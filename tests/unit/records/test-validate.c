/* test-validate.c — input checks: sane data, no quoting concerns. */
#include "records/records-private.h"

static void
test_email (void)
{
  const char *good[] = { "a@b", "o'brien@example.org", "\"q\"@x.y", "王@例子.中国", NULL };
  const char *bad[] = { "", "ab", "a@", "@b", "a@b@c", "a b@c", "a@b\n", NULL };
  for (const char **p = good; *p; p++)
    g_assert_true (cs_check_email (*p, NULL));
  for (const char **p = bad; *p; p++)
    g_assert_false (cs_check_email (*p, NULL));
  g_autofree char *longmail = g_strnfill (300, 'a');
  longmail[10] = '@';
  g_assert_false (cs_check_email (longmail, NULL));
}

static void
test_password (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (cs_check_password ("short", &error));
  g_assert_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID);
  g_assert_true (cs_check_password ("'; DROP TABLE users; --", NULL));
  g_autofree char *huge = g_strnfill (1025, 'x');
  g_assert_false (cs_check_password (huge, NULL));
}

static void
test_text (void)
{
  g_assert_true (cs_check_text ("name", "王小明", 3, NULL));
  g_assert_false (cs_check_text ("name", "王小明", 2, NULL));
  g_assert_false (cs_check_text ("name", "a\tb", 10, NULL));
  g_assert_false (cs_check_text ("name", "\xc3", 10, NULL));
  g_assert_false (cs_check_text ("name", NULL, 10, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/validate/email", test_email);
  g_test_add_func ("/records/validate/password", test_password);
  g_test_add_func ("/records/validate/text", test_text);
  return g_test_run ();
}
