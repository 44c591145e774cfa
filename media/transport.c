/* transport.c — one ICE component (libnice, bound to the owner's
 * GMainContext) carrying DTLS-SRTP, demultiplexed by first byte
 * (RFC 7983). Used by SFU peers and by clients alike. */
#include "internal.h"

void
cs_transport_set_state (CsTransport *t, CsPeerState state)
{
  if (t->state == state)
    return;
  t->state = state;
  if (state == CS_PEER_STATE_CONNECTED)
    cs_transport_update_reading (t);  /* DTLS is done: SRTP is all that is left */
  t->funcs->state (t->owner, state);
}

void
cs_transport_send (CsTransport *t, const guint8 *buf, gsize len)
{
  if (nice_agent_send (t->agent, t->stream_id, 1, len, (const gchar *) buf) < 0)
    CS_STAT_ADD (t->stats, send_errors, 1);
}

/* Media goes out through the worker's outbox when ICE selected a plain UDP
 * pair; everything else through libnice. */
static void
send_media (CsTransport *t, const guint8 *buf, gsize len)
{
  if (t->direct)
    cs_outbox_push (t->outbox, t->fd, &t->dest, t->dest_len, buf, len);
  else
    cs_transport_send (t, buf, len);
}

guint8 *
cs_transport_packet_buffer (CsTransport *t, guint8 *scratch)
{
  return t->direct ? cs_outbox_reserve (t->outbox) : scratch;
}

int
cs_transport_send_rtp (CsTransport *t, guint8 *buf, int len)
{
  if (!t->srtp_ready || srtp_protect (t->srtp_out, buf, &len) != srtp_err_status_ok) {
    CS_STAT_ADD (t->stats, send_errors, 1);
    return -1;
  }
  send_media (t, buf, len);
  return len;
}

int
cs_transport_send_rtcp (CsTransport *t, guint8 *buf, int len)
{
  if (!t->srtp_ready || srtp_protect_rtcp (t->srtp_out, buf, &len) != srtp_err_status_ok) {
    CS_STAT_ADD (t->stats, send_errors, 1);
    return -1;
  }
  send_media (t, buf, len);
  CS_STAT_ADD (t->stats, rtcp_out_packets, 1);
  return len;
}

/* Caches the selected pair's socket and remote address. A relayed (TURN)
 * pair has no socket of its own: libnice must wrap each packet. */
static void
update_direct (CsTransport *t)
{
  if (t->outbox && t->direct)
    cs_outbox_flush (t->outbox);  /* queued packets keep their old route */
  t->direct = FALSE;
  if (!t->outbox)
    return;
  NiceCandidate *local = NULL, *remote = NULL;
  if (!nice_agent_get_selected_pair (t->agent, t->stream_id, 1, &local, &remote) ||
      local->type == NICE_CANDIDATE_TYPE_RELAYED || local->transport != NICE_CANDIDATE_TRANSPORT_UDP)
    return;
  GSocket *socket = nice_agent_get_selected_socket (t->agent, t->stream_id, 1);
  if (!socket)
    return;
  t->fd = g_socket_get_fd (socket);  /* owned by the agent, which outlives our use */
  g_object_unref (socket);
  memset (&t->dest, 0, sizeof t->dest);
  nice_address_copy_to_sockaddr (&remote->addr, (struct sockaddr *) &t->dest);
  t->dest_len = t->dest.ss_family == AF_INET6 ? sizeof (struct sockaddr_in6) : sizeof (struct sockaddr_in);
  t->direct = TRUE;
}

static void on_recv (NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf, gpointer data);

/* Whether the component has UDP sockets other than @t->fd's: local
 * candidates with another base address (host and server-reflexive ones
 * share their host's socket; relayed ones go through it too). */
