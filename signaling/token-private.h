/* token-private.h — helpers of token.c shared with the protocol checks and
 * the unit tests. Not part of the public API. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* base64url without padding (RFC 7515 §2). Decoding is strict: no padding,
 * no whitespace, zero unused bits. @out must hold len * 3 / 4 bytes.
 * Returns the decoded length, or -1. */
gssize cs_b64url_decode (const char *in, gsize len, guint8 *out);
/* (transfer full) */
char *cs_b64url_encode (const guint8 *data, gsize len);

/* Claim checks, as documented in docs/signaling.md. */
gboolean cs_token_room_is_valid (const char *room);
gboolean cs_token_role_is_valid (const char *role);
/* 1..@max_chars characters of UTF-8, no control characters. */
gboolean cs_token_text_is_valid (const char *s, glong max_chars);

G_END_DECLS
