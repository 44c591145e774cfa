/* Fuzz target for media/sdp.c: parse the input as an offer; when it
 * parses, answer it with simple decisions and require that our own answer
 * parses back with the same number of m-lines (whatever an offer holds,
 * the writer must not produce SDP we would refuse). */
#include "media/sdp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
decide (const CsSdpSession *offer, CsSdpAnswerMedia *media)
{
  for (guint i = 0; i < offer->n_media; i++) {
    const CsSdpMedia *m = &offer->media[i];
    CsSdpAnswerMedia *a = &media[i];
    if (cs_sdp_media_is_rejected (m) || m->n_codecs == 0 || i % 5 == 4) {
      a->rejected = TRUE;
      continue;
    }
    a->codec = (int) (i % m->n_codecs);
    a->rtx = cs_sdp_find_rtx (m, m->codecs[a->codec].pt);
    if (a->rtx == a->codec)
      a->rtx = -1;
    a->fb = i % 2 ? G_MAXUINT : CS_SDP_FB_NACK | CS_SDP_FB_TRANSPORT_CC;
    a->ext_mask = i % 3 ? G_MAXUINT32 : 0x5;
    a->direction = (CsSdpDirection) ((m->direction + i) % 4);
    a->ssrc = 1000 + i;
    a->rtx_ssrc = i % 2 ? 2000 + i : 0;
    a->cname = "fuzz";
    a->msid_stream = i % 3 ? "stream" : NULL;
    a->msid_track = "track:1";
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const candidates[] = {
    "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
    NULL,
  };
  CsSdpSession *offer = g_new (CsSdpSession, 1);
  char err[128];
  if (cs_sdp_parse ((const char *) data, size, offer, err, sizeof err) != CS_SDP_OK) {
    g_free (offer);
    return 0;
  }
  CsSdpAnswerMedia *media = g_new0 (CsSdpAnswerMedia, MAX (offer->n_media, 1));
  decide (offer, media);
  CsSdpAnswerParams params = {
    .sess_id = G_MAXUINT64,
    .sess_version = 1,
    .ice_ufrag = "fUzZ",
    .ice_pwd = "fuzzfuzzfuzzfuzzfuzzfuzz",
    .fingerprint = "sha-256 00:11:22:33",
    .setup = size % 2 ? "passive" : "active",
    .ice_lite = size % 3 == 0,
    .media = media,
    .candidates = size % 2 ? candidates : NULL,
    .end_of_candidates = TRUE,
  };
  char *answer = cs_sdp_write_answer (offer, &params);
  if (!answer)
    abort ();
  CsSdpSession *back = g_new (CsSdpSession, 1);
  if (cs_sdp_parse (answer, strlen (answer), back, err, sizeof err) != CS_SDP_OK) {
    fprintf (stderr, "answer does not parse: %s\n%s", err, answer);
    abort ();
  }
  if (back->n_media != offer->n_media)
    abort ();
  g_free (back);
  g_free (answer);
  g_free (media);
  g_free (offer);
  return 0;
}
