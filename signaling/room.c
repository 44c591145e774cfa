/* room.c — room membership, the lobby of connections waiting to be
 * admitted, and the "streams" list each participant gets: every track the
 * others publish, in join order, never its own. */
#include "signaling/signaling-private.h"

#include <string.h>

#define VISIT_PREFIX "appt-"

CsSigRoom *
cs_sig_room_new (const char *id)
{
  CsSigRoom *room = g_new0 (CsSigRoom, 1);
  room->id = g_strdup (id);
  /* A visit's room is named after its appointment (docs/api.md). */
  gint64 n;
  if (g_str_has_prefix (id, VISIT_PREFIX) &&
      cs_api_parse_id (id + strlen (VISIT_PREFIX), strlen (id + strlen (VISIT_PREFIX)), &n))
    room->appointment_id = n;
  room->members = g_ptr_array_new ();
  room->lobby = g_ptr_array_new ();
  room->admitted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  room->removed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return room;
}

void
cs_sig_room_free (CsSigRoom *room)
{
  if (!room)
    return;
  g_ptr_array_unref (room->members);
  g_ptr_array_unref (room->lobby);
  g_hash_table_unref (room->admitted);
  g_hash_table_unref (room->removed);
  g_free (room->id);
  g_free (room);
}

gboolean
cs_sig_room_is_empty (const CsSigRoom *room)
{
  return room->members->len == 0 && room->lobby->len == 0;
}

static CsSession *
find_in (GPtrArray *list, const char *id)
{
  for (guint i = 0; i < list->len; i++) {
    CsSession *m = g_ptr_array_index (list, i);
    if (strcmp (m->id, id) == 0)
      return m;
  }
  return NULL;
}

CsSession *
cs_sig_room_find (CsSigRoom *room, const char *id, gboolean *waiting)
{
  CsSession *m = find_in (room->members, id);
  *waiting = m == NULL;
  return m ? m : find_in (room->lobby, id);
}

void
cs_sig_room_send_lobby (CsSigRoom *room, CsSession *host)
{
  g_autofree CsSigWaiting *list = g_new0 (CsSigWaiting, room->lobby->len + 1);
  for (guint i = 0; i < room->lobby->len; i++) {
    const CsSession *w = g_ptr_array_index (room->lobby, i);
    list[i] = (CsSigWaiting) { .id = w->id, .user = w->user, .name = w->name,
                               .role = w->role, .since = w->waiting_since };
  }
  g_autofree char *msg = cs_sig_build_lobby (list, room->lobby->len);
  if (host) {
    cs_session_send (host, g_steal_pointer (&msg));
    return;
  }
  for (guint i = 0; i < room->members->len; i++) {
    CsSession *m = g_ptr_array_index (room->members, i);
    if (m->host)
      cs_session_send (m, g_strdup (msg));
  }
}

guint
cs_sig_room_admit_user (CsSigRoom *room, const char *user, guint max_participants)
{
  g_hash_table_add (room->admitted, g_strdup (user));
  g_hash_table_remove (room->removed, user);
  guint entered = 0;
  for (guint i = 0; i < room->lobby->len && room->members->len < max_participants;) {
    CsSession *w = g_ptr_array_index (room->lobby, i);
    if (strcmp (w->user, user) != 0) {
      i++;
      continue;
    }
    g_ptr_array_remove_index (room->lobby, i);
    cs_session_enter (w);
    entered++;
  }
  if (entered)
    cs_sig_room_send_lobby (room, NULL);
  return entered;
}

guint
cs_signaling_room_admit_user (CsSignaling *sig, const char *room_id, const char *user)
{
  g_return_val_if_fail (sig != NULL && room_id != NULL && user != NULL, 0);
  if (sig->shutting_down)
    return 0;
  /* No room here: nobody waits, and a later join of this user is let in by
   * its token (the database issues lobby tokens only until admission). */
  CsSigRoom *room = g_hash_table_lookup (sig->rooms, room_id);
  return room ? cs_sig_room_admit_user (room, user, sig->max_participants) : 0;
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
