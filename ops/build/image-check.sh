#!/usr/bin/env bash
# npm run image:check — builds the image (Dockerfile) and runs both tiers from it against
# the local stack: the processor and the fan-out become ready, generated events come out
# on the processor's query API, and SIGTERM stops each container with exit 0 (tini hands
# the signal to Node, which closes gracefully). Needs docker or podman; not part of
# `npm test` (the build compiles the native modules: about 20 minutes on 2 cores).
#   IMAGE_BUILD_FLAGS  extra flags for the build (e.g. --isolation chroot for podman in a VM)
#   IMAGE_RUN_FLAGS    extra flags for each run (e.g. --runtime runc --ulimit nofile=16384:16384)
#   IMAGE              check this already-built image instead of building one
set -euo pipefail
cd "$(dirname "$0")/../.."
# docker when its daemon answers, else podman (CONTAINER_ENGINE chooses).
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker; else engine=$(command -v podman || true); fi
fi
[ -n "$engine" ] || { echo "SA_ERR_SETUP: image:check needs docker (with its daemon) or podman" >&2; exit 1; }
image=${IMAGE:-streaming-analytics:check}
run() { "$engine" run ${IMAGE_RUN_FLAGS:-} --network host "$@"; }
say() { echo "image:check: $*"; }

if [ -z "${IMAGE:-}" ]; then
  say "building $image with $engine"
  "$engine" build ${IMAGE_BUILD_FLAGS:-} --network host -t "$image" .
fi
say "image size: $("$engine" image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
say "user: $("$engine" image inspect "$image" --format '{{.Config.User}}'), entrypoint: $("$engine" image inspect "$image" --format '{{.Config.Entrypoint}}')"
npm run --silent stack -- up >/dev/null

app="image-check-$(date +%s)"
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
common=(-e STREAMING_PROCESSOR__APPLICATION_ID="$app" -e STREAMING_LOG__LEVEL=info)
cleanup() { "$engine" rm -f sa-check-processor sa-check-fanout >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
run -d --name sa-check-processor "${common[@]}" -e STREAMING_PROCESSOR__QUERY_HOST=127.0.0.1 -e STREAMING_PROCESSOR__QUERY_PORT=18080 -e STREAMING_PROCESSOR__ADMIN_PORT=18090 "$image" >/dev/null
run -d --name sa-check-fanout "${common[@]}" -e STREAMING_WEBSOCKET__HOST=127.0.0.1 -e STREAMING_WEBSOCKET__PORT=18765 -e STREAMING_WEBSOCKET__ADMIN_PORT=18766 -e STREAMING_AUTH__JWT_SECRET="$secret" "$image" fanout >/dev/null

wait_ready() { # url what
  for _ in $(seq 1 120); do curl -fsS "$1" >/dev/null 2>&1 && { say "$2 ready ($1)"; return 0; }; sleep 1; done
  say "$2 not ready within 120 s"; "$engine" logs --tail 30 "sa-check-$2"; return 1
}
wait_ready http://127.0.0.1:18090/readyz processor
wait_ready http://127.0.0.1:18766/readyz fanout
curl -fsS -o /dev/null http://127.0.0.1:18765/dashboard/ && say "dashboard served by the fan-out"
run --rm "$image" generate --rate 200 --duration 3 --seed 1 | tail -1
metric() { curl -fsS http://127.0.0.1:18090/metrics 2>/dev/null | awk -v m="$1" '$1 ~ "^"m"({|$)" {s += $NF} END {print s + 0}'; }
for _ in $(seq 1 60); do
  [ "$(metric ml_predictions_total)" -gt 0 ] 2>/dev/null && break; sleep 1
done
processed=$(metric events_processed_total); predicted=$(metric ml_predictions_total)
[ "${predicted%.*}" -gt 0 ] || { say "no predictions made"; "$engine" logs --tail 30 sa-check-processor; exit 1; }
say "the processor consumed $processed events and made $predicted predictions"

for tier in processor fanout; do
  "$engine" stop -t 60 "sa-check-$tier" >/dev/null
  code=$("$engine" inspect "sa-check-$tier" --format '{{.State.ExitCode}}')
  say "$tier stopped by SIGTERM, exit $code"
  [ "$code" = 0 ] || { "$engine" logs --tail 20 "sa-check-$tier"; exit 1; }
done
say "passed"
