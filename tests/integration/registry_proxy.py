#!/usr/bin/env python3
"""A registry front for tests: forwards to a real registry, records the
credentials each request carried, and (with a password file) requires them.

    registry_proxy.py LISTEN_PORT UPSTREAM LOG [USER PASSWORD_FILE]

LOG gets one line per request: "METHOD PATH AUTH" where AUTH is the decoded
Basic credentials ("user:password") or "-". Runs until killed.
"""
import base64
import http.client
import http.server
import sys

port, upstream, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
user = sys.argv[4] if len(sys.argv) > 5 else None
password_file = sys.argv[5] if len(sys.argv) > 5 else None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def credentials(self):
        auth = self.headers.get('Authorization', '')
        if not auth.startswith('Basic '):
            return None
        try:
            return base64.b64decode(auth[6:]).decode()
        except Exception:
            return '(undecodable)'

    def forward(self):
        got = self.credentials()
        with open(log, 'a') as f:
            f.write(f'{self.command} {self.path} {got or "-"}\n')
        if password_file:
            with open(password_file) as f:
                want = f'{user}:{f.read().rstrip(chr(10))}'
            if got != want:
                self.send_response(401)
                self.send_header('WWW-Authenticate', 'Basic realm="keelson-test"')
                self.send_header('Docker-Distribution-API-Version', 'registry/2.0')
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ('authorization', 'host')}
        conn.request(self.command, self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ('content-length', 'transfer-encoding', 'connection'):
                self.send_header(k, v)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
