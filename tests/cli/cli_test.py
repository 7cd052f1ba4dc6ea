#!/usr/bin/env python3
"""CLI behaviour of the real binary against real SQLite stores: what each
command prints, its exit codes, and many keelson processes at once on one store.

    cli_test.py KEELSON_BINARY SAMPLES_DIR
"""
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

from harness import Keelson, expect, run_tests

binary, samples = sys.argv[1], os.path.abspath(sys.argv[2])


def runner(name, image='busybox:1', labels=None, annotations=None, env=None):
    meta = f'  name: {name}\n'
    if labels:
        meta += '  labels: ' + json.dumps(labels) + '\n'
    if annotations:
        meta += '  annotations: ' + json.dumps(annotations) + '\n'
    spec = f'  image: {image}\n'
    if env:
        spec += '  env: ' + json.dumps([{'name': k, 'value': v} for k, v in env.items()]) + '\n'
    return f'---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata:\n{meta}spec:\n{spec}'


def get_json(k, *args):
    return json.loads(k.ok('get', *args, '-o', 'json'))


def names(k, kind):
    return sorted(o['metadata']['name'] for o in get_json(k, kind)['items'])


def set_status(k, kind, name, status, live=True):
    """Plays the controller: an object with a status has reached the engine;
    with `live`, a running controller holds the store's lease."""
    with sqlite3.connect(k.db, timeout=30) as db:
        db.execute('UPDATE objects SET status = ? WHERE kind = ? AND name = ?', (json.dumps(status), kind, name))
        if live:
            db.execute("INSERT OR REPLACE INTO leases VALUES ('controller', 'cli-test', ?)",
                       (int(time.time() * 1000) + 3600 * 1000,))


# --- apply / get ------------------------------------------------------------

def apply_reports_created_configured_unchanged():
    k = Keelson(binary)
    path = k.write('web.yaml', runner('web'))
    expect(k.ok('apply', '-f', path).strip() == 'runner/web created', 'first apply')
    expect(k.ok('apply', '-f', path).strip() == 'runner/web unchanged', 'second apply')
    k.write('web.yaml', runner('web', env={'A': '1'}))
    expect(k.ok('apply', '-f', path).strip() == 'runner/web configured', 'changed spec')


def generation_counts_spec_changes_only():
    k = Keelson(binary)
    path = k.write('web.yaml', runner('web'))
    k.ok('apply', '-f', path)
    first = get_json(k, 'runner', 'web')['metadata']
    k.write('web.yaml', runner('web', labels={'team': 'ci'}))
    k.ok('apply', '-f', path)
    labelled = get_json(k, 'runner', 'web')['metadata']
    expect(labelled['generation'] == 1, f'a label change bumped generation: {labelled}')
    expect(int(labelled['resourceVersion']) > int(first['resourceVersion']), 'resourceVersion did not move')
    expect(labelled['uid'] == first['uid'], 'uid changed')
    k.write('web.yaml', runner('web', labels={'team': 'ci'}, env={'A': '1'}))
    k.ok('apply', '-f', path)
    expect(get_json(k, 'runner', 'web')['metadata']['generation'] == 2, 'a spec change did not bump generation')


def apply_from_stdin_and_directories():
    k = Keelson(binary)
    out = k.ok('apply', '-f', '-', stdin=runner('from-stdin').encode())
    expect(out.strip() == 'runner/from-stdin created', out)
    k.write('tree/a.yaml', runner('a'))
    k.write('tree/sub/b.yml', runner('b'))
    k.write('tree/notes.txt', 'not a manifest')
    k.ok('apply', '-f', os.path.join(k.dir, 'tree'))
    expect(names(k, 'runners') == ['a', 'from-stdin'], 'a directory without -R reads only its own files')
    k.ok('apply', '-R', '-f', os.path.join(k.dir, 'tree'))
    expect(names(k, 'runners') == ['a', 'b', 'from-stdin'], '-R reads subdirectories')


def apply_is_all_or_nothing():
    k = Keelson(binary)
    good = k.write('good.yaml', runner('good'))
    bad = k.write('bad.yaml', runner('bad') + '  bogus: 1\n')
    rc, out, err = k.run('apply', '-f', good, '-f', bad)
    expect(rc == 1 and 'bogus' in err, f'exit {rc}: {err}')
    rc, out, _ = k.run('get', 'runners', '-o', 'name')
    expect(out == '', f'something was stored: {out!r}')


