/* verify-audit.h — consiliumd --verify-audit: walks the audit hash chain
 * and names the first broken record (docs/config.md, docs/records.md).
 * Private header of server/. */
#pragma once

#include "server/config.h"

G_BEGIN_DECLS

/* Verifies the chain of the configured database and prints the verdict on
 * standard output. Returns the process exit status: 0 intact, 1 broken or
 * the database unreachable or failing, 2 no [database] configured. */
int cs_verify_audit (const CsServerConfig *config);

G_END_DECLS
