#!/usr/bin/env python3
"""The measurements of scripts/bench/gitops.sh (see there)."""
import hashlib
import hmac
import json
import os
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import figure, free_port, p  # noqa: E402

K = sys.argv[1]
COMMITS = int(os.environ.get('COMMITS', '20'))
OBJECTS = int(os.environ.get('OBJECTS', '20'))
POLL = float(os.environ.get('POLL', '2'))
POLLS = int(os.environ.get('POLLS', '10'))
GIT = ['git', '-c', 'user.name=bench', '-c', 'user.email=bench@keelson.dev', '-c', 'init.defaultBranch=main']
W = tempfile.mkdtemp(prefix='keelson-gitops-bench.')
DB = os.path.join(W, 'state.db')
SECRET = 'bench-webhook-secret'


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw).stdout


def keelson(*args):
    return run(K, '--db', DB, *args)


# Each way has its own directory of Volumes (hook-N, poll-N, peer-N): no two
# writers claim one object.
WAYS = ('hook', 'poll', 'peer')


def volumes(way, generation):
    docs = []
    for i in range(OBJECTS):
        docs.append('apiVersion: keelson.dev/v1alpha1\nkind: Volume\n'
                    f'metadata: {{name: {way}-{i}, labels: {{keelson.dev/source: {way}}}}}\n'
                    f'spec: {{labels: {{generation: "{generation if i == generation % OBJECTS else 0}"}}}}\n')
    return '---\n'.join(docs)


def commit(repo, way, generation):
    with open(os.path.join(repo, way, 'volumes.yaml'), 'w') as f:
        f.write(volumes(way, generation))
    run(*GIT, '-C', repo, 'commit', '-qam', f'{way} generation {generation}')
    return run(*GIT, '-C', repo, 'rev-parse', 'HEAD').strip()


def applied(name):
    out = keelson('get', 'gitrepository', name, '-o', 'json')
    return json.loads(out).get('status', {}).get('lastAppliedRevision', '')


