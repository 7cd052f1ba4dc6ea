"""Git servers on loopback for the gitops tests: `git daemon` (git://), smart
HTTP (`git http-backend` as a CGI behind a small HTTP server, with optional
basic authentication and TLS) and sshd (with a throwaway host key and client key)."""
import base64
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f'nothing listens on 127.0.0.1:{port}')


def git_daemon(base):
    port = free_port()
    p = subprocess.Popen(['git', 'daemon', '--export-all', f'--base-path={base}', '--listen=127.0.0.1',
                          f'--port={port}', '--reuseaddr', base], stderr=subprocess.DEVNULL)
    wait_listening(port)
    return p, port


def tls_certificate(workdir, host='localhost'):
    """A throwaway CA and a certificate it signed for `host`, made with the
    openssl CLI. Returns (ca_file, cert_file, key_file)."""
    ca, ca_key = os.path.join(workdir, 'ca.pem'), os.path.join(workdir, 'ca.key')
    cert, key, csr = (os.path.join(workdir, n) for n in ('server.pem', 'server.key', 'server.csr'))
    ext = os.path.join(workdir, 'san.ext')
    with open(ext, 'w') as f:
        f.write(f'subjectAltName=DNS:{host}\n')
    quiet = {'check': True, 'capture_output': True}
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
                    '/CN=keelson test CA', '-keyout', ca_key, '-out', ca], **quiet)
    subprocess.run(['openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', f'/CN={host}', '-keyout', key,
                    '-out', csr], **quiet)
    subprocess.run(['openssl', 'x509', '-req', '-in', csr, '-CA', ca, '-CAkey', ca_key, '-CAcreateserial',
                    '-days', '2', '-extfile', ext, '-out', cert], **quiet)
    return ca, cert, key


def git_http(base, user=None, password=None, tls=None):
    """Serves the repositories under `base` over smart HTTP; with `user`, only
    to requests carrying that basic authentication; with `tls` (cert_file,
    key_file), over https. Returns (server, port)."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def serve(self):
            if user is not None:
                want = 'Basic ' + base64.b64encode(f'{user}:{password}'.encode()).decode()
                if self.headers.get('Authorization') != want:
                    self.send_response(401)
                    self.send_header('WWW-Authenticate', 'Basic realm="git"')
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
            path, _, query = self.path.partition('?')
            body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
            env = {**os.environ, 'GIT_PROJECT_ROOT': base, 'GIT_HTTP_EXPORT_ALL': '1', 'PATH_INFO': path,
                   'QUERY_STRING': query, 'REQUEST_METHOD': self.command,
                   'CONTENT_TYPE': self.headers.get('Content-Type', ''), 'CONTENT_LENGTH': str(len(body)),
                   'REMOTE_USER': user or '', 'REMOTE_ADDR': '127.0.0.1'}
            out = subprocess.run(['git', 'http-backend'], input=body, capture_output=True, env=env).stdout
            head, _, payload = out.partition(b'\r\n\r\n')
            status = 200
            headers = []
            for line in head.decode().split('\r\n'):
                name, _, value = line.partition(':')
                if name.lower() == 'status':
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = serve
        do_POST = serve

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    if tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


class Sshd:
    """An sshd on loopback that lets this user in with a key made here.
    `environment` (KEY=VALUE), when given, is set for the key's sessions."""

    def __init__(self, workdir, environment=None):
        import getpass
        self.dir = workdir
        self.user = getpass.getuser()
        for key in ('hostkey', 'clientkey'):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', os.path.join(workdir, key)],
                           check=True)
        with open(os.path.join(workdir, 'clientkey.pub')) as f:
            public = f.read().strip()
        with open(os.path.join(workdir, 'authorized_keys'), 'w') as f:
            f.write((f'environment="{environment}" ' if environment else '') + public + '\n')
        self.port = free_port()
        with open(os.path.join(workdir, 'sshd_config'), 'w') as f:
            f.write(f'Port {self.port}\nListenAddress 127.0.0.1\nHostKey {workdir}/hostkey\n'
                    f'AuthorizedKeysFile {workdir}/authorized_keys\nStrictModes no\nUsePAM no\n'
                    'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitUserEnvironment yes\n'
                    f'PidFile {workdir}/sshd.pid\n')
        os.makedirs('/run/sshd', exist_ok=True)
        self.p = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e', '-f', os.path.join(workdir, 'sshd_config')],
                                  stderr=open(os.path.join(workdir, 'sshd.log'), 'w'))
        wait_listening(self.port)
        self.client_key = os.path.join(workdir, 'clientkey')

    def known_hosts_line(self):
        with open(os.path.join(self.dir, 'hostkey.pub')) as f:
            kind, blob = f.read().split()[:2]
        return f'[127.0.0.1]:{self.port} {kind} {blob}\n'

    def stop(self):
        self.p.terminate()
        self.p.wait()
