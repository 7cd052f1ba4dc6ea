#!/usr/bin/env python3
"""Secrets against a real engine and registry: registry credentials that
arrive (every password length), that go only to the registry they name, and
values read from files that never show in events, describe, plan, logs or
the store.

    secrets_test.py KEELSON_BINARY

Exits 77 (skipped) without the isolated engine and registry of
scripts/test-engine.sh (DOCKER_HOST set, its network namespace present).
"""
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402

NETNS = os.environ.get('KEELSON_ENGINE_NETNS', 'keelson-test')
if not os.environ.get('DOCKER_HOST') or not os.path.exists(f'/run/netns/{NETNS}'):
    print('DOCKER_HOST is not set or no isolated engine: skipping the secrets tests')
    sys.exit(77)

binary = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
REGISTRY = '127.0.0.1:5000'
IMAGE = 'keelson-test/busybox:1'


def docker(*args, check=True):
    p = subprocess.run(['docker', *args], capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f'docker {" ".join(args)}: {p.stderr}')
    return p.stdout.strip()


class Proxy:
    """registry_proxy.py in the engine's namespace, in front of the test registry."""

    def __init__(self, k, port, password=None):
        self.log = os.path.join(k.dir, f'proxy-{port}.log')
        open(self.log, 'w').close()
        self.password_file = os.path.join(k.dir, f'proxy-{port}.password')
        args = [sys.executable, os.path.join(HERE, 'registry_proxy.py'), str(port), REGISTRY, self.log]
        if password is not None:
            self.set_password(password)
            args += ['ci', self.password_file]
        self.p = subprocess.Popen(['nsenter', f'--net=/run/netns/{NETNS}'] + args)
        deadline = time.time() + 10
        while time.time() < deadline:
            probe = subprocess.run(['nsenter', f'--net=/run/netns/{NETNS}', 'curl', '-s', '-o', '/dev/null',
                                    '-w', '%{http_code}', f'http://127.0.0.1:{port}/v2/'],
                                   capture_output=True, text=True)
            if probe.stdout in ('200', '401'):
                return
            time.sleep(0.1)
        raise AssertionError(f'registry proxy on {port} did not start')

    def set_password(self, password):
        with open(self.password_file, 'w') as f:
            f.write(password + '\n')

    def seen(self):
        with open(self.log) as f:
            return [line.rstrip('\n').split(' ', 2) for line in f if line.strip()]

    def stop(self):
        self.p.kill()
        self.p.wait()


def push_test_image(repo):
    docker('tag', IMAGE, f'{REGISTRY}/{repo}:1')
    docker('push', f'{REGISTRY}/{repo}:1')
    docker('rmi', f'{REGISTRY}/{repo}:1')


def image(name, ref, registry, password_file):
    return (f'---\napiVersion: keelson.dev/v1alpha1\nkind: Image\nmetadata: {{name: {name}}}\n'
            f'spec:\n  ref: {ref}\n  pullPolicy: Always\n'
            f'  auth: {{registry: "{registry}", username: ci, passwordFile: {password_file}}}\n')


def converge(k, timeout='60s'):
    return k.run('controller', '--once', '--timeout', timeout, '--listen', 'off', timeout=180)


def registry_credentials_arrive_whatever_the_password_length():
    k = Keelson(binary)
    push_test_image('secret-test/auth')
    proxy = Proxy(k, 5101, password='x')
    try:
        # The JSON's length mod 3 decides whether unpadded base64 decodes on Docker 20.10.
        for length in (16, 17, 18, 19):
            password = ('P' * length)
            proxy.set_password(password)
            k.write('pw', password + '\n')
            ref = f'127.0.0.1:5101/secret-test/auth:1'
            docker('rmi', ref, check=False)
            k.ok('apply', '-f', k.write('i.yaml', image('auth', ref, '127.0.0.1:5101', 'pw')))
            rc, out, err = converge(k)
            expect(rc == 0, f'password of {length}: pulled with credentials: {rc}\n{err[-3000:]}')
            expect(docker('image', 'inspect', ref, '--format', '{{.Id}}', check=False) != '', f'{length}: present')
            creds = {c for _, _, c in proxy.seen() if c != '-'}
            expect(f'ci:{password}' in creds, f'{length}: the registry received the credentials: {creds}')
        expect('PPPPPPPPPPPPPPPP' not in k.ok('describe', 'image', 'auth') + k.ok('events'),
               'the password is never printed')
    finally:
        proxy.stop()


