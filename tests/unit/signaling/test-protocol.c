/* Unit tests of signaling/protocol.c: every client message, valid and in
 * each invalid shape, mapped to the exact error code of docs/signaling.md;
 * and every server message builder produces the documented JSON. */
#include "signaling/protocol.h"

#include <string.h>

static CsSigErrorCode
parse (const char *frame, CsSigRequest *req, CsSigId *id)
{
  char err[200];
  CsSigErrorCode code = cs_sig_request_parse (frame, strlen (frame), req, id, err, sizeof err);
  if (code != CS_SIG_OK) {
    g_assert_cmpstr (err, !=, "");
    g_autofree char *shown = g_strescape (frame, NULL);
    g_test_message ("%s -> %s: %s", shown, cs_sig_error_code_to_string (code), err);
  }
  return code;
}

static CsSigErrorCode
parse_code (const char *frame)
{
  g_auto (CsSigRequest) req = { 0 };
  CsSigId id;
  CsSigErrorCode code = parse (frame, &req, &id);
  if (code != CS_SIG_OK)
    g_assert_null (req.root);  /* untouched on failure */
  return code;
}

static void
test_valid (void)
{
  g_auto (CsSigRequest) req = { 0 };
  CsSigId id;

  g_assert_cmpint (parse ("{\"type\":\"join\",\"id\":1,\"token\":\"a.b.c\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_JOIN);
  g_assert_cmpstr (req.token, ==, "a.b.c");
  g_assert_cmpint (req.id.kind, ==, CS_SIG_ID_INT);
  g_assert_cmpint (req.id.num, ==, 1);
  g_assert_cmpint (id.kind, ==, CS_SIG_ID_INT);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"offer\",\"id\":\"o-1\",\"sdp\":\"v=0\\r\\n\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_OFFER);
  g_assert_cmpstr (req.sdp, ==, "v=0\r\n");
  g_assert_cmpuint (req.sdp_len, ==, 5);
  g_assert_cmpint (req.id.kind, ==, CS_SIG_ID_STRING);
  g_assert_cmpstr (req.id.str, ==, "o-1");
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"candidate\",\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\","
                          "\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"abcd\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_CANDIDATE);
  g_assert_true (g_str_has_prefix (req.candidate, "candidate:1 1 udp"));
  g_assert_cmpstr (req.sdp_mid, ==, "0");
  g_assert_cmpint (req.sdp_mline_index, ==, 0);
  g_assert_cmpint (req.id.kind, ==, CS_SIG_ID_NONE);
  g_assert_cmpint (id.kind, ==, CS_SIG_ID_NONE);
  cs_sig_request_clear (&req);

  /* Browsers' end-of-candidates: an empty candidate, null mid/index. */
  g_assert_cmpint (parse ("{\"type\":\"candidate\",\"candidate\":\"\",\"sdpMid\":null,\"sdpMLineIndex\":null}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpstr (req.candidate, ==, "");
  g_assert_null (req.sdp_mid);
  g_assert_cmpint (req.sdp_mline_index, ==, -1);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"candidate\",\"candidate\":\"candidate:x\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_null (req.sdp_mid);
  g_assert_cmpint (req.sdp_mline_index, ==, -1);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"end-of-candidates\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_END_OF_CANDIDATES);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"mute\",\"id\":3,\"kind\":\"audio\",\"muted\":true}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_MUTE);
  g_assert_cmpint (req.kind, ==, CS_MEDIA_KIND_AUDIO);
  g_assert_true (req.muted);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"muted\":false,\"kind\":\"video\",\"type\":\"mute\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.kind, ==, CS_MEDIA_KIND_VIDEO);
  g_assert_false (req.muted);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"leave\",\"id\":4}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_LEAVE);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse (" { \"type\" : \"ping\" , \"id\" : -5 , \"extra\" : {\"a\":[1,2]} } ", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_PING);
  g_assert_cmpint (req.id.num, ==, -5);
}

/* The messages of a visit: host controls, chat, file notices, subscribe. */
static void
test_valid_visit (void)
{
  g_auto (CsSigRequest) req = { 0 };
  CsSigId id;

  g_assert_cmpint (parse ("{\"type\":\"admit\",\"id\":6,\"participant\":\"p0123456789abcdef\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_ADMIT);
  g_assert_cmpstr (req.participant, ==, "p0123456789abcdef");
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"mute-participant\",\"participant\":\"pfedcba9876543210\",\"kind\":\"video\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_MUTE_PARTICIPANT);
  g_assert_cmpstr (req.participant, ==, "pfedcba9876543210");
  g_assert_cmpint (req.kind, ==, CS_MEDIA_KIND_VIDEO);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"remove\",\"participant\":\"p0000000000000000\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_REMOVE);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"chat\",\"id\":\"c1\",\"text\":\" \u4f60\u597d\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_CHAT);
  g_assert_cmpstr (req.text, ==, " \xe4\xbd\xa0\xe5\xa5\xbd");
  cs_sig_request_clear (&req);

  /* The limit is in characters, not bytes: 4000 three-byte characters pass. */
  GString *big = g_string_new ("{\"type\":\"chat\",\"text\":\"");
  for (guint i = 0; i < CS_SIG_MAX_CHAT; i++)
    g_string_append (big, "\xe4\xb8\xad");
  g_string_append (big, "\"}");
  g_assert_cmpint (parse (big->str, &req, &id), ==, CS_SIG_OK);
  g_assert_cmpuint (g_utf8_strlen (req.text, -1), ==, CS_SIG_MAX_CHAT);
  cs_sig_request_clear (&req);
  g_string_insert (big, strlen ("{\"type\":\"chat\",\"text\":\""), "x");
  g_assert_cmpint (parse_code (big->str), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_string_free (big, TRUE);

  g_assert_cmpint (parse ("{\"type\":\"file-shared\",\"id\":8,\"file_id\":42}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_FILE_SHARED);
  g_assert_cmpint (req.file_id, ==, 42);
  cs_sig_request_clear (&req);

  g_assert_cmpint (parse ("{\"type\":\"subscribe\",\"session\":\"0123abcd\"}", &req, &id), ==, CS_SIG_OK);
  g_assert_cmpint (req.type, ==, CS_SIG_MSG_SUBSCRIBE);
  g_assert_cmpstr (req.session, ==, "0123abcd");
  cs_sig_request_clear (&req);

  g_autofree char *longest = g_strnfill (CS_SIG_MAX_SESSION, 'a');
  g_autofree char *too_long = g_strnfill (CS_SIG_MAX_SESSION + 1, 'a');
  g_autofree char *ok = g_strdup_printf ("{\"type\":\"subscribe\",\"session\":\"%s\"}", longest);
  g_autofree char *bad = g_strdup_printf ("{\"type\":\"subscribe\",\"session\":\"%s\"}", too_long);
  g_assert_cmpint (parse_code (ok), ==, CS_SIG_OK);
  g_assert_cmpint (parse_code (bad), ==, CS_SIG_ERR_BAD_MESSAGE);
}

static void
test_ids (void)
{
  g_autofree char *id64 = g_strnfill (64, 'i'), *id65 = g_strnfill (65, 'i');
  GString *wide = g_string_new (NULL);
  for (guint i = 0; i < 64; i++)
    g_string_append (wide, "\xe4\xb8\xad");  /* 64 characters, 192 bytes */

  g_autofree char *ok1 = g_strdup_printf ("{\"type\":\"ping\",\"id\":\"%s\"}", id64);
  g_autofree char *ok2 = g_strdup_printf ("{\"type\":\"ping\",\"id\":\"%s\"}", wide->str);
  g_autofree char *bad1 = g_strdup_printf ("{\"type\":\"ping\",\"id\":\"%s\"}", id65);
  g_string_free (wide, TRUE);

  g_assert_cmpint (parse_code (ok1), ==, CS_SIG_OK);
  g_assert_cmpint (parse_code (ok2), ==, CS_SIG_OK);
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"id\":9223372036854775807}"), ==, CS_SIG_OK);
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"id\":\"\"}"), ==, CS_SIG_OK);
  g_assert_cmpint (parse_code (bad1), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"id\":1.5}"), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"id\":null}"), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"id\":true}"), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"id\":[1]}"), ==, CS_SIG_ERR_BAD_MESSAGE);

  /* A valid id is echoed even when the rest of the request is wrong. */
  g_auto (CsSigRequest) req = { 0 };
  CsSigId id;
  g_assert_cmpint (parse ("{\"type\":\"join\",\"id\":7}", &req, &id), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_assert_cmpint (id.kind, ==, CS_SIG_ID_INT);
  g_assert_cmpint (id.num, ==, 7);
  g_assert_cmpint (parse ("{\"type\":\"nope\",\"id\":\"x\"}", &req, &id), ==, CS_SIG_ERR_UNKNOWN_TYPE);
  g_assert_cmpint (id.kind, ==, CS_SIG_ID_STRING);
  g_assert_cmpstr (id.str, ==, "x");
  g_assert_cmpint (parse ("{\"type\":\"ping\",\"id\":1.5}", &req, &id), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_assert_cmpint (id.kind, ==, CS_SIG_ID_NONE);
  g_assert_cmpint (parse ("[{\"id\":1}]", &req, &id), ==, CS_SIG_ERR_BAD_JSON);
  g_assert_cmpint (id.kind, ==, CS_SIG_ID_NONE);
}

static void
test_bad_json (void)
{
  const char *frames[] = {
    "", " ", "not json", "{", "{\"type\":\"ping\"", "{\"type\":\"ping\"}}", "{\"type\":\"ping\"} x",
    "[]", "[{\"type\":\"ping\"}]", "\"ping\"", "42", "null", "true",
    "{'type':'ping'}", "{type:\"ping\"}",
    "{\"type\":\"ping\",\"type\":\"ping\"}",           /* duplicate key */
    "{\"type\":\"ping\",\"id\":\"\xff\"}",             /* not UTF-8 */
    "{\"type\":\"ping\",\"id\":\"a\\u0000b\"}",        /* NUL */
  };
  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    g_assert_cmpint (parse_code (frames[i]), ==, CS_SIG_ERR_BAD_JSON);

  /* The length is honoured: bytes past it are not part of the frame. */
  g_auto (CsSigRequest) req = { 0 };
  CsSigId id;
  char err[64];
  const char *two = "{\"type\":\"ping\"}{\"type\":\"ping\"}";
  g_assert_cmpint (cs_sig_request_parse (two, 15, &req, &id, err, sizeof err), ==, CS_SIG_OK);
  cs_sig_request_clear (&req);
  g_assert_cmpint (cs_sig_request_parse (two, 14, &req, &id, err, sizeof err), ==, CS_SIG_ERR_BAD_JSON);
}

static void
test_bad_message (void)
{
  const char *frames[] = {
    "{}",
    "{\"id\":1}",
    "{\"type\":null}",
    "{\"type\":1}",
    "{\"type\":[\"ping\"]}",
    "{\"type\":\"join\"}",
    "{\"type\":\"join\",\"token\":null}",
    "{\"type\":\"join\",\"token\":42}",
    "{\"type\":\"offer\"}",
    "{\"type\":\"offer\",\"sdp\":{\"type\":\"offer\"}}",
    "{\"type\":\"candidate\"}",
    "{\"type\":\"candidate\",\"candidate\":null}",
    "{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMid\":0}",
    "{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":\"0\"}",
    "{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":-1}",
    "{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":65536}",
    "{\"type\":\"candidate\",\"candidate\":\"c\",\"sdpMLineIndex\":0.5}",
    "{\"type\":\"mute\",\"muted\":true}",
    "{\"type\":\"mute\",\"kind\":\"screen\",\"muted\":true}",
    "{\"type\":\"mute\",\"kind\":\"Audio\",\"muted\":true}",
    "{\"type\":\"mute\",\"kind\":\"audio\"}",
    "{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":1}",
    "{\"type\":\"mute\",\"kind\":\"audio\",\"muted\":\"true\"}",
    "{\"type\":\"ping\",\"x\":[[[[[[[[1]]]]]]]]}",     /* 9 levels deep */
    /* participant ids are "p" + 16 lower-case hex digits */
    "{\"type\":\"admit\"}",
    "{\"type\":\"admit\",\"participant\":null}",
    "{\"type\":\"admit\",\"participant\":17}",
    "{\"type\":\"admit\",\"participant\":\"\"}",
    "{\"type\":\"admit\",\"participant\":\"p0123456789abcde\"}",
    "{\"type\":\"admit\",\"participant\":\"p0123456789abcdef0\"}",
    "{\"type\":\"admit\",\"participant\":\"P0123456789abcdef\"}",
    "{\"type\":\"remove\",\"participant\":\"p0123456789ABCDEF\"}",
    "{\"type\":\"remove\",\"participant\":\"p0123456789abcdeg\"}",
    "{\"type\":\"remove\",\"participant\":[\"p0123456789abcdef\"]}",
    "{\"type\":\"mute-participant\",\"participant\":\"p0123456789abcdef\"}",
    "{\"type\":\"mute-participant\",\"participant\":\"p0123456789abcdef\",\"kind\":\"screen\"}",
    "{\"type\":\"mute-participant\",\"kind\":\"audio\"}",
    "{\"type\":\"chat\"}",
    "{\"type\":\"chat\",\"text\":\"\"}",
    "{\"type\":\"chat\",\"text\":\"  \\n\\t \"}",
    "{\"type\":\"chat\",\"text\":42}",
    "{\"type\":\"chat\",\"text\":{\"text\":\"hi\"}}",
    "{\"type\":\"file-shared\"}",
    "{\"type\":\"file-shared\",\"file_id\":0}",
    "{\"type\":\"file-shared\",\"file_id\":-3}",
    "{\"type\":\"file-shared\",\"file_id\":1.5}",
    "{\"type\":\"file-shared\",\"file_id\":\"7\"}",
    "{\"type\":\"subscribe\"}",
    "{\"type\":\"subscribe\",\"session\":\"\"}",
    "{\"type\":\"subscribe\",\"session\":7}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (frames); i++)
    g_assert_cmpint (parse_code (frames[i]), ==, CS_SIG_ERR_BAD_MESSAGE);
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"x\":[[[[[[[1]]]]]]]}"), ==, CS_SIG_OK);
  /* Brackets inside strings do not count as nesting. */
  g_assert_cmpint (parse_code ("{\"type\":\"ping\",\"x\":\"[[[[[[[[[[\\\"[[[[\"}"), ==, CS_SIG_OK);
}

