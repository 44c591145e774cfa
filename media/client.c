/* client.c — the offering side: what a browser does, minus the browser.
 * Load generators and tests use it to publish real RTP into the SFU and to
 * check what comes back, over the same transport code the SFU runs. */
#include "internal.h"

#include <openssl/rand.h>
#include <string.h>
#include <sys/socket.h>

#define URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define CLIENT_MID_EXT_ID 4

struct _CsDtlsIdentity {
  CsCert cert;
};

CsDtlsIdentity *
cs_dtls_identity_new (GError **error)
{
  if (!cs_media_srtp_init (error))
    return NULL;
  CsDtlsIdentity *id = g_new0 (CsDtlsIdentity, 1);
  if (!cs_cert_init (&id->cert, error)) {
    g_free (id);
    return NULL;
  }
  return id;
}

gboolean
cs_dtls_identity_set_srtp_profiles (CsDtlsIdentity *identity, const char *profiles, GError **error)
{
  /* OpenSSL returns 0 on success here, unlike almost everywhere else. */
  if (SSL_CTX_set_tlsext_use_srtp (identity->cert.ctx, profiles) != 0) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INTERNAL, "unknown SRTP profile list \"%s\"", profiles);
    return FALSE;
  }
  return TRUE;
}

void
cs_dtls_identity_free (CsDtlsIdentity *identity)
{
  if (!identity)
    return;
  cs_cert_clear (&identity->cert);
  g_free (identity);
}

typedef struct {
  char mid[33];
  CsMediaKind kind;
  gboolean sending;
  gboolean receiving;
  guint32 ssrc, rtx_ssrc;
  char track_id[65];
} ClientStream;

struct _CsClientIo {
  CsStats stats;
  CsOutbox *outbox;
  CsInbox *inbox;
  GSource *service;                /* 1 s: libnice's parked sockets */
};

static gboolean
io_service (gpointer data)
{
  cs_inbox_service (((CsClientIo *) data)->inbox);
  return G_SOURCE_CONTINUE;
}

CsClientIo *
cs_client_io_new (GMainContext *context)
{
  CsClientIo *io = g_new0 (CsClientIo, 1);
  GMainContext *ctx = context ? context : g_main_context_default ();
  io->outbox = cs_outbox_new (ctx, &io->stats);
  io->inbox = cs_inbox_new (ctx, io->outbox, &io->stats);
  io->service = g_timeout_source_new_seconds (1);
  g_source_set_callback (io->service, io_service, io, NULL);
  g_source_attach (io->service, ctx);
  return io;
}

void
cs_client_io_free (CsClientIo *io)
{
  if (!io)
    return;
  g_source_destroy (io->service);
  g_source_unref (io->service);
  cs_inbox_free (io->inbox);
  cs_outbox_free (io->outbox);
  g_free (io);
}

void
cs_client_io_flush (CsClientIo *io)
{
  cs_outbox_flush (io->outbox);
}

struct _CsClient {
  CsClientConfig config;
  CsClientEvents events;
  gpointer user_data;
  CsDtlsIdentity *identity;
  CsStats stats;
  CsTransport t;
  char cname[17];
  GArray *streams;                 /* ClientStream, in m-line order */
};

static void
client_rtp (gpointer owner, guint8 *buf, gsize len)
{
  CsClient *c = owner;
  int n = cs_transport_unprotect (&c->t, buf, len, FALSE);
  if (n < 0)
    return;
  if (c->events.rtp)
    c->events.rtp (c->user_data, c, buf, n, c->t.arrival_us ? c->t.arrival_us : cs_now_us ());
}

static void
client_rtcp (gpointer owner, guint8 *buf, gsize len)
{
  CsClient *c = owner;
  int n = cs_transport_unprotect (&c->t, buf, len, TRUE);
  if (n < 0)
    return;
  if (c->events.rtcp)
    c->events.rtcp (c->user_data, c, buf, n);
}

