#!/usr/bin/env python3
"""keelson's autoscaled RunnerPool against the raw Engine API, in one run,
on the same engine (see autoscaling.sh for what each figure is)."""
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import figure, free_port, p  # noqa: E402

K = sys.argv[1]
SAMPLES = int(os.environ.get('SAMPLES', '20'))
BURST = int(os.environ.get('BURST', '50'))
IMAGE = os.environ.get('IMAGE', 'keelson-test/busybox:1')
SECRET = 'bench-secret'
W = tempfile.mkdtemp(prefix='keelson-autoscaling-bench.')
DB = os.path.join(W, 'state.db')
SOCK = os.environ['DOCKER_HOST'].removeprefix('unix://')


class Unix(http.client.HTTPConnection):
    def __init__(self):
        super().__init__('localhost', timeout=120)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(SOCK)


def engine(method, path, body=None, conn=None):
    c = conn or Unix()
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={'Content-Type': 'application/json'})
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f'bench: engine {method} {path}: {r.status} {data[:200]!r}')
    return json.loads(data) if data else None


def running(pool, conn):
    filters = json.dumps({'label': [f'dev.keelson.name={pool}', 'dev.keelson.kind=RunnerPool'],
                          'status': ['running']})
    return len(engine('GET', '/containers/json?filters=' + urllib.request.quote(filters), conn=conn))


