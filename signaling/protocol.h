/* protocol.h — the JSON messages of docs/signaling.md: validation of one
 * client frame into a typed request, and builders for every server message.
 * Pure: no I/O, no logging, no state; this is the fuzzed surface.
 * Private header of signaling/. */
#pragma once

#include <glib.h>
#include <jansson.h>
#include "media/media.h"

G_BEGIN_DECLS

/* Largest client frame after reassembly (docs/signaling.md, Transport). */
#define CS_SIG_MAX_FRAME 65536
#define CS_SIG_MAX_ID_LEN 64
/* A valid request is one object deep; some room is left for unknown,
 * ignored fields. Deeper input is refused before jansson recurses into it. */
#define CS_SIG_MAX_DEPTH 8
/* "chat": 1..4000 characters, as the database stores them. */
#define CS_SIG_MAX_CHAT 4000
/* "subscribe": a REST session token (docs/api.md), at most this long. */
#define CS_SIG_MAX_SESSION 256

typedef enum {
  CS_SIG_OK = 0,
  CS_SIG_ERR_BAD_JSON,
  CS_SIG_ERR_BAD_MESSAGE,
  CS_SIG_ERR_UNKNOWN_TYPE,
  CS_SIG_ERR_MESSAGE_TOO_LARGE,
  CS_SIG_ERR_NOT_JOINED,
  CS_SIG_ERR_ALREADY_JOINED,
  CS_SIG_ERR_INVALID_TOKEN,
  CS_SIG_ERR_TOKEN_EXPIRED,
  CS_SIG_ERR_FORBIDDEN,
  CS_SIG_ERR_BAD_STATE,
  CS_SIG_ERR_INVALID_SDP,
  CS_SIG_ERR_UNSUPPORTED_SDP,
  CS_SIG_ERR_ROOM_FULL,
  CS_SIG_ERR_INTERNAL,
  CS_SIG_ERR_NOT_ADMITTED,      /* waiting in the lobby: only ping and leave */
  CS_SIG_ERR_NOT_FOUND,         /* no such participant (or file) here */
  CS_SIG_ERR_UNAUTHORIZED,      /* subscribe: unknown, expired or revoked session */
  CS_SIG_ERR_UNAVAILABLE,       /* the database is unavailable */
  CS_SIG_ERR_REFUSED,           /* the database refused; the reply names its reason */
  CS_SIG_N_ERRORS
} CsSigErrorCode;

/* "bad-json", ... (transfer none) */
const char *cs_sig_error_code_to_string (CsSigErrorCode code);

typedef enum {
  CS_SIG_MSG_JOIN,
  CS_SIG_MSG_OFFER,
  CS_SIG_MSG_CANDIDATE,
  CS_SIG_MSG_END_OF_CANDIDATES,
  CS_SIG_MSG_MUTE,
  CS_SIG_MSG_LEAVE,
  CS_SIG_MSG_PING,
  CS_SIG_MSG_ADMIT,
  CS_SIG_MSG_MUTE_PARTICIPANT,
  CS_SIG_MSG_REMOVE,
  CS_SIG_MSG_CHAT,
  CS_SIG_MSG_FILE_SHARED,
  CS_SIG_MSG_SUBSCRIBE,
  CS_SIG_N_MSG_TYPES
} CsSigMsgType;

/* "join", ... (transfer none) */
const char *cs_sig_msg_type_to_string (CsSigMsgType type);

/* A request id, copied out of the frame so replies can echo it. */
typedef enum {
  CS_SIG_ID_NONE,
  CS_SIG_ID_INT,
  CS_SIG_ID_STRING,
} CsSigIdKind;

typedef struct {
  CsSigIdKind kind;
  gint64 num;
  char str[CS_SIG_MAX_ID_LEN * 4 + 1];  /* up to 64 UTF-8 characters */
} CsSigId;

/* One validated client request. String fields point into @root and live
 * as long as the request (cs_sig_request_clear() releases them). */
typedef struct {
  CsSigMsgType type;
  CsSigId id;
  const char *token;           /* join */
  const char *sdp;             /* offer */
  gsize sdp_len;
  const char *candidate;       /* candidate; "" means end-of-candidates */
  const char *sdp_mid;         /* candidate; NULL when absent or null */
  gint64 sdp_mline_index;      /* candidate; -1 when absent or null */
  CsMediaKind kind;            /* mute, mute-participant */
  gboolean muted;              /* mute */
  const char *participant;     /* admit, mute-participant, remove: "p" + 16 hex digits */
  const char *text;            /* chat: 1..CS_SIG_MAX_CHAT characters, not blank */
  gint64 file_id;              /* file-shared: >= 1 */
  const char *session;         /* subscribe */
  json_t *root;
} CsSigRequest;