static void
client_state (gpointer owner, CsPeerState state)
{
  CsClient *c = owner;
  if (c->events.state)
    c->events.state (c->user_data, c, state);
}

static void
client_candidate (gpointer owner, const char *candidate)
{
  CsClient *c = owner;
  if (c->events.candidate)
    c->events.candidate (c->user_data, c, candidate);
}

static const CsTransportFuncs client_funcs = {
  client_rtp, client_rtcp, client_state, client_candidate,
};

static guint32
random_u32 (void)
{
  guint32 v = 0;
  while (v == 0)
    RAND_bytes ((guint8 *) &v, sizeof v);
  return v;
}

static void
add_stream (CsClient *c, const char *mid, CsMediaKind kind, gboolean sending)
{
  ClientStream s = { 0 };
  g_strlcpy (s.mid, mid, sizeof s.mid);
  s.kind = kind;
  s.sending = sending;
  if (sending) {
    s.ssrc = random_u32 ();
    if (kind == CS_MEDIA_KIND_VIDEO)
      s.rtx_ssrc = random_u32 ();
  }
  g_array_append_val (c->streams, s);
}

CsClient *
cs_client_new (const CsClientConfig *config, const CsClientEvents *events,
               gpointer user_data, GError **error)
{
  g_return_val_if_fail (config && config->identity && events, NULL);
  CsClient *c = g_new0 (CsClient, 1);
  c->config = *config;
  c->events = *events;
  c->user_data = user_data;
  c->identity = config->identity;
  c->streams = g_array_new (FALSE, TRUE, sizeof (ClientStream));
  guint8 r[8];
  RAND_bytes (r, sizeof r);
  for (guint i = 0; i < sizeof r; i++)
    g_snprintf (c->cname + 2 * i, 3, "%02x", r[i]);
  if (config->send_audio)
    add_stream (c, "a0", CS_MEDIA_KIND_AUDIO, TRUE);
  if (config->send_video)
    add_stream (c, "v0", CS_MEDIA_KIND_VIDEO, TRUE);
  for (guint i = 0; i < config->recv_audio; i++) {
    char mid[16];
    g_snprintf (mid, sizeof mid, "ra%u", i);
    add_stream (c, mid, CS_MEDIA_KIND_AUDIO, FALSE);
  }
  for (guint i = 0; i < config->recv_video; i++) {
    char mid[16];
    g_snprintf (mid, sizeof mid, "rv%u", i);
    add_stream (c, mid, CS_MEDIA_KIND_VIDEO, FALSE);
  }
  /* An answerer learns its m-lines from the offer. */
  if (c->streams->len == 0 && !config->answerer) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INTERNAL, "a client needs at least one m-line");
    cs_client_free (c);
    return NULL;
  }
  CsTransportConfig tc = {
    .context = config->context ? config->context : g_main_context_default (),
    .name = c->cname,
    .controlling = !config->answerer,
    .bind_address = config->bind_address,
    .port_min = config->port_min,
    .port_max = config->port_max,
    .ssl_ctx = c->identity->cert.ctx,
    .stats = &c->stats,
    .outbox = config->io ? config->io->outbox : NULL,
    .inbox = config->io ? config->io->inbox : NULL,
    .funcs = &client_funcs,
    .owner = c,
  };
  if (!cs_transport_init (&c->t, &tc)) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_ICE, "ICE gathering failed");
    cs_client_free (c);
    return NULL;
  }
  return c;
}

void
cs_client_free (CsClient *client)
{
  if (!client)
    return;
  cs_transport_clear (&client->t);
  g_array_unref (client->streams);
  g_free (client);
}

