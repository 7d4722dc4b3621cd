#!/usr/bin/env bash
# Runs every test sfnlite has, from a clean clone on a bare machine: lints, unit tests, the
# integration suite (real server on a random loopback port, driven by aws-sdk-sfn and raw
# HTTP), fuzzing, the crash harness, the pinned clients, the AWS integrations against moto,
# the PostgreSQL backend against a real server (scripts/postgres.sh), the States Language
# corpus cross-check against the asl-validator npm package, and the JSONata corpus against
# the jsonata package. Pinned tools are installed locally
# (compat/.venv, tests/moto/.venv, compat/node_modules, tests/asl/node_modules,
# tests/jsonata/node_modules) by the steps that need them.
# It ends with one summary line: the steps that ran, how long, and pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
passed=0
current=""
ran=()

step() {
  if [ -n "$current" ]; then
    passed=$((passed + 1))
    ran+=("$current")
  fi
  current="$1"
  echo "== $1"
}

pg_dir=""
finish() {
  local status=$?
  local took=$((SECONDS - started))
  # A PostgreSQL server a failed step left running goes with the script.
  if [ -n "$pg_dir" ]; then
    scripts/postgres.sh stop "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  if [ "$status" -eq 0 ]; then
    [ -n "$current" ] && { passed=$((passed + 1)); ran+=("$current"); }
    printf '== all steps passed in %s s: ' "$took"; (IFS='|'; echo "${ran[*]}" | sed 's/|/, /g')
    echo "summary: ${passed} passed, 0 failed"
  else
    echo "== FAILED at step '${current}' after ${took} s (exit ${status})"
    echo "summary: ${passed} passed, 1 failed"
  fi
}
trap finish EXIT

step "format and lints"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings

step "release binary (used by the crash harness)"
cargo build --locked --release --bin sfnlite
export SFNLITE_BIN="$PWD/target/release/sfnlite"
export SFNLITE_CRASH_CYCLES="${SFNLITE_CRASH_CYCLES:-20}"

step "unit and integration tests"
cargo test --locked -- --skip crash:: --skip fuzz::

step "fuzzing: 100,000 generated and mutated requests through the router"
cargo test --locked --test api fuzz:: -- --nocapture

step "crash harness: $SFNLITE_CRASH_CYCLES SIGKILL cycles on the release binary"
cargo test --locked --test api crash:: -- --nocapture --test-threads 1

step "pinned clients (compat/.venv, compat/node_modules)"
if [ ! -x compat/.venv/bin/python ]; then
  python3 -m venv compat/.venv
fi
compat/.venv/bin/pip install --quiet --disable-pip-version-check -r compat/requirements.lock
npm ci --prefix compat --no-audit --no-fund --loglevel=error

step "four clients, one scenario; README snippets run against sfnlite"
NODE_NO_WARNINGS=1 cargo test --locked --test api compat:: -- --ignored --nocapture

step "a moto-style pytest suite against sfnlite with reset enabled"
compat/.venv/bin/python -m pytest -q compat/moto_style

step "AWS integrations against moto in server mode (tests/moto/.venv)"
if [ ! -x tests/moto/.venv/bin/moto_server ]; then
  python3 -m venv tests/moto/.venv
fi
tests/moto/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/moto/requirements.lock
cargo test --locked --test api moto:: -- --ignored
# The output shapes TestState checks mocked results against are the pinned botocore's.
tests/moto/.venv/bin/python scripts/shapes.py --check

step "PostgreSQL backend against PostgreSQL from Debian's packages (scripts/postgres.sh)"
# The same API suite on the PostgreSQL backend (each app a fresh database on one server),
# less what only an SQLite file has (its lock, read-only and full files, corruption, the
# schema check, export/import of the file, its crash harnesses), then the replica tests.
pg_dir="$(mktemp -d)"
pg_url="$(scripts/postgres.sh start "$pg_dir")"
SFNLITE_TEST_POSTGRES="$pg_url" cargo test --locked --test api -- \
  --skip durability:: --skip crash:: --skip startup:: --skip operations::export_then_import \
  --skip operations::import_refuses --skip security::a_request_over_the_request_timeout \
  --skip fuzz::
# The fuzz bounds the growth of the test process's memory, which tests running beside it
# would add to (each PostgreSQL app's pool keeps connections with threads of their own).
SFNLITE_TEST_POSTGRES="$pg_url" cargo test --locked --test api fuzz::
SFNLITE_TEST_POSTGRES="$pg_url" cargo test --locked --lib store::tests
scripts/postgres.sh stop "$pg_dir"
rm -rf "$pg_dir"
pg_dir=""
cargo test --locked --test api postgres:: -- --ignored

step "States Language corpus vs asl-validator"
npm ci --prefix tests/asl --no-audit --no-fund --loglevel=error
node tests/asl/crosscheck.js

step "JSONata corpus: expected answers are the pinned jsonata package's"
npm ci --prefix tests/jsonata --no-audit --no-fund --loglevel=error
node tests/jsonata/reference.js --check
