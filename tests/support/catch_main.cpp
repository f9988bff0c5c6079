// Catch2 v2 needs its runner compiled into one translation unit; v3 links Catch2WithMain instead.
#define CATCH_CONFIG_MAIN
#include "pgps_catch.hpp"