static void
test_unknown_type (void)
{
  const char *frames[] = {
    "{\"type\":\"\"}", "{\"type\":\"Join\"}", "{\"type\":\"joined\"}", "{\"type\":\"answer\"}",
    "{\"type\":\"ping \"}", "{\"type\":\"Admit\"}", "{\"type\":\"lobby\"}",
    "{\"type\":\"waiting\"}", "{\"type\":\"mute_participant\"}",
    "{\"type\":\"pi\\u0000ng\"}",
  };
  /* (the last one is bad JSON: NUL is refused before the type is seen) */
  for (guint i = 0; i + 1 < G_N_ELEMENTS (frames); i++)
    g_assert_cmpint (parse_code (frames[i]), ==, CS_SIG_ERR_UNKNOWN_TYPE);
  g_assert_cmpint (parse_code (frames[G_N_ELEMENTS (frames) - 1]), ==, CS_SIG_ERR_BAD_JSON);
}

static void
test_too_large (void)
{
  /* A valid offer of exactly the limit passes; one byte more does not. */
  const char *head = "{\"type\":\"offer\",\"sdp\":\"";
  const char *tail = "\"}";
  gsize pad = CS_SIG_MAX_FRAME - strlen (head) - strlen (tail);
  g_autofree char *sdp = g_strnfill (pad, 'a');
  g_autofree char *frame = g_strconcat (head, sdp, tail, NULL);
  g_assert_cmpuint (strlen (frame), ==, CS_SIG_MAX_FRAME);
  g_assert_cmpint (parse_code (frame), ==, CS_SIG_OK);
  g_autofree char *sdp2 = g_strnfill (pad + 1, 'a');
  g_autofree char *frame2 = g_strconcat (head, sdp2, tail, NULL);
  g_assert_cmpint (parse_code (frame2), ==, CS_SIG_ERR_MESSAGE_TOO_LARGE);
}

