#include "BuildInfo.h"

#ifndef QBEAST_VERSION
// Keep in step with the top-level VERSION file (a test compares them).
#define QBEAST_VERSION "0.2.0-dev"
#endif

const char *qbeast_build_version(void) { return QBEAST_VERSION; }
