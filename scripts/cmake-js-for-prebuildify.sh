#!/usr/bin/env bash
# prebuildify calls its "node-gyp" with node-gyp's arguments; the addon is built
# with cmake-js (offline, Node-API headers from node-api-headers), so ignore them.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx cmake-js rebuild
