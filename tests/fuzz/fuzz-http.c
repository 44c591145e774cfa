/* Fuzz target for the REST API's pure half (signaling/api-parse.h): the
 * first line of the input is "METHOD PATH", the rest is a request body.
 * The path goes through the router; a routed endpoint's body through the
 * decoder; both must hold their contracts for any input. */
#include "signaling/api-parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const struct {
  const char *name;
  CsHttpMethod method;
} methods[] = {
  { "GET", CS_HTTP_GET }, { "POST", CS_HTTP_POST }, { "PUT", CS_HTTP_PUT },
  { "PATCH", CS_HTTP_PATCH }, { "DELETE", CS_HTTP_DELETE },
};

/* The decoder's promise: an object with exactly the listed fields, each of
 * its type, the required ones present, strings free of NUL. */
static void
check_decoded (json_t *obj, const CsApiField *fields)
{
  g_assert_true (json_is_object (obj));
  const char *key;
  json_t *value;
  json_object_foreach (obj, key, value) {
    const CsApiField *f = fields;
    while (f->name && strcmp (f->name, key) != 0)
      f++;
    g_assert_nonnull (f->name);
    switch (f->type) {
    case CS_API_FIELD_STRING:
      g_assert_cmpuint (strlen (json_string_value (value)), ==, json_string_length (value));
      break;
    case CS_API_FIELD_INT:
      g_assert_true (json_is_integer (value));
      g_assert_cmpint (json_integer_value (value), >=, 1);
      break;
    case CS_API_FIELD_ARRAY:
      g_assert_true (json_is_array (value));
      break;
    }
  }
  for (const CsApiField *f = fields; f->name; f++)
    if (f->required)
      g_assert_nonnull (json_object_get (obj, f->name));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  const char *nl = memchr (text, '\n', size);
  gsize line_len = nl ? (gsize) (nl - text) : size;
  const char *body = nl ? nl + 1 : text + size;
  gsize body_len = size - (gsize) (body - text);

  const char *sp = memchr (text, ' ', line_len);
  CsHttpMethod method = CS_HTTP_OTHER;
  for (gsize i = 0; sp && i < G_N_ELEMENTS (methods); i++)
    if ((gsize) (sp - text) == strlen (methods[i].name) &&
        memcmp (text, methods[i].name, (gsize) (sp - text)) == 0)
      method = methods[i].method;
  const char *path = sp ? sp + 1 : text;
  gsize path_len = line_len - (gsize) (path - text);

  /* The router reads exactly path_len bytes: give it a copy of that size. */
  char *copy = g_malloc (path_len ? path_len : 1);
  memcpy (copy, path, path_len);
  CsApiMatch match;
  CsApiRouteResult r = cs_api_route (method, copy, path_len, &match);
  gint64 id;
  if (cs_api_parse_id (copy, path_len, &id))
    g_assert_cmpint (id, >=, 1);
  g_free (copy);

  const CsApiField *fields = NULL;
  if (r == CS_API_ROUTE_OK) {
    g_assert_nonnull (match.route);
    g_assert_true (match.route->method == method);
    for (guint i = 0; i < CS_API_MAX_PATH_IDS; i++)
      g_assert_cmpint (match.ids[i], >=, 0);
    fields = match.route->fields;
  } else if (r == CS_API_ROUTE_METHOD) {
    g_assert_cmpuint (strlen (match.allow), >, 0);
  }
  /* Unrouted inputs still exercise the decoder, with the richest list. */
  if (!fields)
    fields = cs_api_route_get (CS_API_USERS_CREATE)->fields;

  CsApiProblem problem;
  json_t *obj = cs_api_body_decode (body, body_len, fields, &problem);
  if (obj) {
    check_decoded (obj, fields);
    json_decref (obj);
  } else {
    g_assert_nonnull (problem.code);
    /* The message goes into a JSON answer: it must be valid UTF-8. */
    g_assert_true (g_utf8_validate (problem.message, -1, NULL));
  }
  return 0;
}
