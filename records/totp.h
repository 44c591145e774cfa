/* totp.h — RFC 6238 time-based one-time passwords (HMAC-SHA1, 30 s steps,
 * 6 digits), pure functions: no clock, no allocation except base32. */
#pragma once

#include <glib.h>

#define CS_TOTP_STEP_SECONDS 30
#define CS_TOTP_DIGITS 6
#define CS_TOTP_SECRET_LEN 20  /* 160 bits, as RFC 4226 recommends */

/* HOTP (RFC 4226) value of @counter truncated to @digits (1..9) digits. */
guint32 cs_totp_hotp (const guint8 *key, gsize key_len, guint64 counter, guint digits);

/* The time step containing @unix_time. */
guint64 cs_totp_step (gint64 unix_time);

/* Checks @code (exactly CS_TOTP_DIGITS ASCII digits) against the steps
 * around @unix_time, ±@window steps. On a match stores the matching step in
 * @out_step (callers refuse steps already used, against replay). Compares
 * every candidate without early exit. */
gboolean cs_totp_check (const guint8 *key, gsize key_len, const char *code, gint64 unix_time,
                        guint window, guint64 *out_step);

/* RFC 4648 base32, no padding: what authenticator apps expect. */
char *cs_base32_encode (const guint8 *data, gsize len);