static void
test_error_codes (void)
{
  /* Every code has a distinct name, and the names are exactly the table of
   * docs/signaling.md. */
  g_autofree char *doc = NULL;
  g_autofree char *path = g_build_filename (g_getenv ("CS_SOURCE_DIR") ? g_getenv ("CS_SOURCE_DIR") : ".",
                                            "docs", "signaling.md", NULL);
  if (!g_file_get_contents (path, &doc, NULL, NULL)) {
    g_test_skip ("docs/signaling.md not found (set CS_SOURCE_DIR)");
    return;
  }
  g_autoptr (GHashTable) documented = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) lines = g_strsplit (doc, "\n", -1);
  gboolean in_table = FALSE;
  for (guint i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], "| code |")) {
      in_table = TRUE;
      continue;
    }
    if (in_table && !g_str_has_prefix (lines[i], "|"))
      break;
    if (in_table && g_str_has_prefix (lines[i], "| `")) {
      const char *start = lines[i] + 3;
      const char *end = strchr (start, '`');
      g_assert_nonnull (end);
      g_hash_table_add (documented, g_strndup (start, (gsize) (end - start)));
    }
  }
  g_assert_cmpuint (g_hash_table_size (documented), ==, CS_SIG_N_ERRORS - 1);
  for (guint c = 1; c < CS_SIG_N_ERRORS; c++) {
    const char *name = cs_sig_error_code_to_string (c);
    g_test_message ("code %s", name);
    g_assert_true (g_hash_table_contains (documented, name));
  }
}

