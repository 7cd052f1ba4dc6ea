#!/usr/bin/env bash
# The demo: install what is needed, build, connect to an engine (DOCKER_HOST
# if set, else the isolated one of scripts/test-engine.sh), apply samples/ to
# a fresh store, converge it with the controller, repair a drift, scale the
# pool, and show the result. The store lives in .keelson/ of this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[[ -f build/build.ninja ]] || meson setup build --buildtype=debugoptimized >/dev/null
ninja -C build >/dev/null
k() { echo "\$ keelson $*" >&2; ./build/src/keelson "$@"; }

if [[ -z ${DOCKER_HOST:-} ]]; then
  echo "demo: starting the isolated engine (scripts/test-engine.sh start; stop it with scripts/test-engine.sh stop)" >&2
  eval "$(scripts/test-engine.sh start)"
  export DOCKER_HOST
fi
k version
echo

export KEELSON_DB=$PWD/.keelson/demo.db
rm -f "$KEELSON_DB" "$KEELSON_DB-wal" "$KEELSON_DB-shm"

k apply -f samples/
echo
k plan || true   # exit 1: actions pending
echo
k --log-level info controller --once --timeout 3m --listen off
echo
k get all
echo
k plan   # converged: nothing to do

if command -v docker >/dev/null; then
  echo
  echo "\$ docker rm -f default.artifact-cache    # drift: a container removed by hand" >&2
  docker rm -f default.artifact-cache >/dev/null
  k --log-level info controller --once --timeout 1m --listen off
  k events runner/artifact-cache | tail -n 3
fi
echo
k scale runnerpool ci-runners --replicas 5
k --log-level info controller --once --timeout 2m --listen off
k get runnerpools
echo
k describe runner artifact-cache
echo
echo "# samples/00-policy.yaml refuses privileged runners and Docker socket binds:" >&2
k apply -f - <<'YAML' || echo "(exit $?: nothing stored)" >&2
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: dind}
spec:
  image: keelson-test/busybox:1
  resources: {cpus: "1", memory: 1Gi}
  securityContext: {privileged: true}
  binds: [{hostPath: /var/run/docker.sock, mountPath: /var/run/docker.sock}]
YAML
k get policies
