# syntax=docker/dockerfile:1
# One image for both tiers; the workload chooses the command:
#   processor (the StatefulSet, the default)    fanout (the Deployment)
# e.g. docker run IMAGE fanout. Every setting is a STREAMING_* variable (README).
#
# Build stage: every dependency, native modules compiled against this Node's headers
# (node-rdkafka builds its bundled librdkafka), then the compiled runtime, then the
# development dependencies pruned away. Runtime stage: Node, tini, production
# dependencies and dist/ — no compiler, no TypeScript, no tests — as a non-root user.
# test/integration/production-install.test.ts runs this runtime stage's layout (built,
# pruned, started with plain node) against a real broker.

ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
# onnxruntime-node would download CUDA binaries at install time otherwise.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# Dependencies first (cached while they do not change); `npm rebuild` runs their install
# scripts (the native builds) but not this package's own `prepare`, which needs the sources.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY ops/build ops/build
COPY src src
COPY state state
COPY topologies topologies
COPY schemas schemas
# npm trusts node_modules/.package-lock.json only when it is newer than every package folder;
# the native builds above touched theirs, and a prune that distrusts it reinstalls those
# packages without their builds. The tree is exactly what was built: mark it so, then prune.
RUN npm run build && touch node_modules/.package-lock.json && npm prune --omit=dev --no-audit --no-fund \
  && sh ops/build/trim-native.sh && node -e "require('node-rdkafka'); require('rocksdb'); require('onnxruntime-node')"

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini as PID 1: forwards SIGTERM to Node (which closes gracefully) and reaps children.
RUN apt-get update && apt-get install -y --no-install-recommends tini ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 app && useradd --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app \
  && mkdir -p /var/lib/streaming-analytics && chown app:app /var/lib/streaming-analytics
WORKDIR /app
ENV NODE_ENV=production \
    STREAMING_PROCESSOR__STATE_DIR=/var/lib/streaming-analytics \
    STREAMING_REALTIME_ML__MODELS_DIR=/app/models
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY models models
USER 10001:10001
VOLUME /var/lib/streaming-analytics
# query API, processor admin, WebSocket, fan-out admin
EXPOSE 8080 8090 8765 8766
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/cli/main.js"]
CMD ["processor"]
