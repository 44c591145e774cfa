/* mailbox.c — an ordered queue of closures drained on one GMainContext.
 * g_main_context_invoke() gives no ordering guarantee between calls, but an
 * answer must reach the client before the candidates that follow it, so
 * cross-thread messages go through this FIFO instead. */
#include "internal.h"

typedef struct {
  CsMailboxFunc func;
  gpointer data;
  GDestroyNotify destroy;
} CsLetter;

struct _CsMailbox {
  GSource source;
  GAsyncQueue *queue;
};

static gboolean
mailbox_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return g_async_queue_length (((CsMailbox *) source)->queue) > 0;
}

static gboolean
mailbox_check (GSource *source)
{
  return g_async_queue_length (((CsMailbox *) source)->queue) > 0;
}

static gboolean
mailbox_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  CsMailbox *box = (CsMailbox *) source;
  CsLetter *letter;
  /* Bounded per dispatch so a flood of messages cannot starve packets. */
  for (guint i = 0; i < 64 && (letter = g_async_queue_try_pop (box->queue)); i++) {
    letter->func (letter->data);
    if (letter->destroy)
      letter->destroy (letter->data);
    g_free (letter);
  }
  return G_SOURCE_CONTINUE;
}

static void
letter_free (gpointer p)
{
  CsLetter *letter = p;
  if (letter->destroy)
    letter->destroy (letter->data);
  g_free (letter);
}

static void
mailbox_finalize (GSource *source)
{
  g_async_queue_unref (((CsMailbox *) source)->queue);
}

static GSourceFuncs mailbox_funcs = {
  mailbox_prepare, mailbox_check, mailbox_dispatch, mailbox_finalize, NULL, NULL,
};

CsMailbox *
cs_mailbox_new (GMainContext *context)
{
  CsMailbox *box = (CsMailbox *) g_source_new (&mailbox_funcs, sizeof (CsMailbox));
  box->queue = g_async_queue_new_full (letter_free);
  g_source_set_name ((GSource *) box, "cs-mailbox");
  g_source_attach ((GSource *) box, context);
  return box;
}

void
cs_mailbox_post (CsMailbox *box, CsMailboxFunc func, gpointer data, GDestroyNotify destroy)
{
  CsLetter *letter = g_new (CsLetter, 1);
  letter->func = func;
  letter->data = data;
  letter->destroy = destroy;
  g_async_queue_push (box->queue, letter);
  g_main_context_wakeup (g_source_get_context ((GSource *) box));
}

void
cs_mailbox_free (CsMailbox *box)
{
  if (!box)
    return;
  CsLetter *letter;
  while ((letter = g_async_queue_try_pop (box->queue)))
    letter_free (letter);
  g_source_destroy ((GSource *) box);
  g_source_unref ((GSource *) box);
}
