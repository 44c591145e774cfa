/* cli-records.h — the records handle of the one-shot database commands
 * (--create-admin, --verify-audit), which run instead of the server on a
 * main loop of their own. Private header of server/. */
#pragma once

#include "records/records.h"

G_BEGIN_DECLS

/* Opens the pool on the thread-default context and runs @loop until a
 * connection is up (10 s at most). Returns (transfer full) the handle, or
 * NULL with CS_RECORDS_ERROR_UNAVAILABLE ("database unreachable") or a
 * configuration error. */
CsRecords *cs_cli_records_open (const CsRecordsConfig *cfg, GMainLoop *loop, GError **error);

G_END_DECLS
