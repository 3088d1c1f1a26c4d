#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu):
# the packages the kit and the students' programs need, a Rust toolchain, and the kit
# built with its companions, so that grading a submission builds nothing.
# Written by `harness package gradescope`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends @@APT_PACKAGES@@
# The libraries students import that the distribution does not package.
@@PIP_INSTALL@@
# The kit needs Rust @@RUST_VERSION@@ or newer; Ubuntu's own is older.
curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
source "$HOME/.cargo/env"
cd "$(dirname "$0")/kit"
cargo build --release -p harness -p sandbox-init -p short-calls
