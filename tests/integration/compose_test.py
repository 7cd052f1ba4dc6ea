#!/usr/bin/env python3
"""keelson convert against docker-compose on a real engine: the parity
project (tests/compose/parity) is checked against the Compose
Specification schema by Debian's docker-compose 1.29, converted by keelson,
converged by the keelson controller, and the containers compared field by
field with those docker-compose creates from the same file: image, command,
environment, mounts, ports, healthcheck, restart policy, network aliases and
the host settings. Then every field that does not carry over is said.

    compose_test.py KEELSON_BINARY

Exits 77 (skipped) without the isolated engine of scripts/test-engine.sh or
without docker-compose.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_tests import docker, skip_without_isolated_engine  # noqa: E402

skip_without_isolated_engine('compose')
if not shutil.which('docker-compose'):
    print('docker-compose is not installed: skipping the compose tests')
    sys.exit(77)

binary = os.path.abspath(sys.argv[1])
PARITY = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'compose', 'parity')


def compose(*args, cwd):
    p = subprocess.run(['docker-compose', '-p', 'parity', *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f'docker-compose {" ".join(args)}: {p.stderr}'
    return p.stdout


def inspect(names):
    return {n: json.loads(docker('inspect', n))[0] for n in names}


def normalized(c, service, volume_prefix):
    """What both tools must agree on, in one shape."""
    cfg, host = c['Config'], c['HostConfig']
    env = sorted(e for e in cfg.get('Env') or [])
    mounts, tmpfs = [], set((host.get('Tmpfs') or {}).keys())
    for m in c.get('Mounts') or []:
        if m['Type'] == 'tmpfs':  # compose's long syntax makes a mount of what keelson asks as Tmpfs
            tmpfs.add(m['Destination'])
            continue
        source = m.get('Name', '') if m['Type'] == 'volume' else m.get('Source', '')
        if m['Type'] == 'volume' and source.startswith(volume_prefix):
            source = source[len(volume_prefix):]
        mounts.append((m['Type'], m['Destination'], m.get('RW', True), source))
    aliases = {}
    for net, settings in (c['NetworkSettings'].get('Networks') or {}).items():
        short = c['Id'][:12]
        name = net.split('_', 1)[-1].split('.', 1)[-1]  # parity_front / parity.front
        aliases[name] = sorted(a for a in settings.get('Aliases') or []
                               if a not in (short, cfg.get('Hostname'), c['Name'].lstrip('/')))
    labels = {k: v for k, v in (cfg.get('Labels') or {}).items()
              if not k.startswith(('com.docker.compose.', 'dev.keelson.'))}
    return {
        'cmd': cfg.get('Cmd'), 'entrypoint': cfg.get('Entrypoint'), 'env': env,
        'working_dir': cfg.get('WorkingDir'), 'user': cfg.get('User'),
        # the engine's default host name is the container's short id
        'hostname': None if cfg.get('Hostname') == c['Id'][:12] else cfg.get('Hostname'),
        'healthcheck': cfg.get('Healthcheck'), 'labels': labels,
        'ports': host.get('PortBindings') or {}, 'mounts': sorted(mounts), 'tmpfs': sorted(tmpfs),
        'aliases': aliases, 'extra_hosts': host.get('ExtraHosts'), 'dns': host.get('Dns'),
        'init': host.get('Init'), 'shm_size': host.get('ShmSize'), 'ulimits': host.get('Ulimits'),
        'sysctls': host.get('Sysctls'), 'cap_drop': host.get('CapDrop'), 'read_only': host.get('ReadonlyRootfs'),
        'security_opt': sorted('no-new-privileges' if o.startswith('no-new-privileges') else o
                               for o in host.get('SecurityOpt') or []),
        'log_config': host.get('LogConfig'),
        'memory': host.get('Memory'), 'nano_cpus': host.get('NanoCpus'), 'pids': host.get('PidsLimit'),
        'stop_timeout': cfg.get('StopTimeout') or 10,  # the engine's default when unset
    }


def the_converted_project_runs_as_docker_compose_runs_it():
    k = Keelson(binary)
    project = os.path.join(k.dir, 'parity')
    shutil.copytree(PARITY, project)
    compose('config', '-q', cwd=project)  # valid by the Compose Specification schema

    # keelson: convert, apply, converge.
    out = k.ok('convert', '-f', os.path.join(project, 'compose.yaml'), '-p', 'parity', '-o', '-')
    k.ok('apply', '-f', '-', stdin=out.encode())
    try:
        rc, _, err = k.run('controller', '--once', '--timeout', '180s', '--listen', 'off', timeout=240)
        expect(rc == 0, err)
        ours = inspect(['parity.web', 'parity.db'])
        objects = json.loads(k.ok('get', 'runners', '-n', 'parity', '-o', 'json'))['items']
        spec = {o['metadata']['name']: o['spec'] for o in objects}
    finally:
        k.run('delete', '-f', '-', stdin=out.encode())
        rc, _, err = k.run('controller', '--once', '--timeout', '120s', '--listen', 'off', timeout=180)
    expect(rc == 0, err)

    # docker-compose on the same file.
    compose('up', '-d', '--build', cwd=project)
    try:
        theirs = inspect(['parity_web_1', 'parity_db_1'])
        restart = {s: theirs[f'parity_{s}_1']['HostConfig']['RestartPolicy']['Name'] for s in ('web', 'db')}
    finally:
        compose('down', '-v', cwd=project)

    for service in ('web', 'db'):
        a = normalized(ours[f'parity.{service}'], service, 'parity.')
        b = normalized(theirs[f'parity_{service}_1'], service, 'parity_')
        diff = {key: (a[key], b[key]) for key in a if a[key] != b[key]}
        expect(not diff, f'{service}: keelson vs docker-compose differ: {json.dumps(diff, indent=1)}')
    # keelson restarts containers itself (with a backoff); the policy it holds is compose's.
    expect(spec['web']['restartPolicy'] == 'Always' and restart['web'] == 'always', f'{spec["web"]} {restart}')
    expect(spec['db']['restartPolicy'] == 'OnFailure' and restart['db'] == 'on-failure', f'{spec["db"]} {restart}')


def what_does_not_carry_over_is_said_at_its_place():
    k = Keelson(binary)
    path = k.write('compose.yaml', (
        'services:\n'
        '  web:\n'
        '    image: keelson-test/busybox:1\n'
        '    container_name: web1\n'
        '    domainname: example.com\n'
        '    stop_signal: SIGINT\n'
        '    devices: [/dev/fuse]\n'
        '    volumes: [/anonymous]\n'
        '    restart: on-failure:3\n'
        '    network_mode: host\n'))
    rc, out, err = k.run('convert', '-f', path)
    lines = err.strip().splitlines()
    expect(rc == 1 and out == '', f'{rc} {out}')
    for field, where in [('container_name', '4:5'), ('devices', '7:5'), ('domainname', '5:5'),
                         ('network_mode', '10:5'), ('restart', '9:5'), ('stop_signal', '6:5'),
                         ('volumes[0]', '8:15')]:
        expect(any(line.startswith(f'{path}:{where}: services.web.{field}: not supported by keelson: ')
                   for line in lines), f'{field} at {where}: {lines}')
    expect(lines[-1] == '7 field(s) do not carry over; nothing was written (--allow-unsupported converts the rest)',
           lines[-1])


run_tests([
    the_converted_project_runs_as_docker_compose_runs_it,
    what_does_not_carry_over_is_said_at_its_place,
])