/* Validates one text frame (@len bytes, need not be NUL-terminated).
 * On success fills @req (release with cs_sig_request_clear()). On failure
 * @req is untouched, the error code is returned and @err receives a short
 * human-readable reason. In both cases @id receives the request's id when
 * the frame was a JSON object with a valid "id", else CS_SIG_ID_NONE. */
CsSigErrorCode cs_sig_request_parse (const char *data, gsize len, CsSigRequest *req,
                                     CsSigId *id, char *err, gsize err_len);
void cs_sig_request_clear (CsSigRequest *req);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CsSigRequest, cs_sig_request_clear)

/* ---- server → client builders; each returns (transfer full) compact JSON */

typedef struct {
  const char *id;
  const char *user;
  const char *name;
  const char *role;
  gboolean audio_muted;
  gboolean video_muted;
  gboolean host;
} CsSigParticipant;

/* A connection waiting in a room's lobby. */
typedef struct {
  const char *id;
  const char *user;
  const char *name;
  const char *role;
  gint64 since;                /* µs since the epoch: when the wait began */
} CsSigWaiting;

/* A chat message; ids 0 are sent as null (rooms that are not visits store
 * nothing, guests have no account). */
typedef struct {
  gint64 id;
  gint64 sender_id;
  const char *participant;
  const char *name;
  const char *role;
  const char *text;
  const char *sent_at;         /* ISO 8601 UTC */
} CsSigChat;

/* A file shared in a visit, as the database describes it. */
typedef struct {
  gint64 id;
  const char *filename;
  gint64 size;
  const char *content_type;
  gint64 uploader_id;          /* 0: null */
  const char *uploader_name;
  const char *participant;     /* who announced it */
} CsSigFile;

typedef struct {
  const char *mid;             /* NULL in "streams" messages */
  const char *participant;
  CsMediaKind kind;
  const char *track;
} CsSigStream;

char *cs_sig_build_joined (const CsSigId *id, const char *room, const CsSigParticipant *self,
                           const CsSigParticipant *others, guint n_others,
                           const char *const *ice_urls);
char *cs_sig_build_answer (const CsSigId *id, const char *sdp,
                           const CsSigStream *streams, guint n_streams);
/* @candidate NULL: end-of-candidates */
char *cs_sig_build_candidate (const char *mid, const char *candidate);
char *cs_sig_build_streams (const CsSigStream *streams, guint n_streams);
char *cs_sig_build_participant_joined (const CsSigParticipant *p);
char *cs_sig_build_participant_updated (const CsSigParticipant *p);
char *cs_sig_build_participant_left (const char *participant_id);
/* @state: "connecting", "connected", "failed" or "closed" */
char *cs_sig_build_media_state (const char *state);
char *cs_sig_build_ok (const CsSigId *id);
char *cs_sig_build_pong (const CsSigId *id);
char *cs_sig_build_error (const CsSigId *id, CsSigErrorCode code, const char *message);
/* An error whose code is not one of CsSigErrorCode: a database refusal's
 * reason ("doctor-busy", ...). */
char *cs_sig_build_error_reason (const CsSigId *id, const char *code, const char *message);

/* @self waits in @room's lobby (position 1 = next). */
char *cs_sig_build_waiting (const CsSigId *id, const char *room, const CsSigParticipant *self,
                            gint64 since, guint position);
/* To hosts: everyone waiting, longest wait first. */
char *cs_sig_build_lobby (const CsSigWaiting *waiting, guint n_waiting);
char *cs_sig_build_muted_by_host (CsMediaKind kind);
/* @from_lobby: refused entry rather than removed from the call. */
char *cs_sig_build_removed (gboolean from_lobby);
char *cs_sig_build_chat (const CsSigChat *chat);
char *cs_sig_build_file_shared (const CsSigFile *file);
/* @notification: a JSON object (transfer none). */
char *cs_sig_build_notification (json_t *notification);
/* ISO 8601 UTC to the second, e.g. "2026-01-05T09:00:00Z" (transfer full). */
char *cs_sig_format_time (gint64 us);

G_END_DECLS