def get_exit_codes_and_outputs():
    k = Keelson(binary)
    k.ok('apply', '-f', samples)
    rc, _, err = k.run('get', 'runner', 'missing')
    expect(rc == 1 and 'not found' in err, f'missing object: exit {rc} {err}')
    rc, _, err = k.run('get', 'gadgets')
    expect(rc == 2, f'unknown kind: exit {rc} {err}')
    rc, _, err = k.run('get', 'runners', '-l', 'a in (b')
    expect(rc == 2, f'bad selector: exit {rc} {err}')
    for word in ('runner', 'runners', 'rn', 'Runner'):
        expect(k.ok('get', word, '-o', 'name').strip() == 'runner/artifact-cache', f'kind word {word}')
    every = k.ok('get', 'all', '-o', 'name').split()
    expect(len(every) == 6 and 'runnerpool/ci-runners' in every, f'get all: {every}')
    table = k.ok('get', 'runnerpools')
    expect(table.splitlines()[0].split()[:6] == ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE'], table)
    doc = get_json(k, 'all')
    expect(doc['kind'] == 'List' and len(doc['items']) == 6, 'json list')
    expect(doc['items'][0]['spec'] is not None, 'json items carry spec')
    yaml_out = k.ok('get', 'runnerpool', 'ci-runners', '-o', 'yaml')
    expect('maxSurge: 1' in yaml_out, f'defaults shown by -o yaml:\n{yaml_out}')
    rc, _, _ = k.run('get', 'runners', '-n', 'elsewhere')
    expect(rc == 0, 'an empty namespace is not an error')
    # kubectl's habits: -o=name, several kinds at once, --no-headers, --show-labels.
    expect(k.ok('get', 'runners', '-o=name').strip() == 'runner/artifact-cache', '-o=name')
    both = k.ok('get', 'runners,pool,rn').split('\n\n')
    expect(len(both) == 2 and both[0].startswith('NAME') and 'runner/artifact-cache' in both[0]
           and 'runnerpool/ci-runners' in both[1], f'one table per kind, names with their kind:\n{both}')
    expect(sorted(k.ok('get', 'runnerpool,runner', '-o', 'name').split()) ==
           ['runner/artifact-cache', 'runnerpool/ci-runners'], 'several kinds -o name')
    rc, _, err = k.run('get', 'runners,gadgets')
    expect(rc == 2 and 'unknown kind "gadgets"' in err, err)
    bare = k.ok('get', 'runners', '--no-headers').splitlines()
    expect(len(bare) == 1 and bare[0].startswith('artifact-cache '), f'--no-headers: {bare}')
    labelled = k.ok('get', 'runners', '--show-labels').splitlines()
    expect(labelled[0].split()[-1] == 'LABELS' and labelled[1].split()[-1] ==
           'app.kubernetes.io/part-of=ci-fleet,team=ci', f'--show-labels: {labelled}')
    k.ok('apply', '-f', k.write('bare.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {name: bare}\nspec: {}\n'))
    expect(k.ok('get', 'volume', 'bare', '--show-labels').splitlines()[1].split()[-1] == '<none>', 'no labels')


def get_selectors():
    k = Keelson(binary)
    docs = ''.join(runner(f'r{i}', labels={'tier': t, **({'gpu': 'yes'} if i == 0 else {})})
                   for i, t in enumerate(['web', 'web', 'db', 'cache']))
    k.ok('apply', '-f', k.write('r.yaml', docs))
    cases = {
        'tier=web': ['r0', 'r1'], 'tier==db': ['r2'], 'tier!=web': ['r2', 'r3'],
        'tier in (db,cache)': ['r2', 'r3'], 'tier notin (web)': ['r2', 'r3'],
        'gpu': ['r0'], '!gpu': ['r1', 'r2', 'r3'], 'tier=web,!gpu': ['r1'],
    }
    for sel, want in cases.items():
        got = sorted(line.split('/')[1] for line in k.ok('get', 'runners', '-l', sel, '-o', 'name').split())
        expect(got == want, f'-l {sel!r}: {got} want {want}')


# --- describe / delete / diff / scale ---------------------------------------

def describe_shows_spec_and_events():
    k = Keelson(binary)
    k.ok('apply', '-f', samples)
    out = k.ok('describe', 'runner', 'artifact-cache')
    for want in ('Name:         artifact-cache', 'Spec:', 'Events:', 'Created'):
        expect(want in out, f'describe lacks {want!r}:\n{out}')
    rc, _, _ = k.run('describe', 'runner', 'nope')
    expect(rc == 1, 'describe of a missing object')
    # KIND alone: every object of the kind (with -l, the matching ones), as kubectl describe.
    k.ok('apply', '-f', k.write('v.yaml', ''.join(
        f'---\napiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {{name: v{i}, labels: {{n: "{i}"}}}}\nspec: {{}}\n'
        for i in range(3))))
    names = [l.split()[1] for l in k.ok('describe', 'volumes').splitlines() if l.startswith('Name:')]
    expect(names == ['build-cache', 'v0', 'v1', 'v2'], f'every volume: {names}')
    names = [l.split()[1] for l in k.ok('describe', 'volume', '-l', 'n in (0,2)').splitlines() if l.startswith('Name:')]
    expect(names == ['v0', 'v2'], f'selected volumes: {names}')
    rc, out, err = k.run('describe', 'volume', '-l', 'n=9')
    expect(rc == 0 and out == '' and 'No objects found' in err, f'none selected: {rc} {out} {err}')


def delete_removes_at_once_without_status_and_marks_with_it():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', runner('fresh') + runner('deployed')))
    set_status(k, 'Runner', 'deployed', {'observedGeneration': 1, 'conditions': []})
    k.ok('delete', 'runner', 'fresh', 'deployed')
    expect(names(k, 'runners') == ['deployed'], 'fresh should be gone, deployed kept')
    meta = get_json(k, 'runner', 'deployed')['metadata']
    expect('deletionTimestamp' in meta, f'deployed not marked: {meta}')
    rc, _, _ = k.run('delete', 'runner', 'deployed', '--wait', '--timeout', '300ms')
    expect(rc == 1, f'--wait with no controller must time out: exit {rc}')
    k.ok('delete', 'runner', 'deployed', '--force')
    expect(names(k, 'runners') == [], 'force delete')
    rc, _, _ = k.run('delete', 'runner', 'deployed')
    expect(rc == 1, 'deleting a missing object')
    k.ok('delete', 'runner', 'deployed', '--ignore-not-found')


def delete_by_file():
    k = Keelson(binary)
    k.ok('apply', '-f', samples)
    k.ok('delete', '-f', samples)
    expect(k.ok('get', 'all', '-o', 'name') == '', 'delete -f samples left objects')


def diff_follows_kubectl_exit_codes():
    k = Keelson(binary)
    path = k.write('web.yaml', runner('web'))
    rc, out, _ = k.run('diff', '-f', path)
    expect(rc == 1 and '+  name: web' in out, f'new object: exit {rc}\n{out}')
    k.ok('apply', '-f', path)
    rc, out, _ = k.run('diff', '-f', path)
    expect(rc == 0 and out == '', f'no change: exit {rc}\n{out}')
    k.write('web.yaml', runner('web', image='busybox:2'))
    rc, out, _ = k.run('diff', '-f', path)
    expect(rc == 1 and '-  image: busybox:1' in out and '+  image: busybox:2' in out, f'changed: exit {rc}\n{out}')
    rc, _, err = k.run('diff', '-f', k.write('bad.yaml', 'kind: [\n'))
    expect(rc == 2 and 'bad.yaml:' in err, f'bad input: exit {rc} {err}')


def scale_sets_replicas():
    k = Keelson(binary)
    k.ok('apply', '-f', samples)
    before = get_json(k, 'runnerpool', 'ci-runners')
    k.ok('scale', 'runnerpool', 'ci-runners', '--replicas', '7')
    after = get_json(k, 'runnerpool', 'ci-runners')
    expect(after['spec']['replicas'] == 7, 'replicas not set')
    expect(after['metadata']['generation'] == before['metadata']['generation'] + 1, 'scale bumps generation')
    rc, _, _ = k.run('scale', 'runnerpool', 'ci-runners', '--replicas', '-1')
    expect(rc in (1, 2), f'negative replicas accepted: exit {rc}')
    rc, _, _ = k.run('scale', 'runnerpool', 'nope', '--replicas', '1')
    expect(rc == 1, f'missing pool: exit {rc}')
    expect(get_json(k, 'runnerpool', 'ci-runners')['spec']['replicas'] == 7, 'a failed scale changed the pool')


# --- history / events / wait / prune / completion ---------------------------

def history_keeps_ten_revisions():
    k = Keelson(binary)
    path = os.path.join(k.dir, 'web.yaml')
    for i in range(12):
        k.write('web.yaml', runner('web', env={'I': str(i)}))
        k.ok('apply', '-f', path)
    rows = k.ok('history', 'runner', 'web').splitlines()[1:]
    expect([r.split()[0] for r in rows] == [str(g) for g in range(3, 13)], f'revisions: {rows}')
    expect(all(path in r for r in rows), 'history names the source file')
    old = k.ok('history', 'runner', 'web', '--revision', '4')
    expect('value: "3"' in old, f'revision 4 spec:\n{old}')


def events_record_what_happened():
    k = Keelson(binary)
    path = k.write('web.yaml', runner('web'))
    k.ok('apply', '-f', path)
    k.write('web.yaml', runner('web', env={'A': '1'}))
    k.ok('apply', '-f', path)
    k.ok('delete', 'runner', 'web')
    reasons = [line.split()[2] for line in k.ok('events').splitlines()[1:]]
    expect(reasons == ['Created', 'Configured', 'Deleted'], f'events: {reasons}')


def status_no_controller_maintains_is_called_stale():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('web.yaml', runner('web')))
    ready = {'observedGeneration': 1, 'conditions': [
        {'type': 'Ready', 'status': 'True', 'reason': 'Running', 'message': '', 'observedGeneration': 1,
         'lastTransitionTime': '2026-01-01T00:00:00Z'}]}
    set_status(k, 'Runner', 'web', ready, live=False)
    rc, out, err = k.run('get', 'runner', 'web')
    expect(rc == 0 and 'no controller is running for this store' in err, f'get says so: {err}')
    rc, out, err = k.run('describe', 'runner', 'web')
    expect(rc == 0 and 'status' in err and 'warning:' in err, f'describe says so: {err}')
    rc, out, err = k.run('wait', 'runner/web', '--for=condition=Ready', '--timeout', '500ms')
    expect(rc == 1, f'wait reported a condition no controller maintains: exit {rc}\n{out}{err}')
    expect('no controller' in err and 'condition met' not in out, out + err)
    k.ok('wait', 'runner/web', '--for=condition=Ready', '--timeout', '1s', '--allow-stale')
    # A controller whose lease ran out is no controller either.
    with sqlite3.connect(k.db, timeout=30) as db:
        db.execute("INSERT OR REPLACE INTO leases VALUES ('controller', 'host:1:2', ?)",
                   (int(time.time() * 1000) - 60 * 1000,))
    rc, _, err = k.run('get', 'runner', 'web')
    expect('no controller is running for this store (the last one was host:1:2)' in err, err)
    set_status(k, 'Runner', 'web', ready, live=True)
    rc, _, err = k.run('get', 'runner', 'web')
    expect(rc == 0 and 'warning' not in err, f'a live controller: no warning: {err}')


