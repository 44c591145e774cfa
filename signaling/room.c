/* room.c — room membership and the "streams" list each participant gets:
 * every track the others publish, in join order, never its own. */
#include "signaling/signaling-private.h"

CsSigRoom *
cs_sig_room_new (const char *id)
{
  CsSigRoom *room = g_new0 (CsSigRoom, 1);
  room->id = g_strdup (id);
  room->members = g_ptr_array_new ();
  return room;
}

void
cs_sig_room_free (CsSigRoom *room)
{
  if (!room)
    return;
  g_ptr_array_unref (room->members);
  g_free (room->id);
  g_free (room);
}

void
cs_sig_room_broadcast (CsSigRoom *room, CsSession *except, char *json)
{
  for (guint i = 0; i < room->members->len; i++) {
    CsSession *m = g_ptr_array_index (room->members, i);
    if (m != except)
      cs_session_send (m, g_strdup (json));
  }
  g_free (json);
}

static char *
build_streams_for (CsSigRoom *room, CsSession *self, guint *n_streams)
{
  g_autoptr (GArray) list = g_array_new (FALSE, FALSE, sizeof (CsSigStream));
  for (guint i = 0; i < room->members->len; i++) {
    CsSession *m = g_ptr_array_index (room->members, i);
    if (m == self)
      continue;
    for (guint j = 0; j < m->published->len; j++) {
      const CsPublished *p = &g_array_index (m->published, CsPublished, j);
      CsSigStream s = { .participant = m->id, .kind = p->kind, .track = p->track };
      g_array_append_val (list, s);
    }
  }
  *n_streams = list->len;
  return cs_sig_build_streams ((const CsSigStream *) list->data, list->len);
}

void
cs_sig_room_update_streams (CsSigRoom *room)
{
  for (guint i = 0; i < room->members->len; i++) {
    CsSession *m = g_ptr_array_index (room->members, i);
    guint n;
    g_autofree char *msg = build_streams_for (room, m, &n);
    /* A participant that never had streams has nothing to be told until
     * the first track appears. */
    if (g_strcmp0 (msg, m->streams_sent) == 0 || (!m->streams_sent && n == 0))
      continue;
    g_free (m->streams_sent);
    m->streams_sent = g_strdup (msg);
    cs_session_send (m, g_steal_pointer (&msg));
  }
}
