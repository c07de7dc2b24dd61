#include "driver/Driver.h"

int main(int argc, char **argv) { return mlc::runDriver(argc, argv); }