def deleting_a_network_or_volume_in_use_is_refused():
    k = Keelson(binary)
    net = '---\napiVersion: keelson.dev/v1alpha1\nkind: Network\nmetadata: {name: n}\nspec: {}\n'
    vol = '---\napiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {name: v}\nspec: {}\n'
    users = ('---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: r}\n'
             'spec: {image: busybox:1, networks: [{name: n}], volumes: [{name: v, mountPath: /v}]}\n'
             '---\napiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: p}\n'
             'spec: {replicas: 1, template: {image: busybox:1, networks: [{name: n}]}}\n')
    k.ok('apply', '-f', k.write('all.yaml', net + vol + users))
    rc, out, err = k.run('delete', 'network', 'n')
    expect(rc == 1, f'exit {rc}')
    expect('network/n is used by runner/r, runnerpool/p' in err and '--ignore-users' in err, err)
    rc, out, err = k.run('delete', 'volume/v', 'network/n')
    expect(rc == 1 and 'volume/v is used by runner/r' in err, err)
    expect(names(k, 'networks') == ['n'] and names(k, 'volumes') == ['v'], 'a refused delete changed the store')
    # Deleting the users in the same breath is fine, as is asking.
    k.ok('delete', 'runner/r', 'volume/v')
    k.ok('delete', 'network', 'n', '--ignore-users')
    expect(names(k, 'networks') == [], 'deleted when asked')


def wait_exit_codes():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('web.yaml', runner('web')))
    rc, _, err = k.run('wait', 'runner/web', '--for=condition=Ready', '--timeout', '300ms')
    expect(rc == 1 and 'timed out' in err, f'no controller: exit {rc} {err}')
    set_status(k, 'Runner', 'web', {'observedGeneration': 1, 'conditions': [
        {'type': 'Ready', 'status': 'True', 'reason': 'Running', 'message': '', 'observedGeneration': 1,
         'lastTransitionTime': '2026-01-01T00:00:00Z'}]})
    k.ok('wait', 'runner/web', '--for=condition=Ready', '--timeout', '5s')
    # A condition from an older generation does not count.
    k.ok('apply', '-f', k.write('web.yaml', runner('web', env={'A': '1'})))
    rc, _, _ = k.run('wait', 'runner/web', '--for=condition=Ready', '--timeout', '300ms')
    expect(rc == 1, 'a stale Ready condition satisfied wait')
    k.ok('wait', 'runner/gone', '--for=delete', '--timeout', '1s')
    rc, _, _ = k.run('wait', 'runner/web', '--for=bogus')
    expect(rc == 2, f'bad --for: exit {rc}')


def wait_sees_a_write_from_another_process():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('web.yaml', runner('web')))
    set_status(k, 'Runner', 'web', {'observedGeneration': 1})
    k.ok('delete', 'runner', 'web')
    waiter = subprocess.Popen([k.binary, '--db', k.db, 'wait', 'runner/web', '--for=delete', '--timeout', '20s'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    expect(waiter.poll() is None, 'wait returned before the object went')
    k.ok('delete', 'runner', 'web', '--force')
    expect(waiter.wait(timeout=20) == 0, 'wait --for=delete did not see the removal')


def prune_removes_exactly_what_the_files_lost():
    k = Keelson(binary)
    team = {'team': 'ci'}
    docs = ''.join([runner('a', labels=team), runner('b', labels=team),
                    runner('kept', labels=team, annotations={'keelson.dev/prune': 'disabled'}),
                    runner('other', labels={'team': 'web'})])
    k.ok('apply', '-f', k.write('all.yaml', docs))
    only_a = k.write('a.yaml', runner('a', labels=team))
    dry = k.ok('apply', '-f', only_a, '--prune', '-l', 'team=ci', '--dry-run')
    expect('runner/b pruned (dry run)' in dry and 'kept' not in dry and 'other' not in dry, dry)
    expect(names(k, 'runners') == ['a', 'b', 'kept', 'other'], 'dry run changed the store')
    out = k.ok('apply', '-f', only_a, '--prune', '-l', 'team=ci')
    expect('runner/b pruned' in out, out)
    expect(names(k, 'runners') == ['a', 'kept', 'other'], f'after prune: {names(k, "runners")}')
    rc, _, _ = k.run('apply', '-f', only_a, '--prune')
    expect(rc == 2, '--prune without -l is a usage error')


def missing_and_foreign_stores_are_named():
    k = Keelson(binary)
    missing = os.path.join(k.dir, 'nowhere', 'state.db')
    for args in (['get', 'runners'], ['describe', 'runner', 'web'], ['events'], ['history', 'runner', 'web'],
                 ['wait', 'runner/web', '--for=condition=Ready', '--timeout', '1s']):
        rc, out, err = k.run('--db', missing, *args, db=False)
        expect(rc == 1, f'{args}: exit {rc}')
        expect(f'no store at {missing}' in err, f'{args}: says there is no store: {err}')
    expect(not os.path.exists(os.path.dirname(missing)), 'a read-only command created the store directory')
    not_db = k.write('notes.db', 'these are my notes, not a database\n' * 100)
    rc, _, err = k.run('--db', not_db, 'get', 'runners', db=False)
    expect(rc == 1 and not_db in err and 'not a database' in err, f'names the file: exit {rc}: {err}')


def damaged_and_wrong_stores_are_named_by_every_command():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('w.yaml', ''.join(runner(f'w{i}') for i in range(200))))
    damaged = os.path.join(k.dir, 'damaged.db')
    with open(k.db, 'rb') as src, open(damaged, 'wb') as dst:
        data = bytearray(src.read())
        data[4096:4096 * 6] = b'\xde\xad' * (4096 * 5 // 2)  # pages 2-6; the header stays intact
        dst.write(data)
    cases = [(damaged, 'the file is damaged'), ('/dev/null', 'not a regular file')]
    for db, says in cases:
        for args in (['get', 'runners'], ['apply', '-f', k.dir + '/w.yaml'],
                     ['controller', '--api-listen', 'off', '--listen', 'off', '--docker-host', 'unix:///nonexistent.sock']):
            t0 = time.time()
            rc, out, err = k.run('--db', db, *args, db=False, timeout=30)
            lines = [l for l in err.splitlines() if l.startswith('error:')]
            expect(rc == 1, f'{db} {args[0]}: exit {rc}: {err}')
            expect(len(lines) == 1 and db in lines[0] and says in lines[0],
                   f'{db} {args[0]}: one line naming the store and what is wrong: {err}')
            expect(time.time() - t0 < 15, f'{db} {args[0]}: exits at once, never waits as a standby')
    with open(damaged, 'rb') as f:
        expect(f.read()[4096:4100] == b'\xde\xad\xde\xad', 'nothing was written over the damaged store')


def a_full_disk_is_named_and_stores_nothing():
    if os.geteuid() != 0:
        return  # needs a small file system of its own
    k = Keelson(binary)
    small = os.path.join(k.dir, 'small')
    os.makedirs(small)
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]).returncode != 0:
        return
    try:
        db = os.path.join(small, 'state.db')
        k.ok('--db', db, 'apply', '-f', k.write('one.yaml', runner('one')), db=False)
        many = k.write('many.yaml', ''.join(runner(f'w{i}', env={'PAD': 'x' * 200}) for i in range(2000)))
        rc, out, err = k.run('--db', db, 'apply', '-f', many, db=False)
        lines = [l for l in err.splitlines() if l.startswith('error:')]
        expect(rc == 1 and len(lines) == 1 and db in lines[0] and 'the disk is full' in lines[0], f'{rc}: {err}')
        rc, out, err = k.run('--db', db, 'get', 'runners', '-o', 'name', db=False)
        expect(rc == 0 and out.split() == ['runner/one'], f'all or nothing: {rc} {out} {err}')
    finally:
        subprocess.run(['umount', small])


def a_store_this_user_may_only_read_still_answers_reads():
    if os.geteuid() != 0:
        return  # needs another user to read root's store
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('w.yaml', runner('web')))
    os.chmod(k.dir, 0o755)
    as_nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', binary, '--db', k.db]
    for args in (['get', 'runners'], ['describe', 'runner', 'web'], ['events'], ['get', 'runner', 'web', '-o', 'json']):
        p = subprocess.run(as_nobody + args, capture_output=True, text=True, timeout=30)
        expect(p.returncode == 0, f'{args}: a reader of a store it may not write: {p.returncode} {p.stderr}')
    expect('web' in subprocess.run(as_nobody + ['get', 'runners'], capture_output=True, text=True).stdout, 'lists')
    p = subprocess.run(as_nobody + ['apply', '-f', k.dir + '/w.yaml'], capture_output=True, text=True, timeout=30)
    expect(p.returncode == 1 and k.db in p.stderr and 'cannot be written' in p.stderr,
           f'a write says what is wrong: {p.returncode} {p.stderr}')


