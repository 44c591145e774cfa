/* create-admin.h — consiliumd --create-admin: the first admin account of a
 * fresh install (docs/api.md, Bootstrap). Private header of server/. */
#pragma once

#include "server/config.h"

G_BEGIN_DECLS

/* Reads the password from standard input (prompting without echo on a
 * terminal), migrates the database and creates the account. Returns the
 * process exit status: 0 done, 1 database unreachable or failing, 2 bad
 * input or taken email. */
int cs_create_admin (const CsServerConfig *config, const char *email, const char *name);

G_END_DECLS
