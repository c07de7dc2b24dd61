/* The entry point of a linked experiment: the compiled object defines the
 * plan, libmlcrt runs it. Kept apart from libmlcrt so that `mlc run` (which
 * has its own main) can link the runtime too. */
#include "abi/plan.h"

int main(int argc, char **argv) { return mlcrt_main(mlc_get_plan(), argc, argv); }
