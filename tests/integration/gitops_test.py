#!/usr/bin/env python3
"""GitRepository against a real engine, with repositories the git CLI makes:
commit a fleet, converge, commit a change, commit a broken manifest (nothing
of it applied, the error names the file in the repository), fix it and
delete a file (pruned), a poll that finds nothing new writes nothing, and
deleting the source prunes what it applied. The world is checked with the
docker CLI.

    gitops_test.py KEELSON_BINARY

Exits 77 (skipped) without the isolated engine of scripts/test-engine.sh.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_tests import Controller, docker, skip_without_isolated_engine, wait_until  # noqa: E402
import git_servers  # noqa: E402

skip_without_isolated_engine('gitops')

binary = os.path.abspath(sys.argv[1])
IMAGE = 'keelson-test/busybox:1'
GIT = ['git', '-c', 'user.name=keelson-test', '-c', 'user.email=test@keelson.dev', '-c', 'init.defaultBranch=main']


def runner(name, script):
    return (f'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {{name: {name}}}\n'
            f'spec:\n  image: {IMAGE}\n  command: [sh, -c, {script!r}]\n')


class Repo:
    def __init__(self, path):
        self.path = path
        subprocess.run(GIT + ['init', '-q', path], check=True)

    def write(self, name, text):
        full = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'w') as f:
            f.write(text)

    def remove(self, name):
        os.remove(os.path.join(self.path, name))

    def commit(self, message):
        subprocess.run(GIT + ['-C', self.path, 'add', '-A'], check=True)
        subprocess.run(GIT + ['-C', self.path, 'commit', '-q', '-m', message], check=True)
        return subprocess.run(GIT + ['-C', self.path, 'rev-parse', 'HEAD'], capture_output=True, text=True,
                              check=True).stdout.strip()


def source(k, name='fleet'):
    return json.loads(k.ok('get', 'gitrepository', name, '-o', 'json'))


def stored_runners(k):
    return sorted(o['metadata']['name'] for o in json.loads(k.ok('get', 'runners', '-o', 'json'))['items'])


def a_fleet_follows_its_commits_whole_or_not_at_all():
    k = Keelson(binary)
    repo = Repo(os.path.join(k.dir, 'repo'))
    repo.write('fleet/a.yaml', runner('gita', 'echo a1; sleep 3600'))
    repo.write('fleet/more/b.yaml', runner('gitb', 'sleep 3600'))
    repo.write('README.md', 'not a manifest\n')
    first = repo.commit('fleet')
    k.ok('apply', '-f', k.write('src.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\n'
                                           'metadata: {name: fleet}\n'
                                           f'spec:\n  url: file://{repo.path}\n  path: ./fleet\n  interval: 1s\n'))
    c = Controller(k, '--api-listen', 'off')
    try:
        applied = lambda rev: lambda: source(k).get('status', {}).get('lastAppliedRevision') == f'main@sha1:{rev}'
        wait_until('the first revision', applied(first))
        wait_until('both containers', lambda: docker('inspect', '-f', '{{.State.Running}}', 'default.gita',
                                                     check=False).strip() == 'true' and
                   docker('inspect', '-f', '{{.State.Running}}', 'default.gitb', check=False).strip() == 'true')
        labels = json.loads(k.ok('get', 'runner', 'gita', '-o', 'json'))['metadata']['labels']
        expect(labels == {'gitrepository.keelson.dev/name': 'fleet', 'gitrepository.keelson.dev/namespace': 'default'},
               f'owned by the source: {labels}')
        ready = wait_until('Ready once its runners are', lambda: [
            c for c in source(k)['status']['conditions'] if c['type'] == 'Ready' and c['status'] == 'True'])[0]
        expect(ready['reason'] == 'Succeeded' and ready['message'] == f'Applied revision: main@sha1:{first}', f'{ready}')
        status = source(k)['status']
        expect(status['inventory'] == ['Runner/default/gita', 'Runner/default/gitb'], f'inventory: {status}')
        expect('healthCheck' not in status, f'the wait is over: {status}')
        row = k.ok('get', 'gitrepositories').splitlines()[1].split()
        expect(row[:5] == ['fleet', f'file://{repo.path}', f'main@sha1:{first}', 'True', 'Succeeded'],
               f'NAME URL REVISION READY STATUS: {row}')

        # A poll that finds the same commit writes nothing.
        rv = source(k)['metadata']['resourceVersion']
        time.sleep(3.5)
        expect(source(k)['metadata']['resourceVersion'] == rv, 'no store write for an unchanged revision')

        # A change: the container follows.
        repo.write('fleet/a.yaml', runner('gita', 'echo a2; sleep 3600'))
        second = repo.commit('change a')
        wait_until('the second revision', applied(second))
        wait_until('gita recreated', lambda: 'echo a2' in docker('inspect', '-f', '{{json .Config.Cmd}}', 'default.gita',
                                                                   check=False))

        # By hand: refused, unless forced; then the source puts its version back.
        hand = k.write('hand.yaml', runner('gita', 'echo by hand; sleep 3600'))
        rc, _, err = k.run('apply', '-f', hand)
        expect(rc == 1 and 'runner/gita is managed by gitrepository default/fleet: change it in git, or take it '
                           'with --force-conflicts' in err and err.startswith(hand + ':'), f'{rc} {err}')
        k.ok('apply', '-f', hand, '--force-conflicts')
        wait_until('the source puts gita back', lambda: 'echo a2' in json.dumps(
            json.loads(k.ok('get', 'runner', 'gita', '-o', 'json'))['spec']))
        expect('Restored' in k.ok('events', '--for', 'gitrepository/fleet'), 'an event says so')

        # A broken manifest: nothing of the revision is stored.
        repo.write('fleet/a.yaml', runner('gita', 'echo a3; sleep 3600'))
        repo.write('fleet/more/bad.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: bad}\n'
                                          'spec:\n  image: 5\n')
        broken = repo.commit('broken')
        refused = wait_until('the broken revision refused', lambda: (
            (s := source(k)['status']).get('lastAttemptedRevision') == f'main@sha1:{broken}' and s))
        ready = [c for c in refused['conditions'] if c['type'] == 'Ready'][0]
        expect(ready['status'] == 'False' and ready['reason'] == 'ValidationFailed', f'{ready}')
        expect(ready['message'].startswith('fleet/more/bad.yaml:5:10: spec.image: ') and
               ready['message'].endswith(f'(revision main@sha1:{broken})'), f'the file inside the repository: {ready}')
        stalled = [c for c in refused['conditions'] if c['type'] == 'Stalled'][0]
        expect(stalled['status'] == 'True', f'{stalled}')
        expect(refused['lastAppliedRevision'] == f'main@sha1:{second}', 'the previous revision keeps running')
        expect(stored_runners(k) == ['gita', 'gitb'], 'bad is not stored')
        expect("echo a3" not in json.dumps(json.loads(k.ok('get', 'runner', 'gita', '-o', 'json'))['spec']),
               'nor is the change to a in the same revision')
        expect(refused['history'][0]['result'] == 'ValidationFailed' and refused['history'][1]['result'] == 'Applied',
               f'history, newest first: {refused["history"]}')
        events = k.ok('events', '--for', 'gitrepository/fleet')
        expect('ValidationFailed' in events, events)

        # Fixed, and b deleted: applied, and b pruned.
        repo.remove('fleet/more/bad.yaml')
        repo.remove('fleet/more/b.yaml')
        fixed = repo.commit('fix; drop b')
        wait_until('the fixed revision', applied(fixed))
        wait_until('gitb pruned', lambda: stored_runners(k) == ['gita'])
        wait_until('gitb removed from the engine', lambda: docker('ps', '-aq', '-f', 'name=^default.gitb$').strip() == '')
        wait_until('gita runs revision 3', lambda: 'echo a3' in docker('inspect', '-f', '{{json .Config.Cmd}}',
                                                                       'default.gita', check=False))
        expect(source(k)['status']['inventory'] == ['Runner/default/gita'], 'inventory follows')

        # Deleting the source prunes what it applied.
        k.ok('delete', 'gitrepository', 'fleet')
        wait_until('gita gone with its source', lambda: stored_runners(k) == [])
        wait_until('its container too', lambda: docker('ps', '-aq', '-f', 'name=^default.gita$').strip() == '')
        expect(not os.path.exists(k.db + '.sources/default/fleet'), 'its mirror and worktree are removed')
    finally:
        c.stop()
        k.run('delete', '--all', 'runners')
        k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)


def fetch_failures_say_what_and_keep_what_runs():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('src.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\n'
                                           'metadata: {name: nowhere}\n'
                                           f'spec:\n  url: file://{k.dir}/absent\n  ref: {{tag: v1}}\n'))
    rc, out, err = k.run('controller', '--once', '--timeout', '5s', '--listen', 'off', timeout=60)
    expect(rc != 0, 'not Ready')
    status = source(k, 'nowhere')['status']
    ready = [c for c in status['conditions'] if c['type'] == 'Ready'][0]
    expect(ready['reason'] == 'FetchFailed' and ready['message'].startswith(f'git file://{k.dir}/absent: '),
           f'{ready}')
    expect('lastAppliedRevision' not in status, f'{status}')


def sync_asks_for_a_sync_now_and_waits_for_it():
    k = Keelson(binary)
    repo = Repo(os.path.join(k.dir, 'repo'))
    volume = 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {{name: {}}}\nspec: {{}}\n'
    repo.write('v.yaml', volume.format('gitv1'))
    first = repo.commit('one')
    k.ok('apply', '-f', k.write('src.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\n'
                                           'metadata: {name: slow}\n'
                                           f'spec:\n  url: {repo.path}\n  interval: 1h\n'))
    c = Controller(k, '--api-listen', 'off')
    try:
        wait_until('the first revision',
                   lambda: source(k, 'slow').get('status', {}).get('lastAppliedRevision') == f'main@sha1:{first}')
        repo.write('v.yaml', volume.format('gitv2'))
        second = repo.commit('two')
        rc, out, err = k.run('sync', 'gitrepository', 'slow', '--timeout', '60s', timeout=90)
        expect(rc == 0 and out == f'gitrepository/slow synced: Applied revision: main@sha1:{second}\n',
               f'at once, not in an hour: {rc} {out!r} {err}')
        names = sorted(o['metadata']['name'] for o in json.loads(k.ok('get', 'volumes', '-o', 'json'))['items']
                       if not o['metadata'].get('deletionTimestamp'))
        expect(names == ['gitv2'], f'gitv1 pruned, gitv2 applied: {names}')
        repo.write('v.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {name: Bad_Name}\nspec: {}\n')
        third = repo.commit('three')
        rc, out, err = k.run('sync', 'gitrepository/slow', '--timeout', '60s', timeout=90)
        expect(rc == 1 and err.startswith('error: gitrepository/slow: ValidationFailed: v.yaml:3:') and
               err.strip().endswith(f'(revision main@sha1:{third})'), f'{rc} {err!r}')
        rc, out, err = k.run('sync', 'gitrepository', 'absent')
        expect(rc == 1 and 'gitrepository/absent not found' in err, err)

        # Applied, but what it applied never becomes Ready: HealthCheckFailed, naming it.
        repo.write('v.yaml', volume.format('gitv4') + '---\n' +
                   runner('nopull', 'sleep 3600').replace(IMAGE, 'keelson-test/absent:1'))
        fourth = repo.commit('four')
        k.ok('patch', 'gitrepository', 'slow', '--type', 'merge', '-p', '{"spec": {"timeout": "3s"}}')
        rc, out, err = k.run('sync', 'gitrepository', 'slow', '--timeout', '60s', timeout=90)
        expect(rc == 1 and err.startswith(f'error: gitrepository/slow: HealthCheckFailed: revision main@sha1:{fourth} '
                                          'applied, but not Ready after 3s: runner/default/nopull ('), f'{rc} {err!r}')
        expect(source(k, 'slow')['status']['lastAppliedRevision'] == f'main@sha1:{fourth}', 'it is applied')
        expect('HealthCheckFailed' in k.ok('events', '--for', 'gitrepository/slow'), 'an event says so')
    finally:
        c.stop()
        k.run('delete', '--all', 'volumes')
        k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)


def a_semver_range_follows_releases():
    k = Keelson(binary)
    repo = Repo(os.path.join(k.dir, 'repo'))
    volume = 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {{name: {}}}\nspec: {{}}\n'
    repo.write('v.yaml', volume.format('release-a'))
    first = repo.commit('1.0')
    subprocess.run(GIT + ['-C', repo.path, 'tag', 'v1.0.0'], check=True)
    repo.write('v.yaml', volume.format('release-b'))
    repo.commit('unreleased work')  # on main, not tagged: not taken
    k.ok('apply', '-f', k.write('src.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\n'
                                           'metadata: {name: releases}\n'
                                           f'spec:\n  url: {repo.path}\n  ref: {{semver: "~1"}}\n  interval: 1h\n'))
    c = Controller(k, '--api-listen', 'off')
    try:
        rc, out, err = k.run('sync', 'gitrepository', 'releases', '--timeout', '60s', timeout=90)
        expect(rc == 0 and f'v1.0.0@sha1:{first}' in out, f'{rc} {out} {err}')
        repo.write('v.yaml', volume.format('release-c'))
        third = repo.commit('1.1')
        subprocess.run(GIT + ['-C', repo.path, 'tag', '-a', 'v1.1.0', '-m', 'release'], check=True)
        subprocess.run(GIT + ['-C', repo.path, 'tag', 'v2.0.0'], check=True)  # outside ~1
        rc, out, err = k.run('sync', 'gitrepository', 'releases', '--timeout', '60s', timeout=90)
        expect(rc == 0 and f'v1.1.0@sha1:{third}' in out, f'the highest release in range: {rc} {out} {err}')
        names = sorted(o['metadata']['name'] for o in json.loads(k.ok('get', 'volumes', '-o', 'json'))['items']
                       if not o['metadata'].get('deletionTimestamp'))
        expect(names == ['release-c'], f'{names}')
    finally:
        c.stop()
        k.run('delete', '--all', 'volumes')
        k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)


def report_mode_says_what_a_sync_would_change():
    k = Keelson(binary)
    repo = Repo(os.path.join(k.dir, 'repo'))
    volume = 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {{name: {}}}\nspec: {{labels: {{v: "{}"}}}}\n'
    repo.write('v.yaml', volume.format('reported', '1'))
    first = repo.commit('one')
    k.ok('apply', '-f', k.write('src.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\n'
                                           'metadata: {name: audit}\n'
                                           f'spec:\n  url: {repo.path}\n  mode: report\n  interval: 1h\n'))
    c = Controller(k, '--api-listen', 'off')
    try:
        rc, out, err = k.run('sync', 'gitrepository', 'audit', '--timeout', '60s', timeout=90)
        expect(rc == 1 and err.strip() == f'error: gitrepository/audit: DriftDetected: revision main@sha1:{first}: '
                                          '1 object(s) would change: volume/default/reported (absent)', f'{rc} {err!r}')
        expect(json.loads(k.ok('get', 'volumes', '-o', 'json'))['items'] == [], 'report stores nothing')
        k.ok('apply', '-f', k.write('hand.yaml', volume.format('reported', '1')))
        rc, out, err = k.run('sync', 'gitrepository', 'audit', '--timeout', '60s', timeout=90)
        expect(rc == 0 and out == f'gitrepository/audit synced: the store matches revision main@sha1:{first}\n',
               f'{rc} {out!r} {err}')
        repo.write('v.yaml', volume.format('reported', '2'))
        second = repo.commit('two')
        rc, out, err = k.run('sync', 'gitrepository', 'audit', '--timeout', '60s', timeout=90)
        expect(rc == 1 and f'main@sha1:{second}: 1 object(s) would change: volume/default/reported (differs)' in err,
               f'{rc} {err!r}')
        status = source(k, 'audit')['status']
        expect(status['drift'] == ['volume/default/reported (differs)'] and 'lastAppliedRevision' not in status,
               f'{status}')
        stored = json.loads(k.ok('get', 'volume', 'reported', '-o', 'json'))
        expect(stored['spec']['labels'] == {'v': '1'} and 'gitrepository.keelson.dev/name' not in
               stored['metadata'].get('labels', {}), f'untouched: {stored}')
    finally:
        c.stop()
        k.run('delete', '--all', 'volumes')
        k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)


def remotes_over_git_http_and_ssh_with_credentials():
    k = Keelson(binary)
    base = os.path.join(k.dir, 'served')
    repo = Repo(os.path.join(base, 'fleet.git'))
    for way in ('daemon', 'http', 'anonhttp', 'https', 'ssh'):
        repo.write(f'{way}/v.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\n'
                                    f'metadata: {{name: over{way}}}\nspec: {{}}\n')
    head = repo.commit('one')
    # A repository larger than the controller's --git-max-size (random bytes do not compress).
    big = Repo(os.path.join(base, 'big.git'))
    big.write('v.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {name: overbig}\nspec: {}\n')
    with open(os.path.join(big.path, 'blob.bin'), 'wb') as f:
        f.write(os.urandom(3 << 20))
    big.commit('big')
    # A repository whose branch names a commit that is not one.
    broken = Repo(os.path.join(base, 'broken.git'))
    broken.write('v.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {name: overbroken}\nspec: {}\n')
    broken.commit('fine')
    with open(os.path.join(k.dir, 'bogus'), 'w') as f:
        f.write('tree not-a-sha\nauthor nobody\n\nbroken\n')
    bogus = subprocess.run(GIT + ['-C', broken.path, 'hash-object', '-t', 'commit', '--literally', '-w',
                                  os.path.join(k.dir, 'bogus')], capture_output=True, text=True, check=True).stdout
    with open(os.path.join(broken.path, '.git', 'refs', 'heads', 'main'), 'w') as f:
        f.write(bogus)  # the git CLI refuses to write such a ref itself
    daemon, daemon_port = git_servers.git_daemon(base)
    http, http_port = git_servers.git_http(base, 'ci', 'tok3n-not-for-logs')
    anon, anon_port = git_servers.git_http(base)
    os.makedirs(os.path.join(k.dir, 'tls'))
    ca_file, cert_file, key_file = git_servers.tls_certificate(os.path.join(k.dir, 'tls'))
    k.write('creds/ca.pem', open(ca_file).read())
    https, https_port = git_servers.git_http(base, 'ci', 'tok3n-not-for-logs', tls=(cert_file, key_file))
    os.makedirs(os.path.join(k.dir, 'ssh'))
    sshd = git_servers.Sshd(os.path.join(k.dir, 'ssh'))
    k.write('creds/token', 'tok3n-not-for-logs\n')
    k.write('creds/wrong', 'nope\n')
    k.write('creds/known_hosts', sshd.known_hosts_line())
    k.write('creds/other_hosts', f'[127.0.0.1]:{sshd.port} ssh-ed25519 '
                                 'AAAAC3NzaC1lZDI1NTE5AAAAIEFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n')
    with open(sshd.client_key) as f:
        k.write('creds/id', f.read())

    def source(name, url, auth='', path=None):
        path = path or name[2:]
        return (f'---\napiVersion: keelson.dev/v1alpha1\nkind: GitRepository\nmetadata: {{name: {name}}}\n'
                f'spec:\n  url: {url}\n  path: {path}\n  interval: 1h\n  prune: false\n{auth}')
    ssh_url = f'ssh://{sshd.user}@127.0.0.1:{sshd.port}{repo.path}'
    import socket
    silent = socket.socket()  # accepts connections (the kernel does) and never answers
    silent.bind(('127.0.0.1', 0))
    silent.listen(8)
    k.ok('apply', '-f', k.write('sources.yaml', ''.join([
        source('bydaemon', f'git://127.0.0.1:{daemon_port}/fleet.git'),
        source('byhttp', f'http://127.0.0.1:{http_port}/fleet.git',
               '  auth: {username: ci, passwordFile: creds/token}\n'),
        source('byanonhttp', f'http://127.0.0.1:{anon_port}/fleet.git'),
        source('byhttps', f'https://localhost:{https_port}/fleet.git',
               '  auth: {username: ci, passwordFile: creds/token, caFile: creds/ca.pem}\n'),
        source('untrusted', f'https://localhost:{https_port}/fleet.git',
               '  auth: {username: ci, passwordFile: creds/token}\n', 'https'),
        source('huge', f'git://127.0.0.1:{daemon_port}/big.git', '', '.'),
        source('malformed', f'git://127.0.0.1:{daemon_port}/broken.git', '', '.'),
        source('badpassword', f'http://127.0.0.1:{http_port}/fleet.git',
               '  auth: {username: ci, passwordFile: creds/wrong}\n', 'http'),
        source('rival', f'git://127.0.0.1:{daemon_port}/fleet.git', '', 'daemon'),
        source('hung', f'http://127.0.0.1:{silent.getsockname()[1]}/fleet.git', '  timeout: 2s\n', 'http'),
        source('byssh', ssh_url, '  auth: {sshKeyFile: creds/id, knownHostsFile: creds/known_hosts}\n'),
        source('unknownhost', ssh_url, '  auth: {sshKeyFile: creds/id}\n', 'ssh'),
        source('changedhost', ssh_url, '  auth: {sshKeyFile: creds/id, knownHostsFile: creds/other_hosts}\n', 'ssh'),
    ])))
    c = Controller(k, '--api-listen', 'off', '--git-max-size', '2Mi')
    try:
        for name in ('bydaemon', 'byhttp', 'byanonhttp', 'byhttps', 'byssh'):
            rc, out, err = k.run('sync', 'gitrepository', name, '--timeout', '60s', timeout=90)
            expect(rc == 0 and out == f'gitrepository/{name} synced: Applied revision: main@sha1:{head}\n',
                   f'{name}: {rc} {out!r} {err}')
        for name, why in (('badpassword', 'FetchFailed: git http://127.0.0.1:%d/fleet.git: credentials refused' % http_port),
                          ('unknownhost', 'ssh needs spec.auth.knownHostsFile'),
                          ('changedhost', f'the host key of [127.0.0.1]:{sshd.port} does not match the known hosts'),
                          ('rival', 'volume/overdaemon is managed by gitrepository default/bydaemon, not '
                                    'gitrepository default/rival (two sources claim it)'),
                          ('hung', f'FetchFailed: git http://127.0.0.1:{silent.getsockname()[1]}/fleet.git: '
                                   'no answer within 2s'),
                          ('untrusted', f'FetchFailed: git https://localhost:{https_port}/fleet.git: '),
                          ('huge', f'FetchFailed: git git://127.0.0.1:{daemon_port}/big.git: the fetch passed the '
                                   'limit of 2Mi (received '),
                          ('malformed', f'FetchFailed: git git://127.0.0.1:{daemon_port}/broken.git: the remote '
                                        'broke off the transfer: ')):
            rc, out, err = k.run('sync', 'gitrepository', name, '--timeout', '60s', timeout=90)
            expect(rc == 1 and why in err, f'{name}: {rc} {err!r}')
        names = sorted(o['metadata']['name'] for o in json.loads(k.ok('get', 'volumes', '-o', 'json'))['items'])
        expect(names == ['overanonhttp', 'overdaemon', 'overhttp', 'overhttps', 'overssh'],
               f'one volume by each way: {names}')
        for name in ('unknownhost', 'changedhost', 'rival', 'untrusted', 'huge', 'malformed'):
            status = json.loads(k.ok('get', 'gitrepository', name, '-o', 'json'))['status']
            expect('lastAppliedRevision' not in status, f'{name} applied nothing: {status}')
        everything = k.ok('get', 'gitrepositories', '-o', 'yaml') + k.ok('events')
        with open(os.path.join(k.dir, 'controller.log')) as f:
            everything += f.read()
        expect('tok3n-not-for-logs' not in everything, 'the token is never printed')
    finally:
        c.stop()
        silent.close()
        daemon.terminate()
        for server in (http, anon, https):
            server.shutdown()
            server.server_close()
        sshd.stop()
        k.run('delete', '--all', 'volumes')
        k.run('controller', '--once', '--timeout', '60s', '--listen', 'off', timeout=120)


run_tests([
    a_fleet_follows_its_commits_whole_or_not_at_all,
    fetch_failures_say_what_and_keep_what_runs,
    sync_asks_for_a_sync_now_and_waits_for_it,
    a_semver_range_follows_releases,
    report_mode_says_what_a_sync_would_change,
    remotes_over_git_http_and_ssh_with_credentials,
])
