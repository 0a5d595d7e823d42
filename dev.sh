#!/usr/bin/env bash
# nabla's one entry point on a fresh machine: sets up the toolchain (idempotent),
# builds, then runs the demo or every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

case "${1:-}" in
  demo)
    bash scripts/setup.sh
    bash scripts/build.sh
    shift
    exec node packages/demo/src/main.js "$@"
    ;;
  serve)
    bash scripts/setup.sh
    bash scripts/build.sh
    shift
    source scripts/lib.sh # pnpm on PATH
    cd packages/demo
    exec pnpm run --silent serve "$@"
    ;;
  test)
    NABLA_SETUP=test bash scripts/setup.sh
    bash scripts/build.sh --reference # plus the test build, with the scalar reference kernels
    exec bash scripts/test.sh
    ;;
  *)
    echo "usage: ./dev.sh demo [options]   set up, build, run the demo" >&2
    echo "       ./dev.sh serve [options]  set up, build, serve the browser demo page (vite preview options)" >&2
    echo "       ./dev.sh test              set up, build, run every test" >&2
    exit 2
    ;;
esac
