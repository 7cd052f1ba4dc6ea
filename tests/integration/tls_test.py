#!/usr/bin/env python3
"""The engine client over TCP with TLS, as the docker CLI reads it
(DOCKER_HOST=tcp://..., DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH), against the
isolated engine's TLS port inside its network namespace.

    tls_test.py KEELSON_BINARY

Exits 77 (skipped) without the isolated engine of scripts/test-engine.sh.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402

ENGINE_DIR = os.environ.get('KEELSON_ENGINE_DIR', '/tmp/keelson-engine')
NETNS = os.environ.get('KEELSON_ENGINE_NETNS', 'keelson-test')
CERTS = os.path.join(ENGINE_DIR, 'tls')
if not os.path.exists(os.path.join(CERTS, 'cert.pem')) or not os.path.exists(f'/run/netns/{NETNS}'):
    print('no isolated engine with TLS (scripts/test-engine.sh start): skipping the TLS tests')
    sys.exit(77)

binary = os.path.abspath(sys.argv[1])


def keelson(k, *args, tls=True, cert_path=CERTS, host='tcp://127.0.0.1:2376'):
    """Runs keelson inside the engine's namespace, where its TLS port listens."""
    env = {k_: v for k_, v in os.environ.items() if not k_.startswith('DOCKER_')}
    env['DOCKER_HOST'] = host
    if tls:
        env['DOCKER_TLS_VERIFY'] = '1'
        env['DOCKER_CERT_PATH'] = cert_path
    cmd = ['nsenter', f'--net=/run/netns/{NETNS}', binary, '--db', k.db] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=k.dir)
    return p.returncode, p.stdout, p.stderr


def other_ca(directory):
    """A client certificate signed by a CA the engine does not trust."""
    run = lambda *a: subprocess.run(a, cwd=directory, check=True, capture_output=True)  # noqa: E731
    run('openssl', 'genrsa', '-out', 'ca-key.pem', '2048')
    run('openssl', 'req', '-x509', '-new', '-key', 'ca-key.pem', '-days', '1', '-subj', '/CN=rogue', '-out', 'ca.pem')
    run('openssl', 'genrsa', '-out', 'key.pem', '2048')
    run('openssl', 'req', '-new', '-key', 'key.pem', '-subj', '/CN=rogue-client', '-out', 'c.csr')
    run('openssl', 'x509', '-req', '-in', 'c.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
        '-days', '1', '-out', 'cert.pem')


def version_over_tls_negotiates():
    k = Keelson(binary)
    rc, out, err = keelson(k, 'version')
    expect(rc == 0, f'exit {rc}: {err}')
    expect('Negotiated API:   1.' in out, out)


def untrusted_certificates_are_refused():
    k = Keelson(binary)
    d = tempfile.mkdtemp(prefix='keelson-rogue-')
    try:
        other_ca(d)
        rc, out, err = keelson(k, 'version', cert_path=d)
        expect(rc == 1, f'a rogue CA is refused: exit {rc}\n{out}{err}')
        expect('error:' in err and err.count('\n') == 1, f'one error line: {err!r}')
    finally:
        shutil.rmtree(d)


def missing_certificates_are_a_clear_error():
    k = Keelson(binary)
    rc, _, err = keelson(k, 'version', cert_path='/nonexistent/keelson-certs')
    expect(rc != 0 and '/nonexistent/keelson-certs' in err, f'names the missing path: exit {rc}: {err}')


def plain_http_to_the_tls_port_fails_cleanly():
    k = Keelson(binary)
    rc, _, err = keelson(k, 'version', tls=False)
    expect(rc == 1 and err.startswith('error:'), f'exit {rc}: {err}')


def the_controller_converges_over_tls():
    k = Keelson(binary)
    ns = 'it-tls'
    k.write('r.yaml', f'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {{name: web, namespace: {ns}}}\n'
                      'spec: {image: keelson-test/busybox:1, command: [sleep, "3600"], stopTimeout: 1s}\n')
    k.ok('apply', '-f', os.path.join(k.dir, 'r.yaml'))
    try:
        rc, out, err = keelson(k, 'controller', '--once', '--timeout', '60s', '--listen', 'off')
        expect(rc == 0 and 'every object is Ready' in out, f'exit {rc}\n{out}{err}')
        rc, out, err = keelson(k, '-n', ns, 'plan')
        expect(rc == 0, f'plan over TLS: exit {rc}\n{out}{err}')
    finally:
        k.ok('-n', ns, 'delete', 'runner', 'web', '--force')
        keelson(k, 'controller', '--once', '--timeout', '20s', '--listen', 'off')  # sweeps the orphan


run_tests([
    version_over_tls_negotiates,
    untrusted_certificates_are_refused,
    missing_certificates_are_a_clear_error,
    plain_http_to_the_tls_port_fails_cleanly,
    the_controller_converges_over_tls,
])