/* ---- builders */

static json_t *
load (char *s)
{
  json_error_t e;
  json_t *v = json_loads (s, JSON_REJECT_DUPLICATES, &e);
  g_assert_nonnull (v);
  g_assert_true (json_is_object (v));
  g_free (s);
  return v;
}

static const CsSigParticipant alice = { "p0123456789abcdef", "u1", "Dr Li", "doctor", FALSE, TRUE, TRUE };
static const CsSigParticipant bob = { "pfedcba9876543210", "u2", "Wang \xe7\x8e\x8b", "patient", TRUE, FALSE, FALSE };

static void
check_participant (json_t *o, const CsSigParticipant *p)
{
  g_assert_cmpuint (json_object_size (o), ==, 7);
  g_assert_true (json_is_boolean (json_object_get (o, "host")));
  g_assert_cmpint (json_is_true (json_object_get (o, "host")), ==, p->host);
  g_assert_cmpstr (json_string_value (json_object_get (o, "id")), ==, p->id);
  g_assert_cmpstr (json_string_value (json_object_get (o, "user")), ==, p->user);
  g_assert_cmpstr (json_string_value (json_object_get (o, "name")), ==, p->name);
  g_assert_cmpstr (json_string_value (json_object_get (o, "role")), ==, p->role);
  g_assert_true (json_is_boolean (json_object_get (o, "audio_muted")));
  g_assert_cmpint (json_is_true (json_object_get (o, "audio_muted")), ==, p->audio_muted);
  g_assert_cmpint (json_is_true (json_object_get (o, "video_muted")), ==, p->video_muted);
}

