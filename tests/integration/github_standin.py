"""A stand-in for GitHub, for tests without the internet: an HTTPS server
on loopback that implements the REST endpoints keelson's runner lifecycle
uses, as GitHub's published REST description and its example payloads
describe them (API version 2022-11-28), and GitHub's Actions service as far
as a runner sees it.

REST (under /api/v3, as a GitHub Enterprise Server serves it):
  POST   /app/installations/{id}/access_tokens     a GitHub App's JWT (RS256, verified
                                                   with the App's public key) -> a token
  GET    /orgs/{org}/actions/runner-groups
  POST   /orgs/{org}/actions/runners/generate-jitconfig
  GET    /orgs/{org}/actions/runners
  DELETE /orgs/{org}/actions/runners/{id}

Every REST call but the first must carry the installation token. The
Actions side talks to runners through files in `state_dir` (a directory the
runner containers bind-mount), not the network: a runner writes ID.online
when it starts, the service writes ID.job (the job's duration) to give it a
job, the runner writes ID.done when the job ends and exits. Jobs are queued
with queue(); the service assigns them to idle online runners and reports
each step as GitHub does, with signed workflow_job webhooks (`deliver`).
"""
import base64
import json
import os
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import ssl

from git_servers import tls_certificate


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))


class GitHubStandIn:
    def __init__(self, workdir, org='octo-org', app_id='12345', installation_id='678'):
        self.workdir, self.org = workdir, org
        self.app_id, self.installation_id = app_id, installation_id
        self.ca, cert, key = tls_certificate(workdir)
        self.app_key = os.path.join(workdir, 'app.pem')
        self.app_pub = os.path.join(workdir, 'app.pub')
        quiet = {'check': True, 'capture_output': True}
        subprocess.run(['openssl', 'genrsa', '-out', self.app_key, '2048'], **quiet)
        subprocess.run(['openssl', 'rsa', '-in', self.app_key, '-pubout', '-out', self.app_pub], **quiet)
        self.state_dir = os.path.join(workdir, 'runners')
        os.makedirs(self.state_dir)
        os.chmod(self.state_dir, 0o777)
        self.lock = threading.Lock()
        self.runners = {}          # id -> dict(id, name, status, busy, labels)
        self.next_id = 1000
        self.tokens = set()
        self.jwts_verified = 0
        self.refusals = []         # what the stand-in refused, and why
        self.jobs = []             # dict(id, state, runner, duration)
        self.down = False          # answers 503 to everything while set
        self.deliver = None        # f(action, job_id, runner_name) -> status
        self.jit_configs = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body=None):
                data = b'' if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header('Content-Type', 'application/json; charset=utf-8')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self, method):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                status, answer = standin.serve(method, self.path, self.headers, body)
                self.reply(status, answer)

            def do_GET(self):
                self.handle_any('GET')

            def do_POST(self):
                self.handle_any('POST')

            def do_DELETE(self):
                self.handle_any('DELETE')

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f'https://localhost:{self.port}/{org}'
        self.stopping = False
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        threading.Thread(target=self.actions_service, daemon=True).start()

    def stop(self):
        self.stopping = True
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- REST ---------------------------------------------------------------

    def verify_jwt(self, jwt):
        try:
            header, claims, sig = jwt.split('.')
            if json.loads(b64url_decode(header)) != {'alg': 'RS256', 'typ': 'JWT'}:
                return 'wrong JWT header'
            c = json.loads(b64url_decode(claims))
            now = time.time()
            if str(c.get('iss')) != self.app_id:
                return f'iss {c.get("iss")!r} is not the App'
            if not (c['iat'] <= now + 1 and now < c['exp'] and c['exp'] - c['iat'] <= 600):
                return 'iat/exp outside what GitHub accepts'
            with tempfile.NamedTemporaryFile() as data, tempfile.NamedTemporaryFile() as signature:
                data.write(f'{header}.{claims}'.encode())
                data.flush()
                signature.write(b64url_decode(sig))
                signature.flush()
                ok = subprocess.run(['openssl', 'dgst', '-sha256', '-verify', self.app_pub, '-signature',
                                     signature.name, data.name], capture_output=True)
            return None if ok.returncode == 0 else 'signature does not verify'
        except Exception as e:  # noqa: BLE001 - any malformed token is a refusal
            return f'malformed JWT: {e}'

    def serve(self, method, path, headers, body):
        if self.down:
            return 503, {'message': 'Service Unavailable'}
        if not path.startswith('/api/v3/'):
            return 404, {'message': 'Not Found'}
        path = path[len('/api/v3'):]
        route = path.split('?')[0]
        auth = headers.get('Authorization', '')
        if headers.get('X-GitHub-Api-Version') != '2022-11-28':
            self.refusals.append(f'{method} {route}: no API version header')
        token_route = f'/app/installations/{self.installation_id}/access_tokens'
        if method == 'POST' and route == token_route:
            why = self.verify_jwt(auth[len('Bearer '):]) if auth.startswith('Bearer ') else 'no JWT'
            if why:
                self.refusals.append(f'token: {why}')
                return 401, {'message': 'A JSON web token could not be decoded'}
            token = 'ghs_' + base64.b16encode(os.urandom(12)).decode().lower()
            with self.lock:
                self.tokens.add(token)
                self.jwts_verified += 1
            expires = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() + 3600))
            return 201, {'token': token, 'expires_at': expires, 'permissions': {'organization_self_hosted_runners': 'write'},
                         'repository_selection': 'all'}
        if not (auth.startswith('Bearer ') and auth[len('Bearer '):] in self.tokens):
            self.refusals.append(f'{method} {route}: no installation token')
            return 401, {'message': 'Bad credentials', 'documentation_url': 'https://docs.github.com/rest'}
        base = f'/orgs/{self.org}/actions'
        with self.lock:
            if method == 'GET' and route == base + '/runner-groups':
                return 200, {'total_count': 1, 'runner_groups': [
                    {'id': 1, 'name': 'Default', 'visibility': 'all', 'default': True,
                     'runners_url': f'https://localhost/api/v3{base}/runner-groups/1/runners', 'inherited': False,
                     'allows_public_repositories': True, 'restricted_to_workflows': False,
                     'selected_workflows': []}]}
            if method == 'POST' and route == base + '/runners/generate-jitconfig':
                req = json.loads(body)
                if req.get('runner_group_id') != 1 or not req.get('name') or not req.get('labels'):
                    return 422, {'message': 'Invalid request.'}
                rid = self.next_id
                self.next_id += 1
                runner = {'id': rid, 'name': req['name'], 'os': 'unknown', 'status': 'offline', 'busy': False,
                          'labels': [{'id': i + 1, 'name': n, 'type': 'read-only' if n == 'self-hosted' else 'custom'}
                                     for i, n in enumerate(req['labels'])]}
                self.runners[rid] = runner
                encoded = base64.b64encode(json.dumps({'runner_id': rid, 'name': req['name'],
                                                       'secret': base64.b16encode(os.urandom(8)).decode()}).encode()).decode()
                self.jit_configs.append(encoded)
                return 201, {'runner': runner, 'encoded_jit_config': encoded}
            if method == 'GET' and route == base + '/runners':
                runners = sorted(self.runners.values(), key=lambda r: r['id'])
                return 200, {'total_count': len(runners), 'runners': runners}
            if method == 'DELETE' and route.startswith(base + '/runners/'):
                rid = int(route.rsplit('/', 1)[1])
                if rid not in self.runners:
                    return 404, {'message': 'Not Found'}
                if self.runners[rid]['busy']:
                    return 422, {'message': 'Bad request - Runner "x" is still running a job"'}
                del self.runners[rid]
                return 204, None
        return 404, {'message': 'Not Found'}

    # --- Actions: runners and jobs -------------------------------------------

    def queue(self, job_id, duration=1.0):
        with self.lock:
            self.jobs.append({'id': job_id, 'state': 'queued', 'runner': None, 'duration': duration})
        self.deliver('queued', job_id, None)

    def actions_service(self):
        while not self.stopping:
            events = []
            with self.lock:
                for rid, r in self.runners.items():
                    if r['status'] == 'offline' and os.path.exists(os.path.join(self.state_dir, f'{rid}.online')):
                        r['status'] = 'online'
                idle = [r for r in self.runners.values() if r['status'] == 'online' and not r['busy']]
                for job in self.jobs:
                    if job['state'] == 'queued' and idle:
                        r = idle.pop(0)
                        r['busy'] = True
                        job.update(state='in_progress', runner=r['id'])
                        with open(os.path.join(self.state_dir, f'{r["id"]}.job'), 'w') as f:
                            f.write(str(job['duration']))
                        events.append(('in_progress', job['id'], r['name']))
                    elif job['state'] == 'in_progress' and os.path.exists(
                            os.path.join(self.state_dir, f'{job["runner"]}.done')):
                        r = self.runners.pop(job['runner'], None)  # a JIT runner is gone after its job
                        job['state'] = 'completed'
                        events.append(('completed', job['id'], r['name'] if r else None))
            for action, job_id, runner in events:
                self.deliver(action, job_id, runner)
            time.sleep(0.1)


# The runner image's program: reads its JIT configuration as actions/runner
# would (base64 JSON), says it is online, takes one job, runs it, exits.
RUNNER_SCRIPT = r'''
id=$(echo "$ACTIONS_RUNNER_INPUT_JITCONFIG" | base64 -d | sed -n 's/.*"runner_id": *\([0-9]*\).*/\1/p')
[ -n "$id" ] || { echo "no JIT configuration" >&2; exit 2; }
touch /state/$id.online
while [ ! -f /state/$id.job ]; do sleep 0.1; done
sleep "$(cat /state/$id.job)"
touch /state/$id.done
'''