static void
write_media (CsClient *c, GString *s, const ClientStream *st)
{
  gboolean video = st->kind == CS_MEDIA_KIND_VIDEO;
  g_string_append_printf (s, "m=%s 9 UDP/TLS/RTP/SAVPF %s\r\n", video ? "video" : "audio",
                          video ? "96 97" : "111");
  g_string_append_printf (s,
    "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n"
    "a=fingerprint:%s\r\na=setup:actpass\r\na=mid:%s\r\n"
    "a=extmap:%u " URI_MID "\r\n",
    c->t.ufrag, c->t.pwd, c->identity->cert.fingerprint, st->mid, CLIENT_MID_EXT_ID);
  if (c->config.twcc_ext_id)
    g_string_append_printf (s, "a=extmap:%u " URI_TWCC "\r\n", c->config.twcc_ext_id);
  g_string_append_printf (s, "a=%s\r\n", st->sending ? "sendonly" : "recvonly");
  if (st->sending)
    g_string_append_printf (s, "a=msid:%s %s-%s\r\n", c->cname, c->cname, st->mid);
  g_string_append (s, "a=rtcp-mux\r\na=rtcp-rsize\r\n");
  if (video)
    g_string_append (s,
      "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\n"
      "a=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n");
  else
    g_string_append (s,
      "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
      "a=fmtp:111 minptime=10;useinbandfec=1\r\n");
  if (st->sending && st->rtx_ssrc)
    g_string_append_printf (s, "a=ssrc-group:FID %u %u\r\n", st->ssrc, st->rtx_ssrc);
  if (st->sending) {
    guint32 ssrcs[2] = { st->ssrc, st->rtx_ssrc };
    for (guint i = 0; i < 2 && ssrcs[i]; i++)
      g_string_append_printf (s, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s-%s\r\n",
                              ssrcs[i], c->cname, ssrcs[i], c->cname, c->cname, st->mid);
  }
}

char *
cs_client_create_offer (CsClient *c)
{
  g_return_val_if_fail (!c->config.answerer, NULL);
  GString *s = g_string_new (NULL);
  guint64 sess;
  RAND_bytes ((guint8 *) &sess, sizeof sess);
  g_string_append_printf (s, "v=0\r\no=- %" G_GUINT64_FORMAT " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                          sess >> 2);
  g_string_append (s, "a=group:BUNDLE");
  for (guint i = 0; i < c->streams->len; i++)
    g_string_append_printf (s, " %s", g_array_index (c->streams, ClientStream, i).mid);
  g_string_append (s, "\r\na=msid-semantic: WMS *\r\n");
  for (guint i = 0; i < c->streams->len; i++)
    write_media (c, s, &g_array_index (c->streams, ClientStream, i));
  return g_string_free (s, FALSE);
}

gboolean
cs_client_set_answer (CsClient *c, const char *sdp, GError **error)
{
  g_autofree CsSdpSession *answer = g_new0 (CsSdpSession, 1);
  char err[160] = "";
  if (cs_sdp_parse (sdp, strlen (sdp), answer, err, sizeof err) != CS_SDP_OK) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INVALID_SDP, "%s", err);
    return FALSE;
  }
  const CsSdpMedia *transport = NULL;
  for (guint i = 0; i < answer->n_media && !transport; i++)
    if (!cs_sdp_media_is_rejected (&answer->media[i]))
      transport = &answer->media[i];
  if (!transport || answer->n_media != c->streams->len) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_UNSUPPORTED_SDP,
                 "the answer does not match the offer's m-lines");
    return FALSE;
  }
  for (guint i = 0; i < answer->n_media; i++) {
    const CsSdpMedia *m = &answer->media[i];
    ClientStream *st = &g_array_index (c->streams, ClientStream, i);
    if (st->sending)
      continue;
    st->receiving = !cs_sdp_media_is_rejected (m) && m->direction == CS_SDP_SENDONLY;
    st->ssrc = st->receiving ? (m->fid_ssrc ? m->fid_ssrc : (m->n_ssrcs ? m->ssrcs[0] : 0)) : 0;
    st->rtx_ssrc = st->receiving ? m->fid_rtx_ssrc : 0;
    g_strlcpy (st->track_id, st->receiving ? m->msid_track : "", sizeof st->track_id);
  }
  gboolean dtls_server = g_ascii_strcasecmp (transport->setup, "active") == 0;
  if (!cs_transport_set_remote (&c->t, transport->ice_ufrag, transport->ice_pwd,
                                transport->fingerprint_alg, transport->fingerprint, dtls_server)) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_ICE, "cannot apply the answer's ICE/DTLS parameters");
    return FALSE;
  }
  for (guint i = 0; i < transport->n_candidates; i++)
    cs_transport_add_remote_candidate (&c->t, transport->candidates[i]);
  if (transport->end_of_candidates)
    cs_transport_add_remote_candidate (&c->t, NULL);
  return TRUE;
}

