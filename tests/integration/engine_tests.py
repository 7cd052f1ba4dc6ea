"""What the suites that drive the real binary against the isolated test
engine share: the skip when there is none, the docker CLI, a controller in
the background, and waiting for the world to change."""
import os
import signal
import subprocess
import sys
import time


def skip_without_isolated_engine(suite):
    """Exits 77 (meson's skip) unless scripts/test-engine.sh's engine is up."""
    netns = os.environ.get('KEELSON_ENGINE_NETNS', 'keelson-test')
    if not os.environ.get('DOCKER_HOST') or not os.path.exists(f'/run/netns/{netns}'):
        print(f'DOCKER_HOST is not set or no isolated engine: skipping the {suite} tests')
        sys.exit(77)


def docker(*args, check=True):
    p = subprocess.run(['docker', *args], capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f'docker {" ".join(args)}: {p.stderr}')
    return p.stdout


class Controller:
    """`keelson controller` on `k`'s store until stop(), its output in controller.log."""

    def __init__(self, k, *args):
        self.log = open(os.path.join(k.dir, 'controller.log'), 'w')
        listen = [] if '--listen' in args else ['--listen', 'off']
        self.p = subprocess.Popen([k.binary, '--db', k.db, 'controller', *listen, *args],
                                  stdout=self.log, stderr=subprocess.STDOUT, cwd=k.dir)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def wait_until(what, check, timeout=60):
    """Polls `check` until it returns something true, and returns that."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')