def credentials_go_only_to_the_registry_they_name():
    k = Keelson(binary)
    push_test_image('secret-test/bound')
    elsewhere = Proxy(k, 5102)
    try:
        k.write('pw', 'TOPSECRET-PASSWORD\n')
        rc, _, err = k.run('apply', '-f', k.write('i.yaml', image('bound', '127.0.0.1:5102/secret-test/bound:1',
                                                                   '127.0.0.1:5101', 'pw')))
        expect(rc == 1 and 'spec.auth.registry' in err and 'cannot be used for spec.ref' in err,
               f'apply refuses credentials for another registry: {rc} {err}')
        # A store written by other means (an older keelson, a hand edit): the controller refuses too.
        k.ok('apply', '-f', k.write('i.yaml', image('bound', '127.0.0.1:5101/secret-test/bound:1',
                                                    '127.0.0.1:5101', 'pw')))
        with sqlite3.connect(k.db) as db:
            db.execute("UPDATE objects SET spec = json_set(spec, '$.ref', '127.0.0.1:5102/secret-test/bound:1')")
        rc, out, err = converge(k, '10s')
        expect(rc == 1, f'not Ready: {rc}')
        sent = [c for _, _, c in elsewhere.seen() if c != '-']
        expect(sent == [], f'credentials were sent to a registry they are not for: {sent}')
        expect('TOPSECRET' not in err + out, 'never printed')
    finally:
        elsewhere.stop()


def values_from_files_are_never_printed_or_stored():
    k = Keelson(binary)
    ns = 'it-secret-env'
    token = k.write('token', 'S3CR3T-OLD-4242\n')
    path = k.write('r.yaml', f'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {{name: sec, namespace: {ns}}}\n'
                             f'spec:\n  image: {IMAGE}\n  command: [sleep, "3600"]\n  stopTimeout: 1s\n'
                             f'  env:\n    - {{name: TOKEN, valueFrom: {{file: token}}}}\n'
                             f'    - {{name: LEVEL, value: info}}\n')
    try:
        k.ok('apply', '-f', path)
        rc, out1, err1 = converge(k)
        expect(rc == 0, err1)
        with open(token, 'w') as f:
            f.write('S3CR3T-NEW-9999\n')
        rc, plan, perr = k.run('-n', ns, 'plan')
        expect(rc == 1 and 'env[TOKEN] changed' in plan, f'plan names the variable: {plan} {perr}')
        rc, out2, err2 = converge(k)
        expect(rc == 0, err2)
        env = docker('inspect', f'{ns}.sec', '--format', '{{json .Config.Env}}')
        expect('S3CR3T-NEW-9999' in env, 'the container got the new value')
        seen = {'plan': plan + perr, 'controller': out1 + err1 + out2 + err2,
                'events': k.ok('-n', ns, 'events'),
                'describe': k.ok('-n', ns, 'describe', 'runner', 'sec'),
                'get -o yaml': k.ok('-n', ns, 'get', 'runner', 'sec', '-o', 'yaml')}
        for what in ('-wal', ''):
            if os.path.exists(k.db + what):
                with open(k.db + what, 'rb') as f:
                    seen['store file' + what] = f.read().decode('latin-1')
        for where, text in seen.items():
            for secret in ('S3CR3T-OLD-4242', 'S3CR3T-NEW-9999'):
                expect(secret not in text, f'{secret} printed or stored in {where}')
        expect('env[TOKEN] changed' in seen['events'], 'the event says which variable changed: ' + seen['events'])
    finally:
        docker('rm', '-f', f'{ns}.sec', check=False)