static void
test_build_joined (void)
{
  CsSigId id = { .kind = CS_SIG_ID_INT, .num = 1 };
  const char *urls[] = { "stun:127.0.0.1:3478", NULL };
  json_t *j = load (cs_sig_build_joined (&id, "r1", &alice, &bob, 1, urls));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "joined");
  g_assert_cmpint (json_integer_value (json_object_get (j, "id")), ==, 1);
  g_assert_cmpstr (json_string_value (json_object_get (j, "room")), ==, "r1");
  check_participant (json_object_get (j, "participant"), &alice);
  json_t *others = json_object_get (j, "participants");
  g_assert_cmpuint (json_array_size (others), ==, 1);
  check_participant (json_array_get (others, 0), &bob);
  json_t *ice = json_object_get (j, "ice_servers");
  g_assert_cmpuint (json_array_size (ice), ==, 1);
  json_t *u = json_object_get (json_array_get (ice, 0), "urls");
  g_assert_cmpstr (json_string_value (json_array_get (u, 0)), ==, "stun:127.0.0.1:3478");
  json_decref (j);

  CsSigId none = { .kind = CS_SIG_ID_NONE };
  j = load (cs_sig_build_joined (&none, "r1", &alice, NULL, 0, NULL));
  g_assert_true (json_is_null (json_object_get (j, "id")));
  g_assert_cmpuint (json_array_size (json_object_get (j, "participants")), ==, 0);
  g_assert_true (json_is_array (json_object_get (j, "ice_servers")));
  g_assert_cmpuint (json_array_size (json_object_get (j, "ice_servers")), ==, 0);
  json_decref (j);
}

