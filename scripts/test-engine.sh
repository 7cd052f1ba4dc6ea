#!/usr/bin/env bash
# An isolated Docker engine for keelson's tests and demo: its own network
# namespace, data root and socket, a loopback registry beside it, and the
# small test images. It never touches a daemon it did not start.
#
#   scripts/test-engine.sh start    start (or find running) and wait until ready; prints the env line
#   scripts/test-engine.sh stop     stop exactly what start started
#   scripts/test-engine.sh env      print  export DOCKER_HOST=...  (eval "$(scripts/test-engine.sh env)")
#   scripts/test-engine.sh status   exit 0 when it answers
#
# Inside the namespace the engine also listens on tcp://127.0.0.1:2376 with
# TLS (client certificates in $KEELSON_ENGINE_DIR/tls, made by start).
#
# KEELSON_ENGINE_DIR (default /tmp/keelson-engine) holds its state;
# KEELSON_ENGINE_NETNS (default keelson-test) names its network namespace.
set -euo pipefail

D=${KEELSON_ENGINE_DIR:-/tmp/keelson-engine}
NS=${KEELSON_ENGINE_NETNS:-keelson-test}
SOCK="$D/docker.sock"
REGISTRY=127.0.0.1:5000
here=$(cd "$(dirname "$0")" && pwd)

log() { echo "test-engine: $*" >&2; }
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
pinged() { [[ $(curl -s --max-time 2 --unix-socket "$SOCK" http://x/_ping 2>/dev/null) == OK ]]; }
docker_() { DOCKER_HOST="unix://$SOCK" docker "$@"; }

wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    if ((SECONDS >= deadline)); then
      log "$what did not come up; see $D/*.log"
      tail -n 20 "$D"/*.log >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# A CA, a server certificate for 127.0.0.1 and a client certificate, so the
# engine also listens on tcp://127.0.0.1:2376 with --tlsverify (inside the
# namespace): DOCKER_CERT_PATH=$D/tls holds ca.pem, cert.pem, key.pem as the
# docker CLI wants them.
make_tls() {
  [[ -f $D/tls/cert.pem ]] && return 0
  local t="$D/tls"
  mkdir -p "$t"
  (
    cd "$t"
    openssl genrsa -out ca-key.pem 2048
    openssl req -x509 -new -key ca-key.pem -days 30 -subj /CN=keelson-test-ca -out ca.pem
    openssl genrsa -out server-key.pem 2048
    openssl req -new -key server-key.pem -subj /CN=127.0.0.1 -out server.csr
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
      -extfile server.ext -out server-cert.pem
    openssl genrsa -out key.pem 2048
    openssl req -new -key key.pem -subj /CN=keelson-test-client -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
      -extfile client.ext -out cert.pem
  ) >"$D/tls.log" 2>&1
}

gone_or_up() { ! alive "$D/docker.pid" || pinged; }

start_dockerd() {
  # A dockerd still shutting down (stopping its containers) holds the socket
  # and the pid file: let it finish first.
  alive "$D/docker.pid" && ! pinged && wait_for 90 "the previous dockerd to exit" gone_or_up
  alive "$D/docker.pid" && pinged && return 0
  mkdir -p "$D/data" "$D/exec"
  rm -f "$SOCK"
  make_tls
  # nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then
  # fails with "Devices cgroup isn't mounted".
  in_ns dockerd --data-root "$D/data" --exec-root "$D/exec" \
    -H "unix://$SOCK" -H tcp://127.0.0.1:2376 --tlsverify --tlscacert "$D/tls/ca.pem" \
    --tlscert "$D/tls/server-cert.pem" --tlskey "$D/tls/server-key.pem" --pidfile "$D/docker.pid" \
    --iptables=false --ip-masq=false --bridge=none >"$D/dockerd.log" 2>&1 &
  # Restarting over many old containers, dockerd cleans their sandboxes first (≈ 0.25 s each).
  wait_for 300 dockerd pinged
}

registry_up() { [[ $(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$REGISTRY/v2/" 2>/dev/null) == 200 ]]; }

start_registry() {
  alive "$D/registry.pid" && registry_up && return 0
  mkdir -p "$D/registry"
  cat >"$D/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $D/registry}
  delete: {enabled: true}
http: {addr: $REGISTRY}
EOF
  # nsenter itself, not the in_ns function: a function in the background runs
  # in a subshell, whose pid ($!) is not the registry's, and stop would leave
  # the registry running.
  nsenter --net="/run/netns/$NS" docker-registry serve "$D/registry.yml" >"$D/registry.log" 2>&1 &
  echo $! >"$D/registry.pid"
  wait_for 30 registry registry_up
}

# keelson-test/busybox:1: busybox-static with every applet linked (sh, sleep,
# httpd, wget, hostname, ...), and the same image in the loopback registry.
load_images() {
  if ! docker_ image inspect keelson-test/busybox:1 >/dev/null 2>&1; then
    local root="$D/rootfs"
    rm -rf "$root" && mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/var/www"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $("$root/bin/busybox" --list); do
      [[ $applet == busybox ]] || ln -sf busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
    tar -C "$root" -c . | docker_ import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - keelson-test/busybox:1 >/dev/null
    rm -rf "$root"
  fi
  if [[ $(in_ns curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/keelson-test/busybox/manifests/1") != 200 ]]; then
    docker_ tag keelson-test/busybox:1 "$REGISTRY/keelson-test/busybox:1"
    docker_ push -q "$REGISTRY/keelson-test/busybox:1" >/dev/null
    docker_ rmi "$REGISTRY/keelson-test/busybox:1" >/dev/null
  fi
}

cmd_start() {
  [[ $(id -u) -eq 0 ]] || { log "needs root (network namespaces, dockerd)"; exit 1; }
  "$here/deps.sh" engine
  mkdir -p "$D"
  if [[ ! -e /run/netns/$NS ]]; then
    ip netns add "$NS"
    touch "$D/netns.created"
  fi
  ip -n "$NS" link set lo up
  start_dockerd
  start_registry
  load_images
  cmd_env
}

stop_pid() {  # stop_pid PIDFILE NAME
  alive "$1" || { rm -f "$1"; return 0; }
  local pid
  pid=$(cat "$1")
  kill "$pid"
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
    sleep 0.2
  done
  log "$2 ($pid) did not stop in 30 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

cmd_stop() {
  [[ -d $D ]] || return 0
  stop_pid "$D/registry.pid" registry
  stop_pid "$D/docker.pid" dockerd
  if [[ -f $D/netns.created ]]; then
    ip netns del "$NS" 2>/dev/null || true
  fi
  # dockerd unmounts its layers on exit; anything still mounted under D is ours.
  grep -o " $D[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$D"
}

cmd_env() { echo "export DOCKER_HOST=unix://$SOCK"; }

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  status) pinged ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