static gboolean
has_other_sockets (CsTransport *t)
{
  struct sockaddr_storage own;
  socklen_t own_len = sizeof own;
  if (getsockname (t->fd, (struct sockaddr *) &own, &own_len) < 0)
    return TRUE;
  NiceAddress mine;
  nice_address_init (&mine);
  nice_address_set_from_sockaddr (&mine, (struct sockaddr *) &own);
  gboolean other = FALSE;
  GSList *cands = nice_agent_get_local_candidates (t->agent, t->stream_id, 1);
  for (GSList *l = cands; l && !other; l = l->next) {
    NiceCandidate *c = l->data;
    if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP || c->type == NICE_CANDIDATE_TYPE_RELAYED)
      continue;
    const NiceAddress *base = c->type == NICE_CANDIDATE_TYPE_HOST ? &c->addr : &c->base_addr;
    other = !nice_address_equal (base, &mine);
  }
  g_slist_free_full (cands, (GDestroyNotify) nice_candidate_free);
  return other;
}

/* libnice's remote candidates only change while libnice reads the socket
 * (peer-reflexive ones) or when one is added: remembered at those times. */
static void
refresh_remotes (CsTransport *t)
{
  t->n_remotes = 0;
  GSList *cands = nice_agent_get_remote_candidates (t->agent, t->stream_id, 1);
  for (GSList *l = cands; l && t->n_remotes < CS_MAX_REMOTES; l = l->next) {
    NiceCandidate *c = l->data;
    if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP)
      continue;
    struct sockaddr_in6 *a = &t->remotes[t->n_remotes++];
    memset (a, 0, sizeof *a);
    nice_address_copy_to_sockaddr (&c->addr, (struct sockaddr *) a);
  }
  g_slist_free_full (cands, (GDestroyNotify) nice_candidate_free);
}

gboolean
cs_sockaddr_equal (const struct sockaddr *a, const struct sockaddr *b)
{
  if (a->sa_family != b->sa_family)
    return FALSE;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *) a, *y = (const void *) b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const void *) a, *y = (const void *) b;
    return x->sin6_port == y->sin6_port && memcmp (&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return FALSE;
}

gboolean
cs_transport_knows_remote (const CsTransport *t, const struct sockaddr_storage *from)
{
  for (guint i = 0; i < t->n_remotes; i++)
    if (cs_sockaddr_equal ((const struct sockaddr *) &t->remotes[i], (const struct sockaddr *) from))
      return TRUE;
  return FALSE;
}

void
cs_transport_update_reading (CsTransport *t)
{
  if (!t->inbox || !t->agent)
    return;
  gboolean want = t->direct && t->nominated && t->srtp_ready;
  gboolean now = want && cs_now_us () >= t->read_resume_us;
  if (t->reading && (!now || t->read_fd != t->fd))
    cs_inbox_remove (t->inbox, t);
  if (now && !t->reading) {
    t->read_fd = t->fd;
    t->other_sockets = has_other_sockets (t);
    refresh_remotes (t);
    g_debug ("%s: reading fd %d past libnice%s", t->name, t->fd,
             t->other_sockets ? " (libnice keeps its other sockets)" : "");
    cs_inbox_add (t->inbox, t);
  } else if (want && !now) {
    cs_inbox_wait (t->inbox, t);
  }
  GMainContext *io = t->reading ? cs_inbox_parking (t->inbox) : t->context;
  if (io != t->io_context) {
    nice_agent_attach_recv (t->agent, t->stream_id, 1, io, on_recv, t);
    t->io_context = io;
  }
}

void
cs_transport_give_back (CsTransport *t, const char *why)
{
  g_debug ("%s: socket back to libnice for %d s (%s)", t->name, (int) (CS_INBOX_BACKOFF_US / G_USEC_PER_SEC), why);
  CS_STAT_ADD (t->stats, give_backs, 1);
  t->read_resume_us = cs_now_us () + CS_INBOX_BACKOFF_US;
  cs_transport_update_reading (t);
}

static void
on_selected_pair (NiceAgent *agent, guint stream_id, guint component_id,
                  NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
  update_direct (data);
  cs_transport_update_reading (data);
}

int
cs_transport_unprotect (CsTransport *t, guint8 *buf, gsize len, gboolean rtcp)
{
  int n = len;
  if ((rtcp ? srtp_unprotect_rtcp (t->srtp_in, buf, &n) : srtp_unprotect (t->srtp_in, buf, &n))
      != srtp_err_status_ok) {
    CS_STAT_ADD (t->stats, srtp_errors, 1);
    return -1;
  }
  if (G_UNLIKELY (t->ssl != NULL))
    cs_dtls_release (t);
  return n;
}