def wait_applied(name, sha, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if applied(name).endswith(sha):
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit(f'bench: {name} never applied {sha}')


def sync_took(name, sha):
    """The duration the source recorded for the sync of `sha` (its status
    history: fetch, checkout, load, admission, store), in ms."""
    st = json.loads(keelson('get', 'gitrepository', name, '-o', 'json')).get('status', {})
    for h in st.get('history', []):
        if h['revision'].endswith(sha):
            d = h['duration']
            return float(d[:-2]) if d.endswith('ms') else float(d[:-1]) * 1000
    raise SystemExit(f'bench: {name} has no history entry for {sha}')


def source(name, url, path, interval, webhook):
    text = (f'apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\nmetadata: {{name: {name}}}\n'
            f'spec:\n  url: {url}\n  path: {path}\n  interval: {interval}\n  timeout: 60s\n')
    if webhook:
        text += '  webhook: {secretFile: secret}\n'
    path = os.path.join(W, f'{name}.yaml')
    with open(path, 'w') as f:
        f.write(text)
    keelson('apply', '-f', path)


def main():
    repo = os.path.join(W, 'repo')
    run(*GIT, 'init', '-q', repo)
    for way in WAYS:
        os.makedirs(os.path.join(repo, way))
        with open(os.path.join(repo, way, 'volumes.yaml'), 'w') as f:
            f.write(volumes(way, 0))
    run(*GIT, '-C', repo, 'add', '-A')
    run(*GIT, '-C', repo, 'commit', '-qm', 'start')
    with open(os.path.join(W, 'secret'), 'w') as f:
        f.write(SECRET + '\n')
    port = free_port()
    log = open(os.path.join(W, 'controller.log'), 'w')
    ctl = subprocess.Popen([K, '--db', DB, 'controller', '--listen', 'off', '--api-listen', f'127.0.0.1:{port}'],
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        return measure(repo, port)
    finally:
        ctl.terminate()
        ctl.wait()
        # The sources first (their prune deletes what they applied), or they
        # would put their volumes back.
        subprocess.run([K, '--db', DB, 'delete', '--all', 'gitrepositories'], capture_output=True)
        subprocess.run([K, '--db', DB, 'controller', '--once', '--timeout', '120s', '--listen', 'off'],
                       capture_output=True)
        subprocess.run([K, '--db', DB, 'delete', '--all', 'volumes'], capture_output=True)
        subprocess.run([K, '--db', DB, 'controller', '--once', '--timeout', '120s', '--listen', 'off'],
                       capture_output=True)
        shutil.rmtree(W, ignore_errors=True)


def measure(repo, port):
    print(f'gitops: {OBJECTS} Volumes, {COMMITS} commits each way; engine {os.environ["DOCKER_HOST"]}')
    # Webhook: interval 1h, so only the webhook can bring a commit in.
    source('hooked', repo, 'hook', '1h', True)
    subprocess.run([K, '--db', DB, 'sync', 'gitrepository', 'hooked', '--timeout', '120s'], check=True,
                   capture_output=True)
    for _ in range(100):  # the API's CA is written when it starts serving
        if os.path.exists(DB + '.api-ca.crt'):
            break
        time.sleep(0.1)
    ca = ssl.create_default_context(cafile=DB + '.api-ca.crt')
    hooked = []
    for g in range(1, COMMITS + 1):
        sha = commit(repo, 'hook', g)
        t0 = time.monotonic()
        body = json.dumps({'ref': 'refs/heads/main', 'after': sha}).encode()
        req = urllib.request.Request(f'https://127.0.0.1:{port}/hooks/git/default/hooked', data=body, method='POST')
        req.add_header('X-Hub-Signature-256', 'sha256=' + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest())
        req.add_header('X-GitHub-Event', 'push')
        urllib.request.urlopen(req, timeout=10, context=ca).read()
        hooked.append((wait_applied('hooked', sha) - t0) * 1000)

    # Polling: the same, found by the interval.
    source('polled', repo, 'poll', f'{POLL:g}s', False)
    subprocess.run([K, '--db', DB, 'sync', 'gitrepository', 'polled', '--timeout', '120s'], check=True,
                   capture_output=True)
    polled, polled_work = [], []
    for g in range(1, COMMITS + 1):
        # A commit lands at a random point between two polls, so a poll adds
        # half the interval on average.
        time.sleep(random.uniform(0, POLL))
        sha = commit(repo, 'poll', g)
        t0 = time.monotonic()
        polled.append((wait_applied('polled', sha) - t0) * 1000)
        polled_work.append(sync_took('polled', sha))

    # No change: one poll's work, and what it writes.
    mirror = DB + '.sources/default/polled/mirror.git'
    request = json.dumps({'mirror': mirror, 'url': repo, 'ref': {'type': 'branch', 'value': 'main'},
                          'timeout': 60})
    objects_before = run('git', '--git-dir', mirror, 'count-objects', '-v')
    helper, lsremote = [], []
    for _ in range(POLLS):
        t0 = time.monotonic()
        out = subprocess.run([K, '__git-fetch'], input=request, capture_output=True, text=True, check=True).stdout
        helper.append((time.monotonic() - t0) * 1000)
        if json.loads(out).get('downloaded'):
            raise SystemExit('bench: a no-change poll downloaded objects')
        t0 = time.monotonic()
        run('git', 'ls-remote', repo, 'refs/heads/main')
        lsremote.append((time.monotonic() - t0) * 1000)
    objects_after = run('git', '--git-dir', mirror, 'count-objects', '-v')
    # Settled first: the last revision's health wait writes its Ready.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = json.loads(keelson('get', 'gitrepository', 'polled', '-o', 'json')).get('status', {})
        if 'healthCheck' not in st and any(c['type'] == 'Ready' and c['status'] == 'True' for c in st.get('conditions', [])):
            break
        time.sleep(0.2)
    rv_before = max(int(o['metadata']['resourceVersion'])
                    for o in json.loads(keelson('get', 'all', '-o', 'json'))['items'])
    time.sleep(POLL * POLLS)
    rv_after = max(int(o['metadata']['resourceVersion'])
                   for o in json.loads(keelson('get', 'all', '-o', 'json'))['items'])

    # The peer: what the path unit does after a commit, by hand.
    checkout = os.path.join(W, 'checkout')
    run(*GIT, 'clone', '-q', repo, checkout)
    peer = []
    for g in range(1, COMMITS + 1):
        commit(repo, 'peer', g)
        t0 = time.monotonic()
        run(*GIT, '-C', checkout, 'pull', '-q', '--ff-only')
        keelson('apply', '-R', '-f', os.path.join(checkout, 'peer'), '--prune', '-l', 'keelson.dev/source=peer')
        peer.append((time.monotonic() - t0) * 1000)

    print('commit -> applied')
    figure('webhook p50', p(hooked, 0.5))
    figure('webhook p90', p(hooked, 0.9))
    figure(f'polling every {POLL:g}s p50', p(polled, 0.5))
    figure(f'polling: half the interval (the average wait for a poll)', POLL * 500)
    figure('peer: git pull + keelson apply -R --prune p50', p(peer, 0.5))
    print(f'  webhook p50 / peer p50: {p(hooked, 0.5) / p(peer, 0.5):.2f}x')
    figure('polling: the sync\'s own work p50 (status.history)', p(polled_work, 0.5))
    figure('polling: the wait for a poll p50 (the rest)', p([t - w for t, w in zip(polled, polled_work)], 0.5))
    print('no-change poll')
    figure('keelson __git-fetch (ls-remote, no transfer) p50', p(helper, 0.5))
    figure('git ls-remote p50', p(lsremote, 0.5))
    print(f'  ratio: {p(helper, 0.5) / p(lsremote, 0.5):.2f}x')
    print(f'  objects the mirror gained: {0 if objects_before == objects_after else "SOME (bug)"}')
    print(f'  store writes over {POLLS} intervals of {POLL:g}s: {rv_after - rv_before}')
    return 0 if rv_after == rv_before and objects_before == objects_after else 1


if __name__ == '__main__':
    sys.exit(main())
