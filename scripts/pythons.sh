#!/usr/bin/env bash
# npm run pythons: puts Debian unstable's (sid's) CPython 3.14 and 3.15, with CPython's own test suite, into pyenv's
# versions folder as $(pyenv root)/versions/X.Y.Z/bin/python3 (3.14 with Debian's python3-debugpy), for the tests that run
# under each pyenv CPython. Nothing goes into the system: each is unpacked with sid's glibc and patched to use it.
#
# Idempotent: a folder this script made (it holds .loopscope-pythons) that works is kept, even once sid has moved on
# (remove it to take the newer build), and then the run is a no-op of a few tenths of a second. Each version is built and
# checked in a hidden folder beside its place, then renamed into it. apt's private state and the .debs stay in
# ~/.cache/loopscope-pythons (LOOPSCOPE_PYTHONS_STATE). The archive is the Debian mirror that this machine's apt uses;
# LOOPSCOPE_PYTHONS_MIRROR=URL overrides it (e.g. to see the one-line error of an unreachable archive).
set -euo pipefail

MINORS=(3.14 3.15)
DEBUGPY_MINOR=3.14 # python3-debugpy in sid is built for this one (Depends: python3 (>= 3.14~), python3 (<< 3.15))
# Per minor X.Y: the interpreter, its standard library and CPython's own tests (test_asyncio, for test/cpython).
python_packages() { echo "python$1 python$1-minimal libpython$1-minimal libpython$1-stdlib libpython$1-testsuite"; }
# Shared libraries the interpreter and its extension modules (lib-dynload) link against, from sid too: sid's builds
# need sid's glibc, and the libraries must match it. The build fails, naming the library, if one is missing.
RUNTIME_LIBRARY_PACKAGES="libc6 libgcc-s1 libssl3t64 libffi8 libexpat1 zlib1g libbz2-1.0 liblzma5 libzstd1 libsqlite3-0
  libuuid1 libncursesw6 libtinfo6 libreadline8t64 libdb5.3t64"
DEBUGPY_PACKAGES="python3-debugpy libstdc++6" # libstdc++ for debugpy's attach.so
SUITE=sid
MARKER=.loopscope-pythons # in each version folder this script made: "package version architecture" of its .debs

STATE=${LOOPSCOPE_PYTHONS_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/loopscope-pythons}
LOG=$STATE/pythons.log

fail() { echo "pythons: $*" >&2; exit 1; }
step() { echo "+ $(date +%T) $*" >>"$LOG"; } # a heading in the log
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pyenv_root() {
  if command -v pyenv >/dev/null 2>&1 && pyenv root 2>/dev/null; then return; fi
  echo "${PYENV_ROOT:-$HOME/.pyenv}"
}
VERSIONS=$(pyenv_root)/versions

# What the tests need of an interpreter: the version it is named after, asyncio with its C parts, ssl, ctypes, sqlite3,
# CPython's test_asyncio, and debugpy where it belongs. A tenth of a second or two. Errors go to $CHECK_OUTPUT.
CHECK_OUTPUT=/dev/null
works() { # FOLDER MINOR VERSION
  local imports="asyncio, _asyncio, ctypes, sqlite3, ssl, test.test_asyncio"
  if [ "$2" = "$DEBUGPY_MINOR" ]; then imports+=", debugpy"; fi
  env -u PYTHONHOME -u PYTHONPATH "$1/bin/python3" -I -c "import sys, $imports
assert sys.version.split()[0] == sys.argv[1], 'runs as %s, not %s' % (sys.version.split()[0], sys.argv[1])" "$3" \
    >/dev/null 2>>"$CHECK_OUTPUT"
}

# The version folder of MINOR that this script made and that works, if any (newest first).
installed_folder() {
  local folder
  for folder in $(ls -d "$VERSIONS/$1".*/ 2>/dev/null | sort -rV); do
    folder=${folder%/}
    if [ -f "$folder/$MARKER" ] && works "$folder" "$1" "$(basename "$folder")"; then echo "$folder"; return 0; fi
  done
  return 1
}

