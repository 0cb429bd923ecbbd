#ifndef QBEAST_BUILD_INFO_H
#define QBEAST_BUILD_INFO_H

/// The version all three binaries report. A release build stamps it:
///   swift build -c release -Xcc -DQBEAST_VERSION='"1.2.3"'
/// Without a stamp it is the package version from the top-level VERSION file, marked -dev.
const char *qbeast_build_version(void);

#endif
