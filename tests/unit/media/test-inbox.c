/* Unit tests of the STUN answers media/inbox.c gives in libnice's place:
 * requests are made, and answers checked, by libnice's own STUN usage code
 * on the side of the (controlling) peer, as a libnice client would. */
#include "media/internal.h"

#include <netinet/in.h>
#include <string.h>

#include <stun/usages/ice.h>

#define OURS "sfuUfrag"
#define OUR_PWD "sfuPasswordOf22chars+x"
#define THEIRS "peer"

typedef struct {
  StunAgent server, peer;
  struct sockaddr_storage from;    /* the peer's address, as the SFU sees it */
  guint8 req[STUN_MAX_MESSAGE_SIZE_IPV6];
  gsize req_len;
  guint8 reply[STUN_MAX_MESSAGE_SIZE_IPV6];
  gsize reply_len;
  gboolean nominated;              /* the selected pair, or a nomination libnice saw */
  gboolean use_candidate;
} Fixture;

static void
init_agent (StunAgent *a)
{
  stun_agent_init (a, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  memset (fx, 0, sizeof *fx);
  init_agent (&fx->server);
  init_agent (&fx->peer);
  struct sockaddr_in *sin = (struct sockaddr_in *) &fx->from;
  sin->sin_family = AF_INET;
  sin->sin_port = htons (50123);
  sin->sin_addr.s_addr = htonl (0x0a4d0002);   /* 10.77.0.2 */
  fx->nominated = TRUE;
  fx->use_candidate = TRUE;                      /* Chromium nominates on every check of its pair */
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
}

/* A connectivity check from the peer, as libnice's conncheck code makes it. */
static void
make_request (Fixture *fx, const char *username, const char *password, gboolean controlling)
{
  StunMessage msg;
  fx->req_len = stun_usage_ice_conncheck_create (&fx->peer, &msg, fx->req, sizeof fx->req,
                                                 (const guint8 *) username, strlen (username),
                                                 (const guint8 *) password, strlen (password),
                                                 fx->use_candidate, controlling, 0x6e7f00ff, 0x1122334455667788ull,
                                                 NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  g_assert_cmpuint (fx->req_len, >, 20);
}

static CsStunVerdict
answer (Fixture *fx)
{
  fx->reply_len = sizeof fx->reply;
  return cs_stun_answer (&fx->server, OURS, OUR_PWD, FALSE, fx->nominated, fx->req, fx->req_len, &fx->from,
                         sizeof (struct sockaddr_in), fx->reply, &fx->reply_len, NULL);
}

static void
test_consent_request_answered (Fixture *fx, gconstpointer data)
{
  make_request (fx, OURS ":" THEIRS, OUR_PWD, TRUE);
  g_assert_cmpint (answer (fx), ==, CS_STUN_ANSWERED);

  /* The peer accepts it: its transaction, our password, its own address. */
  StunDefaultValidaterData none = { NULL, 0, NULL, 0 };
  StunMessage resp;
  g_assert_cmpint (stun_agent_validate (&fx->peer, &resp, fx->reply, fx->reply_len, stun_agent_default_validater,
                                        &none), ==, STUN_VALIDATION_SUCCESS);
  g_assert_cmpint (stun_message_get_class (&resp), ==, STUN_RESPONSE);
  struct sockaddr_storage mapped;
  socklen_t mapped_len = sizeof mapped;
  g_assert_cmpint (stun_usage_ice_conncheck_process (&resp, &mapped, &mapped_len, STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
                   ==, STUN_USAGE_ICE_RETURN_SUCCESS);
  const struct sockaddr_in *a = (const void *) &mapped, *b = (const void *) &fx->from;
  g_assert_cmpint (a->sin_family, ==, AF_INET);
  g_assert_cmpuint (a->sin_port, ==, b->sin_port);
  g_assert_cmpuint (a->sin_addr.s_addr, ==, b->sin_addr.s_addr);
}

/* Everything else stays libnice's: the inbox then gives the socket back. */
static void
test_not_ours (Fixture *fx, gconstpointer data)
{
  make_request (fx, OURS ":" THEIRS, "not the password at all", TRUE);
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOT_OURS);
  make_request (fx, "otherUfrag:" THEIRS, OUR_PWD, TRUE);   /* e.g. after an ICE restart */
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOT_OURS);
  make_request (fx, OURS THEIRS, OUR_PWD, TRUE);             /* no colon */
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOT_OURS);
  make_request (fx, OURS ":" THEIRS, OUR_PWD, FALSE);        /* claims our (controlled) role */
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOT_OURS);

  /* A response (to some request of libnice's) is not answered either. */
  make_request (fx, OURS ":" THEIRS, OUR_PWD, TRUE);
  g_assert_cmpint (answer (fx), ==, CS_STUN_ANSWERED);
  memcpy (fx->req, fx->reply, fx->reply_len);
  fx->req_len = fx->reply_len;
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOT_OURS);

  /* Truncated. */
  make_request (fx, OURS ":" THEIRS, OUR_PWD, TRUE);
  fx->req_len -= 4;
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOT_OURS);
  fx->req_len = 12;
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOT_OURS);
}

/* Checks on another valid pair (a browser's backup) are answered there;
 * nominating it is libnice's to handle the first time (the inbox then
 * remembers the address and answers the repeats). */
static void
test_other_pair (Fixture *fx, gconstpointer data)
{
  fx->nominated = FALSE;
  fx->use_candidate = FALSE;
  make_request (fx, OURS ":" THEIRS, OUR_PWD, TRUE);
  g_assert_cmpint (answer (fx), ==, CS_STUN_ANSWERED);
  fx->use_candidate = TRUE;
  make_request (fx, OURS ":" THEIRS, OUR_PWD, TRUE);
  g_assert_cmpint (answer (fx), ==, CS_STUN_NOMINATION);
  fx->nominated = TRUE;
  g_assert_cmpint (answer (fx), ==, CS_STUN_ANSWERED);
}

/* libnice's keepalives are binding indications: no answer, no give-back. */
static void
test_indication_ignored (Fixture *fx, gconstpointer data)
{
  StunMessage msg;
  g_assert_true (stun_agent_init_indication (&fx->peer, &msg, fx->req, sizeof fx->req, STUN_BINDING));
  fx->req_len = stun_agent_finish_message (&fx->peer, &msg, NULL, 0);
  g_assert_cmpuint (fx->req_len, >=, 20);
  g_assert_cmpint (answer (fx), ==, CS_STUN_IGNORED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/inbox/stun/consent-answered", Fixture, NULL, fixture_setup, test_consent_request_answered,
              fixture_teardown);
  g_test_add ("/inbox/stun/not-ours", Fixture, NULL, fixture_setup, test_not_ours, fixture_teardown);
  g_test_add ("/inbox/stun/other-pair", Fixture, NULL, fixture_setup, test_other_pair, fixture_teardown);
  g_test_add ("/inbox/stun/indication", Fixture, NULL, fixture_setup, test_indication_ignored, fixture_teardown);
  return g_test_run ();
}
