/* api-session.c — the audit trail of WebSocket sessions: room join and
 * leave go through the REST API's records handle (api.c), so session.c
 * needs no database code. */
#include "signaling/signaling-private.h"

void
cs_session_audit_room (CsSession *s, const char *action)
{
  /* At shutdown the loop no longer runs: nothing would complete. */
  if (s->sig->shutting_down || !s->room)
    return;
  char source[64] = "";
  if (s->wsi)
    lws_get_peer_simple (s->wsi, source, sizeof source);
  cs_api_audit_room (s->sig->api, s->user, s->role, s->room->id, action,
                     source[0] ? source : NULL);
}
