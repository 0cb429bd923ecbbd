#!/usr/bin/env bash
# Prints the version every artifact of this checkout carries: the binaries' --version (stamped with
# -Xcc -DQBEAST_VERSION), the image tags and labels, the charts' version and appVersion.
#   - on a release tag vX.Y.Z: X.Y.Z; past one: `git describe` without its v (0.2.0-3-gabc1234);
#   - with no v* tag reachable: the package version from VERSION, marked -dev, with the commit
#     (0.2.0-dev+gabc1234; image tags spell the + as _, since OCI tags cannot carry it — as Helm does).
set -euo pipefail
cd "$(dirname "$0")/.."
if described=$(git describe --tags --match 'v*' 2>/dev/null); then
  echo "${described#v}"
else
  echo "$(tr -d '[:space:]' < VERSION)-dev+g$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)"
fi