void
cs_transport_receive (CsTransport *t, guint8 *p, gsize len)
{
  if (cs_rtp_looks_like_rtp_or_rtcp (p, len)) {
    if (!t->srtp_ready) {
      CS_STAT_ADD (t->stats, srtp_errors, 1);
      return;
    }
    /* libnice hands us its own receive buffer: owners unprotect in place. */
    if (cs_rtp_is_rtcp (p, len))
      t->funcs->rtcp (t->owner, p, len);
    else
      t->funcs->rtp (t->owner, p, len);
  } else if (cs_rtp_looks_like_dtls (p, len)) {
    cs_dtls_receive (t, p, len);
  } else {
    CS_STAT_ADD (t->stats, malformed_rtp, 1);
  }
}

static void
on_recv (NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf, gpointer data)
{
  CsTransport *t = data;
  t->arrival_us = 0;               /* libnice does not say; the inbox does */
  cs_transport_receive (t, (guint8 *) buf, len);
}

static void
on_new_candidate (NiceAgent *agent, NiceCandidate *cand, gpointer data)
{
  CsTransport *t = data;
  g_autofree char *sdp = nice_agent_generate_local_candidate_sdp (agent, cand);
  if (sdp)
    t->funcs->candidate (t->owner, g_str_has_prefix (sdp, "a=") ? sdp + 2 : sdp);
}

static void
on_gathering_done (NiceAgent *agent, guint stream_id, gpointer data)
{
  CsTransport *t = data;
  t->funcs->candidate (t->owner, NULL);
}

static void
on_component_state (NiceAgent *agent, guint stream_id, guint component_id, guint state, gpointer data)
{
  CsTransport *t = data;
  t->nominated = state == NICE_COMPONENT_STATE_READY;
  switch (state) {
  case NICE_COMPONENT_STATE_CONNECTED:
  case NICE_COMPONENT_STATE_READY:
    update_direct (t);
    cs_transport_update_reading (t);
    if (!t->ice_ready) {
      t->ice_ready = TRUE;
      if (!t->dtls_server && !t->dtls_done)
        cs_dtls_start (t);
    }
    break;
  case NICE_COMPONENT_STATE_FAILED:
    t->direct = FALSE;
    cs_transport_update_reading (t);
    CS_STAT_ADD (t->stats, ice_failures, 1);
    cs_transport_set_state (t, CS_PEER_STATE_FAILED);
    break;
  default:
    cs_transport_update_reading (t);
    break;
  }
}

