/* pool.c — a small pool of libpq connections driven by the GLib main loop.
 *
 * Why non-blocking libpq on the loop rather than DB threads: every caller
 * of records/ lives on the main thread (libwebsockets runs there), so with
 * PQsendQueryParams/PQconsumeInput/PQisBusy behind a GSource watching each
 * connection's socket, results arrive on that thread with no locks, no
 * queue hand-off and no thread per connection; a slow query only costs an
 * fd watch. The one CPU-heavy step, argon2, runs on GTask's thread pool
 * instead (password.c). Connecting is non-blocking too (PQconnectStart +
 * PQconnectPoll), so a dead database never stalls the loop.
 *
 * Failure model: a query goes to an idle connection, or waits in a bounded
 * queue while some connection is up or still connecting. When every
 * connection is down, queries fail at once with CS_RECORDS_ERROR_UNAVAILABLE
 * (the REST layer answers 503) instead of piling up; each dead connection
 * retries with exponential backoff (100 ms doubling to 5 s, with jitter) and
 * the pool serves again as soon as one is back. A query in flight on a
 * connection that breaks fails with UNAVAILABLE: it is not retried, since
 * it may have committed. */
#include "records/records-private.h"

#include <glib-unix.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* PQconnectPoll ignores connect_timeout, so bound connecting ourselves. */
#define CONNECT_TIMEOUT_MS 10000
/* Beyond this many waiting queries the database is not keeping up: shed. */
#define MAX_PENDING_PER_CONN 256

typedef enum {
  CONN_DOWN,        /* waiting for its retry timer */
  CONN_CONNECTING,
  CONN_IDLE,
  CONN_BUSY,
} ConnState;

typedef struct {
  const char *sql;
  int n_params;
  char **params;    /* n_params entries, NULL entries are SQL NULL */
  CsPoolCallback callback;
  gpointer user_data;
} Query;

typedef struct {
  CsPool *pool;
  guint index;
  PGconn *pg;
  ConnState state;
  GSource *watch;        /* socket readiness */
  GIOCondition watch_cond;
  int watch_fd;
  GSource *timer;        /* retry (DOWN) or connect deadline (CONNECTING) */
  guint backoff_ms;
  gboolean logged_down;  /* log an outage once, not every retry */
  Query *query;          /* in flight when BUSY */
  PGresult *result;      /* the result kept for the query in flight */
} Conn;

struct _CsPool {
  GMainContext *context;
  char *conninfo;
  Conn *conns;
  guint n_conns;
  GQueue pending;        /* Query* */
};

static void conn_connect (Conn *c);
static void pool_pump (CsPool *pool);

static void
query_free (Query *q)
{
  for (int i = 0; i < q->n_params; i++)
    g_free (q->params[i]);
  g_free (q->params);
  g_free (q);
}

static void
query_fail (Query *q, const GError *error)
{
  q->callback (NULL, error, q->user_data);
  query_free (q);
}

static void
query_fail_unavailable (Query *q, const char *why)
{
  g_autoptr (GError) error = g_error_new (CS_RECORDS_ERROR, CS_RECORDS_ERROR_UNAVAILABLE,
                                          "database unavailable: %s", why);
  query_fail (q, error);
}

/* ---- error mapping --------------------------------------------------------- */

GError *
cs_pg_error_from_result (const PGresult *res)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  CsRecordsError code = CS_RECORDS_ERROR_FAILED;

  if (!msg)
    msg = res ? PQresultErrorMessage (res) : "no result";
  if (!state) {
    /* libpq-side failures carry no SQLSTATE: the connection is gone. */
    code = CS_RECORDS_ERROR_UNAVAILABLE;
  } else if (g_str_has_prefix (state, "08") || g_str_has_prefix (state, "57P")
             || g_str_has_prefix (state, "53")) {
    code = CS_RECORDS_ERROR_UNAVAILABLE;  /* connection, shutdown, resources */
  } else if (strcmp (state, "23505") == 0) {
    code = CS_RECORDS_ERROR_EXISTS;
  } else if (g_str_has_prefix (state, "22") || g_str_has_prefix (state, "23")) {
    code = CS_RECORDS_ERROR_INVALID;      /* data exception, constraint */
  } else if (strcmp (state, "42501") == 0 || strcmp (state, "CS403") == 0) {
    code = CS_RECORDS_ERROR_FORBIDDEN;
  } else if (strcmp (state, "CS400") == 0) {
    code = CS_RECORDS_ERROR_INVALID;
  } else if (strcmp (state, "CS404") == 0) {
    code = CS_RECORDS_ERROR_NOT_FOUND;
  } else if (strcmp (state, "CS409") == 0) {
    code = CS_RECORDS_ERROR_CONFLICT;
  }
  /* Our own refusals (SQLSTATE CSnnn) carry their reason in the HINT. */
  const char *hint = g_str_has_prefix (state ? state : "", "CS")
                     ? PQresultErrorField (res, PG_DIAG_MESSAGE_HINT) : NULL;
  if (hint)
    return g_error_new (CS_RECORDS_ERROR, code, "[%s] %s", hint, msg);
  return g_error_new (CS_RECORDS_ERROR, code, "%s", msg);
}

