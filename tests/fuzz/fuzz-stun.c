/* Fuzz target for the STUN the inbox answers in libnice's place
 * (cs_stun_answer in media/inbox.c): any datagram that starts like STUN on
 * a socket read past libnice. The first byte picks our ICE role and
 * whether the sender's pair is nominated already; the rest is the message.
 * An answer must fit its buffer and be a STUN binding success response
 * that validates with our password. Aborts otherwise. */
#include "media/internal.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <stun/usages/ice.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define UFRAG "sfuUfrag"
#define PWD "sfuPasswordOf22chars+x"

static void
check (gboolean ok)
{
  if (!ok)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  gboolean controlling = data[0] & 1, nominated = (data[0] >> 1) & 1;
  StunAgent agent;
  stun_agent_init (&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  struct sockaddr_storage from = { 0 };
  struct sockaddr_in *sin = (struct sockaddr_in *) &from;
  sin->sin_family = AF_INET;
  sin->sin_port = htons (50123);
  sin->sin_addr.s_addr = htonl (0x0a4d0002);
  guint8 reply[STUN_MAX_MESSAGE_SIZE_IPV6];
  gsize n = sizeof reply;
  const char *why = NULL;
  CsStunVerdict v = cs_stun_answer (&agent, UFRAG, PWD, controlling, nominated, data + 1, size - 1, &from,
                                    sizeof (struct sockaddr_in), reply, &n, &why);
  if (v != CS_STUN_ANSWERED) {
    check (v == CS_STUN_IGNORED || why != NULL);
    return 0;
  }
  check (n >= 20 && n <= sizeof reply);
  check (stun_message_validate_buffer_length (reply, n, TRUE) == (int) n);
  check (reply[0] == 0x01 && reply[1] == 0x01);   /* binding success response */
  check (memcmp (reply + 8, data + 1 + 8, 12) == 0);  /* the request's transaction */
  return 0;
}