static void
test_build_answer_streams (void)
{
  CsSigId id = { .kind = CS_SIG_ID_STRING, .str = "o-2" };
  CsSigStream streams[] = {
    { "2", "pfedcba9876543210", CS_MEDIA_KIND_VIDEO, "pfedcba9876543210:1" },
    { "3", "pfedcba9876543210", CS_MEDIA_KIND_AUDIO, "pfedcba9876543210:0" },
  };
  json_t *j = load (cs_sig_build_answer (&id, "v=0\r\n", streams, 2));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "answer");
  g_assert_cmpstr (json_string_value (json_object_get (j, "id")), ==, "o-2");
  g_assert_cmpstr (json_string_value (json_object_get (j, "sdp")), ==, "v=0\r\n");
  json_t *s0 = json_array_get (json_object_get (j, "streams"), 0);
  g_assert_cmpstr (json_string_value (json_object_get (s0, "mid")), ==, "2");
  g_assert_cmpstr (json_string_value (json_object_get (s0, "participant")), ==, "pfedcba9876543210");
  g_assert_cmpstr (json_string_value (json_object_get (s0, "kind")), ==, "video");
  g_assert_cmpstr (json_string_value (json_object_get (s0, "track")), ==, "pfedcba9876543210:1");
  json_t *s1 = json_array_get (json_object_get (j, "streams"), 1);
  g_assert_cmpstr (json_string_value (json_object_get (s1, "kind")), ==, "audio");
  json_decref (j);

  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    streams[i].mid = NULL;
  j = load (cs_sig_build_streams (streams, 2));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "streams");
  s0 = json_array_get (json_object_get (j, "streams"), 0);
  g_assert_cmpuint (json_object_size (s0), ==, 3);  /* no "mid" */
  json_decref (j);

  j = load (cs_sig_build_streams (NULL, 0));
  g_assert_cmpuint (json_array_size (json_object_get (j, "streams")), ==, 0);
  json_decref (j);
}

static void
test_build_others (void)
{
  json_t *j = load (cs_sig_build_candidate ("0", "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host"));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "candidate");
  g_assert_cmpstr (json_string_value (json_object_get (j, "sdpMid")), ==, "0");
  g_assert_cmpint (json_integer_value (json_object_get (j, "sdpMLineIndex")), ==, 0);
  g_assert_true (g_str_has_prefix (json_string_value (json_object_get (j, "candidate")), "candidate:1"));
  json_decref (j);

  j = load (cs_sig_build_candidate ("0", NULL));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "end-of-candidates");
  g_assert_cmpuint (json_object_size (j), ==, 1);
  json_decref (j);

  j = load (cs_sig_build_participant_joined (&bob));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "participant-joined");
  check_participant (json_object_get (j, "participant"), &bob);
  json_decref (j);

  j = load (cs_sig_build_participant_updated (&alice));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "participant-updated");
  check_participant (json_object_get (j, "participant"), &alice);
  json_decref (j);

  j = load (cs_sig_build_participant_left ("p0123456789abcdef"));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "participant-left");
  json_t *p = json_object_get (j, "participant");
  g_assert_cmpuint (json_object_size (p), ==, 1);
  g_assert_cmpstr (json_string_value (json_object_get (p, "id")), ==, "p0123456789abcdef");
  json_decref (j);

  j = load (cs_sig_build_media_state ("connected"));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "media-state");
  g_assert_cmpstr (json_string_value (json_object_get (j, "state")), ==, "connected");
  json_decref (j);

  CsSigId id = { .kind = CS_SIG_ID_INT, .num = 5 };
  j = load (cs_sig_build_pong (&id));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "pong");
  g_assert_cmpint (json_integer_value (json_object_get (j, "id")), ==, 5);
  json_decref (j);
  j = load (cs_sig_build_ok (&id));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "ok");
  json_decref (j);
}