/* ---- socket watch ------------------------------------------------------------ */

static gboolean conn_on_socket (gint fd, GIOCondition cond, gpointer user_data);

static void
conn_unwatch (Conn *c)
{
  if (c->watch) {
    g_source_destroy (c->watch);
    g_source_unref (c->watch);
    c->watch = NULL;
  }
}

/* (Re)arms the watch; libpq may change the socket while connecting. */
static void
conn_watch (Conn *c, GIOCondition cond)
{
  int fd = PQsocket (c->pg);
  if (c->watch && c->watch_fd == fd && c->watch_cond == cond)
    return;
  conn_unwatch (c);
  c->watch = g_unix_fd_source_new (fd, cond);
  c->watch_fd = fd;
  c->watch_cond = cond;
  g_source_set_callback (c->watch, G_SOURCE_FUNC (conn_on_socket), c, NULL);
  g_source_attach (c->watch, c->pool->context);
}

static void
conn_clear_timer (Conn *c)
{
  if (c->timer) {
    g_source_destroy (c->timer);
    g_source_unref (c->timer);
    c->timer = NULL;
  }
}

static void
conn_set_timer (Conn *c, guint ms, GSourceFunc func)
{
  conn_clear_timer (c);
  c->timer = g_timeout_source_new (ms);
  g_source_set_callback (c->timer, func, c, NULL);
  g_source_attach (c->timer, c->pool->context);
}

/* ---- connection life cycle ------------------------------------------------- */

static gboolean
pool_has_hope (CsPool *pool)
{
  for (guint i = 0; i < pool->n_conns; i++)
    if (pool->conns[i].state != CONN_DOWN)
      return TRUE;
  return FALSE;
}

static void
pool_fail_pending (CsPool *pool, const char *why)
{
  Query *q;
  while ((q = g_queue_pop_head (&pool->pending)))
    query_fail_unavailable (q, why);
}

static gboolean
conn_on_retry (gpointer user_data)
{
  Conn *c = user_data;
  g_source_unref (c->timer);
  c->timer = NULL;
  conn_connect (c);
  return G_SOURCE_REMOVE;
}

/* Drops the connection and schedules a reconnect. The query in flight, and
 * the queue if no connection is left that could serve it, fail now. */
static void
conn_down (Conn *c, const char *why)
{
  CsPool *pool = c->pool;
  g_autofree char *reason = g_strchomp (g_strdup (why && *why ? why : "connection lost"));

  conn_unwatch (c);
  conn_clear_timer (c);
  g_clear_pointer (&c->result, PQclear);
  g_clear_pointer (&c->pg, PQfinish);
  c->state = CONN_DOWN;

  if (!c->logged_down) {
    g_warning ("database connection %u down: %s", c->index, reason);
    c->logged_down = TRUE;
  }
  if (c->query) {
    Query *q = c->query;
    c->query = NULL;
    query_fail_unavailable (q, reason);
  }
  if (!pool_has_hope (pool))
    pool_fail_pending (pool, reason);

  /* Jitter keeps the pool's connections from reconnecting in lockstep. */
  guint delay = c->backoff_ms + g_random_int_range (0, c->backoff_ms / 5 + 1);
  c->backoff_ms = MIN (c->backoff_ms * 2, BACKOFF_MAX_MS);
  conn_set_timer (c, delay, conn_on_retry);
}

static gboolean
conn_on_connect_timeout (gpointer user_data)
{
  Conn *c = user_data;
  g_source_unref (c->timer);
  c->timer = NULL;
  conn_down (c, "connect timed out");
  return G_SOURCE_REMOVE;
}

static void
quiet_notice (void *arg, const char *message)
{
  /* libpq prints notices on stderr by default; they are debug material. */
  g_debug ("postgres: %s", message);
}

