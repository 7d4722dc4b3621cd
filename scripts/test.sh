#!/usr/bin/env bash
# Runs every test sfnlite has, from a clean clone on a bare machine: lints, unit tests, the
# integration suite (real server on a random loopback port, driven by aws-sdk-sfn and raw
# HTTP), and the States Language corpus cross-check against the asl-validator npm package.
# Pinned tools are installed locally (tests/asl/node_modules) by the steps that need them.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings

echo "== release binary (used by the crash harness)"
cargo build --locked --release --bin sfnlite
export SFNLITE_BIN="$PWD/target/release/sfnlite"
export SFNLITE_CRASH_CYCLES="${SFNLITE_CRASH_CYCLES:-20}"

echo "== unit and integration tests"
cargo test --locked -- --skip crash:: --skip fuzz::

echo "== fuzzing: 100,000 generated and mutated requests through the router"
cargo test --locked --test api fuzz:: -- --nocapture

echo "== crash harness: $SFNLITE_CRASH_CYCLES SIGKILL cycles on the release binary"
cargo test --locked --test api crash:: -- --nocapture

echo "== pinned clients (compat/.venv, compat/node_modules)"
if [ ! -x compat/.venv/bin/python ]; then
  python3 -m venv compat/.venv
fi
compat/.venv/bin/pip install --quiet --disable-pip-version-check -r compat/requirements.lock
npm ci --prefix compat --no-audit --no-fund --loglevel=error

echo "== four clients, one scenario; README snippets run against sfnlite"
NODE_NO_WARNINGS=1 cargo test --locked --test api compat:: -- --ignored --nocapture

echo "== a moto-style pytest suite against sfnlite with reset enabled"
compat/.venv/bin/python -m pytest -q compat/moto_style

echo "== States Language corpus vs asl-validator"
npm ci --prefix tests/asl --no-audit --no-fund --loglevel=error
node tests/asl/crosscheck.js
