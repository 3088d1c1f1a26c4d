#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04
# or later): the packages the students' programs need. The kit comes built (kit/bin/):
# nothing is compiled here and no toolchain is installed.
# Written by `harness package gradescope`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends @@APT_PACKAGES@@
# The libraries students import that the distribution does not package.
@@PIP_INSTALL@@
# The built harness runs here (its C library is new enough), and says which sandbox
# layers this platform allows.
"$(dirname "$0")/kit/bin/harness" --version
