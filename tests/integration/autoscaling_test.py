#!/usr/bin/env python3
"""An autoscaled RunnerPool against a real engine, driven by GitHub
workflow_job webhooks in the shape GitHub documents, signed as GitHub signs
them, posted to the controller's API: a burst of queued jobs from zero
starts a runner each; jobs that start hold their runners; when the rest are
cancelled the pool shrinks to the busy ones, which are never stopped; a
forged delivery changes nothing; `keelson scale` is refused. The world is
checked with the docker CLI.

    autoscaling_test.py KEELSON_BINARY

Exits 77 (skipped) without the isolated engine of scripts/test-engine.sh.
"""
import hashlib
import hmac
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_tests import Controller, docker, skip_without_isolated_engine, wait_until  # noqa: E402
from git_servers import free_port  # noqa: E402

skip_without_isolated_engine('autoscaling')

binary = os.path.abspath(sys.argv[1])
IMAGE = 'keelson-test/busybox:1'
SECRET = 'wh-secret-not-for-logs'
REPO = 'https://github.com/octo-org/example-workflow'


class Hooks:
    """Delivers workflow_job events to the controller's /hooks/github."""

    def __init__(self, k, port):
        self.url = f'https://127.0.0.1:{port}/hooks/github'
        wait_until('the API serving', lambda: os.path.exists(k.db + '.api-ca.crt'))
        self.ca = ssl.create_default_context(cafile=k.db + '.api-ca.crt')

    def send(self, action, job_id, labels=('self-hosted', 'linux', 'x64'), runner=None, secret=SECRET, repo=REPO):
        body = json.dumps({'action': action,
                           'workflow_job': {'id': job_id, 'run_id': 940463255, 'labels': list(labels),
                                            'runner_name': runner, 'status': action},
                           'repository': {'full_name': 'octo-org/example-workflow', 'html_url': repo}}).encode()
        req = urllib.request.Request(self.url, data=body, method='POST')
        req.add_header('X-GitHub-Event', 'workflow_job')
        req.add_header('X-Hub-Signature-256', 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.ca) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code


def replicas():
    """Names of the pool's running containers, as the docker CLI lists them."""
    out = docker('ps', '--filter', 'label=dev.keelson.name=ci', '--filter', 'label=dev.keelson.kind=RunnerPool',
                 '--format', '{{.Names}}')
    return sorted(n for n in out.split() if n)


def pool_status(k):
    return json.loads(k.ok('get', 'runnerpool', 'ci', '-o', 'json')).get('status', {})