# Sets FOUND (the version folders in place, e.g. "3.14.10 3.15.2") and MISSING (the minors to build).
survey() {
  local minor folder
  FOUND="" MISSING=""
  for minor in "${MINORS[@]}"; do
    if folder=$(installed_folder "$minor"); then FOUND+="${FOUND:+ }$(basename "$folder")"; else MISSING+="${MISSING:+ }$minor"; fi
  done
}

survey
if [ -z "$MISSING" ]; then
  echo "pythons: $FOUND already in $VERSIONS (nothing to do)"
  exit 0
fi

# --- from here on, something is built: one run at a time ----------------------------------------------------------
started=$SECONDS
mkdir -p "$STATE" "$VERSIONS"
exec 9>"$STATE/lock"
flock 9
survey # another run may have built them while this one waited
[ -n "$MISSING" ] || { echo "pythons: $FOUND built by another run meanwhile"; exit 0; }
: >"$LOG"

for tool in apt-get apt-cache dpkg-deb; do command -v "$tool" >/dev/null || fail "needs $tool (this script uses Debian's apt)"; done
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || fail "needs $KEYRING (package debian-archive-keyring) to check sid's signatures"

# The mirror of Debian's archive that this machine's apt uses: the first "deb" source with a release suite (one without
# a dash, so not -security or -updates), in the deb822 .sources files or the one-line .list files.
system_debian_mirror() (
  set +o pipefail # missing files and an early close by head are fine here
  {
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )[a-z]+( |$)/ && uris != "") { split(uris, u, " "); print u[1] }
                            types = suites = uris = "" }
         FNR == 1 { flush() }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { key = tolower($1); $1 = "" }
         key == "types:" { types = $0 } key == "suites:" { suites = $0 } key == "uris:" { uris = $0 }
         END { flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ } if ($(i + 1) ~ /^[a-z]+$/) print $i }'
  } | head -n 1
)
MIRROR=${LOOPSCOPE_PYTHONS_MIRROR:-$(system_debian_mirror)}
[ -n "$MIRROR" ] || fail "cannot tell which Debian mirror apt uses here (no deb source in /etc/apt); set LOOPSCOPE_PYTHONS_MIRROR=URL"

# apt with its own sources (sid only), lists, cache and an empty dpkg status, so nothing resolves against the system
# and nothing of the system's apt changes. The system's apt.conf.d still applies (proxies and such), but not its hooks.
APT_DIR=$STATE/apt
DEBS=$STATE/debs
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/preferences.d" "$DEBS"
: >"$APT_DIR/status"
cat >"$APT_DIR/sid.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE
Components: main
Signed-By: $KEYRING
EOF
cat >"$APT_DIR/apt.conf" <<EOF
Dir::Etc::sourcelist "$APT_DIR/sid.sources";
Dir::Etc::sourceparts "-";
Dir::Etc::preferences "$APT_DIR/preferences";
Dir::Etc::preferencesparts "$APT_DIR/preferences.d";
Dir::State::Lists "$APT_DIR/lists";
Dir::State::status "$APT_DIR/status";
Dir::Cache "$APT_DIR/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
#clear APT::Architectures;
APT::Architectures:: "$(dpkg --print-architecture)";
APT::Update::Error-Mode "any";
Acquire::Languages "none";
Acquire::Retries "1";
Acquire::http::Timeout "20";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
# As root, apt hands downloads to the _apt user, who cannot write into root's home: download as root instead.
if [ "$(id -u)" -eq 0 ]; then echo 'APT::Sandbox::User "root";' >>"$APT_DIR/apt.conf"; fi
private_apt_get() { apt-get -c "$APT_DIR/apt.conf" "$@"; }
private_apt_cache() { apt-cache -c "$APT_DIR/apt.conf" "$@"; }

apt_failure() { # the reason apt gave, on one line
  local reason
  reason=$(sed -n 's/^E: Failed to fetch [^ ]*  *//p; s/^E: //p' "$LOG" | head -n 1)
  echo "${reason:-see $LOG}"
}
step "apt-get update ($SUITE from $MIRROR)"
private_apt_get -q update >>"$LOG" 2>&1 ||
  fail "cannot reach Debian's archive at $MIRROR: $(apt_failure) (log: $LOG)"