def unknown_commands_are_named():
    k = Keelson(binary)
    for argv in (['logz', 'runner/x'], ['-n', 'ci', 'frobnicate']):
        rc, out, err = k.run(*argv)
        expect(rc == 2, f'{argv}: exit {rc}')
        expect(f'unknown command "{argv[-1] if argv[0] == "-n" else argv[0]}"' in err, f'{argv}: {err}')
        expect('apply' in err and 'rollout' in err, f'lists the commands: {err}')


def a_taken_listen_address_is_an_error():
    k = Keelson(binary)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    engine = '--docker-host=unix://' + os.path.join(k.dir, 'no-engine.sock')
    first = subprocess.Popen([k.binary, '--db', k.db, engine, 'controller', '--api-listen', 'off', '--listen', f'127.0.0.1:{port}'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            with socket.socket() as c:
                if c.connect_ex(('127.0.0.1', port)) == 0:
                    break
            time.sleep(0.05)
        other = os.path.join(k.dir, 'other.db')
        rc, _, err = k.run('--db', other, engine, 'controller', '--api-listen', 'off', '--listen', f'127.0.0.1:{port}', db=False, timeout=20)
        expect(rc == 1, f'a second controller on a taken address: exit {rc}: {err}')
        expect(f'cannot bind 127.0.0.1:{port}' in err, err)
    finally:
        first.terminate()
        first.wait(timeout=30)


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmRSS:'))


def http_get(port, path, timeout=1.0):
    """(status, seconds) of one GET on a fresh connection; (0, t) when it did not answer in time."""
    t0 = time.time()
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=timeout) as c:
            c.sendall(f'GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'.encode())
            data = c.recv(64)
        return int(data.split()[1]), time.time() - t0
    except (OSError, IndexError, ValueError):
        return 0, time.time() - t0


def the_listener_is_bounded_and_health_answers_under_hostile_load():
    k = Keelson(binary)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    engine = '--docker-host=unix://' + os.path.join(k.dir, 'no-engine.sock')
    ctl = subprocess.Popen([k.binary, '--db', k.db, engine, 'controller', '--api-listen', 'off', '--listen', f'127.0.0.1:{port}'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    held = []
    try:
        deadline = time.time() + 10
        while http_get(port, '/healthz')[0] != 200 and time.time() < deadline:
            time.sleep(0.05)
        before = rss_kib(ctl.pid)
        # A 300 MB body: refused from its Content-Length, unread.
        with socket.create_connection(('127.0.0.1', port), timeout=10) as c:
            c.sendall(b'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n')
            try:
                for _ in range(100):
                    c.sendall(b'x' * (1 << 20))
            except OSError:
                pass  # the server closed it: what we want
            c.settimeout(5)
            expect(b' 413 ' in c.recv(256), 'a 300 MB body is answered 413')
        # A chunked body without a length: counted as it comes.
        with socket.create_connection(('127.0.0.1', port), timeout=10) as c:
            c.sendall(b'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
            chunk = b'%x\r\n' % (1 << 16) + b'y' * (1 << 16) + b'\r\n'
            try:
                for _ in range(64):
                    c.sendall(chunk)
                c.sendall(b'0\r\n\r\n')
            except OSError:
                pass
            c.settimeout(5)
            expect(b' 413 ' in c.recv(256), 'a 4 MB chunked body is answered 413')
        with socket.create_connection(('127.0.0.1', port), timeout=5) as c:
            c.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * 65536 + b'\r\n\r\n')
            expect(b' 431 ' in c.recv(256), 'a 64 KiB header is answered 431')
        grew = rss_kib(ctl.pid) - before
        expect(grew < 32 * 1024, f'the controller grew {grew} KiB on hostile bodies')
        # 300 idle connections and 16 slowloris clients at once.
        for _ in range(300):
            held.append(socket.create_connection(('127.0.0.1', port), timeout=5))
        slow = []
        for _ in range(16):
            c = socket.create_connection(('127.0.0.1', port), timeout=5)
            c.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
            slow.append(c)
        held += slow
        worst = 0.0
        for i in range(10):
            for c in slow:
                try:
                    c.sendall(b'X-a: b\r\n')
                except OSError:
                    pass
            status, took = http_get(port, '/healthz')
            expect(status == 200, f'/healthz answered under load (try {i}): {status} after {took:.2f}s')
            worst = max(worst, took)
            time.sleep(0.5)
        expect(worst < 1.0, f'/healthz took up to {worst:.2f}s under load')
    finally:
        for c in held:
            c.close()
        ctl.terminate()
        ctl.wait(timeout=30)


def sigterm_stops_the_controller_whatever_the_engine_does():
    """An engine that accepts connections and never answers: SIGTERM still
    ends the controller within its grace period (10 s) and a little."""
    import threading
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('web.yaml', runner('web')))
    path = os.path.join(k.dir, 'hung.sock')
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(64)
    held = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)  # read nothing, answer nothing

    threading.Thread(target=accept, daemon=True).start()
    ctl = subprocess.Popen([k.binary, '--db', k.db, '--docker-host', 'unix://' + path, 'controller', '--api-listen', 'off', '--listen', 'off'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(2)
        expect(ctl.poll() is None, 'the controller waits for the engine')
        start = time.time()
        ctl.send_signal(signal.SIGTERM)
        _, err = ctl.communicate(timeout=40)
        took = time.time() - start
        expect(took < 16, f'SIGTERM took {took:.1f}s against a hung engine')
        expect(ctl.returncode in (0, 1), f'exit {ctl.returncode}: {err.decode()[-500:]}')
    finally:
        if ctl.poll() is None:
            ctl.kill()
        server.close()
        for c in held:
            c.close()


def completion_in_bash_zsh_and_fish():
    """Each shell's script, driven non-interactively with keelson on the PATH:
    commands, subcommands, flags, -o values, kinds, KIND/NAME forms and
    stored names from the store and namespace given before the command."""
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\n'
                                 'spec: {image: busybox:1}\n---\napiVersion: keelson.dev/v1alpha1\nkind: Runner\n'
                                 'metadata: {name: api, namespace: ci}\nspec: {image: busybox:1}\n'))
    env = {**os.environ, 'PATH': os.path.dirname(k.binary) + ':' + os.environ['PATH']}
    cases = [  # words typed (the last one being completed), the candidates
        (['ge'], ['get']),
        (['rollout', 're'], ['restart']),
        (['--db', k.db, 'get', 'runner', ''], ['web']),
        (['--db', k.db, '-n', 'ci', 'get', 'runner', ''], ['api']),
        (['-n', 'ci', '--db', k.db, 'logs', 'runner/'], ['runner/api']),
        (['get', '-o', 'ya'], ['yaml']),
        (['logs', '--ta'], ['--tail']),
        (['top', 'runnerp'], ['runnerpool', 'runnerpools']),
        (['completion', 'f'], ['fish']),
    ]
    bash = k.write('c.bash', k.ok('completion', 'bash', db=False))
    for words, want in cases:
        line = 'keelson ' + ' '.join(shlex.quote(w) for w in words)
        script = (f'source {bash}\nCOMP_WORDS=(keelson {" ".join(shlex.quote(w) for w in words)}); '
                  f'COMP_CWORD={len(words)}; _keelson; printf "%s\\n" "${{COMPREPLY[@]}}"\n')
        p = subprocess.run(['bash', '-c', script], capture_output=True, text=True, timeout=30, env=env)
        expect(sorted(p.stdout.split()) == sorted(want), f'bash: {line}: {p.stdout!r} {p.stderr!r}')
    files = subprocess.run(['bash', '-c', f'source {bash}; cd {k.dir}; COMP_WORDS=(keelson apply -f r.y); COMP_CWORD=3; '
                            '_keelson; echo "${COMPREPLY[@]}"'], capture_output=True, text=True, env=env)
    expect(files.stdout.split() == ['r.yaml'], f'bash: -f completes files: {files.stdout!r}')
    if shutil.which('zsh'):
        # compadd and _files stand in for the completion system's own, recording what they are given.
        zsh = k.write('c.zsh', k.ok('completion', 'zsh', db=False))
        for words, want in cases:
            script = (f'compadd() {{ shift; print -l -- "$@" }}\n_files() {{ print __files }}\nsource {zsh}\n'
                      f'words=(keelson {" ".join(shlex.quote(w) for w in words)}); CURRENT={len(words) + 1}; _keelson\n')
            p = subprocess.run(['zsh', '-f', '-c', script], capture_output=True, text=True, timeout=30, env=env)
            expect(sorted(p.stdout.split()) == sorted(want), f'zsh: {words}: {p.stdout!r} {p.stderr!r}')
    if shutil.which('fish'):
        fish = k.write('c.fish', k.ok('completion', 'fish', db=False))
        for words, want in cases:
            # An empty last word is a line ending in a space, as typed.
            line = 'keelson ' + ' '.join(shlex.quote(w) for w in words[:-1]) + ' ' + (shlex.quote(words[-1]) if words[-1] else '')
            p = subprocess.run(['fish', '--no-config', '-c', f'source {fish}; complete -C {shlex.quote(line)}'],
                               capture_output=True, text=True, timeout=30, env=env)
            got = sorted(l.split('\t')[0] for l in p.stdout.splitlines())
            expect(got == sorted(want), f'fish: {line}: {p.stdout!r} {p.stderr!r}')


def usage_errors_exit_2():
    k = Keelson(binary)
    for args in (['frobnicate'], ['apply'], ['get'], ['scale', 'runnerpool', 'x'], ['--log-format', 'xml', 'get', 'all'],
                 ['controller', '--once', '--git-max-size', '1Gx']):
        rc, _, _ = k.run(*args)
        expect(rc == 2, f'keelson {" ".join(args)}: exit {rc}, want 2')


# --- many processes at once ---------------------------------------------------

def concurrent_processes_lose_nothing():
    """Writers, readers and deleters as separate processes on one store file:
    none may fail with "database is locked", and every write must land."""
    k = Keelson(binary)
    writers, rounds, per_file = 4, 8, 25
    procs = []
    for w in range(writers):
        # Each writer re-applies its own objects every round with a new env value.
        script = '; '.join(
            f'"$K" --db "$DB" apply -f {k.write(f"w{w}-r{r}.yaml", "".join(runner(f"w{w}-{i}", env={"R": str(r)}) for i in range(per_file)))} >/dev/null || exit 1'
            for r in range(rounds))
        procs.append(('writer', subprocess.Popen(['bash', '-c', script], env={**os.environ, 'K': k.binary, 'DB': k.db},
                                                 stderr=subprocess.PIPE)))
    victims = k.write('victims.yaml', ''.join(runner(f'victim-{i}') for i in range(20)))
    k.ok('apply', '-f', victims)
    procs.append(('deleter', subprocess.Popen(
        ['bash', '-c', 'for i in $(seq 0 19); do "$K" --db "$DB" delete runner victim-$i >/dev/null || exit 1; done'],
        env={**os.environ, 'K': k.binary, 'DB': k.db}, stderr=subprocess.PIPE)))
    for r in range(2):
        procs.append(('reader', subprocess.Popen(
            ['bash', '-c', 'for i in $(seq 1 15); do "$K" --db "$DB" get all -o json >/dev/null || exit 1; '
                           '"$K" --db "$DB" events >/dev/null || exit 1; done'],
            env={**os.environ, 'K': k.binary, 'DB': k.db}, stderr=subprocess.PIPE)))
    for role, p in procs:
        _, err = p.communicate(timeout=300)
        err = err.decode()
        expect(p.returncode == 0, f'{role} failed (exit {p.returncode}): {err}')
        expect('locked' not in err and 'busy' not in err, f'{role}: {err}')
    items = get_json(k, 'runners')['items']
    by_name = {o['metadata']['name']: o for o in items}
    expect(not any(n.startswith('victim-') for n in by_name), 'a deleted object survived')
    for w in range(writers):
        for i in range(per_file):
            o = by_name.get(f'w{w}-{i}')
            expect(o is not None, f'lost w{w}-{i}')
            expect(o['spec']['env'] == [{'name': 'R', 'value': str(rounds - 1)}], f'w{w}-{i} lost its last write')
            expect(o['metadata']['generation'] == rounds, f'w{w}-{i} generation {o["metadata"]["generation"]}')
    rvs = [int(o['metadata']['resourceVersion']) for o in items]
    expect(len(set(rvs)) == len(rvs), 'two objects share a resourceVersion')
    history = k.ok('history', 'runner', 'w0-0').splitlines()[1:]
    expect(len(history) == rounds, f'history of w0-0: {history}')


def policies_enforce_warn_and_audit_at_apply():
    k = Keelson(binary)
    policy = lambda name, ns, enforcement, rules: (
        f'---\napiVersion: keelson.dev/v1alpha1\nkind: Policy\nmetadata: {{name: {name}, namespace: {ns}}}\n'
        f'spec: {{enforcement: {enforcement}, rules: {json.dumps(rules)}}}\n')
    k.ok('apply', '-f', k.write('policies.yaml',
         policy('strict', 'default', 'enforce', {'allowedRegistries': ['127.0.0.1:5000']}) +
         policy('soft', 'keelson-system', 'warn', {'requireResources': True}) +
         policy('watch', 'team-b', 'audit', {'requireNonRoot': True})))

    # enforce: one line per violation, FILE:LINE:COL, exit 1, nothing stored, even with a good object beside it.
    path = k.write('web.yaml', runner('fine', image='127.0.0.1:5000/ci/web:1') + runner('web', image='busybox:1'))
    rc, out, err = k.run('apply', '-f', path)
    expect(rc == 1, f'exit {rc}')
    expect(f'{path}:14:10: spec.image: denied by policy default/strict (allowedRegistries): image busybox:1 comes '
           'from docker.io, not an allowed registry (127.0.0.1:5000)' in err.splitlines(), err)
    expect(names(k, 'runners') == [], 'something was stored')
    rc, _, err = k.run('apply', '-f', path, '--dry-run')
    expect(rc == 1 and 'denied by policy default/strict' in err, f'dry run: exit {rc}: {err}')

    # warn (from keelson-system, so every namespace): stored, a warning line and a Warning event.
    path = k.write('ok.yaml', runner('fine', image='127.0.0.1:5000/ci/web:1'))
    rc, out, err = k.run('apply', '-f', path)
    expect(rc == 0 and out.strip() == 'runner/fine created', f'exit {rc}: {out} {err}')
    expect(f'warning: {path}:7:3: spec.resources: policy keelson-system/soft (requireResources): '
           'resources.cpus and resources.memory must be set' in err.splitlines(), err)
    events = k.ok('events', 'runner/fine')
    expect('PolicyWarning' in events and 'keelson-system/soft' in events, events)

    # audit: stored with an event, no output; not repeated when re-applied unchanged.
    path = k.write('b.yaml', runner('tool', image='127.0.0.1:5000/x:1').replace(
        'metadata:\n', 'metadata:\n  namespace: team-b\n') + '  resources: {cpus: 1, memory: 1Gi}\n')
    rc, out, err = k.run('apply', '-f', path)
    expect(rc == 0 and err == '', f'exit {rc}: {err!r}')
    for _ in range(2):
        k.ok('apply', '-f', path)
    events = [l for l in k.ok('events', '-n', 'team-b', 'runner/tool').splitlines() if 'PolicyViolation' in l]
    expect(len(events) == 1 and 'team-b/watch (requireNonRoot)' in events[0], events)


def exec_start(unit):
    """The command line of a systemd unit in manifests/, as a list."""
    path = os.path.join(os.path.dirname(samples), 'manifests', unit)
    for line in open(path, encoding='utf-8'):
        if line.startswith('ExecStart='):
            return shlex.split(line[len('ExecStart='):])
    raise AssertionError(f'{unit}: no ExecStart')


def deploy_units_run_as_written():
    k = Keelson(binary)
    units = os.path.join(os.path.dirname(samples), 'manifests')
    if subprocess.run(['sh', '-c', 'command -v systemd-analyze'], capture_output=True).returncode == 0:
        for unit in ('keelson-controller.service', 'keelson-apply.service', 'keelson-apply.path'):
            text = open(os.path.join(units, unit), encoding='utf-8').read().replace('/usr/local/bin/keelson', os.path.abspath(binary))
            k.write(unit, text)
        p = subprocess.run(['systemd-analyze', 'verify', 'keelson-controller.service', 'keelson-apply.service',
                            'keelson-apply.path'], cwd=k.dir, capture_output=True, text=True)
        expect(p.returncode == 0 and 'keelson' not in p.stderr, f'systemd-analyze verify: {p.stderr}')

    # keelson-apply.service: applies the directory and prunes what it lost among labelled objects.
    etc = os.path.join(k.dir, 'etc-manifests')
    args = [a.replace('/etc/keelson/manifests', etc) for a in exec_start('keelson-apply.service')]
    expect(args[0] == '/usr/local/bin/keelson', args)
    k.write('etc-manifests/a.yaml', runner('a', labels={'keelson.dev/source': 'etc'}))
    k.write('etc-manifests/b.yaml', runner('b', labels={'keelson.dev/source': 'etc'}))
    k.ok('apply', '-f', k.write('by-hand.yaml', runner('by-hand')))
    out = k.ok(*args[1:])
    expect(out.split() == ['runner/a', 'created', 'runner/b', 'created'], out)
    os.remove(os.path.join(etc, 'b.yaml'))
    out = k.ok(*args[1:])
    expect('runner/b pruned' in out, out)
    expect(names(k, 'runners') == ['a', 'by-hand'], names(k, 'runners'))

    # manifests/git-source: the GitRepository applies as written, its files
    # resolved beside it.
    src = os.path.join(k.dir, 'etc-source')
    os.makedirs(src)
    with open(os.path.join(units, 'git-source', 'fleet-source.yaml'), encoding='utf-8') as f:
        k.write('etc-source/fleet-source.yaml', f.read())
    k.write('etc-source/git-token', 'token\n')
    k.write('etc-source/webhook-secret', 'secret\n')
    expect(k.ok('apply', '-f', os.path.join(src, 'fleet-source.yaml')) == 'gitrepository/fleet created\n', 'applies')
    stored = json.loads(k.ok('get', 'gitrepository', 'fleet', '-o', 'json'))['spec']
    expect(stored['auth']['passwordFile'] == os.path.realpath(os.path.join(src, 'git-token')) and
           stored['webhook']['secretFile'] == os.path.realpath(os.path.join(src, 'webhook-secret')), f'{stored}')

    # keelson-controller.service: its flags parse, and its logs are JSON lines.
    args = exec_start('keelson-controller.service')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    args = [a.replace('127.0.0.1:9464', f'127.0.0.1:{port}') for a in args]
    p = subprocess.run([binary, '--db', k.db] + args[1:] + ['--once', '--timeout', '1s'], capture_output=True,
                       text=True, timeout=60, env={**os.environ, 'DOCKER_HOST': 'unix:///nonexistent/docker.sock'})
    expect(p.returncode == 1, f'exit {p.returncode} (2 would be a flag the binary does not know): {p.stderr}')
    logs = [l for l in p.stderr.splitlines() if not l.startswith('not ready')]
    expect(logs, 'no log lines')
    for line in logs:
        entry = json.loads(line)
        expect({'time', 'level', 'msg'} <= entry.keys(), line)


def get_watch_prints_each_change():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('a.yaml', runner('a')))
    env = dict(os.environ, KEELSON_DB=k.db)
    table = subprocess.Popen([binary, 'get', 'runners', '-w'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    names = subprocess.Popen([binary, 'get', 'runners', '--watch-only', '-o', 'name'], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(0.5)
    # Apart by more than the watcher's look (100 ms), so each is seen on its own.
    for step in (lambda: k.ok('apply', '-f', k.write('b.yaml', runner('b'))),
                 lambda: k.ok('apply', '-f', k.write('a.yaml', runner('a', image='busybox:2'))),
                 lambda: k.ok('-n', 'other', 'apply', '-f', k.write('c.yaml', runner('c'))),  # not shown
                 lambda: k.ok('delete', 'runner', 'b')):
        step()
        time.sleep(0.4)
    for p in (table, names):
        p.send_signal(signal.SIGINT)
    out, err = table.communicate(timeout=10)
    only, _ = names.communicate(timeout=10)
    expect(table.returncode == 0, err)
    rows = [line.split() for line in out.splitlines()]
    expect(rows[0][:2] == ['NAME', 'READY'] and rows[1][0] == 'a', rows)
    # Then: b created, a changed (busybox:2), b deleted; in that order, no header again.
    expect([(r[0], r[3]) for r in rows[2:]] == [('b', 'busybox:1'), ('a', 'busybox:2'), ('b', 'busybox:1')], rows)
    expect(only.split() == ['runner/b', 'runner/a', 'runner/b'], only)
    rc, out, err = k.run('get', 'runners,runnerpools', '-w', timeout=10)
    expect(rc == 2 and 'one kind at a time' in err, err)


VOLUME = 'apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {{name: {}}}\nspec: {{}}\n'


def delete_all_and_by_selector():
    k = Keelson(binary)
    for name, team in (('a', 'x'), ('b', 'x'), ('c', 'y')):
        k.ok('apply', '-f', k.write(f'{name}.yaml', runner(name, labels={'team': team})))
    k.ok('-n', 'other', 'apply', '-f', k.write('d.yaml', runner('d', labels={'team': 'x'})))
    out = k.ok('delete', 'runners', '-l', 'team=x')
    expect(sorted(out.splitlines()) == ['runner/a deleted', 'runner/b deleted'], out)
    expect(names(k, 'runners') == ['c'], 'the other team stays')
    expect(k.ok('-n', 'other', 'get', 'runners', '-o', 'name').split() == ['runner/d'], 'other namespaces stay')
    expect(k.ok('delete', 'runners', '--all').strip() == 'runner/c deleted', '--all')
    rc, out, err = k.run('delete', 'runner', 'c', '--all')
    expect(rc == 2 and 'not both' in err, err)
    rc, out, err = k.run('delete', 'runners')
    expect(rc == 2 and '--all' in err, err)
    # Several kinds at once, as `kubectl delete pods,services --all`.
    k.ok('apply', '-f', k.write('e.yaml', runner('e') + '---\n' + VOLUME.format('v1')))
    out = k.ok('delete', 'runners,volumes', '--all')
    expect(sorted(out.splitlines()) == ['runner/e deleted', 'volume/v1 deleted'], out)
    rc, out, err = k.run('delete', 'runners,nope', '--all')
    expect(rc == 2 and 'unknown kind "nope"' in err, err)


def label_and_annotate_as_kubectl():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('a.yaml', runner('a', labels={'team': 'x'})))
    before = get_json(k, 'runner', 'a')
    expect(k.ok('label', 'runner', 'a', 'tier=ci').strip() == 'runner/a labeled', 'labeled')
    rc, out, err = k.run('label', 'runner/a', 'tier=cd')
    expect(rc == 1 and "'tier' already has a value (ci), and --overwrite is false" in err, err)
    expect(k.ok('label', 'runner/a', 'tier=cd', '--overwrite').strip() == 'runner/a labeled', 'overwrite')
    expect(k.ok('label', 'runner/a', 'tier=cd', '--overwrite').strip() == 'runner/a not labeled', 'no change')
    expect(k.ok('label', 'runner', 'a', 'team-').strip() == 'runner/a labeled', 'removed')
    expect(k.ok('annotate', 'runner', 'a', 'note=hello world').strip() == 'runner/a annotated', 'annotated')
    after = get_json(k, 'runner', 'a')
    expect(after['metadata']['labels'] == {'tier': 'cd'}, after['metadata'])
    expect(after['metadata']['annotations'] == {'note': 'hello world'}, after['metadata'])
    expect(after['metadata']['generation'] == before['metadata']['generation'] and after['spec'] == before['spec'],
           'spec and generation stay')
    expect(k.ok('get', 'runners', '-l', 'tier=cd', '-o', 'name').split() == ['runner/a'], 'selectable')
    rc, out, err = k.run('label', 'runner', 'a', 'bad key=1')
    expect(rc == 2 and 'invalid key' in err, err)
    rc, out, err = k.run('label', 'runner', 'a', 'ok=not a value')
    expect(rc == 2 and 'invalid label value' in err, err)
    rc, out, err = k.run('label', 'runner', 'nope', 'a=b')
    expect(rc == 1 and 'runner/nope not found' in err, err)


def a_second_ctrl_c_stops_the_controller_at_once():
    # An engine that accepts connections and never answers: the first Ctrl-C
    # waits for in-flight work (up to its grace); the second ends it at once.
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('a.yaml', runner('a')))
    hung = socket.socket()
    hung.bind(('127.0.0.1', 0))
    hung.listen(16)
    p = subprocess.Popen([binary, '--db', k.db, '--docker-host', 'tcp://127.0.0.1:%d' % hung.getsockname()[1],
                          'controller', '--listen', 'off', '--api-listen', 'off'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        time.sleep(0.5)
        expect(p.poll() is None, 'the first Ctrl-C waits for in-flight work')
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        expect(p.returncode == 130 and 'stopping now (second interrupt)' in err, (p.returncode, err[-500:]))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        hung.close()


def get_all_yaml_applies_back_and_namespaces_must_match():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('a.yaml', runner('a', labels={'team': 'x'}) + '---\n' + runner('b')))
    dump = k.write('all.yaml', k.ok('get', 'all', '-o', 'yaml'))
    # A List with uid, resourceVersion, status...: applied back as it is, silently, unchanged.
    rc, out, err = k.run('apply', '-f', dump)
    expect(rc == 0 and sorted(out.splitlines()) == ['runner/a unchanged', 'runner/b unchanged'] and 'warning' not in err,
           out + err)
    prod = k.write('prod.yaml', runner('c').replace('name: c', 'name: c\n  namespace: prod'))
    rc, out, err = k.run('-n', 'other', 'apply', '-f', prod)
    expect(rc == 1 and 'the namespace from the provided object "prod" does not match the namespace "other"' in err and
           'prod.yaml:' in err, err)
    expect(k.ok('apply', '-f', prod).strip() == 'runner/c created', 'without -n the object names its namespace')


def patch_merge_json_and_strategic_as_kubectl():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Runner\n'
                                 'metadata: {name: web, labels: {team: ci}}\n'
                                 'spec:\n  image: busybox:1\n  env: [{name: A, value: "1"}, {name: B, value: "2"}]\n'))
    get = lambda path: k.ok('get', 'runner', 'web', '-o', 'jsonpath={' + path + '}')
    # kubectl's default type (strategic) and --type merge: maps merge, lists are replaced.
    expect(k.ok('patch', 'runner', 'web', '-p', '{"spec":{"env":[{"name":"A","value":"3"}]}}') == 'runner/web patched\n', 'patched')
    expect(get('.spec.env[*].name') == 'A' and get('.spec.env[0].value') == '3', 'a list is replaced whole')
    k.ok('patch', 'runner/web', '--type', 'merge', '-p', 'metadata: {labels: {tier: x, team: null}}')  # YAML too
    expect(get('.metadata.labels') == '{"tier":"x"}', f'null removes a key: {get(".metadata.labels")}')
    # RFC 6902: add, test; a failing test changes nothing.
    k.ok('patch', 'runner/web', '--type', 'json', '-p', '[{"op":"add","path":"/spec/env/-","value":{"name":"C","value":"4"}}]')
    expect(get('.spec.env[*].name') == 'A C', get('.spec.env[*].name'))
    gen = get('.metadata.generation')
    rc, _, err = k.run('patch', 'runner/web', '--type', 'json', '-p',
                       '[{"op":"test","path":"/spec/image","value":"busybox:9"},{"op":"replace","path":"/spec/image","value":"x:1"}]')
    expect(rc == 1 and 'JSON patch cannot be applied' in err and get('.spec.image') == 'busybox:1', err)
    # Validated as apply validates: field named, nothing stored.
    rc, _, err = k.run('patch', 'runner', 'web', '-p', '{"spec":{"image":"NOT VALID"}}')
    expect(rc == 1 and 'spec.image' in err and get('.spec.image') == 'busybox:1', err)
    expect(get('.metadata.generation') == gen, 'refused patches change nothing')
    out = k.ok('patch', 'runner', 'web', '-p', '{"spec":{"image":"busybox:1"}}')
    expect(out == 'runner/web patched (no change)\n' and get('.metadata.generation') == gen, out)
    k.write('p.json', '{"spec":{"image":"busybox:2"}}')
    k.ok('patch', 'runner', 'web', '--patch-file', 'p.json')
    expect(get('.spec.image') == 'busybox:2', '--patch-file')
    rc, _, err = k.run('patch', 'runner', 'web', '-p', '{"metadata":{"name":"other"}}')
    expect(rc == 1 and 'cannot be changed' in err, err)
    rc, _, err = k.run('patch', 'runner', 'web', '--type', 'yolo', '-p', '{}')
    expect(rc == 2 and '--type' in err, err)
    rc, _, err = k.run('patch', 'runner', 'gone', '-p', '{}')
    expect(rc == 1 and 'not found' in err, err)
    expect('keelson patch' in k.ok('history', 'runner', 'web'), 'the revision says what made it')


