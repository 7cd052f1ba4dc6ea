#!/usr/bin/env python3
"""The bad-input corpus: every file in tests/bad-input must be refused by the
real binary with exit 1, a first error line "FILE:LINE:COL: FIELD: ..." as
EXPECTED says, and a store that is byte-for-byte unchanged.

    bad_input.py KEELSON_BINARY CORPUS_DIR SAMPLES_DIR
"""
import hashlib
import os
import sys
import tempfile

from harness import Keelson, expect, run_tests

binary, corpus, samples = sys.argv[1:4]
k = Keelson(binary)
k.ok('apply', '-f', samples)


def snapshot():
    digest = hashlib.sha256(open(k.db, 'rb').read()).hexdigest()
    return digest, sorted(os.listdir(k.dir))


before = snapshot()


def case(name, pos, field):
    def test():
        path = os.path.join(corpus, name + '.yaml')
        rc, out, err = k.run('apply', '-f', path, timeout=30)
        expect(rc == 1, f'exit {rc}, want 1\n{err}')
        first = err.splitlines()[0] if err else ''
        expect(first.startswith(f'{path}:{pos}: '), f'error does not start with {path}:{pos}: -> {first!r}')
        if field != '-':
            expect(f': {field}: ' in first or f'"{field}"' in first, f'error does not name {field}: {first!r}')
        expect(out == '', f'printed to stdout: {out!r}')
        expect(snapshot() == before, 'the store changed')
        # The same file through stdin: same verdict, named <stdin>.
        with open(path, 'rb') as f:
            rc2, _, err2 = k.run('apply', '-f', '-', stdin=f.read(), timeout=30)
        expect(rc2 == 1 and err2.startswith('<stdin>:'), f'stdin: exit {rc2}: {err2[:200]!r}')
        expect(snapshot() == before, 'the store changed (stdin)')
    test.__name__ = f'bad_input[{name}]'
    return test


def huge_document():
    path = os.path.join(tempfile.mkdtemp(prefix='keelson-huge-'), 'huge.yaml')
    with open(path, 'w') as f:
        f.write('apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\nspec:\n  image: busybox:1\n  labels:\n')
        line = '    k%d: "' + 'x' * 1000 + '"\n'
        for i in range(34000):
            f.write(line % i)
    rc, _, err = k.run('apply', '-f', path)
    expect(rc == 1 and err.startswith(f'{path}:1:1: file is ') and 'limit' in err, err[:300])
    expect(snapshot() == before, 'the store changed')
    os.remove(path)


def one_bad_file_among_good_stores_nothing():
    good = os.path.join(samples, '40-runner.yaml')
    bad = os.path.join(corpus, 'replicas-negative.yaml')
    rc, out, _ = k.run('apply', '-f', good, '-f', bad)
    expect(rc == 1 and out == '', f'exit {rc}, out {out!r}')
    expect(snapshot() == before, 'the store changed')


def all_errors_reported_not_just_first():
    rc, _, err = k.run('apply', '-f', corpus)
    lines = [line for line in err.splitlines() if line]
    expect(rc == 1, f'exit {rc}')
    expect(len(lines) >= 60, f'only {len(lines)} error lines for the whole corpus')
    expect(snapshot() == before, 'the store changed')


tests = []
with open(os.path.join(corpus, 'EXPECTED')) as f:
    for line in f:
        if line.startswith('#') or not line.strip():
            continue
        name, pos, field = line.rstrip('\n').split('\t')
        tests.append(case(name, pos, field))
expect(len(tests) >= 40, f'the corpus has only {len(tests)} cases')
tests += [huge_document, one_bad_file_among_good_stores_nothing, all_errors_reported_not_just_first]
run_tests(tests)
