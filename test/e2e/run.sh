#!/usr/bin/env bash
# End-to-end tests in a real VS Code (code-server in headless Chromium): `npm run test:e2e`.
#   1. test/e2e/setup.sh     installs chromium, Node 24, code-server and playwright-core (into .e2e/)
#   2. npm run package       builds loopscope-<version>.vsix from this tree
#   3. test/e2e/scenario.mjs installs the .vsix in code-server and debugs examples as a user does
# Exits non-zero naming the step that failed. Screenshots: .e2e/screenshots/; logs: .e2e/run/.
# The last line is always the plain 'N passed, M failed' (a failed setup or packaging counts as one failure).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E="${LOOPSCOPE_E2E_DIR:-$ROOT/.e2e}"
export LOOPSCOPE_E2E_DIR="$E2E"
cd "$ROOT"

started=$SECONDS
phase() { # phase NAME COMMAND...: runs one phase, timing it; stops the run naming it if it fails
  local name="$1"; shift
  local t0=$SECONDS
  echo "[e2e] === $name ==="
  "$@"
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "[e2e] FAILED in phase '$name' (exit $rc, after $((SECONDS - t0)) s)" >&2
    echo "0 passed, 1 failed"
    exit $rc
  fi
  echo "[e2e] === $name: done in $((SECONDS - t0)) s ==="
}

phase "setup (test/e2e/setup.sh)" bash "$ROOT/test/e2e/setup.sh"
if [ ! -e "$ROOT/node_modules/@vscode/vsce/package.json" ]; then
  phase "project dependencies (npm ci)" npm ci --no-audit --no-fund
fi
phase "package the extension (npm run package)" npm run --silent package

# The scenario prints its own 'N passed, M failed'; it is repeated as the very last line.
name="scenario (test/e2e/scenario.mjs)"
echo "[e2e] === $name ==="
t0=$SECONDS
"$E2E/bin/node" "$ROOT/test/e2e/scenario.mjs" | tee "$E2E/scenario.log"
rc=${PIPESTATUS[0]}
summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$E2E/scenario.log" | tail -n 1)"
if [ $rc -ne 0 ]; then
  echo "[e2e] FAILED in phase '$name' (exit $rc, after $((SECONDS - t0)) s; output in $E2E/scenario.log)" >&2
  echo "${summary:-0 passed, 1 failed}"
  exit $rc
fi
echo "[e2e] === $name: done in $((SECONDS - t0)) s ==="
echo "[e2e] all passed in $((SECONDS - started)) s"
echo "$summary"
