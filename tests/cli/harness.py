"""A minimal test harness for suites that drive the real keelson binary.

Each test is a function; `run_tests` runs them in order, prints one PASS/FAIL
line each, and ends with "N passed, N failed" (exit 1 on any failure).
"""
import os
import subprocess
import sys
import tempfile
import traceback


class Keelson:
    """Runs the binary against a private store in a temporary directory."""

    def __init__(self, binary, workdir=None):
        self.binary = os.path.abspath(binary)
        self.dir = workdir or tempfile.mkdtemp(prefix='keelson-cli-')
        self.db = os.path.join(self.dir, 'state.db')

    def run(self, *args, stdin=None, timeout=60, db=True):
        cmd = [self.binary] + (['--db', self.db] if db else []) + list(args)
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, cwd=self.dir)
        return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')

    def ok(self, *args, **kw):
        rc, out, err = self.run(*args, **kw)
        assert rc == 0, f'keelson {" ".join(args)}: exit {rc}\n{err}'
        return out

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def run_tests(tests):
    """KEELSON_TEST_FILTER=substring runs only the tests whose name has it."""
    only = os.environ.get('KEELSON_TEST_FILTER')
    if only:
        tests = [t for t in tests if only in t.__name__]
    passed = failed = 0
    for test in tests:
        try:
            test()
            passed += 1
            print(f'PASS {test.__name__}')
        except Exception:  # noqa: BLE001 - report every failure the same way
            failed += 1
            print(f'FAIL {test.__name__}')
            print('    ' + traceback.format_exc().replace('\n', '\n    '))
        sys.stdout.flush()
    print(f'{passed} passed, {failed} failed')
    sys.exit(1 if failed else 0)
