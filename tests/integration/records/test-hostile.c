#include "fixture.h"
int main (int argc, char **argv) { cs_test_init (&argc, &argv); return g_test_run (); }
