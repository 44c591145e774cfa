/* Fuzz target for the signaling front's untrusted inputs: one client frame
 * through the validator (and, for a valid join, its token through the
 * verifier), plus the raw input as a token. Every error must be turned
 * into a serialisable reply. */
#include "signaling/protocol.h"
#include "signaling/signaling.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const guint8 secret[] = "fuzz-secret-0123456789abcdef";

static void
verify_token (const char *token)
{
  CsTokenClaims claims = { 0 };
  if (cs_token_verify (secret, sizeof secret - 1, token, 1700000000, &claims) == CS_TOKEN_OK) {
    /* A verified token must re-sign to a verifiable token. */
    char *again = cs_token_sign (secret, sizeof secret - 1, &claims);
    g_assert_nonnull (again);
    g_free (again);
  }
  cs_token_claims_clear (&claims);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CsSigRequest req = { 0 };
  CsSigId id;
  char err[200];
  CsSigErrorCode code = cs_sig_request_parse ((const char *) data, size, &req, &id, err, sizeof err);
  if (code == CS_SIG_OK) {
    if (req.type == CS_SIG_MSG_JOIN)
      verify_token (req.token);
    g_free (cs_sig_build_pong (&req.id));
    cs_sig_request_clear (&req);
  } else {
    g_assert_true (code > CS_SIG_OK && code < CS_SIG_N_ERRORS);
    g_free (cs_sig_build_error (&id, code, err));
  }

  if (size <= 8192) {
    char *token = g_strndup ((const char *) data, size);
    verify_token (token);
    g_free (token);
  }
  return 0;
}
