#!/usr/bin/env python3
"""The everyday kubectl and docker verbs against a real engine: logs (a
runner's, a pool's with every replica prefixed, followed, and the finished
runs a pool keeps), exec (exit codes, stdin, a TTY), top, and what describe
and get -o wide say of a pool's replicas; DOCKER_HOST=ssh:// through an sshd
on loopback. The world is checked with the docker CLI.

    habits_test.py KEELSON_BINARY

Exits 77 (skipped) without the isolated engine of scripts/test-engine.sh.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_tests import Controller, docker, skip_without_isolated_engine, wait_until  # noqa: E402
import git_servers  # noqa: E402

skip_without_isolated_engine('habits')

binary = os.path.abspath(sys.argv[1])
IMAGE = 'keelson-test/busybox:1'


def runner(name, script, extra=''):
    return (f'---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {{name: {name}}}\n'
            f'spec:\n  image: {IMAGE}\n  command: [sh, -c, {script!r}]\n{extra}')


def pool(name, replicas, script, extra=''):
    return (f'---\napiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {{name: {name}}}\n'
            f'spec:\n  replicas: {replicas}\n{extra}  template:\n    image: {IMAGE}\n'
            f'    command: [sh, -c, {script!r}]\n')


def converge(k):
    rc, out, err = k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)
    expect(rc == 0, f'converge: {rc}\n{err[-2000:]}')


def cleanup(k):
    k.run('delete', '--all', 'runners')
    k.run('delete', '--all', 'runnerpools')
    k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)


def logs_of_a_runner_as_docker_logs_shows_them():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', runner('talker', 'echo one; echo two >&2; echo three; sleep 3600')))
    try:
        converge(k)
        wait_until('three lines', lambda: 'three' in docker('logs', 'default.talker'))
        out = k.ok('logs', 'runner/talker')
        expect(sorted(out.splitlines()) == ['one', 'three', 'two'], f'stdout and stderr, as docker logs: {out!r}')
        expect(k.ok('logs', 'talker') == out, 'a bare name is a runner, as a bare name is a pod for kubectl')
        last = k.ok('logs', 'runner', 'talker', '--tail', '1')
        expect(last in ('three\n', 'two\n'), f'--tail 1: the last line (stdout and stderr race): {last!r}')
        stamped = k.ok('logs', 'runner/talker', '--timestamps').splitlines()
        expect(len(stamped) == 3 and all(re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ', line) for line in stamped),
               f'--timestamps: RFC 3339 first: {stamped}')
        expect(k.ok('logs', 'runner/talker', '--since-time', '2999-01-01T00:00:00Z') == '', 'nothing after the future')
        expect(k.ok('logs', 'runner/talker', '--prefix').startswith('[default.talker] '), '--prefix')
        rc, _, err = k.run('logs', 'runner/talker', '--previous')
        expect(rc == 1 and 'runnerpool' in err, f'--previous is for pools: {rc} {err}')
        rc, _, err = k.run('logs', 'runner/absent')
        expect(rc == 1 and 'runner "absent" not found' in err, err)
        rc, _, err = k.run('logs', 'image/x')
        expect(rc == 2 and 'one runner or runnerpool' in err, err)
        rc, _, err = k.run('logs', 'talker', '--since', 'soon')
        expect(rc == 2 and '--since' in err, err)
    finally:
        cleanup(k)


def a_pools_logs_follow_every_replica_and_keep_finished_runs():
    k = Keelson(binary)
    script = 'echo "starting $HOSTNAME"; sleep 2; echo "cannot register runner: bad token" >&2; exit 1'
    k.ok('apply', '-f', k.write('p.yaml', pool('ci', 2, script,
                                               '  ephemeral: true\n  failedRunsHistoryLimit: 2\n')))
    ctl = Controller(k)
    try:
        follow = subprocess.Popen([k.binary, '--db', k.db, 'logs', '-f', 'runnerpool/ci'], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, cwd=k.dir)
        time.sleep(9)
        follow.send_signal(signal.SIGINT)
        out, err = follow.communicate(timeout=20)
        lines = out.splitlines()
        names = {m.group(1) for line in lines for m in [re.match(r'^\[(default\.ci\.[a-z0-9]{5})\] ', line)] if m}
        expect(all(re.match(r'^\[default\.ci\.[a-z0-9]{5}\] ', line) for line in lines) and lines,
               f'every line says its replica: {lines}')
        expect(len(names) >= 3, f'replicas that came after the first two were followed too: {names}\n{out}')
        expect(any(line.endswith('cannot register runner: bad token') for line in lines), out)
        # The runs are gone from the engine; their output is kept.
        gone = [n for n in names if docker('ps', '-a', '-q', '--filter', f'name=^{n}$').strip() == '']
        expect(gone, f'some followed replicas were removed after their run: {names}')
        previous = k.ok('logs', 'runnerpool/ci', '--previous').splitlines()
        kept = {line.split(']')[0][1:] for line in previous}
        expect(len(kept) == 2, f'failedRunsHistoryLimit 2: two runs kept: {previous}')
        expect(all(n in names for n in kept) and any('bad token' in line for line in previous), f'{previous}')
        expect(k.ok('logs', 'runnerpool/ci', '--previous', '--tail', '1').count('bad token') == 2, 'tail per run')
        events = k.ok('events', 'runnerpool/ci')
        expect(re.search(r'RunFailed .*exit code 1; it printed last: cannot register runner: bad token', events),
               f'the failure event says what the run printed last: {events}')
    finally:
        ctl.stop()
        cleanup(k)


def exec_runs_in_the_container_and_passes_the_exit_code():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', runner('box', 'sleep 3600') + pool('boxes', 2, 'sleep 3600')))
    try:
        converge(k)
        rc, out, err = k.run('exec', 'runner/box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3')
        expect((rc, out) == (3, 'out\n') and 'err\n' in err and 'command terminated with exit code 3' in err,
               f'{rc} {out!r} {err!r}')
        expect(k.ok('exec', 'box', '--', 'hostname').strip() == docker('inspect', '-f', '{{.Config.Hostname}}',
                                                                      'default.box').strip(), 'in that container')
        expect(k.ok('exec', '-i', 'runner/box', '--', 'wc', '-c', stdin=b'x' * 100000).strip() == '100000',
               'stdin is passed whole, and its end closes the command\'s input')
        rc, out, err = k.run('exec', '-t', 'runner/box', '--', 'tty')
        expect(rc == 1 and 'Unable to use a TTY' in err, f'-t without a terminal: warned, run without: {rc} {err}')
        p = subprocess.run(['script', '-qec', f'{k.binary} --db {k.db} exec -it runner/box -- tty', '/dev/null'],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        expect('/dev/pts/' in p.stdout, f'-it on a terminal: the command has one: {p.stdout!r} {p.stderr!r}')
        replica = k.ok('exec', 'runnerpool/boxes', '--', 'hostname').strip()
        ids = docker('ps', '-q', '--no-trunc', '--filter', 'label=dev.keelson.name=boxes').split()
        expect(any(i.startswith(replica) for i in ids), f'a pool: one of its replicas: {replica} {ids}')
        rc, _, err = k.run('exec', 'runner/box', '--', 'no-such-binary')
        expect(rc == 126 or rc == 127, f'{rc} {err}')
        docker('stop', '-t', '0', 'default.box')
        rc, _, err = k.run('exec', 'runner/box', '--', 'true')
        expect(rc == 1 and 'no running container' in err, f'{rc} {err}')
        rc, _, err = k.run('exec', 'runner/box')
        expect(rc == 2 and 'needs a command' in err, err)
    finally:
        cleanup(k)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def top_metrics_and_wide_output_name_each_container():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', runner('spin', 'while :; do :; done') + runner('idle', 'sleep 3600') +
                                pool('pair', 2, 'sleep 3600')))
    port = free_port()
    log = open(os.path.join(k.dir, 'controller.log'), 'w')
    ctl = subprocess.Popen([k.binary, '--db', k.db, 'controller', '--listen', f'127.0.0.1:{port}'],
                           stdout=log, stderr=subprocess.STDOUT, cwd=k.dir)
    try:
        k.ok('wait', '--for=condition=Ready', 'runner/spin', 'runner/idle', 'runnerpool/pair', '--timeout', '60s')
        time.sleep(1)
        out = k.ok('top', 'runners', '--sort-by', 'cpu')
        rows = [line.split() for line in out.splitlines()]
        expect(rows[0] == ['NAME', 'CPU(cores)', 'MEMORY(bytes)'], out)
        expect([r[0] for r in rows[1:]] == ['spin', 'idle'], f'--sort-by cpu: the busy one first: {out}')
        spin_m = int(rows[1][1].rstrip('m'))
        expect(spin_m >= 300 and rows[1][1].endswith('m') and rows[1][2].endswith('Mi'), f'a spinning shell: {out}')
        expect(int(rows[2][1].rstrip('m')) < 100, f'sleep uses next to no CPU: {out}')
        # The same container as docker stats sees it: busy.
        docker_cpu = float(docker('stats', '--no-stream', '--format', '{{.CPUPerc}}', 'default.spin').strip().rstrip('%'))
        expect(docker_cpu > 30, f'docker stats agrees: {docker_cpu}')
        pools = k.ok('top', 'runnerpools', 'pair', '--containers', '--no-headers').splitlines()
        expect(len(pools) == 2 and all(re.match(r'^pair\s+default\.pair\.[a-z0-9]{5}\s+\d+m\s+\d+Mi$', p) for p in pools),
               f'a row per replica: {pools}')
        # /metrics: each container, by its object (sampled once scraped).
        import urllib.request
        url = f'http://127.0.0.1:{port}/metrics'
        text = ''
        deadline = time.time() + 20
        while time.time() < deadline and 'name="spin"' not in text:
            text = urllib.request.urlopen(url, timeout=5).read().decode()
            time.sleep(0.5)
        m = re.search(r'keelson_container_cpu_usage_seconds_total\{kind="Runner",namespace="default",name="spin",'
                      r'container="default.spin"\} ([0-9.e+]+)', text)
        expect(m and float(m.group(1)) > 0.5, f'the spinning runner\'s CPU time: {text[-2000:]}')
        expect(re.search(r'keelson_container_memory_working_set_bytes\{kind="RunnerPool",namespace="default",'
                         r'name="pair",container="default.pair.[a-z0-9]{5}"\} [1-9]', text), 'a replica\'s memory')
        expect('keelson_container_restarts_total{kind="Runner",namespace="default",name="idle",container="default.idle"} 0'
               in text, 'restarts')
        # get -o wide and describe name the containers and their states.
        wide = k.ok('get', 'runnerpools', '-o', 'wide')
        names = sorted(docker('ps', '--format', '{{.Names}}', '--filter', 'label=dev.keelson.name=pair').split())
        expect('CONTAINERS' in wide and ','.join(f'{n}(running)' for n in names) in wide, f'{names}\n{wide}')
        described = k.ok('describe', 'runnerpool', 'pair')
        expect(all(re.search(rf'{n}\s+running\s+Up ', described) for n in names), described)
    finally:
        ctl.send_signal(signal.SIGINT)
        ctl.wait(timeout=30)
        cleanup(k)


def rollout_restart_history_and_undo_to_a_revision():
    k = Keelson(binary)
    spec = lambda v: pool('rsvc', 2, 'sleep 3600', '').replace('    command:', f'    env: [{{name: V, value: "{v}"}}]\n    command:')
    k.ok('apply', '-f', k.write('p.yaml', spec(1) + runner('one', 'sleep 3600')))
    try:
        converge(k)
        ids = lambda label: sorted(docker('ps', '-q', '--no-trunc', '--filter', f'label=dev.keelson.name={label}').split())
        before_pool, before_runner = ids('rsvc'), ids('one')
        expect(len(before_pool) == 2 and len(before_runner) == 1, f'{before_pool} {before_runner}')
        out = k.ok('rollout', 'restart', 'runnerpool/rsvc', 'runner/one')
        expect(out == 'runnerpool/rsvc restarted\nrunner/one restarted\n', out)
        plan = k.run('plan')[1]
        expect('restartedAt (unset) -> ' in plan and '(rollout restart)' in plan, f'the plan says why: {plan}')
        converge(k)
        after_pool, after_runner = ids('rsvc'), ids('one')
        expect(len(after_pool) == 2 and not set(after_pool) & set(before_pool), f'every replica replaced: {after_pool}')
        expect(after_runner and after_runner != before_runner, 'the runner\'s container replaced')
        env = lambda: {docker('inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', i).count('V=2') for i in ids('rsvc')}
        k.ok('apply', '-f', k.write('p.yaml', spec(2)))
        converge(k)
        expect(env() == {1}, 'on V=2')
        history = k.ok('rollout', 'history', 'runnerpool/rsvc')
        expect(history.splitlines()[:2] == ['runnerpool/rsvc', 'REVISION   CHANGE-CAUSE'] and
               re.search(r'^2\s+keelson rollout restart$', history, re.M), history)
        expect('value: "1"' in k.ok('rollout', 'history', 'runnerpool/rsvc', '--revision', '1'), 'revision 1 was V=1')
        k.ok('rollout', 'undo', 'runnerpool/rsvc', '--to-revision', '1')
        converge(k)
        expect(env() == {0} and len(ids('rsvc')) == 2, 'back on V=1')
        rc, _, err = k.run('rollout', 'undo', 'runnerpool/rsvc', '--to-revision', '99')
        expect(rc == 1 and 'revision 99' in err, err)
    finally:
        cleanup(k)


def json_logs_carry_structured_fields():
    import json
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', runner('structured', 'sleep 3600')))
    try:
        rc, out, err = k.run('--log-format', 'json', '--log-level', 'debug', 'controller', '--once', '--timeout', '60s',
                             '--listen', 'off', timeout=120)
        expect(rc == 0, err[-2000:])
        lines = [json.loads(line) for line in err.splitlines() if line.startswith('{')]
        expect(lines and all({'time', 'level', 'msg'} <= set(line) for line in lines), 'every line is a JSON object')
        created = [line for line in lines if line.get('reason') == 'Created']
        expect(created and created[0]['kind'] == 'Runner' and created[0]['namespace'] == 'default' and
               created[0]['name'] == 'structured' and created[0]['action'] == 'create container default.structured',
               f'an action\'s line names its object, action and reason: {created}')
        timed = [line for line in lines if 'duration_ms' in line]
        expect(timed and all(line['duration_ms'] >= 0 and line['name'] == 'structured' for line in timed), f'{timed}')
        # Outside a reconcile, no stale fields stick to a line.
        expect(all('kind' not in line for line in lines if line['msg'].startswith('leader')), 'no leaked fields')
    finally:
        cleanup(k)


def docker_contexts_pick_the_engine_as_the_docker_cli_does():
    import hashlib
    import json
    k = Keelson(binary)
    cfg = os.path.join(k.dir, 'dockercfg')
    meta = os.path.join(cfg, 'contexts', 'meta', hashlib.sha256(b'eng').hexdigest())
    os.makedirs(meta)
    with open(os.path.join(meta, 'meta.json'), 'w') as f:
        json.dump({'Name': 'eng', 'Metadata': {}, 'Endpoints': {'docker': {'Host': os.environ['DOCKER_HOST']}}}, f)
    base = {key: v for key, v in os.environ.items() if key != 'DOCKER_HOST'}

    def version(**env):
        return subprocess.run([k.binary, 'version'], capture_output=True, text=True, timeout=60,
                              env={**base, 'DOCKER_CONFIG': cfg, **env})

    # The same context the docker CLI reads: both reach the test engine.
    p = version(DOCKER_CONTEXT='eng')
    expect(p.returncode == 0, f'{p.returncode} {p.stderr}')
    d = subprocess.run(['docker', 'version', '--format', '{{.Server.Version}}'], capture_output=True, text=True,
                       env={**base, 'DOCKER_CONFIG': cfg, 'DOCKER_CONTEXT': 'eng'})
    expect(d.returncode == 0 and d.stdout.strip() in p.stdout, f'the same engine: {d.stdout!r} in {p.stdout!r}')
    with open(os.path.join(cfg, 'config.json'), 'w') as f:
        json.dump({'currentContext': 'eng'}, f)
    expect(version().returncode == 0, 'currentContext in config.json')
    p = version(DOCKER_CONTEXT='nope')
    expect(p.returncode == 1 and 'context "nope": context not found' in p.stderr, f'{p.returncode} {p.stderr}')
    p = version(DOCKER_CONTEXT='nope', DOCKER_HOST=os.environ['DOCKER_HOST'])
    expect(p.returncode == 0, 'DOCKER_HOST wins over the context, as in the docker CLI')


def once_shows_progress_as_plain_lines_off_a_terminal():
    k = Keelson(binary)
    # Unhealthy at its first check, healthy from the second: a while not Ready.
    k.ok('apply', '-f', k.write('r.yaml', runner('slowstart', 'sleep 3600',
                                                  '  healthcheck: {test: [CMD, sh, -c, "test -f /tmp/ok || '
                                                  '(touch /tmp/ok; exit 1)"], interval: 1s, retries: 1}\n')))
    try:
        rc, out, err = k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)
        expect(rc == 0 and out == 'converged: every object is Ready\n', f'{rc} {out!r}')
        lines = [line for line in err.splitlines() if line.startswith('progress: ')]
        expect(lines and all(re.match(r'^progress: 0 of 1 Ready; waiting: runner/slowstart \(\w+\)$', line) for line in lines),
               f'a plain line each time what waits changes: {err}')
        expect(all(a != b for a, b in zip(lines, lines[1:])), f'never the same line twice in a row: {lines}')
        expect('\x1b[' not in err + out, 'no terminal codes off a terminal')
    finally:
        cleanup(k)


def start_sshd(workdir, remote_docker_host):
    """An sshd on loopback (git_servers.Sshd) whose key's sessions get the
    remote side's DOCKER_HOST, and an `ssh` first on PATH that uses that key
    (and logs its arguments): the `ssh` keelson runs, as the docker CLI runs it."""
    sshd = git_servers.Sshd(workdir, environment=f'DOCKER_HOST={remote_docker_host}')
    with open(os.path.join(workdir, 'ssh_config'), 'w') as f:
        f.write(f'Host *\n  IdentityFile {sshd.client_key}\n  IdentitiesOnly yes\n  UserKnownHostsFile /dev/null\n'
                '  StrictHostKeyChecking no\n  LogLevel ERROR\n')
    bindir = os.path.join(workdir, 'bin')
    os.makedirs(bindir)
    with open(os.path.join(bindir, 'ssh'), 'w') as f:
        f.write(f'#!/bin/sh\necho "$@" >> {workdir}/ssh-args\nexec /usr/bin/ssh -F {workdir}/ssh_config "$@"\n')
    os.chmod(os.path.join(bindir, 'ssh'), 0o755)
    return sshd, bindir


def docker_host_ssh_reaches_the_engine_through_dial_stdio():
    k = Keelson(binary)
    engine = os.environ['DOCKER_HOST']
    sshd, bindir = start_sshd(k.dir, engine)
    port, user = sshd.port, sshd.user
    runtime = os.path.join(k.dir, 'runtime')
    os.makedirs(runtime, mode=0o700)
    with_path = f'ssh://{user}@127.0.0.1:{port}{engine[len("unix://"):]}'
    bare = f'ssh://{user}@127.0.0.1:{port}'

    def keelson(host, *args, stdin=None):
        env = {**os.environ, 'DOCKER_HOST': host, 'PATH': bindir + ':' + os.environ['PATH'],
               'XDG_RUNTIME_DIR': runtime}
        p = subprocess.run([k.binary, '--db', k.db, *args], input=stdin, capture_output=True, text=True,
                           timeout=120, env=env, cwd=k.dir)
        return p.returncode, p.stdout, p.stderr

    def ssh_processes():
        out = subprocess.run(['pgrep', '-f', f'{k.dir}/ssh_config'], capture_output=True, text=True).stdout
        return out.split()

    try:
        server = docker('version', '--format', '{{.Server.Version}}').strip()
        rc, out, err = keelson(with_path, 'version')
        expect(rc == 0 and f'Engine Version:   {server}' in out, f'the socket path form: {rc} {out} {err}')
        with open(os.path.join(k.dir, 'ssh-args')) as f:
            args = f.read().splitlines()
        expect(args[-1] == f'-o ConnectTimeout=30 -T -l {user} -p {port} -- 127.0.0.1 docker '
                           f'--host={engine} system dial-stdio', f'ssh run as the docker CLI runs it: {args}')

        # No path: the remote side's own DOCKER_HOST. Converge, then look.
        k.write('r.yaml', runner('overssh', 'echo started; sleep 3600'))
        k.ok('apply', '-f', os.path.join(k.dir, 'r.yaml'))
        rc, out, err = keelson(bare, 'controller', '--once', '--timeout', '60s', '--listen', 'off')
        expect(rc == 0, f'converge over ssh: {rc} {err[-2000:]}')
        expect(docker('inspect', '-f', '{{.State.Running}} {{index .Config.Labels "dev.keelson.managed-by"}}',
                      'default.overssh').strip() == 'true keelson', 'the container runs, keelson\'s')
        rc, out, err = keelson(bare, 'exec', '-i', 'runner/overssh', '--', 'sh', '-c', 'cat; exit 4', stdin='through ssh\n')
        expect(rc == 4 and out == 'through ssh\n', f'exec over ssh: stdin, stdout, exit code: {rc} {out!r} {err}')
        wait_until('its log', lambda: 'started' in docker('logs', 'default.overssh'))
        rc, out, err = keelson(bare, 'logs', 'runner/overssh')
        expect(rc == 0 and out == 'started\n', f'logs over ssh: {rc} {out!r} {err}')
        wait_until('every ssh gone', lambda: not ssh_processes(), timeout=10)
        expect(os.listdir(runtime) == [], f'the bridge\'s socket is removed: {os.listdir(runtime)}')

        # What the user sees when ssh cannot get there.
        closed = free_port()
        rc, out, err = keelson(f'ssh://{user}@127.0.0.1:{closed}', 'version')
        expect(rc == 1 and err.strip().endswith(f'ssh exited with status 255: ssh: connect to host 127.0.0.1 port '
                                                f'{closed}: Connection refused'), f'{rc} {err}')
        rc, out, err = keelson(f'ssh://{user}@127.0.0.1:{port}/no/such.sock', 'version')
        expect(rc == 1 and 'dial unix /no/such.sock' in err and len(err.strip().splitlines()) == 1, f'{rc} {err}')
        rc, out, err = keelson(f'ssh://{user}:secret@127.0.0.1:{port}', 'version')
        expect(rc != 0 and 'plain-text password is not supported' in err and 'secret' not in err.replace(
            f'{user}:secret@', ''), f'{rc} {err}')
    finally:
        keelson(bare, 'delete', '--all', 'runners')
        keelson(bare, 'controller', '--once', '--timeout', '60s', '--listen', 'off')
        sshd.stop()


run_tests([
    logs_of_a_runner_as_docker_logs_shows_them,
    a_pools_logs_follow_every_replica_and_keep_finished_runs,
    exec_runs_in_the_container_and_passes_the_exit_code,
    top_metrics_and_wide_output_name_each_container,
    rollout_restart_history_and_undo_to_a_revision,
    json_logs_carry_structured_fields,
    docker_contexts_pick_the_engine_as_the_docker_cli_does,
    once_shows_progress_as_plain_lines_off_a_terminal,
    docker_host_ssh_reaches_the_engine_through_dial_stdio,
])