static void
conn_became_ready (Conn *c)
{
  conn_clear_timer (c);
  PQsetNoticeProcessor (c->pg, quiet_notice, NULL);
  if (PQsetnonblocking (c->pg, 1) != 0) {
    conn_down (c, PQerrorMessage (c->pg));
    return;
  }
  if (c->logged_down)
    g_message ("database connection %u back", c->index);
  c->logged_down = FALSE;
  c->backoff_ms = BACKOFF_MIN_MS;
  c->state = CONN_IDLE;
  /* Watch idle connections too: that is how we notice the server leaving. */
  conn_watch (c, G_IO_IN);
  pool_pump (c->pool);
}

static void
conn_poll_connect (Conn *c)
{
  switch (PQconnectPoll (c->pg)) {
  case PGRES_POLLING_READING:
    conn_watch (c, G_IO_IN);
    break;
  case PGRES_POLLING_WRITING:
    conn_watch (c, G_IO_OUT);
    break;
  case PGRES_POLLING_OK:
    conn_became_ready (c);
    break;
  case PGRES_POLLING_FAILED:
  default:
    conn_down (c, PQerrorMessage (c->pg));
    break;
  }
}

static void
conn_connect (Conn *c)
{
  c->pg = PQconnectStart (c->pool->conninfo);
  if (!c->pg || PQstatus (c->pg) == CONNECTION_BAD) {
    conn_down (c, c->pg ? PQerrorMessage (c->pg) : "out of memory");
    return;
  }
  c->state = CONN_CONNECTING;
  conn_set_timer (c, CONNECT_TIMEOUT_MS, conn_on_connect_timeout);
  /* libpq's contract: start as if PQconnectPoll had said WRITING. */
  conn_watch (c, G_IO_OUT);
}

/* ---- queries -------------------------------------------------------------- */

static void
conn_send (Conn *c, Query *q)
{
  c->query = q;
  c->state = CONN_BUSY;
  /* Text in, text out: values are bound as parameters, never spliced. */
  if (!PQsendQueryParams (c->pg, q->sql, q->n_params, NULL,
                          (const char *const *) q->params, NULL, NULL, 0)) {
    conn_down (c, PQerrorMessage (c->pg));
    return;
  }
  int flushed = PQflush (c->pg);
  if (flushed < 0)
    conn_down (c, PQerrorMessage (c->pg));
  else
    conn_watch (c, flushed ? G_IO_IN | G_IO_OUT : G_IO_IN);
}

static void
conn_complete (Conn *c)
{
  Query *q = c->query;
  PGresult *res = c->result;
  ExecStatusType status = res ? PQresultStatus (res) : PGRES_FATAL_ERROR;

  c->query = NULL;
  c->result = NULL;
  c->state = CONN_IDLE;
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
    q->callback (res, NULL, q->user_data);
    query_free (q);
  } else {
    g_autoptr (GError) error = cs_pg_error_from_result (res);
    query_fail (q, error);
  }
  g_clear_pointer (&res, PQclear);
}

/* Reads whatever arrived; returns FALSE if the connection died. */
static gboolean
conn_read (Conn *c)
{
  if (!PQconsumeInput (c->pg) || PQstatus (c->pg) == CONNECTION_BAD) {
    conn_down (c, PQerrorMessage (c->pg));
    return FALSE;
  }
  PGnotify *n;
  while ((n = PQnotifies (c->pg)))
    PQfreemem (n);
  return TRUE;
}

static void
conn_on_busy (Conn *c, GIOCondition cond)
{
  if (cond & G_IO_OUT) {
    int flushed = PQflush (c->pg);
    if (flushed < 0) {
      conn_down (c, PQerrorMessage (c->pg));
      return;
    }
    conn_watch (c, flushed ? G_IO_IN | G_IO_OUT : G_IO_IN);
  }
  if (!(cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) || !conn_read (c))
    return;
  while (!PQisBusy (c->pg)) {
    PGresult *r = PQgetResult (c->pg);
    if (!r) {
      conn_complete (c);
      pool_pump (c->pool);
      return;
    }
    /* One statement gives one result; keep an error over anything else. */
    if (!c->result || PQresultStatus (r) == PGRES_FATAL_ERROR) {
      g_clear_pointer (&c->result, PQclear);
      c->result = r;
    } else {
      PQclear (r);
    }
  }
}