def hostile_paths_are_refused_before_anything_is_stored():
    k = Keelson(binary)
    for spec, field in (('env: [{name: T, valueFrom: {file: ../../../../../../etc/shadow}}]', 'spec.env[0].valueFrom.file'),
                        ('env: [{name: T, valueFrom: {file: /etc/shadow}}]', 'spec.env[0].valueFrom.file')):
        rc, out, err = k.run('apply', '-f', k.write('r.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Runner\n'
                                                              f'metadata: {{name: r}}\nspec:\n  image: {IMAGE}\n  {spec}\n'))
        expect(rc == 1 and field in err and 'outside the manifest' in err and 'r.yaml:6:' in err, f'{rc} {err}')
        expect(k.run('get', 'runners')[0] != 0 or 'r ' not in k.ok('get', 'runners'), 'nothing stored')
    rc, _, err = k.run('apply', '-f', k.write('i.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Image\n'
                                                        'metadata: {name: b}\nspec:\n  ref: x/b:1\n  build: {context: ../}\n'))
    expect(rc == 1 and 'spec.build.context' in err, err)
    # Allowed on purpose, with KEELSON_ALLOWED_PATHS.
    os.makedirs(os.path.join(k.dir, '..', os.path.basename(k.dir) + '-secrets'), exist_ok=True)
    outside = os.path.abspath(os.path.join(k.dir, '..', os.path.basename(k.dir) + '-secrets'))
    with open(os.path.join(outside, 't'), 'w') as f:
        f.write('x\n')
    p = subprocess.run([binary, '--db', k.db, 'apply', '-f', k.write('r.yaml', 'apiVersion: keelson.dev/v1alpha1\n'
                        f'kind: Runner\nmetadata: {{name: r}}\nspec:\n  image: {IMAGE}\n'
                        f'  env: [{{name: T, valueFrom: {{file: {outside}/t}}}}]\n')],
                       capture_output=True, text=True, env={**os.environ, 'KEELSON_ALLOWED_PATHS': outside})
    expect(p.returncode == 0, p.stderr)


def docker_login_credentials_pull_without_a_password_file():
    """An Image without spec.auth pulls with what `docker login` stored for
    its registry: config.json's auths, or a credential helper."""
    import base64
    import json
    k = Keelson(binary)
    push_test_image('secret-test/login')
    proxy = Proxy(k, 5104, password='LOGIN-PASSWORD-1')
    ref = '127.0.0.1:5104/secret-test/login:1'
    cfg = os.path.join(k.dir, 'dockercfg')
    os.makedirs(os.path.join(cfg, 'bin'))

    def converge_with(config):
        with open(os.path.join(cfg, 'config.json'), 'w') as f:
            json.dump(config, f)
        docker('rmi', ref, check=False)
        env = {**os.environ, 'DOCKER_CONFIG': cfg, 'PATH': os.path.join(cfg, 'bin') + ':' + os.environ['PATH']}
        return subprocess.run([binary, '--db', k.db, 'controller', '--once', '--timeout', '30s', '--listen', 'off'],
                              capture_output=True, text=True, timeout=120, env=env, cwd=k.dir)

    try:
        k.ok('apply', '-f', k.write('i.yaml', '---\napiVersion: keelson.dev/v1alpha1\nkind: Image\nmetadata: {name: login}\n'
                                      f'spec:\n  ref: {ref}\n  pullPolicy: Always\n'))
        p = converge_with({})
        expect(p.returncode != 0 and docker('image', 'inspect', ref, '--format', '{{.Id}}', check=False) == '',
               f'no credentials: refused: {p.returncode} {p.stderr[-1500:]}')
        expect('no basic auth credentials' in p.stderr and 'engine unreachable' not in p.stderr,
               f'named as what it is: {p.stderr[-1500:]}')
        auth = base64.b64encode(b'ci:LOGIN-PASSWORD-1').decode()
        p = converge_with({'auths': {'http://127.0.0.1:5104': {'auth': auth}}})
        expect(p.returncode == 0, f'auths: {p.stderr[-2000:]}')
        expect(('ci:LOGIN-PASSWORD-1') in {c for _, _, c in proxy.seen()}, 'the registry received them')
        # A credential helper, as docker-credential-pass or -secretservice would answer.
        proxy.set_password('HELPER-PASSWORD-2')
        helper = os.path.join(cfg, 'bin', 'docker-credential-testing')
        with open(helper, 'w') as f:
            f.write('#!/bin/sh\nread server\n[ "$server" = 127.0.0.1:5104 ] || exit 1\n'
                    'echo \'{"ServerURL":"127.0.0.1:5104","Username":"ci","Secret":"HELPER-PASSWORD-2"}\'\n')
        os.chmod(helper, 0o755)
        p = converge_with({'credHelpers': {'127.0.0.1:5104': 'testing'}, 'auths': {'127.0.0.1:5104': {'auth': auth}}})
        expect(p.returncode == 0, f'credHelpers win over auths: {p.stderr[-2000:]}')
        printed = p.stdout + p.stderr + k.ok('events') + k.ok('describe', 'image', 'login')
        expect('PASSWORD' not in printed, 'never printed')
    finally:
        proxy.stop()


run_tests([
    registry_credentials_arrive_whatever_the_password_length,
    credentials_go_only_to_the_registry_they_name,
    values_from_files_are_never_printed_or_stored,
    hostile_paths_are_refused_before_anything_is_stored,
    docker_login_credentials_pull_without_a_password_file,
])
