/* Writes seeds for fuzz-stun: connectivity checks as libnice's own ICE
 * code makes them, authenticated with the credentials fuzz-stun answers
 * with, in both roles, with and without USE-CANDIDATE, plus a binding
 * indication and a success response. Each file is one input: a first byte
 * (role, nominated) then the message.
 *   build/tests/fuzz/stun-seeds tests/fuzz/corpus/stun */
#include "media/internal.h"

#include <netinet/in.h>
#include <string.h>

#include <stun/usages/ice.h>

#define UFRAG "sfuUfrag"
#define PWD "sfuPasswordOf22chars+x"

static void
save (const char *dir, const char *name, guint8 flags, const guint8 *msg, gsize len)
{
  g_autofree guint8 *buf = g_malloc (len + 1);
  buf[0] = flags;
  memcpy (buf + 1, msg, len);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, (const char *) buf, len + 1, &error))
    g_error ("%s", error->message);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    g_error ("usage: %s DIR", argv[0]);
  StunAgent peer;
  stun_agent_init (&peer, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  guint8 msg[STUN_MAX_MESSAGE_SIZE_IPV6];
  StunMessage m;
  for (guint flags = 0; flags < 4; flags++)
    for (guint use = 0; use < 2; use++) {
      /* The peer takes the role opposite ours (bit 0: we control). */
      gsize n = stun_usage_ice_conncheck_create (&peer, &m, msg, sizeof msg, (const guint8 *) UFRAG ":peer",
                                                 strlen (UFRAG ":peer"), (const guint8 *) PWD, strlen (PWD),
                                                 use, !(flags & 1), 0x6e7f00ff, 0x1122334455667788ull, NULL,
                                                 STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
      g_autofree char *name = g_strdup_printf ("check-%u-%s", flags, use ? "nominating" : "plain");
      save (argv[1], name, flags, msg, n);
    }
  /* A check with the wrong password, and one claiming our role. */
  gsize n = stun_usage_ice_conncheck_create (&peer, &m, msg, sizeof msg, (const guint8 *) UFRAG ":peer", 13,
                                             (const guint8 *) "wrong-password-000000", 21, TRUE, TRUE, 1, 2, NULL,
                                             STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  save (argv[1], "check-bad-password", 0, msg, n);
  n = stun_usage_ice_conncheck_create (&peer, &m, msg, sizeof msg, (const guint8 *) UFRAG ":peer", 13,
                                       (const guint8 *) PWD, strlen (PWD), FALSE, TRUE, 1, 2, NULL,
                                       STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  save (argv[1], "check-role-conflict", 1, msg, n);
  /* Our answer to the first check: a response, which is libnice's. */
  StunAgent sfu;
  stun_agent_init (&sfu, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  n = stun_usage_ice_conncheck_create (&peer, &m, msg, sizeof msg, (const guint8 *) UFRAG ":peer", 13,
                                       (const guint8 *) PWD, strlen (PWD), TRUE, TRUE, 1, 2, NULL,
                                       STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
  struct sockaddr_storage from = { 0 };
  struct sockaddr_in *sin = (struct sockaddr_in *) &from;
  sin->sin_family = AF_INET;
  sin->sin_port = htons (50123);
  guint8 reply[STUN_MAX_MESSAGE_SIZE_IPV6];
  gsize reply_len = sizeof reply;
  if (cs_stun_answer (&sfu, UFRAG, PWD, FALSE, TRUE, msg, n, &from, sizeof *sin, reply, &reply_len, NULL)
      != CS_STUN_ANSWERED)
    g_error ("no answer to a valid check");
  save (argv[1], "response", 0, reply, reply_len);
  /* libnice's keepalive. */
  stun_agent_init_indication (&peer, &m, msg, sizeof msg, STUN_BINDING);
  n = stun_agent_finish_message (&peer, &m, NULL, 0);
  save (argv[1], "indication", 0, msg, n);
  return 0;
}
