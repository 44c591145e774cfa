/* validate.c — input checks done before anything reaches the database.
 * Values are always bound as parameters, so these checks are about sane
 * data (lengths, valid UTF-8, no control characters), not about quoting:
 * quotes, backslashes and SQL keywords are stored verbatim. */
#include "records/records-private.h"

#include <string.h>

static gboolean
fail (GError **error, const char *what, const char *why)
{
  g_set_error (error, CS_RECORDS_ERROR, CS_RECORDS_ERROR_INVALID, "%s %s", what, why);
  return FALSE;
}

static gboolean
has_control (const char *s)
{
  for (const guchar *p = (const guchar *) s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

gboolean
cs_check_text (const char *what, const char *value, gsize max_chars, GError **error)
{
  if (!value || !*value)
    return fail (error, what, "is required");
  if (!g_utf8_validate (value, -1, NULL))
    return fail (error, what, "is not valid UTF-8");
  if (g_utf8_strlen (value, -1) > (glong) max_chars)
    return fail (error, what, "is too long");
  if (has_control (value))
    return fail (error, what, "contains control characters");
  return TRUE;
}

gboolean
cs_check_email (const char *email, GError **error)
{
  if (!cs_check_text ("email", email, 254, error))
    return FALSE;
  const char *at = strchr (email, '@');
  if (strlen (email) > 254 || !at || at == email || !at[1] || strchr (at + 1, '@')
      || strchr (email, ' '))
    return fail (error, "email", "is not an address");
  return TRUE;
}

gboolean
cs_check_password (const char *password, GError **error)
{
  if (!password || strlen (password) < 10)
    return fail (error, "password", "must have at least 10 characters");
  /* Bounds argon2's input; any byte but NUL is allowed. */
  if (strlen (password) > 1024)
    return fail (error, "password", "is too long");
  if (!g_utf8_validate (password, -1, NULL))
    return fail (error, "password", "is not valid UTF-8");
  return TRUE;
}