def edit_validates_on_save_and_reopens_with_the_error():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\n'
                                 'spec:\n  image: busybox:1\n'))
    get = lambda: k.ok('get', 'runner', 'web', '-o', 'jsonpath={.spec.image}')

    def edit(script, **env):
        path = k.write('editor.sh', '#!/bin/sh\n' + script)
        os.chmod(path, 0o755)
        p = subprocess.run([k.binary, '--db', k.db, 'edit', 'runner/web'], capture_output=True, text=True, timeout=60,
                           cwd=k.dir, env={**os.environ, 'KUBE_EDITOR': path, 'EDITOR': 'false', **env})
        return p.returncode, p.stdout, p.stderr

    rc, out, _ = edit('sed -i s/busybox:1/busybox:2/ "$1"')
    expect((rc, out, get()) == (0, 'runner/web edited\n', 'busybox:2'), f'{rc} {out}')
    # A refused save reopens the file with the error at the top; the second save is stored.
    rc, out, err = edit('n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; cp "$1" seen$n.yaml\n'
                        'if [ $n = 0 ]; then sed -i s/busybox:2/BAD/ "$1"; else sed -i s/BAD/busybox:3/ "$1"; fi\n')
    reopened = open(os.path.join(k.dir, 'seen1.yaml')).read()
    expect(rc == 0 and get() == 'busybox:3', f'{rc} {err}')
    expect(re.search(r'^# runner/web was not valid:\n# \* \S+web\.yaml:\d+:\d+: spec\.image: "BAD"', reopened, re.M),
           f'reopened with the error: {reopened[:600]}')
    expect(reopened.startswith('# Please edit the object below.'), 'kubectl\'s header')
    # The same refused content saved again: cancelled, the copy kept.
    rc, out, err = edit('sed -i s/busybox:3/BAD2/ "$1"')
    expect(rc == 1 and 'no valid changes were saved' in err and get() == 'busybox:3', err)
    kept = re.search(r'stored to "([^"]+)"', err).group(1)
    expect('BAD2' in open(kept).read(), 'the changes are kept in a file')
    # No change, or an emptied file: nothing happens.
    for script in ('true', ': > "$1"'):
        rc, out, _ = edit(script)
        expect((rc, out) == (0, 'Edit cancelled, no changes made.\n'), f'{script}: {rc} {out}')
    # Changed by someone else while open: refused, nothing lost.
    rc, out, err = edit(f'{k.binary} --db {k.db} patch runner web -p \'{{"spec":{{"image":"busybox:7"}}}}\' >/dev/null\n'
                        'sed -i s/busybox:3/busybox:8/ "$1"')
    expect(rc == 1 and 'changed by someone else' in err and get() == 'busybox:7', f'{rc} {err}')
    rc, _, err = edit('exit 3')
    expect(rc == 1 and 'editor exited with 3' in err and get() == 'busybox:7', err)


