#!/bin/sh
# After `npm prune --omit=dev`, in the image's build stage (Dockerfile) and in the test that
# runs its layout: removes what the native builds leave behind that nothing loads at run
# time — librdkafka's sources and objects (≈ 500 MB). The binding keeps the shared
# libraries it links to (node-rdkafka/build/deps/librdkafka*.so.1, found through its RPATH).
set -eu
cd "${1:-.}/node_modules/node-rdkafka"
rm -rf deps/librdkafka build/Release/obj.target build/Release/.deps build/deps/librdkafka build/deps/*.a
