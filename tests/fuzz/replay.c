/* Replays fuzz corpora through a LLVMFuzzerTestOneInput target, so the
 * default build (gcc, no libFuzzer) runs every seed as a regression test.
 * Each input is copied into a buffer of exactly its size so ASan sees
 * any read past the end. */
#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint
replay_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &contents, &len, &error))
    g_error ("%s", error->message);
  uint8_t *copy = g_malloc (len ? len : 1);
  memcpy (copy, contents, len);
  LLVMFuzzerTestOneInput (copy, len);
  g_free (copy);
  return 1;
}

static guint
replay_path (const char *path)
{
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return replay_file (path);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;
  const char *name;
  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *child = g_build_filename (path, name, NULL);
    n += replay_path (child);
  }
  return n;
}

int
main (int argc, char **argv)
{
  guint n = 0;
  for (int i = 1; i < argc; i++)
    n += replay_path (argv[i]);
  if (n == 0)
    g_error ("no corpus inputs found");
  g_print ("replayed %u inputs\n", n);
  return 0;
}