gboolean
cs_transport_init (CsTransport *t, const CsTransportConfig *cfg)
{
  memset (t, 0, sizeof *t);
  t->funcs = cfg->funcs;
  t->owner = cfg->owner;
  t->name = g_strdup (cfg->name);
  t->context = cfg->context;
  t->stats = cfg->stats;
  t->ssl_ctx = cfg->ssl_ctx;
  t->outbox = cfg->outbox;
  t->inbox = cfg->inbox;
  t->controlling = cfg->controlling;
  t->early_candidates = g_ptr_array_new_with_free_func (g_free);

  t->agent = nice_agent_new_full (t->context, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
  /* UPnP discovery would only slow gathering; nothing here is TCP. */
  g_object_set (t->agent, "controlling-mode", cfg->controlling, "ice-tcp", FALSE, "upnp", FALSE, NULL);
  if (cfg->stun_server && *cfg->stun_server) {
    g_auto (GStrv) hp = g_strsplit (cfg->stun_server, ":", 2);
    g_object_set (t->agent, "stun-server", hp[0], "stun-server-port",
                  hp[1] ? (guint) g_ascii_strtoull (hp[1], NULL, 10) : 3478u, NULL);
  }
  if (cfg->bind_address && *cfg->bind_address) {
    NiceAddress addr;
    nice_address_init (&addr);
    if (nice_address_set_from_string (&addr, cfg->bind_address))
      nice_agent_add_local_address (t->agent, &addr);
  }
  g_signal_connect (t->agent, "new-candidate-full", G_CALLBACK (on_new_candidate), t);
  g_signal_connect (t->agent, "candidate-gathering-done", G_CALLBACK (on_gathering_done), t);
  g_signal_connect (t->agent, "component-state-changed", G_CALLBACK (on_component_state), t);
  g_signal_connect (t->agent, "new-selected-pair-full", G_CALLBACK (on_selected_pair), t);

  t->stream_id = nice_agent_add_stream (t->agent, 1);
  if (cfg->port_min && cfg->port_max)
    nice_agent_set_port_range (t->agent, t->stream_id, 1, cfg->port_min, cfg->port_max);
  nice_agent_get_local_credentials (t->agent, t->stream_id, &t->ufrag, &t->pwd);
  nice_agent_attach_recv (t->agent, t->stream_id, 1, t->context, on_recv, t);
  t->io_context = t->context;
  if (!nice_agent_gather_candidates (t->agent, t->stream_id)) {
    g_warning ("%s: ICE gathering failed (no free port in range?)", t->name);
    return FALSE;
  }
  return TRUE;
}

gboolean
cs_transport_set_remote (CsTransport *t, const char *ufrag, const char *pwd,
                         const char *fp_alg, const char *fp, gboolean dtls_server)
{
  if (t->remote_set)
    return g_strcmp0 (t->remote_ufrag, ufrag) == 0;
  g_strlcpy (t->remote_fp_alg, fp_alg, sizeof t->remote_fp_alg);
  g_strlcpy (t->remote_fp, fp, sizeof t->remote_fp);
  if (!cs_dtls_setup (t, dtls_server))
    return FALSE;
  if (!nice_agent_set_remote_credentials (t->agent, t->stream_id, ufrag, pwd))
    return FALSE;
  t->remote_ufrag = g_strdup (ufrag);
  t->remote_set = TRUE;
  cs_transport_set_state (t, CS_PEER_STATE_CONNECTING);
  for (guint i = 0; i < t->early_candidates->len; i++)
    cs_transport_add_remote_candidate (t, g_ptr_array_index (t->early_candidates, i));
  g_ptr_array_set_size (t->early_candidates, 0);
  if (!t->dtls_server && t->ice_ready)
    cs_dtls_start (t);
  return TRUE;
}

void
cs_transport_add_remote_candidate (CsTransport *t, const char *candidate)
{
  const char *c = candidate ? candidate : "";
  if (g_str_has_prefix (c, "a="))
    c += 2;
  if (!t->remote_set) {
    /* libnice needs the credentials first; keep a bounded backlog. */
    if (t->early_candidates->len < 64)
      g_ptr_array_add (t->early_candidates, g_strdup (c));
    return;
  }
  if (!*c) {
    nice_agent_peer_candidate_gathering_done (t->agent, t->stream_id);
    return;
  }
  g_autofree char *line = g_strconcat ("a=", c, NULL);
  NiceCandidate *nc = nice_agent_parse_remote_candidate_sdp (t->agent, t->stream_id, line);
  if (!nc)
    return;  /* mDNS names, unknown syntax: libnice cannot use them */
  if (nc->component_id == 1 && nc->transport == NICE_CANDIDATE_TRANSPORT_UDP) {
    GSList list = { nc, NULL };
    nice_agent_set_remote_candidates (t->agent, t->stream_id, 1, &list);
    if (t->reading)
      refresh_remotes (t);
  }
  nice_candidate_free (nc);
}

void
cs_transport_clear (CsTransport *t)
{
  /* Nothing queued may outlive the socket it names. */
  if (t->outbox && t->direct)
    cs_outbox_flush (t->outbox);
  t->direct = FALSE;
  if (t->inbox)
    cs_inbox_remove (t->inbox, t);
  cs_dtls_clear (t);
  cs_srtp_clear (t);
  if (t->agent) {
    nice_agent_attach_recv (t->agent, t->stream_id, 1, t->context, NULL, NULL);
    g_signal_handlers_disconnect_by_data (t->agent, t);
    nice_agent_remove_stream (t->agent, t->stream_id);
    g_clear_object (&t->agent);
  }
  g_clear_pointer (&t->early_candidates, g_ptr_array_unref);
  g_clear_pointer (&t->ufrag, g_free);
  g_clear_pointer (&t->pwd, g_free);
  g_clear_pointer (&t->remote_ufrag, g_free);
  g_clear_pointer (&t->name, g_free);
}
