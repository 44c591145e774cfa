/* room.c — a consultation room on one worker: the peers in it. */
#include "internal.h"

CsRoom *
cs_room_new (CsWorker *worker, const char *id)
{
  CsRoom *room = g_new0 (CsRoom, 1);
  room->id = g_strdup (id);
  room->worker = worker;
  room->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) cs_peer_free);
  return room;
}

void
cs_room_free (CsRoom *room)
{
  if (!room)
    return;
  g_ptr_array_unref (room->peers);
  g_free (room->id);
  g_free (room);
}

void
cs_room_unlink_source (CsInStream *in)
{
  for (guint i = 0; i < in->subscribers->len; i++) {
    CsOutStream *out = g_ptr_array_index (in->subscribers, i);
    out->src = NULL;
  }
  g_ptr_array_set_size (in->subscribers, 0);
}
