#!/usr/bin/env python3
"""The controller, as the real binary, against the real (isolated) engine;
the world is checked with the docker CLI.

    controller_test.py KEELSON_BINARY SAMPLES_DIR

Exits 77 (skipped) without DOCKER_HOST. Each test works in its own namespace
and store, and removes what it made.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402

if not os.environ.get('DOCKER_HOST'):
    print('DOCKER_HOST is not set: skipping the controller integration tests')
    sys.exit(77)

binary, samples = sys.argv[1], os.path.abspath(sys.argv[2])
IMAGE = 'keelson-test/busybox:1'


def docker(*args, check=True):
    p = subprocess.run(['docker'] + list(args), capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f'docker {" ".join(args)}: {p.stderr.strip()}')
    return p.stdout.strip()


def ids(*filters, all_=True):
    args = ['ps', '-q', '--no-trunc'] + (['-a'] if all_ else [])
    for f in filters:
        args += ['--filter', f]
    out = docker(*args)
    return sorted(out.split()) if out else []


def inspect(name):
    p = subprocess.run(['docker', 'inspect', name], capture_output=True, text=True)
    return json.loads(p.stdout)[0] if p.returncode == 0 else None


def wait_for(what, pred, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f'timed out after {timeout}s waiting for {what}')


def runner(name, ns, env=None, networks=None, extra=''):
    spec = f'  image: {IMAGE}\n  command: [sleep, "3600"]\n  stopTimeout: 1s\n'
    if env:
        spec += '  env: ' + json.dumps([{'name': k, 'value': v} for k, v in env.items()]) + '\n'
    if networks:
        spec += '  networks: ' + json.dumps([{'name': n} for n in networks]) + '\n'
    return (f'---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {{name: {name}, namespace: {ns}}}\n'
            f'spec:\n{spec}{extra}')


def network(name, ns):
    return f'---\napiVersion: keelson.dev/v1alpha1\nkind: Network\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{}}\n'


def volume(name, ns):
    return f'---\napiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{}}\n'


class Controller:
    """`keelson controller` in the background, stopped with SIGTERM (or killed)."""

    def __init__(self, k, *extra, resync='5s'):
        self.log = open(os.path.join(k.dir, f'controller-{time.time_ns()}.log'), 'w+')
        listen = ([] if '--listen' in extra else ['--listen', 'off']) + \
            ([] if '--api-listen' in extra else ['--api-listen', 'off'])
        self.p = subprocess.Popen([k.binary, '--db', k.db, '--log-level', 'info', 'controller', '--resync', resync]
                                  + listen + list(extra), stdout=self.log, stderr=subprocess.STDOUT, cwd=k.dir)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=60)
        return self.p.returncode

    def kill(self):
        self.p.kill()
        self.p.wait()

    def output(self):
        self.log.seek(0)
        return self.log.read()


def cleanup(ns):
    """Removes what keelson made in namespace `ns` (the test's own)."""
    label = f'label=dev.keelson.namespace={ns}'
    for c in ids(label):
        docker('rm', '-f', c, check=False)
    for n in docker('network', 'ls', '-q', '--filter', label).split():
        docker('network', 'rm', n, check=False)
    for v in docker('volume', 'ls', '-q', '--filter', label).split():
        docker('volume', 'rm', v, check=False)


def in_namespace(fn):
    """Runs fn(k, ns) with a fresh store and namespace, and cleans up after it."""
    def test():
        ns = 'it-' + fn.__name__.replace('_', '-')[:40].rstrip('-')
        k = Keelson(binary)
        cleanup(ns)
        try:
            fn(k, ns)
        finally:
            cleanup(ns)
    test.__name__ = fn.__name__
    return test


# --- tests ----------------------------------------------------------------------

@in_namespace
def converges_the_samples_and_plan_is_then_empty(k, ns):
    k.ok('-n', ns, 'apply', '-f', samples)
    out = k.ok('-n', ns, 'controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)
    expect('every object is Ready' in out, out)
    label = f'label=dev.keelson.namespace={ns}'
    expect(len(ids(label, 'label=dev.keelson.kind=RunnerPool')) == 3, 'three pool replicas')
    cache = inspect(f'{ns}.artifact-cache')
    expect(cache['State']['Running'], 'artifact-cache runs')
    expect(cache['Config']['Labels']['dev.keelson.managed-by'] == 'keelson', 'labelled')
    expect(f'{ns}.ci-net' in cache['NetworkSettings']['Networks'], 'on its network')
    rc, out, err = k.run('-n', ns, 'plan')
    expect(rc == 0 and 'nothing to do' in out, f'plan after converge: rc {rc}\n{out}{err}')
    # The --once controller has exited: nobody maintains the status now.
    rc, _, err = k.run('-n', ns, 'wait', 'runner/artifact-cache', '--for=condition=Ready', '--timeout', '1s')
    expect(rc == 1 and 'no controller is running' in err, f'exit {rc}: {err}')
    k.ok('-n', ns, 'wait', 'runner/artifact-cache', '--for=condition=Ready', '--timeout', '5s', '--allow-stale')


@in_namespace
def repairs_rm_stop_and_network_disconnect(k, ns):
    k.ok('apply', '-f', k.write('m.yaml', network('net', ns) + runner('web', ns, networks=['net'])))
    ctl = Controller(k)
    try:
        name = f'{ns}.web'
        wait_for('the runner', lambda: (inspect(name) or {}).get('State', {}).get('Running'))
        first = inspect(name)['Id']
        docker('rm', '-f', name)
        wait_for('a new container after rm -f', lambda: (inspect(name) or {}).get('Id', first) != first
                 and inspect(name)['State']['Running'])
        docker('stop', '-t', '0', name)
        wait_for('a start after docker stop', lambda: inspect(name)['State']['Running'])
        docker('network', 'disconnect', f'{ns}.net', name)
        wait_for('reconnect after network disconnect',
                 lambda: f'{ns}.net' in inspect(name)['NetworkSettings']['Networks'])
        expect(len(ids(f'label=dev.keelson.namespace={ns}')) == 1, 'exactly one container')
        events = k.ok('-n', ns, 'events')
        expect('Repaired' in events, events)
    finally:
        expect(ctl.stop() == 0, 'controller exits 0 on SIGTERM\n' + ctl.output())


@in_namespace
def a_changed_env_replaces_only_that_runner(k, ns):
    path = k.write('m.yaml', runner('a', ns, env={'LOG_LEVEL': 'info'}) + runner('b', ns))
    k.ok('apply', '-f', path)
    k.ok('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)
    a, b = inspect(f'{ns}.a')['Id'], inspect(f'{ns}.b')['Id']
    k.write('m.yaml', runner('a', ns, env={'LOG_LEVEL': 'debug'}) + runner('b', ns))
    k.ok('apply', '-f', path)
    rc, out, _ = k.run('-n', ns, 'plan')
    expect(rc == 1 and f'recreate container {ns}.a: env[LOG_LEVEL] changed' in out, out)
    k.ok('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)
    new_a = inspect(f'{ns}.a')
    expect(new_a['Id'] != a and 'LOG_LEVEL=debug' in new_a['Config']['Env'], 'a replaced with the new env')
    expect(inspect(f'{ns}.b')['Id'] == b, 'b untouched')


@in_namespace
def delete_removes_exactly_keelsons_objects(k, ns):
    mine = [f'{ns}-unmanaged-{i}' for i in range(5)]
    try:
        for n in mine:
            docker('network', 'create', n)
            docker('volume', 'create', n)
            # Same labels but managed-by: keelson is missing: still not keelson's.
            docker('create', '--name', n, '--label', f'dev.keelson.namespace={ns}', '--label',
                   'dev.keelson.kind=Runner', '--network', n, '-v', f'{n}:/data', IMAGE, 'sleep', '3600')
            docker('start', n)
        path = k.write('m.yaml', network('net', ns) + volume('vol', ns) + runner(
            'web', ns, networks=['net'], extra='  volumes: [{name: vol, mountPath: /data}]\n'))
        k.ok('apply', '-f', path)
        k.ok('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)
        expect(inspect(f'{ns}.web') is not None, 'converged')
        k.ok('delete', '-f', path)
        ctl = Controller(k)
        try:
            wait_for('deletion', lambda: inspect(f'{ns}.web') is None and
                     docker('network', 'ls', '-q', '--filter', f'name=^{ns}.net$') == '' and
                     docker('volume', 'ls', '-q', '--filter', f'name=^{ns}.vol$') == '', timeout=60)
            wait_for('objects gone from the store', lambda: json.loads(k.ok('get', 'all', '-A', '-o', 'json'))['items'] == [])
        finally:
            ctl.stop()
        for n in mine:
            c = inspect(n)
            expect(c is not None and c['State']['Running'], f'unmanaged container {n} survived, running')
            docker('network', 'inspect', n)
            docker('volume', 'inspect', n)
    finally:
        for n in mine:
            docker('rm', '-f', n, check=False)
            docker('network', 'rm', n, check=False)
            docker('volume', 'rm', n, check=False)


@in_namespace
def deleting_a_fleet_at_once_removes_everything_and_the_built_image(k, ns):
    ref = f'keelson.local/{ns}:1'
    context = os.path.join(k.dir, 'image')
    os.makedirs(context)
    with open(os.path.join(context, 'Dockerfile'), 'w') as f:
        f.write(f'FROM {IMAGE}\nLABEL test={ns}\n')
    fleet = (network('net', ns) + volume('vol', ns) +
             f'---\napiVersion: keelson.dev/v1alpha1\nkind: Image\nmetadata: {{name: img, namespace: {ns}}}\n'
             f'spec: {{ref: "{ref}", build: {{context: image}}}}\n' +
             f'---\napiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {{name: pool, namespace: {ns}}}\n'
             'spec:\n  replicas: 4\n  template:\n    imageRef: img\n    command: [sleep, "3600"]\n'
             '    stopTimeout: 2s\n    networks: [{name: net}]\n    volumes: [{name: vol, mountPath: /data}]\n')
    path = k.write('fleet.yaml', fleet)
    k.ok('apply', '-f', path)
    out = k.ok('controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)
    expect('every object is Ready' in out, out)
    expect(len(ids(f'label=dev.keelson.namespace={ns}', 'status=running')) == 4, 'four replicas run')
    docker('image', 'inspect', ref)

    k.ok('delete', '-f', path)
    k.ok('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)
    expect(json.loads(k.ok('get', 'all', '-A', '-o', 'json'))['items'] == [], 'objects left in the store')
    label = f'label=dev.keelson.namespace={ns}'
    expect(ids(label) == [], 'containers left')
    expect(docker('network', 'ls', '-q', '--filter', label) == '', 'network left')
    expect(docker('volume', 'ls', '-q', '--filter', label) == '', 'volume left')
    expect(subprocess.run(['docker', 'image', 'inspect', ref], capture_output=True).returncode != 0,
           f'{ref}, built by keelson, was not removed')
    docker('image', 'inspect', IMAGE)  # its base, not keelson's, stays
    warnings = [l for l in k.ok('events', '-A').splitlines() if 'Warning' in l]
    expect(warnings == [], f'a clean deletion has no warnings: {warnings}')


@in_namespace
def sigkill_during_a_converge_leaves_no_duplicates(k, ns):
    path = k.write('m.yaml', ''.join(runner(f'r{i}', ns) for i in range(20)))
    k.ok('apply', '-f', path)
    rng = random.Random(7)
    for _ in range(10):
        ctl = Controller(k)
        time.sleep(rng.uniform(0.2, 2.0))
        ctl.kill()
    # The lease of the last killed controller must expire (10 s) before the next one acts.
    k.ok('controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)
    managed = ids(f'label=dev.keelson.namespace={ns}')
    names = sorted(inspect(c)['Name'].lstrip('/') for c in managed)
    expect(names == sorted(f'{ns}.r{i}' for i in range(20)), f'exactly 20 runners, no duplicates: {names}')


@in_namespace
def two_controllers_on_one_store_only_one_acts(k, ns):
    k.ok('apply', '-f', k.write('m.yaml', runner('web', ns)))
    first = Controller(k)
    try:
        wait_for('the runner', lambda: inspect(f'{ns}.web') is not None)
        second = Controller(k)
        try:
            time.sleep(2)
            expect('standby' in second.output(), 'second controller waits as standby:\n' + second.output())
            expect('leader' not in second.output(), 'second controller never led')
            first.kill()  # dies without releasing: the standby takes over once the lease expires
            wait_for('the standby to take over', lambda: 'leader: lease taken' in second.output(), timeout=30)
            docker('rm', '-f', f'{ns}.web')
            wait_for('the new leader to repair', lambda: (inspect(f'{ns}.web') or {}).get('State', {}).get('Running'))
        finally:
            second.stop()
    finally:
        first.stop()


@in_namespace
def a_frozen_leader_that_lost_its_lease_never_acts_and_exits(k, ns):
    k.ok('apply', '-f', k.write('p.yaml', pool(ns, 3)))
    first = Controller(k)
    second = None
    try:
        wait_for('3 replicas', lambda: len(replicas(ns)) == 3, timeout=60)
        second = Controller(k)
        wait_for('the standby', lambda: 'standby' in second.output())
        first.p.send_signal(signal.SIGSTOP)
        wait_for('the standby to take over', lambda: 'leader: lease taken' in second.output(), timeout=30)
        k.ok('-n', ns, 'scale', 'runnerpool', 'p', '--replicas', '6')
        wait_for('6 replicas', lambda: len(replicas(ns, running_only=False)) == 6, timeout=60)
        first.p.send_signal(signal.SIGCONT)
        try:
            first.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError('the old leader neither exited nor went back to standby:\n' + first.output()[-4000:])
        expect(first.p.returncode == 1 and 'lost the lease' in first.output(),
               f'the old leader exits 1 saying why (rc {first.p.returncode}):\n' + first.output()[-4000:])
        time.sleep(3)
        n = len(replicas(ns, running_only=False))
        expect(n == 6, f'the old leader acted on its stale view: {n} containers for a pool of 6\n' +
               first.output()[-4000:])
        expect(second.p.poll() is None, 'the new leader keeps leading')
    finally:
        first.p.send_signal(signal.SIGCONT)
        first.stop()
        if second:
            second.stop()


def readyz(port):
    try:
        with urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


@in_namespace
def readyz_says_not_ready_while_the_engine_is_frozen(k, ns):
    pidfile = os.path.join(os.environ.get('KEELSON_ENGINE_DIR', '/tmp/keelson-engine'), 'docker.pid')
    if not os.path.exists(pidfile):
        return
    with open(pidfile) as f:
        pid = int(f.read())
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    k.ok('apply', '-f', k.write('m.yaml', runner('web', ns)))
    ctl = Controller(k, '--listen', f'127.0.0.1:{port}')
    try:
        wait_for('ready', lambda: readyz(port)[0] == 200)
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_for('not ready while the engine is frozen', lambda: readyz(port)[0] == 503, timeout=10)
            expect('engine' in readyz(port)[1], readyz(port)[1])
        finally:
            os.kill(pid, signal.SIGCONT)
        wait_for('ready again', lambda: readyz(port)[0] == 200, timeout=30)
    finally:
        expect(ctl.stop() == 0, ctl.output())


@in_namespace
def two_stores_on_one_engine_keep_to_their_own(k, ns):
    k.ok('apply', '-f', k.write('a.yaml', runner('a', ns)))
    k.ok('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)
    a = inspect(f'{ns}.a')['Id']
    other = Keelson(binary)
    other.ok('apply', '-f', other.write('b.yaml', runner('b', ns) + runner('a', ns, env={'MINE': '1'})))
    rc, out, err = other.run('controller', '--once', '--timeout', '15s', '--listen', 'off', timeout=60)
    expect(rc == 1 and 'another keelson store' in err, f'the name clash is reported: rc {rc}\n{err}')
    expect(inspect(f'{ns}.a')['Id'] == a, "the other store neither removed nor replaced a's container")
    expect(inspect(f'{ns}.b')['State']['Running'], 'its own runner converged')


def pool(ns, replicas, version='1', extra=''):
    return (f'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {{name: p, namespace: {ns}}}\n'
            f'spec:\n  replicas: {replicas}\n{extra}  template:\n    image: {IMAGE}\n'
            f'    command: [sleep, "3600"]\n    stopTimeout: 1s\n    env: [{{name: VERSION, value: "{version}"}}]\n')


def replicas(ns, running_only=True):
    return ids(f'label=dev.keelson.namespace={ns}', 'label=dev.keelson.kind=RunnerPool', all_=not running_only)


@in_namespace
def a_pool_of_10_converges_is_repaired_rolls_and_scales(k, ns):
    path = k.write('p.yaml', pool(ns, 10))
    k.ok('apply', '-f', path)
    ctl = Controller(k)
    try:
        wait_for('10 replicas', lambda: len(replicas(ns)) == 10, timeout=60)
        k.ok('-n', ns, 'wait', 'runnerpool/p', '--for=condition=Ready', '--timeout', '30s')
        gone = replicas(ns)[:3]
        docker('rm', '-f', *gone)
        wait_for('3 new replicas', lambda: len(replicas(ns)) == 10 and not set(gone) & set(replicas(ns)), timeout=30)
        # A template change rolls with maxSurge 1, maxUnavailable 0: sampled with the docker CLI.
        k.write('p.yaml', pool(ns, 10, version='2'))
        k.ok('apply', '-f', path)
        most, fewest, deadline = 0, 10, time.time() + 120
        while time.time() < deadline:
            running = replicas(ns, running_only=True)
            most, fewest = max(most, len(replicas(ns, running_only=False))), min(fewest, len(running))
            envs = [(inspect(c) or {}).get('Config', {}).get('Env', []) for c in running]
            if len(running) == 10 and all('VERSION=2' in e for e in envs):
                break
            time.sleep(0.05)
        expect(most <= 11, f'never more than replicas + maxSurge containers: saw {most}')
        expect(fewest >= 10, f'never fewer than replicas - maxUnavailable running: saw {fewest}')
        rc, out, err = k.run('-n', ns, 'wait', 'runnerpool/p', '--for=condition=Ready', '--timeout', '60s', timeout=90)
        expect(rc == 0, f'pool Ready after the update: {err}\n' + ctl.output()[-8000:])
        k.ok('-n', ns, 'scale', 'runnerpool', 'p', '--replicas', '0')
        wait_for('scale to 0', lambda: replicas(ns, running_only=False) == [], timeout=60)
        k.ok('-n', ns, 'scale', 'runnerpool', 'p', '--replicas', '2')
        wait_for('scale back to 2', lambda: len(replicas(ns)) == 2, timeout=60)
    finally:
        expect(ctl.stop() == 0, ctl.output())


@in_namespace
def rollout_status_follows_and_undo_restores_the_previous_template(k, ns):
    path = k.write('p.yaml', pool(ns, 2, version='1'))
    k.ok('apply', '-f', path)
    ctl = Controller(k)
    try:
        out = k.ok('-n', ns, 'rollout', 'status', 'runnerpool/p', '--timeout', '60s', timeout=90)
        expect('successfully rolled out' in out, out)
        k.write('p.yaml', pool(ns, 2, version='2'))
        k.ok('apply', '-f', path)
        out = k.ok('-n', ns, 'rollout', 'status', 'runnerpool/p', '--timeout', '60s', timeout=90)
        expect('2 of 2 updated replicas' in out and 'successfully rolled out' in out, out)
        out = k.ok('-n', ns, 'rollout', 'undo', 'runnerpool', 'p')
        expect('rolled back to the template of generation 1' in out, out)
        k.ok('-n', ns, 'rollout', 'status', 'runnerpool/p', '--timeout', '60s', timeout=90)
        envs = [inspect(c)['Config']['Env'] for c in replicas(ns)]
        expect(len(envs) == 2 and all('VERSION=1' in e for e in envs), f'back on version 1: {envs}')
    finally:
        expect(ctl.stop() == 0, ctl.output())


@in_namespace
def rollout_status_fails_when_the_controller_rolls_back(k, ns):
    extra = '  progressDeadline: 4s\n  rollback: auto\n'
    path = k.write('p.yaml', pool(ns, 2, version='1', extra=extra))
    k.ok('apply', '-f', path)
    # A resync far away: only the deadline itself may wake the pool.
    ctl = Controller(k, resync='10m')
    try:
        k.ok('-n', ns, 'rollout', 'status', 'runnerpool/p', '--timeout', '60s', timeout=90)
        never_healthy = '    healthcheck: {test: [CMD, "false"], interval: 1s, retries: 1}\n'
        k.write('p.yaml', pool(ns, 2, version='2', extra=extra) + never_healthy)
        applied = time.time()
        k.ok('apply', '-f', path)
        rc, out, err = k.run('-n', ns, 'rollout', 'status', 'runnerpool/p', '--timeout', '60s', timeout=90)
        took = time.time() - applied
        expect(rc == 1, f'a rolled-back rollout is a failed one: exit {rc}\n{out}{err}')
        expect('rolled back' in err and 'successfully' not in out, out + err)
        expect(took < 20, f'the 4s deadline fired after {took:.1f}s')
        wait_for('version 1 again', lambda: sorted(
            'VERSION=1' in inspect(c)['Config']['Env'] for c in replicas(ns)) == [True, True], timeout=60)
        # Started after the rollback: the last rollout still failed.
        rc, _, err = k.run('-n', ns, 'rollout', 'status', 'runnerpool/p', '--timeout', '10s', timeout=30)
        expect(rc == 1 and 'rolled back' in err, f'exit {rc}: {err}')
    finally:
        expect(ctl.stop() == 0, ctl.output())


@in_namespace
def ephemeral_runners_run_30_jobs(k, ns):
    spec = (f'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {{name: jobs, namespace: {ns}}}\n'
            f'spec:\n  replicas: 5\n  ephemeral: true\n  template:\n    image: {IMAGE}\n'
            '    command: [sh, -c, "sleep 0.5; echo job done"]\n    restartPolicy: Never\n')
    k.ok('apply', '-f', k.write('jobs.yaml', spec))
    ctl = Controller(k)
    try:
        def runs():
            status = json.loads(k.ok('-n', ns, 'get', 'runnerpool', 'jobs', '-o', 'json')).get('status', {})
            return status.get('completedRuns', 0) + status.get('failedRuns', 0)
        wait_for('30 jobs', lambda: runs() >= 30, timeout=120)
        status = json.loads(k.ok('-n', ns, 'get', 'runnerpool', 'jobs', '-o', 'json'))['status']
        expect(status.get('failedRuns', 0) == 0, f'every job exited 0: {status}')
        expect(len(replicas(ns, running_only=False)) <= 5, 'never more than 5 runners at once')
    finally:
        expect(ctl.stop() == 0, ctl.output())


def engine_up():
    try:
        return subprocess.run(['docker', 'version'], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@in_namespace
def survives_dockerd_restart_and_converges_again(k, ns):
    engine = os.path.join(os.path.dirname(samples), 'scripts', 'test-engine.sh')
    pidfile = os.path.join(os.environ.get('KEELSON_ENGINE_DIR', '/tmp/keelson-engine'), 'docker.pid')
    if not os.path.exists(pidfile):
        print('    (the engine is not the isolated one of scripts/test-engine.sh: not restarting it)')
        return
    k.ok('apply', '-f', k.write('m.yaml', ''.join(runner(f'r{i}', ns) for i in range(3))))
    ctl = Controller(k)
    try:
        running = lambda: all((inspect(f'{ns}.r{i}') or {}).get('State', {}).get('Running') for i in range(3))
        wait_for('three runners', running)
        with open(pidfile) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)
        wait_for('dockerd to exit', lambda: not os.path.exists(f'/proc/{pid}'), timeout=90)
        time.sleep(2)
        expect(ctl.p.poll() is None, 'the controller survives the engine going away:\n' + ctl.output())
        started = subprocess.run(['bash', engine, 'start'], capture_output=True, text=True, timeout=360)
        expect(started.returncode == 0, 'test-engine.sh start:\n' + started.stdout[-3000:] + started.stderr[-3000:])
        try:
            wait_for('the runners to run again', running, timeout=60)
        except AssertionError as e:
            states = {i: (inspect(f'{ns}.r{i}') or {}).get('State', {}).get('Status') for i in range(3)}
            raise AssertionError(f'{e}: {states}\n' + ctl.output()[-6000:])
        expect('reconnecting' in ctl.output(), 'the event stream was reconnected:\n' + ctl.output())
    finally:
        try:
            if not engine_up():
                subprocess.run(['bash', engine, 'start'], capture_output=True, timeout=180)
        finally:
            # Whatever happened to the engine, the controller never outlives the test.
            expect(ctl.stop() == 0, 'controller exits 0 on SIGTERM\n' + ctl.output())


run_tests([
    converges_the_samples_and_plan_is_then_empty,
    repairs_rm_stop_and_network_disconnect,
    a_changed_env_replaces_only_that_runner,
    delete_removes_exactly_keelsons_objects,
    deleting_a_fleet_at_once_removes_everything_and_the_built_image,
    sigkill_during_a_converge_leaves_no_duplicates,
    two_controllers_on_one_store_only_one_acts,
    a_frozen_leader_that_lost_its_lease_never_acts_and_exits,
    two_stores_on_one_engine_keep_to_their_own,
    readyz_says_not_ready_while_the_engine_is_frozen,
    a_pool_of_10_converges_is_repaired_rolls_and_scales,
    rollout_status_follows_and_undo_restores_the_previous_template,
    rollout_status_fails_when_the_controller_rolls_back,
    ephemeral_runners_run_30_jobs,
    survives_dockerd_restart_and_converges_again,  # last: it restarts the engine
])