def colour_on_a_terminal_only_and_never_with_no_color():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\n'
                                 'spec: {image: busybox:1}\n'))
    def on_terminal(**env):
        p = subprocess.run(['script', '-qec', f'{k.binary} --db {k.db} get runners', '/dev/null'], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL, env={**os.environ, 'TERM': 'xterm', **env})
        return p.stdout
    coloured = on_terminal()
    expect('\x1b[33mPending\x1b[0m' in coloured, f'a waiting state in yellow on a terminal: {coloured!r}')
    plain = on_terminal(NO_COLOR='1')
    expect('\x1b[' not in plain and 'Pending' in plain, f'NO_COLOR: {plain!r}')
    expect('\x1b[' not in k.ok('get', 'runners'), 'not a terminal: no colour')
    # The columns stay aligned: the escape codes take no width.
    table = lambda text: [line for line in text.splitlines() if line.startswith(('NAME', 'web'))]
    rows = table(on_terminal(NO_COLOR='1'))
    expect(rows[1].index('Pending') == rows[0].index('STATUS'), f'{rows}')
    rows = table(coloured)
    expect(re.sub(r'\x1b\[\d*m', '', rows[1]).index('Pending') == rows[0].index('STATUS'), f'{rows}')


def get_sort_by_as_kubectl():
    k = Keelson(binary)
    docs = ''.join(f'---\napiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {{name: {n}}}\n'
                   f'spec:\n  replicas: {r}\n  template: {{image: busybox:1}}\n' + (f'  ephemeral: true\n' if e else '')
                   for n, r, e in (('r10', 3, False), ('r2', 12, True), ('r1', 7, False)))
    k.ok('apply', '-f', k.write('p.yaml', docs))
    names = lambda *a: k.ok('get', 'runnerpools', '-o', 'name', *a).split()
    expect(names('--sort-by', '.metadata.name') == ['runnerpool/r1', 'runnerpool/r2', 'runnerpool/r10'],
           f'natural order, as kubectl: {names("--sort-by", ".metadata.name")}')
    expect(names('--sort-by', '{.spec.replicas}') == ['runnerpool/r10', 'runnerpool/r1', 'runnerpool/r2'],
           'numbers by value (3 < 7 < 12), braces optional')
    table = k.ok('get', 'runnerpools', '--sort-by', '.spec.replicas').splitlines()
    expect([row.split()[0] for row in table[1:]] == ['r10', 'r1', 'r2'], f'{table}')
    items = json.loads(k.ok('get', 'runnerpools', '-o', 'json', '--sort-by', '.metadata.name'))['items']
    expect([i['metadata']['name'] for i in items] == ['r1', 'r2', 'r10'], 'a JSON List in order')
    expect(names('--sort-by', '.spec.nothing')[0] in ('runnerpool/r10', 'runnerpool/r2', 'runnerpool/r1'), 'a missing field sorts, not fails')
    rc, _, err = k.run('get', 'runnerpools', '--sort-by', '{.spec[')
    expect(rc == 2 and '--sort-by' in err, err)