/* What we answer for one offered m-line; fills @st when it is accepted. */
static void
answer_media (CsClient *c, const CsSdpMedia *m, ClientStream *st, CsSdpAnswerMedia *am)
{
  am->rejected = TRUE;
  am->rtx = -1;
  if (cs_sdp_media_is_rejected (m))
    return;
  gboolean video = g_str_equal (m->kind, "video");
  if (!video && !g_str_equal (m->kind, "audio"))
    return;
  am->codec = video ? cs_sdp_find_codec (m, "VP8", 90000) : cs_sdp_find_codec (m, "opus", 48000);
  if (am->codec < 0)
    return;
  am->rejected = FALSE;
  if (video)
    am->rtx = cs_sdp_find_rtx (m, m->codecs[am->codec].pt);
  /* Feedback we can honour or harmlessly ignore; no congestion control. */
  am->fb = m->codecs[am->codec].fb & (CS_SDP_FB_NACK | CS_SDP_FB_NACK_PLI | CS_SDP_FB_CCM_FIR);
  for (guint i = 0; i < m->n_extmaps && i < 32; i++)
    if (g_str_equal (m->extmaps[i].uri, URI_MID))
      am->ext_mask |= 1u << i;

  g_strlcpy (st->mid, m->mid, sizeof st->mid);
  st->kind = video ? CS_MEDIA_KIND_VIDEO : CS_MEDIA_KIND_AUDIO;
  switch (m->direction) {
  case CS_SDP_SENDONLY:
  case CS_SDP_SENDRECV:
    /* The offerer sends: we receive on its SSRCs. */
    am->direction = CS_SDP_RECVONLY;
    st->receiving = TRUE;
    st->ssrc = m->fid_ssrc ? m->fid_ssrc : (m->n_ssrcs ? m->ssrcs[0] : 0);
    st->rtx_ssrc = m->fid_rtx_ssrc;
    g_strlcpy (st->track_id, m->msid_track, sizeof st->track_id);
    break;
  case CS_SDP_RECVONLY:
    am->direction = CS_SDP_SENDONLY;
    st->sending = TRUE;
    st->ssrc = random_u32 ();
    st->rtx_ssrc = am->rtx >= 0 ? random_u32 () : 0;
    am->ssrc = st->ssrc;
    am->rtx_ssrc = st->rtx_ssrc;
    am->cname = c->cname;
    am->msid_stream = c->cname;
    break;
  case CS_SDP_INACTIVE:
    am->direction = CS_SDP_INACTIVE;
    break;
  }
}

