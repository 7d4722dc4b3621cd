#!/usr/bin/env bash
# Runs every test sfnlite has, from a clean clone on a bare machine: unit tests, the
# integration suite (real server on a random loopback port, driven by aws-sdk-sfn and raw
# HTTP) and the lints. Pinned tools are installed locally by the steps that need them.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings

echo "== unit and integration tests"
cargo test --locked