def delete_wait_says_what_is_left_on_a_terminal():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('r.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\n'
                                 'spec: {image: busybox:1}\n'))
    set_status(k, 'Runner', 'web', {'observedGeneration': 1})  # acted on: deletion waits for a controller
    p = subprocess.run(['script', '-qec', f'{k.binary} --db {k.db} delete runner web --wait --timeout 1s', '/dev/null'],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, env={**os.environ, 'TERM': 'xterm'})
    expect('\x1b[Kwaiting for 1 of 1 to be deleted: runner/web' in p.stdout, f'the line: {p.stdout!r}')
    expect('timed out after 1s' in p.stdout and p.returncode == 1, f'{p.returncode} {p.stdout!r}')
    rc, out, err = k.run('delete', 'runner', 'web', '--wait', '--timeout', '1s')
    expect(rc == 1 and 'to be deleted' not in out + err and '\x1b' not in out + err, f'no line off a terminal: {err!r}')


def convert_a_compose_project_and_apply_it():
    k = Keelson(binary)
    k.write('.env', 'TAG=1\n')
    k.write('app/Dockerfile', 'FROM keelson-test/busybox:1\n')
    compose = k.write('compose.yaml', (
        'name: shop\n'
        'services:\n'
        '  web:\n    build: ./app\n    ports: ["8080:80"]\n    volumes: [data:/data]\n    depends_on: [db]\n'
        '  db:\n    image: keelson-test/busybox:${TAG}\n    command: sleep 3600\n    deploy: {replicas: 2}\n'
        'volumes:\n  data: {}\n'))
    out = k.ok('convert', '-f', compose)
    expect('kind: RunnerPool' in out and 'image: keelson-test/busybox:1' in out and 'imageRef: web' in out, out)
    applied = k.ok('apply', '-f', '-', stdin=out.encode())
    expect(sorted(applied.split('\n')) == sorted(['network/default created', 'volume/data created', 'image/web created',
                                                  'runner/web created', 'runnerpool/db created', '']), applied)
    expect(k.ok('get', 'runners', '-n', 'shop', '-o', 'name').strip() == 'runner/web', 'in the project namespace')
    # A field that does not carry over: one line at its place, exit 1, nothing written.
    k.write('compose.yaml', open(compose).read().replace('    build: ./app\n', '    build: ./app\n    domainname: example.com\n'))
    rc, out, err = k.run('convert', '-f', compose, '-o', 'out')
    expect(rc == 1 and out == '' and not os.path.exists(os.path.join(k.dir, 'out')), f'{rc} {out}')
    expect(err.startswith(f'{compose}:5:5: services.web.domainname: not supported by keelson: '), err)
    rc, out, err = k.run('convert', '-f', compose, '-o', 'out', '--allow-unsupported')
    expect(rc == 0 and 'services.web.domainname' in err and os.path.exists(os.path.join(k.dir, 'out', 'runner-web.yaml')),
           f'{rc} {out} {err}')
    # A required variable that is not set: where, and nothing else.
    k.write('bad.yaml', 'services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n')
    rc, out, err = k.run('convert', '-f', 'bad.yaml')
    expect(rc == 1 and err.strip() == 'error: bad.yaml:3:12: services.web.image: required variable IMAGE is missing a value: set IMAGE',
           err)


