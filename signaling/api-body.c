/* api-body.c — decoding and checking JSON request bodies (pure). Bodies are
 * strict: an unknown field is refused rather than ignored, so a client typo
 * ("displayname") fails loudly instead of silently dropping data. */
#include "signaling/api-parse.h"

#include <stdarg.h>
#include <string.h>

static json_t *
refuse (CsApiProblem *problem, const char *code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static json_t *
refuse (CsApiProblem *problem, const char *code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  problem->code = code;
  g_vsnprintf (problem->message, sizeof problem->message, fmt, ap);
  va_end (ap);
  return NULL;
}

static const CsApiField *
find_field (const CsApiField *fields, const char *name)
{
  for (const CsApiField *f = fields; f->name; f++)
    if (strcmp (f->name, name) == 0)
      return f;
  return NULL;
}

json_t *
cs_api_body_decode (const char *data, gsize len, const CsApiField *fields, CsApiProblem *problem)
{
  g_return_val_if_fail (problem != NULL, NULL);
  problem->code = NULL;
  problem->message[0] = '\0';
  if (!fields)
    return NULL;
  if (len > CS_API_MAX_BODY)
    return refuse (problem, "payload-too-large", "the body exceeds %d bytes", CS_API_MAX_BODY);

  /* NUL inside strings is accepted by the parser only to be refused below
   * with a message naming the field. */
  json_error_t jerr;
  json_t *root = json_loadb (data ? data : "", len,
                             JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  if (!root && json_error_code (&jerr) == json_error_duplicate_key)
    return refuse (problem, "bad-request", "a field appears twice");
  if (!root)
    return refuse (problem, "bad-json", "the body is not valid JSON (line %d, column %d)",
                   jerr.line, jerr.column);
  json_auto_t *owned = root;
  if (!json_is_object (root))
    return refuse (problem, "bad-request", "the body must be a JSON object");

  const char *key;
  json_t *value;
  json_object_foreach (root, key, value) {
    const CsApiField *f = find_field (fields, key);
    if (!f) {
      /* Keys are valid UTF-8 (jansson checks); cut by characters, not bytes,
       * so the message stays valid UTF-8 for the JSON answer. */
      g_autofree char *shown = g_utf8_substring (key, 0, MIN (g_utf8_strlen (key, -1), 40));
      return refuse (problem, "bad-request", "unknown field \"%s\"", shown);
    }
    switch (f->type) {
    case CS_API_FIELD_STRING:
      if (!json_is_string (value))
        return refuse (problem, "bad-request", "field \"%s\" must be a string", f->name);
      if (strlen (json_string_value (value)) != json_string_length (value))
        return refuse (problem, "bad-request", "field \"%s\" contains a NUL character", f->name);
      break;
    case CS_API_FIELD_INT:
      if (!json_is_integer (value) || json_integer_value (value) < 1)
        return refuse (problem, "bad-request", "field \"%s\" must be a positive integer",
                       f->name);
      break;
    case CS_API_FIELD_ARRAY:
      if (!json_is_array (value))
        return refuse (problem, "bad-request", "field \"%s\" must be an array", f->name);
      break;
    }
  }
  for (const CsApiField *f = fields; f->name; f++)
    if (f->required && !json_object_get (root, f->name))
      return refuse (problem, "bad-request", "field \"%s\" is required", f->name);
  owned = NULL;
  return root;
}

gboolean
cs_api_is_json_type (const char *content_type)
{
  if (!content_type)
    return FALSE;
  while (*content_type == ' ')
    content_type++;
  gsize n = strlen ("application/json");
  if (g_ascii_strncasecmp (content_type, "application/json", n) != 0)
    return FALSE;
  char next = content_type[n];
  return next == '\0' || next == ';' || next == ' ';
}