def wait_running(pool, want, conn, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running(pool, conn) == want:
            return time.monotonic()
        time.sleep(0.005)
    raise SystemExit(f'bench: {pool} never had {want} running containers')


def keelson(*args):
    return subprocess.run([K, '--db', DB, *args], capture_output=True, text=True, check=True).stdout


class Hooks:
    def __init__(self, port):
        self.url = f'https://127.0.0.1:{port}/hooks/github'
        self.ca = ssl.create_default_context(cafile=DB + '.api-ca.crt')

    def send(self, action, job, labels):
        body = json.dumps({'action': action, 'workflow_job': {'id': job, 'labels': labels, 'runner_name': None},
                           'repository': {'html_url': 'https://github.com/bench/repo'}}).encode()
        req = urllib.request.Request(self.url, data=body, method='POST')
        req.add_header('X-GitHub-Event', 'workflow_job')
        req.add_header('X-Hub-Signature-256', 'sha256=' + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest())
        with urllib.request.urlopen(req, timeout=30, context=self.ca) as r:
            if r.status != 202:
                raise SystemExit(f'bench: webhook {action} {job}: {r.status}')


def pool(name, label, min_idle):
    return (f'---\napiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {{name: {name}}}\nspec:\n'
            f'  autoscaling: {{maxReplicas: {BURST + 10}, minIdle: {min_idle}, scaleDownDelay: 0s}}\n'
            f'  github: {{labels: [{label}], webhookSecretFile: secret}}\n'
            f'  template: {{image: {IMAGE}, command: [sleep, "3600"], stopTimeout: 1s}}\n')


def raw_floor(conn):
    """The engine's own create + start of one container, SAMPLES times, and
    of BURST containers 1, 4, 8 and 16 at a time (the best is the floor)."""
    def one(i, c):
        made = engine('POST', f'/containers/create?name=bench-raw-{i}',
                      {'Image': IMAGE, 'Cmd': ['sleep', '3600'], 'Labels': {'bench': 'raw'}}, conn=c)
        engine('POST', f'/containers/{made["Id"]}/start', conn=c)
        return made['Id']

    def clean(ids):
        for i in ids:
            engine('DELETE', f'/containers/{i}?force=1', conn=conn)
    singles = []
    for i in range(SAMPLES):
        t0 = time.monotonic()
        cid = one(i, conn)
        singles.append((time.monotonic() - t0) * 1000)
        clean([cid])
    bursts = {}
    for width in (1, 4, 8, 16):
        t0 = time.monotonic()
        local = threading.local()

        def on_own_connection(i):
            if not hasattr(local, 'conn'):
                local.conn = Unix()
            return one(i, local.conn)
        with concurrent.futures.ThreadPoolExecutor(width) as ex:
            ids = list(ex.map(on_own_connection, range(BURST)))
        bursts[width] = (time.monotonic() - t0) * 1000
        clean(ids)
    return singles, bursts


def main():
    with open(os.path.join(W, 'secret'), 'w') as f:
        f.write(SECRET + '\n')
    with open(os.path.join(W, 'pools.yaml'), 'w') as f:
        f.write(pool('cold', 'cold', 0) + pool('warm', 'warm', 2) + pool('burst', 'burst', 0))
    keelson('apply', '-f', os.path.join(W, 'pools.yaml'))
    port = free_port()
    log = open(os.path.join(W, 'controller.log'), 'w')
    ctl = subprocess.Popen([K, '--db', DB, 'controller', '--listen', 'off', '--api-listen', f'127.0.0.1:{port}'],
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        return measure(port)
    finally:
        ctl.terminate()
        ctl.wait()
        subprocess.run([K, '--db', DB, 'delete', '--all', 'runnerpools'], capture_output=True)
        subprocess.run([K, '--db', DB, 'controller', '--once', '--timeout', '120s', '--listen', 'off'],
                       capture_output=True)
        shutil.rmtree(W, ignore_errors=True)


def measure(port):
    print(f'autoscaling: {SAMPLES} jobs one at a time, a burst of {BURST}; engine {os.environ["DOCKER_HOST"]}')
    conn = Unix()
    for _ in range(200):
        if os.path.exists(DB + '.api-ca.crt'):
            break
        time.sleep(0.05)
    hooks = Hooks(port)
    wait_running('warm', 2, conn)
    job = 0

    # Cold: nothing waits; each job's webhook until a container of the pool runs.
    cold = []
    for _ in range(SAMPLES):
        job += 1
        t0 = time.monotonic()
        hooks.send('queued', job, ['cold'])
        cold.append((wait_running('cold', 1, conn) - t0) * 1000)
        hooks.send('completed', job, ['cold'])
        wait_running('cold', 0, conn)

    # Warm: two runners wait; a job finds one at once, and the pool starts
    # another so that two wait again.
    warm_refill = []
    for _ in range(SAMPLES):
        job += 1
        t0 = time.monotonic()
        hooks.send('queued', job, ['warm'])
        warm_refill.append((wait_running('warm', 3, conn) - t0) * 1000)
        hooks.send('completed', job, ['warm'])
        wait_running('warm', 2, conn)

    # Burst: BURST jobs queued at once from zero, until all run.
    t0 = time.monotonic()
    for _ in range(BURST):
        job += 1
        hooks.send('queued', job, ['burst'])
    burst = (wait_running('burst', BURST, conn) - t0) * 1000
    for j in range(job - BURST + 1, job + 1):
        hooks.send('completed', j, ['burst'])
    wait_running('burst', 0, conn)

    singles, bursts = raw_floor(conn)
    floor_one = p(singles, 0.5)
    best_width = min(bursts, key=bursts.get)
    print('pickup: job queued (webhook sent) -> a container of the pool running')
    figure('cold pool (minIdle 0) p50', p(cold, 0.5))
    figure('cold pool (minIdle 0) p99', p(cold, 0.99))
    figure('raw API create + start of one container p50', floor_one)
    print(f'  cold p50 / raw create+start p50: {p(cold, 0.5) / floor_one:.2f}x')
    print('  warm pool (minIdle 2): an idle runner is running when the job is queued: no container wait;')
    figure('  its replacement (the third runner) running, p50', p(warm_refill, 0.5))
    print(f'burst: {BURST} jobs queued from zero -> {BURST} containers running')
    figure('keelson', burst)
    for width, ms in sorted(bursts.items()):
        figure(f'raw API, {width} at a time', ms)
    print(f'  keelson / best raw ({best_width} at a time): {burst / bursts[best_width]:.2f}x')


if __name__ == '__main__':
    sys.exit(main())