run_tests([
    convert_a_compose_project_and_apply_it,
    delete_wait_says_what_is_left_on_a_terminal,
    get_sort_by_as_kubectl,
    colour_on_a_terminal_only_and_never_with_no_color,
    patch_merge_json_and_strategic_as_kubectl,
    edit_validates_on_save_and_reopens_with_the_error,
    get_all_yaml_applies_back_and_namespaces_must_match,
    a_second_ctrl_c_stops_the_controller_at_once,
    label_and_annotate_as_kubectl,
    delete_all_and_by_selector,
    get_watch_prints_each_change,
    damaged_and_wrong_stores_are_named_by_every_command,
    a_store_this_user_may_only_read_still_answers_reads,
    a_full_disk_is_named_and_stores_nothing,
    apply_reports_created_configured_unchanged,
    generation_counts_spec_changes_only,
    apply_from_stdin_and_directories,
    apply_is_all_or_nothing,
    get_exit_codes_and_outputs,
    get_selectors,
    describe_shows_spec_and_events,
    delete_removes_at_once_without_status_and_marks_with_it,
    delete_by_file,
    diff_follows_kubectl_exit_codes,
    scale_sets_replicas,
    history_keeps_ten_revisions,
    events_record_what_happened,
    wait_exit_codes,
    wait_sees_a_write_from_another_process,
    prune_removes_exactly_what_the_files_lost,
    missing_and_foreign_stores_are_named,
    status_no_controller_maintains_is_called_stale,
    deleting_a_network_or_volume_in_use_is_refused,
    unknown_commands_are_named,
    a_taken_listen_address_is_an_error,
    the_listener_is_bounded_and_health_answers_under_hostile_load,
    sigterm_stops_the_controller_whatever_the_engine_does,
    completion_in_bash_zsh_and_fish,
    usage_errors_exit_2,
    concurrent_processes_lose_nothing,
    policies_enforce_warn_and_audit_at_apply,
    deploy_units_run_as_written,
])