def a_pool_follows_the_job_queue_and_keeps_busy_runners():
    k = Keelson(binary)
    k.write('secret', SECRET + '\n')
    k.ok('apply', '-f', k.write('pool.yaml', (
        'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n'
        '  ephemeral: true\n'
        '  autoscaling: {maxReplicas: 30, scaleDownDelay: 0s}\n'
        f'  github: {{url: https://github.com/octo-org, labels: [linux, x64], webhookSecretFile: secret}}\n'
        f'  template:\n    image: {IMAGE}\n    command: [sleep, "3600"]\n    stopTimeout: 1s\n')))
    port, metrics_port = free_port(), free_port()
    c = Controller(k, '--api-listen', f'127.0.0.1:{port}', '--listen', f'127.0.0.1:{metrics_port}')
    try:
        hooks = Hooks(k, port)
        wait_until('the pool at zero', lambda: pool_status(k).get('desiredReplicas') == 0)
        expect(replicas() == [], f'no job, no runner: {replicas()}')

        # A burst from zero: 30 queued jobs, a runner each.
        for job in range(1, 31):
            expect(hooks.send('queued', job) == 202, f'job {job} queued')
        wait_until('30 runners', lambda: len(replicas()) == 30, timeout=180)
        st = pool_status(k)
        expect(st['desiredReplicas'] == 30 and st['autoscaling']['queued'] == 30, f'{st}')

        # Five start on five runners; the other 25 are cancelled.
        busy = replicas()[:5]
        for job, runner in zip(range(1, 6), busy):
            expect(hooks.send('in_progress', job, runner=runner) == 202, f'job {job} in progress')
        for job in range(6, 31):
            expect(hooks.send('completed', job) == 202, f'job {job} completed')
        wait_until('the pool down to its busy runners', lambda: replicas() == busy, timeout=120)
        st = pool_status(k)
        expect(st['desiredReplicas'] == 5 and st['autoscaling']['busy'] == 5 and st['autoscaling']['running'] == 5,
               f'{st}')

        # A forged delivery: 401, and nothing changes.
        expect(hooks.send('queued', 99, secret='guessed') == 401, 'forged: 401')
        time.sleep(1)
        expect(replicas() == busy and pool_status(k)['desiredReplicas'] == 5, 'nothing changed')

        # By hand: refused, and the pool untouched.
        rc, _, err = k.run('scale', 'runnerpool', 'ci', '--replicas', '12')
        expect(rc == 1 and 'runnerpool/ci is autoscaled' in err, f'{rc} {err}')

        # The jobs finish: the runners go, none is left.
        for job in range(1, 6):
            expect(hooks.send('completed', job) == 202, f'job {job} completed')
        wait_until('no runner left', lambda: replicas() == [], timeout=120)
        # Pickup latency and duration of the five jobs that ran, on /metrics.
        with urllib.request.urlopen(f'http://127.0.0.1:{metrics_port}/metrics', timeout=10) as r:
            metrics = r.read().decode()
        expect('keelson_job_pickup_seconds_count{pool="default/ci"} 5\n' in metrics and
               'keelson_job_duration_seconds_count{pool="default/ci"} 5\n' in metrics, metrics[-2000:])
        events = k.ok('events')
        # The burst may land in one pass or a few: each scale-up says its cause.
        expect(re.search(r'Scaled +runnerpool/ci +desired replicas 0 -> (\d+): \1 job\(s\) queued for labels '
                         r'\[self-hosted, linux, x64\], 0 running', events) and
               'desired replicas 5 -> 0: no job queued, 0 running' in events, events)
        with open(os.path.join(k.dir, 'controller.log')) as f:
            everything = f.read() + events + k.ok('get', 'runnerpool', 'ci', '-o', 'yaml')
        expect(SECRET not in everything, 'the webhook secret is never printed')
    finally:
        c.stop()
        k.run('delete', 'runnerpool', 'ci')
        k.run('controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)


def a_busy_probe_keeps_runners_that_say_they_are_busy():
    k = Keelson(binary)

    def pool(min_idle):
        return k.write('probed.yaml', (
            'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n'
            f'  autoscaling: {{maxReplicas: 5, minIdle: {min_idle}, scaleDownDelay: 0s}}\n'
            f'  template:\n    image: {IMAGE}\n    command: [sleep, "3600"]\n    stopTimeout: 1s\n'
            '    busyProbe: {exec: {command: [test, -f, /tmp/job-running]}, periodSeconds: 1}\n'))

    k.ok('apply', '-f', pool(3))
    c = Controller(k)
    try:
        wait_until('three idle runners', lambda: len(replicas()) == 3)
        names = replicas()
        busy = names[:2]
        for name in busy:
            docker('exec', name, 'touch', '/tmp/job-running')
        wait_until('the probes seeing two busy', lambda: pool_status(k).get('autoscaling', {}).get('busy') == 2)
        # Nothing asks for idle runners any more: only the idle one goes.
        k.ok('apply', '-f', pool(0))
        wait_until('the idle runner gone', lambda: replicas() == busy)
        time.sleep(2)
        expect(replicas() == busy, f'the busy runners are never stopped: {replicas()}')
        st = pool_status(k)
        expect(st['desiredReplicas'] == 2 and 'no job queued, 2 busy' in st['autoscaling']['cause'], f'{st}')
        # The jobs end: the probes say idle, and the pool goes to zero.
        for name in busy:
            docker('exec', name, 'rm', '/tmp/job-running')
        wait_until('no runner left', lambda: replicas() == [], timeout=60)
    finally:
        c.stop()
        k.run('delete', 'runnerpool', 'ci')
        k.run('controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)


class QueueServer:
    """A CI system's queue on loopback: GET /queue answers {"pending": N} and
    /api/v1/query answers as Prometheus does; both want the bearer token."""

    def __init__(self, token):
        import http.server
        import threading
        self.depth, self.token, self.seen = 0, token, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.seen.append(self.path)
                if self.headers.get('Authorization') != 'Bearer ' + server.token:
                    self.send_response(401)
                    self.end_headers()
                    return
                if self.path.startswith('/api/v1/query?'):
                    body = {'status': 'success', 'data': {'resultType': 'vector', 'result': [
                        {'metric': {}, 'value': [time.time(), str(server.depth)]}]}}
                else:
                    body = {'pending': server.depth}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def a_polled_queue_depth_scales_the_pool():
    token = 'queue-token-not-for-logs'
    server = QueueServer(token)
    k = Keelson(binary)
    k.write('token', token + '\n')

    def pool(queue):
        return k.write('queued.yaml', (
            'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n'
            f'  autoscaling:\n    maxReplicas: 6\n    scaleDownDelay: 0s\n    queue: {{{queue}, interval: 1s, bearerTokenFile: token}}\n'
            f'  template:\n    image: {IMAGE}\n    command: [sleep, "3600"]\n    stopTimeout: 1s\n'))

    k.ok('apply', '-f', pool(f'url: {server.url}/queue, jsonPath: "{{.pending}}"'))
    c = Controller(k)
    try:
        wait_until('the first poll', lambda: pool_status(k).get('autoscaling', {}).get('queueDepth') == 0)
        server.depth = 4
        wait_until('four runners', lambda: len(replicas()) == 4)
        expect('queue depth 4' in pool_status(k)['autoscaling']['cause'], f'{pool_status(k)}')
        # Prometheus: the same depth from an instant query.
        server.depth = 2
        k.ok('apply', '-f', pool(f'url: {server.url}, prometheusQuery: "sum(ci_jobs_waiting)"'))
        wait_until('two runners', lambda: len(replicas()) == 2)
        expect(any(p.startswith('/api/v1/query?query=sum%28ci_jobs_waiting%29') for p in server.seen),
               f'{server.seen[-3:]}')
        # The queue goes away: the last depth stands and the failure is said.
        server.stop()
        wait_until('the failure in status', lambda: 'queueError' in pool_status(k).get('autoscaling', {}))
        time.sleep(2)
        expect(len(replicas()) == 2, f'the runners stay: {replicas()}')
        expect(re.search(r'QueuePollFailed +runnerpool/ci +GET http://127\.0\.0\.1:\d+/api/v1/query: ', k.ok('events')),
               k.ok('events'))
        with open(os.path.join(k.dir, 'controller.log')) as f:
            everything = f.read() + k.ok('events') + k.ok('get', 'runnerpool', 'ci', '-o', 'yaml')
        expect(token not in everything, 'the token is never printed')
    finally:
        c.stop()
        k.run('delete', 'runnerpool', 'ci')
        k.run('controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)


def github_runners_register_just_in_time_run_one_job_each_and_are_cleaned_up():
    from github_standin import GitHubStandIn, RUNNER_SCRIPT
    k = Keelson(binary)
    k.write('secret', SECRET + '\n')
    os.makedirs(os.path.join(k.dir, 'github'))
    gh = GitHubStandIn(os.path.join(k.dir, 'github'))
    k.ok('apply', '-f', k.write('pool.yaml', json.dumps({
        'apiVersion': 'keelson.dev/v1alpha1', 'kind': 'RunnerPool', 'metadata': {'name': 'ci'},
        'spec': {
            'ephemeral': True,
            'autoscaling': {'maxReplicas': 30, 'scaleDownDelay': '0s'},
            'github': {'url': gh.url, 'labels': ['linux', 'x64'], 'webhookSecretFile': 'secret',
                       'app': {'appID': 12345, 'installationID': 678, 'privateKeyFile': 'github/app.pem'},
                       'caFile': 'github/ca.pem'},
            'template': {'image': IMAGE, 'command': ['sh', '-c', RUNNER_SCRIPT], 'stopTimeout': '1s',
                         'binds': [{'hostPath': gh.state_dir, 'mountPath': '/state'}]}}})))
    port = free_port()
    c = Controller(k, '--api-listen', f'127.0.0.1:{port}')
    try:
        hooks = Hooks(k, port)
        gh.deliver = lambda action, job, runner: hooks.send(action, job, runner=runner,
                                                            repo=gh.url + '/example-workflow')

        def jobs(state):
            with gh.lock:
                return sum(1 for j in gh.jobs if j['state'] == state)

        # 30 jobs queued: a runner each, registered for it alone, one job each.
        for job in range(1, 31):
            gh.queue(job, duration=2)
        wait_until('jobs running', lambda: jobs('in_progress') >= 5, timeout=120)
        one = replicas()[0]
        seen = json.loads(docker('inspect', one))[0]['Config']
        env = dict(e.split('=', 1) for e in seen['Env'])
        expect(env.get('ACTIONS_RUNNER_INPUT_JITCONFIG') in gh.jit_configs, 'the JIT configuration is in the environment')
        expect(seen['Labels'].get('dev.keelson.github-runner-id', '').isdigit(), f'{seen["Labels"]}')
        wait_until('30 jobs completed', lambda: jobs('completed') == 30, timeout=300)
        with gh.lock:
            runners_used = {j['runner'] for j in gh.jobs}
        expect(len(runners_used) == 30, f'30 runners ran one job each: {len(runners_used)}')
        wait_until('no runner left', lambda: replicas() == [], timeout=120)
        wait_until('no registration left', lambda: not gh.runners, timeout=60)
        expect(len(gh.jit_configs) >= 30, f'{len(gh.jit_configs)} configurations')
        expect(gh.jwts_verified >= 1 and gh.refusals == [], f'{gh.jwts_verified} {gh.refusals[:3]}')

        # GitHub away while three jobs run: the runners are never touched.
        for job in range(31, 34):
            gh.queue(job, duration=20)
        wait_until('three jobs running', lambda: jobs('in_progress') == 3, timeout=120)
        running = replicas()
        gh.down = True
        time.sleep(12)  # past the runner watcher's interval (10s)
        expect(replicas() == running, f'runners untouched while GitHub is away: {running} -> {replicas()}')
        gh.down = False
        wait_until('the three jobs completed', lambda: jobs('completed') == 33, timeout=120)
        wait_until('no runner left', lambda: replicas() == [], timeout=120)
        wait_until('no registration left', lambda: not gh.runners, timeout=60)

        with open(os.path.join(k.dir, 'controller.log')) as f:
            everything = f.read() + k.ok('events') + k.ok('get', 'runnerpool', 'ci', '-o', 'yaml')
        with open(gh.app_key) as f:
            key_line = f.read().splitlines()[1]
        for secret in [*gh.jit_configs, *gh.tokens, key_line, SECRET]:
            expect(secret not in everything, 'no JIT configuration, token or key is printed')
    finally:
        c.stop()
        gh.stop()
        k.run('delete', 'runnerpool', 'ci')
        k.run('controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)


run_tests([
    a_pool_follows_the_job_queue_and_keeps_busy_runners,
    github_runners_register_just_in_time_run_one_job_each_and_are_cleaned_up,
    a_busy_probe_keeps_runners_that_say_they_are_busy,
    a_polled_queue_depth_scales_the_pool,
])