static gboolean
conn_on_socket (gint fd, GIOCondition cond, gpointer user_data)
{
  Conn *c = user_data;

  switch (c->state) {
  case CONN_CONNECTING:
    conn_poll_connect (c);
    break;
  case CONN_BUSY:
    conn_on_busy (c, cond);
    break;
  case CONN_IDLE:
    /* Nothing is expected while idle but a shutdown notice or EOF. */
    conn_read (c);
    break;
  case CONN_DOWN:
    break;
  }
  /* The watch is managed explicitly (conn_watch/conn_unwatch). */
  return G_SOURCE_CONTINUE;
}

static void
pool_pump (CsPool *pool)
{
  for (guint i = 0; i < pool->n_conns && pool->pending.length; i++) {
    Conn *c = &pool->conns[i];
    if (c->state == CONN_IDLE)
      conn_send (c, g_queue_pop_head (&pool->pending));
  }
}

gboolean
cs_pool_is_available (CsPool *pool)
{
  /* A connection still making its first attempt counts: right after start
   * queries wait for it instead of failing. One retrying after an outage
   * (logged down) does not: callers get a fast 503 meanwhile. */
  for (guint i = 0; i < pool->n_conns; i++) {
    const Conn *c = &pool->conns[i];
    if (c->state == CONN_IDLE || c->state == CONN_BUSY ||
        (c->state == CONN_CONNECTING && !c->logged_down))
      return TRUE;
  }
  return FALSE;
}

typedef struct {
  Query *query;
  char *why;
} Deferred;

static gboolean
deferred_fail (gpointer user_data)
{
  Deferred *d = user_data;
  query_fail_unavailable (d->query, d->why);
  g_free (d->why);
  g_free (d);
  return G_SOURCE_REMOVE;
}

void
cs_pool_query (CsPool *pool, const char *sql, int n_params, const char *const *params,
               CsPoolCallback callback, gpointer user_data)
{
  g_return_if_fail (pool && sql && callback && n_params >= 0);

  Query *q = g_new0 (Query, 1);
  q->sql = sql;
  q->n_params = n_params;
  q->params = g_new0 (char *, MAX (n_params, 1));
  for (int i = 0; i < n_params; i++)
    q->params[i] = g_strdup (params[i]);
  q->callback = callback;
  q->user_data = user_data;

  const char *why = NULL;
  if (!pool_has_hope (pool))
    why = "no connection to the database";
  else if (pool->pending.length >= MAX_PENDING_PER_CONN * pool->n_conns)
    why = "too many queries waiting";
  if (why) {
    /* Fail fast, but never re-enter the caller from inside its own call. */
    Deferred *d = g_new0 (Deferred, 1);
    d->query = q;
    d->why = g_strdup (why);
    GSource *s = g_idle_source_new ();
    g_source_set_callback (s, deferred_fail, d, NULL);
    g_source_attach (s, pool->context);
    g_source_unref (s);
    return;
  }
  g_queue_push_tail (&pool->pending, q);
  pool_pump (pool);
}

CsPool *
cs_pool_new (const char *conninfo, guint size, GMainContext *context)
{
  CsPool *pool = g_new0 (CsPool, 1);
  pool->context = g_main_context_ref (context);
  pool->conninfo = g_strdup (conninfo);
  pool->n_conns = MAX (size, 1);
  pool->conns = g_new0 (Conn, pool->n_conns);
  g_queue_init (&pool->pending);
  for (guint i = 0; i < pool->n_conns; i++) {
    Conn *c = &pool->conns[i];
    c->pool = pool;
    c->index = i;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->watch_fd = -1;
    conn_connect (c);
  }
  return pool;
}

void
cs_pool_free (CsPool *pool)
{
  if (!pool)
    return;
  g_autoptr (GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                      "records closed");
  /* Detach everything first so callbacks see a pool that takes no work. */
  GQueue failing = G_QUEUE_INIT;
  for (guint i = 0; i < pool->n_conns; i++) {
    Conn *c = &pool->conns[i];
    conn_unwatch (c);
    conn_clear_timer (c);
    g_clear_pointer (&c->result, PQclear);
    g_clear_pointer (&c->pg, PQfinish);
    c->state = CONN_DOWN;
    if (c->query)
      g_queue_push_tail (&failing, g_steal_pointer (&c->query));
  }
  Query *q;
  while ((q = g_queue_pop_head (&pool->pending)))
    g_queue_push_tail (&failing, q);
  while ((q = g_queue_pop_head (&failing)))
    query_fail (q, cancelled);
  g_free (pool->conns);
  g_free (pool->conninfo);
  g_main_context_unref (pool->context);
  g_free (pool);
}