static void
test_build_error (void)
{
  json_t *j = load (cs_sig_build_error (NULL, CS_SIG_ERR_BAD_JSON, "column 1: oops"));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "error");
  g_assert_true (json_is_null (json_object_get (j, "id")));
  g_assert_cmpstr (json_string_value (json_object_get (j, "code")), ==, "bad-json");
  g_assert_cmpstr (json_string_value (json_object_get (j, "message")), ==, "column 1: oops");
  json_decref (j);

  /* A message quoting broken client bytes still makes valid JSON. */
  CsSigId id = { .kind = CS_SIG_ID_INT, .num = 2 };
  j = load (cs_sig_build_error (&id, CS_SIG_ERR_INVALID_SDP, "line 1: \xff\xfe bad"));
  g_assert_cmpint (json_integer_value (json_object_get (j, "id")), ==, 2);
  g_assert_cmpstr (json_string_value (json_object_get (j, "code")), ==, "invalid-sdp");
  g_assert_true (g_utf8_validate (json_string_value (json_object_get (j, "message")), -1, NULL));
  json_decref (j);

  /* Round trip: the id of a failed request comes back in its error. */
  g_auto (CsSigRequest) req = { 0 };
  CsSigId got;
  char err[128];
  const char *frame = "{\"type\":\"bogus\",\"id\":\"req-9\"}";
  CsSigErrorCode code = cs_sig_request_parse (frame, strlen (frame), &req, &got, err, sizeof err);
  j = load (cs_sig_build_error (&got, code, err));
  g_assert_cmpstr (json_string_value (json_object_get (j, "id")), ==, "req-9");
  g_assert_cmpstr (json_string_value (json_object_get (j, "code")), ==, "unknown-type");
  json_decref (j);
}

