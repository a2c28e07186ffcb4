#!/usr/bin/env bash
# Builds (once) and installs the mediasoup-worker binary for the installed `mediasoup` package.
#
# Why this exists: mediasoup's own postinstall downloads a prebuilt worker from GitHub or builds it
# with pip-installed tools and meson wraps fetched from the internet. None of that is reachable on
# our machines (npm registry and Debian packages only), and npm 11 skips dependency install scripts
# anyway. So we build the worker from the npm tarball's own `worker/` sources with Debian's meson,
# ninja and -dev libraries, replacing each meson subproject() wrap with a local stub that hands meson
# the Debian library (libsrtp: built from Debian's source package with OpenSSL crypto). The build
# steps are in scripts/mediasoup-worker-recipe.sh.
#
# The binary is cached OUTSIDE node_modules, keyed by mediasoup version + a hash of the recipe
# file, so clean clones and CI on the same machine reuse it (a fresh build takes ~9 min on
# 2 cores). It is then copied to where mediasoup looks by default:
#   node_modules/mediasoup/worker/out/Release/mediasoup-worker
#
# Env: LIVECART_CACHE_DIR (default ~/.cache/livecart), LIVECART_SKIP_MEDIA_BUILD=1 (skip: the
# server then runs without video and says so), JOBS (ninja jobs, default: nproc).
#
# One mediasoup bug is fixed before building: DtlsTransport.cpp onSslBioOut() overrides the result
# of every BIO_ctrl() on the outgoing BIO with 1, including "is kernel TLS sending?". Debian's
# OpenSSL is built with KTLS, so libssl then skips allocating its record write buffer and the worker
# segfaults on its first DTLS flight. Passing OpenSSL's own result through for every return phase
# fixes it (upstream never sees this: its bundled OpenSSL has no KTLS).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
T0=$(date +%s)
log() { echo "[mediasoup-worker +$(( $(date +%s) - T0 ))s] $*"; }

if [ "${LIVECART_SKIP_MEDIA_BUILD:-0}" = 1 ]; then
  log "LIVECART_SKIP_MEDIA_BUILD=1: not building the worker; the server will run WITHOUT video"
  exit 0
fi

case "$ROOT" in
  */node_modules/*)
    # Installed as another project's dependency (a shop's front-end importing livecart/client): the
    # worker is for running this server, which is done from a checkout of it.
    log "livecart is installed as a dependency ($ROOT): not building the worker"; exit 0 ;;
esac

MS_DIR=$ROOT/node_modules/mediasoup
if [ ! -f "$MS_DIR/package.json" ]; then
  log "node_modules/mediasoup is not installed (run npm install first)"; exit 1
fi
MS_VERSION=$(node -p "require(process.argv[1]).version" "$MS_DIR/package.json")
RECIPE_FILE=$(dirname "$0")/mediasoup-worker-recipe.sh
# The cache key is the recipe, not this wrapper: editing how the cache is used does not force a rebuild.
RECIPE=$(sha256sum "$RECIPE_FILE" | cut -c1-12)
CACHE_ROOT=${LIVECART_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/livecart}
CACHE=$CACHE_ROOT/mediasoup-worker/$MS_VERSION-$RECIPE
TARGET=$MS_DIR/worker/out/Release/mediasoup-worker

install_binary() {
  mkdir -p "$(dirname "$TARGET")"
  install -m 0755 "$CACHE/mediasoup-worker" "$TARGET"
  log "mediasoup $MS_VERSION worker ready: $TARGET (cached at $CACHE)"
}

if [ -x "$CACHE/mediasoup-worker" ]; then
  if [ -x "$TARGET" ] && cmp -s "$CACHE/mediasoup-worker" "$TARGET"; then exit 0; fi
  install_binary; exit 0
fi

log "no cached worker for mediasoup $MS_VERSION (recipe $RECIPE): building it (about 10 minutes on 2 cores)"
# The build runs as its own process so that a failure can be reported without failing `npm install`:
# the server then starts without video and says so (log, /readyz, streamers), and the media tests fail.
BUILD=$CACHE_ROOT/build-$MS_VERSION-$RECIPE
if MS_DIR=$MS_DIR BUILD=$BUILD CACHE_ROOT=$CACHE_ROOT OUT=$CACHE/mediasoup-worker T0=$T0 bash "$RECIPE_FILE"; then
  rm -rf "$BUILD"
  install_binary
else
  rm -rf "$BUILD"
  echo "" >&2
  echo "************************************************************************************" >&2
  echo "* livecart: building the mediasoup worker FAILED (see above). VIDEO IS UNAVAILABLE.  *" >&2
  echo "* Comments and carts work. Fix the cause and run: bash scripts/mediasoup-worker.sh  *" >&2
  echo "************************************************************************************" >&2
fi