# patchelf from the system's own release (Debian 12 has it), as .ci/run installs python3-uvloop.
if ! command -v patchelf >/dev/null; then
  step "apt-get install patchelf"
  { as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends patchelf; } >>"$LOG" 2>&1 ||
    fail "could not install patchelf with the system's apt-get: $(apt_failure) (log: $LOG)"
fi

# "Package Version Architecture" of sid's candidate of each package.
candidates() {
  { private_apt_cache show --no-all-versions "$@" 2>>"$LOG" || true; } |
    awk '/^Package: /{p=$2} /^Version: /{v=$2} /^Architecture: /{a=$2} /^$/{if (p) print p, v, a; p=""} END{if (p) print p, v, a}'
}
deb_file() { echo "$DEBS/${1}_${2//:/%3a}_${3}.deb"; } # the name apt-get download gives it
upstream_version() { local v=${1#*:}; v=${v%-*}; v=${v%%+*}; echo "${v//\~/}"; } # 1:3.15.0~b1-2 -> 3.15.0b1

build_dirs=()
cleanup() { local dir; for dir in "${build_dirs[@]}"; do rm -rf "$dir"; done; }
trap cleanup EXIT

# The checks made on a build before it is put in place (besides works()): every extension module of the standard library
# loads, a subprocess starts, debugpy's compiled parts load, and no shared library comes from outside the folder.
FULL_CHECK='
import importlib, os, sys
want_debugpy = sys.argv[1] == "yes"
root = os.path.dirname(sys.prefix)
dynload = os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "lib-dynload")
for name in sorted({f.split(".")[0] for f in os.listdir(dynload) if f.endswith(".so")}):
    importlib.import_module(name)
import asyncio, readline, ssl, sqlite3
async def child():
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "print(1)", stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode == 0 and out.strip() == b"1", (process.returncode, out)
asyncio.run(child())
if want_debugpy:
    import debugpy
    sys.path.append(os.path.join(os.path.dirname(debugpy.__file__), "_vendored", "pydevd"))
    from _pydevd_bundle import pydevd_cython
    from _pydevd_sys_monitoring import _pydevd_sys_monitoring_cython
    import ctypes  # what gdb injects to attach to a process; it needs libstdc++
    ctypes.CDLL(os.path.join(sys.path[-1], "pydevd_attach_to_process", "attach.so"))
with open("/proc/self/maps") as maps:
    mapped = {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}
outside = sorted(path for path in mapped if ".so" in path and not path.startswith(root + "/"))
assert not outside, "shared libraries from outside %s: %s" % (root, ", ".join(outside))
print(ssl.OPENSSL_VERSION, "/ sqlite", sqlite3.sqlite_version)
'

build_version() { # MINOR
  local minor=$1 packages package pkg_version arch version folder build loader libdir deb name
  packages="$(python_packages "$minor") $RUNTIME_LIBRARY_PACKAGES"
  if [ "$minor" = "$DEBUGPY_MINOR" ]; then packages+=" $DEBUGPY_PACKAGES"; fi
  # shellcheck disable=SC2086
  local resolved; resolved=$(candidates $packages)
  for package in $packages; do
    grep -q "^$package " <<<"$resolved" || fail "Debian $SUITE has no package $package (log: $LOG)"
  done
  version=$(upstream_version "$(awk -v p="python$minor" '$1 == p {print $2}' <<<"$resolved")")
  folder=$VERSIONS/$version
  if [ -e "$folder" ] && [ ! -f "$folder/$MARKER" ]; then
    fail "$folder exists and was not made by this script: move it away to let it put Debian's $version there"
  fi

  step "apt-get download ($minor):" $packages
  # shellcheck disable=SC2086
  (cd "$DEBS" && private_apt_get -q download $packages) >>"$LOG" 2>&1 ||
    fail "cannot download Debian $SUITE's $minor packages from $MIRROR: $(apt_failure) (log: $LOG)"

  build=$(mktemp -d "$VERSIONS/.loopscope-build-$version.XXXXXX")
  build_dirs+=("$build")
  while read -r package pkg_version arch; do
    deb=$(deb_file "$package" "$pkg_version" "$arch")
    [ -f "$deb" ] || fail "apt-get download left no $deb (log: $LOG)"
    dpkg-deb -x "$deb" "$build"
    echo "$package $pkg_version $arch" >>"$build/$MARKER"
  done <<<"$resolved"
  # Absolute links point into the system (e.g. sitecustomize.py -> /etc/python3.X/...): point them into the folder.
  find "$build" -type l -lname '/*' | while read -r link; do
    ln -sfnr "$build$(readlink "$link")" "$link"
  done

  loader=$(find "$build" -maxdepth 4 -type f -name 'ld-linux*.so*' -print -quit) # usr/lib/x86_64-linux-gnu/ on amd64
  [ -n "$loader" ] || fail "found no ld-linux*.so in Debian $SUITE's libc6"
  libdir=$(dirname "$loader")
  # The libraries by a path relative to the binary; the loader by an absolute one (ELF allows no other). First this
  # build's loader, to check it here; then the final folder's, just before the rename.
  patchelf --set-interpreter "$loader" --force-rpath --set-rpath "\$ORIGIN/../${libdir#"$build/usr/"}" \
    "$build/usr/bin/python$minor"
  mkdir "$build/bin"
  for name in python3 "python$minor" python; do ln -s "../usr/bin/python$minor" "$build/bin/$name"; done

  # Debian compiles the .pyc files when it installs; so does this (the runtime suite runs with PYTHONDONTWRITEBYTECODE).
  # Some test-suite sources fail to compile on purpose: the checks below judge the result.
  step "compileall ($version)"
  env -u PYTHONHOME -u PYTHONPATH "$build/bin/python3" -I -m compileall -q -j0 -s "$build" -p "$folder" \
    "$build/usr/lib/python$minor" "$build/usr/lib/python3/dist-packages" >>"$LOG" 2>&1 || true

  step "check ($version)"
  CHECK_OUTPUT=$LOG works "$build" "$minor" "$version" ||
    fail "Debian's $version does not start here or lacks a module: $(tail -n 1 "$LOG") (log: $LOG)"
  env -u PYTHONHOME -u PYTHONPATH "$build/bin/python3" -I -c "$FULL_CHECK" \
    "$([ "$minor" = "$DEBUGPY_MINOR" ] && echo yes || echo no)" >>"$LOG" 2>&1 ||
    fail "Debian's $version fails its checks: $(tail -n 1 "$LOG") (log: $LOG)"
  if [ "$minor" = "$DEBUGPY_MINOR" ]; then
    env -u PYTHONHOME -u PYTHONPATH "$build/bin/python3" -I -m debugpy --version >>"$LOG" 2>&1 ||
      fail "python -m debugpy --version fails under Debian's $version (log: $LOG)"
  fi

  # Into place: the final loader path, then one rename (a broken older folder of ours is swapped out first).
  step "into place ($version)"
  patchelf --set-interpreter "$folder${loader#"$build"}" "$build/usr/bin/python$minor"
  if [ -e "$folder" ]; then
    local stale; stale=$(mktemp -d "$VERSIONS/.loopscope-stale-$version.XXXXXX")
    build_dirs+=("$stale")
    mv "$folder" "$stale/"
  fi
  mv "$build" "$folder"
  if ! CHECK_OUTPUT=$LOG works "$folder" "$minor" "$version"; then
    rm -rf "$folder"
    fail "Debian's $version worked where it was built but not in $folder (log: $LOG)"
  fi
  echo "pythons: installed $version as $folder/bin/python3 (Debian $SUITE $(awk -v p="python$minor" '$1 == p {print $2}' <<<"$resolved")$(
    [ "$minor" = "$DEBUGPY_MINOR" ] && awk '$1 == "python3-debugpy" {print ", python3-debugpy " $2}' <<<"$resolved"))"
}

for minor in $MISSING; do build_version "$minor"; done

# Keep only the .debs that the versions in place were made from.
keep=$({ cat "$VERSIONS"/*/"$MARKER" 2>/dev/null || true; } | while read -r package pkg_version arch; do
  deb_file "$package" "$pkg_version" "$arch"; done)
for deb in "$DEBS"/*.deb; do
  if [ -e "$deb" ] && ! grep -qxF "$deb" <<<"$keep"; then rm -f "$deb"; fi
done
echo "pythons: done in $((SECONDS - started))s"