static void
test_build_visit (void)
{
  /* 2026-01-05T09:00:00Z, plus microseconds that are not shown */
  const gint64 t = G_GINT64_CONSTANT (1767603600) * G_USEC_PER_SEC + 123456;
  g_autofree char *ts = cs_sig_format_time (t);
  g_assert_cmpstr (ts, ==, "2026-01-05T09:00:00Z");

  CsSigId id = { .kind = CS_SIG_ID_INT, .num = 1 };
  json_t *j = load (cs_sig_build_waiting (&id, "appt-7", &bob, t, 2));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "waiting");
  g_assert_cmpint (json_integer_value (json_object_get (j, "id")), ==, 1);
  g_assert_cmpstr (json_string_value (json_object_get (j, "room")), ==, "appt-7");
  check_participant (json_object_get (j, "participant"), &bob);
  g_assert_cmpstr (json_string_value (json_object_get (j, "since")), ==, "2026-01-05T09:00:00Z");
  g_assert_cmpint (json_integer_value (json_object_get (j, "position")), ==, 2);
  json_decref (j);

  CsSigWaiting w[] = {
    { "pfedcba9876543210", "41", "Wang", "patient", t },
    { "p0123456789abcdef", "invite-3", "Interpreter", "guest", t + 61 * G_USEC_PER_SEC },
  };
  j = load (cs_sig_build_lobby (w, 2));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "lobby");
  json_t *list = json_object_get (j, "waiting");
  g_assert_cmpuint (json_array_size (list), ==, 2);
  json_t *w1 = json_array_get (list, 1);
  g_assert_cmpuint (json_object_size (w1), ==, 5);
  g_assert_cmpstr (json_string_value (json_object_get (w1, "id")), ==, "p0123456789abcdef");
  g_assert_cmpstr (json_string_value (json_object_get (w1, "user")), ==, "invite-3");
  g_assert_cmpstr (json_string_value (json_object_get (w1, "name")), ==, "Interpreter");
  g_assert_cmpstr (json_string_value (json_object_get (w1, "role")), ==, "guest");
  g_assert_cmpstr (json_string_value (json_object_get (w1, "since")), ==, "2026-01-05T09:01:01Z");
  json_decref (j);
  j = load (cs_sig_build_lobby (NULL, 0));
  g_assert_cmpuint (json_array_size (json_object_get (j, "waiting")), ==, 0);
  json_decref (j);

  j = load (cs_sig_build_muted_by_host (CS_MEDIA_KIND_AUDIO));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "muted-by-host");
  g_assert_cmpstr (json_string_value (json_object_get (j, "kind")), ==, "audio");
  json_decref (j);

  j = load (cs_sig_build_removed (TRUE));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "removed");
  g_assert_cmpstr (json_string_value (json_object_get (j, "from")), ==, "lobby");
  json_decref (j);
  j = load (cs_sig_build_removed (FALSE));
  g_assert_cmpstr (json_string_value (json_object_get (j, "from")), ==, "room");
  json_decref (j);

  CsSigChat chat = { 12, 41, "pfedcba9876543210", "Wang", "patient", "hello \"doctor\"",
                     "2026-01-05T09:00:00Z" };
  j = load (cs_sig_build_chat (&chat));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "chat");
  json_t *m = json_object_get (j, "message");
  g_assert_cmpuint (json_object_size (m), ==, 7);
  g_assert_cmpint (json_integer_value (json_object_get (m, "id")), ==, 12);
  g_assert_cmpint (json_integer_value (json_object_get (m, "sender_id")), ==, 41);
  g_assert_cmpstr (json_string_value (json_object_get (m, "participant")), ==, "pfedcba9876543210");
  g_assert_cmpstr (json_string_value (json_object_get (m, "name")), ==, "Wang");
  g_assert_cmpstr (json_string_value (json_object_get (m, "role")), ==, "patient");
  g_assert_cmpstr (json_string_value (json_object_get (m, "text")), ==, "hello \"doctor\"");
  g_assert_cmpstr (json_string_value (json_object_get (m, "sent_at")), ==, "2026-01-05T09:00:00Z");
  json_decref (j);
  /* Not stored (not a visit) and sent by a guest: no ids. */
  chat.id = chat.sender_id = 0;
  j = load (cs_sig_build_chat (&chat));
  m = json_object_get (j, "message");
  g_assert_true (json_is_null (json_object_get (m, "id")));
  g_assert_true (json_is_null (json_object_get (m, "sender_id")));
  json_decref (j);

  CsSigFile file = { 5, "scan.pdf", 1048576, "application/pdf", 41, "Wang", "pfedcba9876543210" };
  j = load (cs_sig_build_file_shared (&file));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "file-shared");
  json_t *f = json_object_get (j, "file");
  g_assert_cmpint (json_integer_value (json_object_get (f, "id")), ==, 5);
  g_assert_cmpstr (json_string_value (json_object_get (f, "filename")), ==, "scan.pdf");
  g_assert_cmpint (json_integer_value (json_object_get (f, "size")), ==, 1048576);
  g_assert_cmpstr (json_string_value (json_object_get (f, "content_type")), ==, "application/pdf");
  g_assert_cmpstr (json_string_value (json_object_get (f, "participant")), ==, "pfedcba9876543210");
  json_t *up = json_object_get (f, "uploader");
  g_assert_cmpint (json_integer_value (json_object_get (up, "id")), ==, 41);
  g_assert_cmpstr (json_string_value (json_object_get (up, "name")), ==, "Wang");
  json_decref (j);

  json_t *note = json_pack ("{s:s, s:i}", "kind", "appointment.reminder", "appointment_id", 7);
  j = load (cs_sig_build_notification (note));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "notification");
  g_assert_true (json_equal (json_object_get (j, "notification"), note));
  json_decref (j);
  json_decref (note);

  j = load (cs_sig_build_error_reason (&id, "doctor-busy", "finish the visit in progress"));
  g_assert_cmpstr (json_string_value (json_object_get (j, "type")), ==, "error");
  g_assert_cmpint (json_integer_value (json_object_get (j, "id")), ==, 1);
  g_assert_cmpstr (json_string_value (json_object_get (j, "code")), ==, "doctor-busy");
  json_decref (j);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/valid", test_valid);
  g_test_add_func ("/protocol/valid-visit", test_valid_visit);
  g_test_add_func ("/protocol/ids", test_ids);
  g_test_add_func ("/protocol/bad-json", test_bad_json);
  g_test_add_func ("/protocol/bad-message", test_bad_message);
  g_test_add_func ("/protocol/unknown-type", test_unknown_type);
  g_test_add_func ("/protocol/message-too-large", test_too_large);
  g_test_add_func ("/protocol/error-codes", test_error_codes);
  g_test_add_func ("/protocol/build/joined", test_build_joined);
  g_test_add_func ("/protocol/build/answer-streams", test_build_answer_streams);
  g_test_add_func ("/protocol/build/others", test_build_others);
  g_test_add_func ("/protocol/build/error", test_build_error);
  g_test_add_func ("/protocol/build/visit", test_build_visit);
  return g_test_run ();
}