char *
cs_client_create_answer (CsClient *c, const char *offer_sdp, GError **error)
{
  g_return_val_if_fail (c->config.answerer, NULL);
  g_autofree CsSdpSession *offer = g_new0 (CsSdpSession, 1);
  char err[160] = "";
  if (cs_sdp_parse (offer_sdp, strlen (offer_sdp), offer, err, sizeof err) != CS_SDP_OK) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_INVALID_SDP, "%s", err);
    return NULL;
  }
  g_autofree CsSdpAnswerMedia *am = g_new0 (CsSdpAnswerMedia, MAX (offer->n_media, 1));
  g_autoptr (GArray) streams = g_array_new (FALSE, TRUE, sizeof (ClientStream));
  /* msid track ids of the m-lines we send on: "<cname>-<mid>", as in offers. */
  g_autoptr (GPtrArray) tracks = g_ptr_array_new_with_free_func (g_free);
  const CsSdpMedia *transport = NULL;
  for (guint i = 0; i < offer->n_media; i++) {
    ClientStream st = { 0 };
    answer_media (c, &offer->media[i], &st, &am[i]);
    if (am[i].rejected)
      continue;
    if (st.sending) {
      char *track = g_strdup_printf ("%s-%s", c->cname, st.mid);
      g_ptr_array_add (tracks, track);
      am[i].msid_track = track;
    }
    if (!transport)
      transport = &offer->media[i];
    g_array_append_val (streams, st);
  }
  if (!transport) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_UNSUPPORTED_SDP,
                 "no Opus or VP8 m-line in the offer");
    return NULL;
  }
  /* actpass (or passive): we take the DTLS client role, as browsers do. */
  gboolean dtls_server = g_ascii_strcasecmp (transport->setup, "active") == 0;
  if (!cs_transport_set_remote (&c->t, transport->ice_ufrag, transport->ice_pwd,
                                transport->fingerprint_alg, transport->fingerprint, dtls_server)) {
    g_set_error (error, CS_MEDIA_ERROR, CS_MEDIA_ERROR_ICE, "cannot apply the offer's ICE/DTLS parameters");
    return NULL;
  }
  for (guint i = 0; i < transport->n_candidates; i++)
    cs_transport_add_remote_candidate (&c->t, transport->candidates[i]);
  if (transport->end_of_candidates)
    cs_transport_add_remote_candidate (&c->t, NULL);
  g_array_unref (c->streams);
  c->streams = g_steal_pointer (&streams);

  guint64 sess;
  RAND_bytes ((guint8 *) &sess, sizeof sess);
  CsSdpAnswerParams params = {
    .sess_id = sess >> 2,
    .sess_version = 2,
    .ice_ufrag = c->t.ufrag,
    .ice_pwd = c->t.pwd,
    .fingerprint = c->identity->cert.fingerprint,
    .setup = dtls_server ? "passive" : "active",
    .media = am,
  };
  return cs_sdp_write_answer (offer, &params);
}

void
cs_client_add_remote_candidate (CsClient *c, const char *candidate)
{
  cs_transport_add_remote_candidate (&c->t, candidate);
}

CsPeerState
cs_client_get_state (CsClient *c)
{
  return c->t.state;
}

guint
cs_client_get_n_streams (CsClient *c)
{
  return c->streams->len;
}

gboolean
cs_client_get_stream (CsClient *c, guint index, CsClientStream *out)
{
  if (index >= c->streams->len)
    return FALSE;
  const ClientStream *st = &g_array_index (c->streams, ClientStream, index);
  out->mid = st->mid;
  out->kind = st->kind;
  out->sending = st->sending;
  out->receiving = st->receiving;
  out->ssrc = st->ssrc;
  out->rtx_ssrc = st->rtx_ssrc;
  out->track_id = st->track_id[0] ? st->track_id : NULL;
  return TRUE;
}

int
cs_client_send_rtp (CsClient *c, guint8 *packet, gsize len, gsize cap)
{
  if (cap < len + SRTP_MAX_TRAILER_LEN)
    return -1;
  return cs_transport_send_rtp (&c->t, packet, len);
}

int
cs_client_send_rtcp (CsClient *c, guint8 *packet, gsize len, gsize cap)
{
  if (cap < len + SRTP_MAX_TRAILER_LEN + 4)
    return -1;
  return cs_transport_send_rtcp (&c->t, packet, len);
}

gboolean
cs_client_set_recv_buffer (CsClient *c, int bytes)
{
  GSocket *socket = nice_agent_get_selected_socket (c->t.agent, c->t.stream_id, 1);
  if (!socket)
    return FALSE;
  gboolean ok = setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == 0;
  g_object_unref (socket);
  return ok;
}

void
cs_client_send_raw (CsClient *c, const guint8 *data, gsize len)
{
  cs_transport_send (&c->t, data, len);
}
