#!/usr/bin/env python3
"""The Kubernetes-compatible API, driven by a stock kubectl (Debian's
kubernetes-client 1.20, unpacked by scripts/kubectl.sh) and by plain HTTPS
requests: discovery, get in every output, selectors, namespaces, errors as
Kubernetes Status objects, TLS from the store's CA, and bearer tokens.

    api_test.py KEELSON_BINARY SAMPLES_DIR

The controller runs against an engine that is not there: the API serves the
store whatever the engine does.
"""
import base64
import http.client
import json
import os
import socket
import sqlite3
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from harness import Keelson, expect, run_tests  # noqa: E402

binary = os.path.abspath(sys.argv[1])
samples = os.path.abspath(sys.argv[2])
ROOT = os.path.dirname(samples)
KUBECTL = subprocess.run([os.path.join(ROOT, 'scripts', 'kubectl.sh')], check=True, capture_output=True,
                         text=True).stdout.strip()
NO_ENGINE = ['--docker-host', 'unix:///nonexistent/docker.sock']


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    """A store with the samples applied (and a second namespace), and a
    controller serving its API."""

    def __init__(self):
        self.k = Keelson(binary)
        self.k.ok('apply', '-f', samples)
        self.k.ok('-n', 'team-b', 'apply', '-f', self.k.write('b.yaml', RUNNER_B))
        self.port = free_port()
        self.url = f'https://127.0.0.1:{self.port}'
        self.log = open(os.path.join(self.k.dir, 'controller.log'), 'w')
        self.p = subprocess.Popen([binary, '--db', self.k.db, *NO_ENGINE, 'controller', '--listen', 'off',
                                   '--api-listen', f'127.0.0.1:{self.port}'],
                                  stdout=self.log, stderr=subprocess.STDOUT, cwd=self.k.dir)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                self.ca = ssl.create_default_context(cafile=self.k.db + '.api-ca.crt')
                urllib.request.urlopen(self.url + '/version', timeout=2, context=self.ca).read()
                break
            except (OSError, ssl.SSLError):
                time.sleep(0.1)
        else:
            raise AssertionError('the API did not answer:\n' + self.output())
        self.kubeconfig = self.k.write('kubeconfig', self.k.ok('kubeconfig'))

    def output(self):
        with open(os.path.join(self.k.dir, 'controller.log')) as f:
            return f.read()

    def kubectl(self, *args, kubeconfig=None):
        p = subprocess.run([KUBECTL, '--kubeconfig', kubeconfig or self.kubeconfig,
                            '--cache-dir', os.path.join(self.k.dir, 'kube-cache'), *args], capture_output=True,
                           text=True, timeout=60, cwd=self.k.dir)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, **kw):
        rc, out, err = self.kubectl(*args, **kw)
        expect(rc == 0, f'kubectl {" ".join(args)}: exit {rc}\n{err}')
        return out

    def http(self, path, token=None, accept=None, method='GET', body=None, content_type='application/json', raw=False):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header('Authorization', 'Bearer ' + token)
        if accept:
            req.add_header('Accept', accept)
        if data is not None:
            req.add_header('Content-Type', content_type)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.ca) as r:
                payload = r.read()
                return r.status, (payload if raw else json.loads(payload))
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def token(self):
        for line in open(self.kubeconfig):
            if line.strip().startswith('token:'):
                return json.loads(line.split(':', 1)[1].strip())
        raise AssertionError('no token in the kubeconfig')

    def stop(self):
        self.p.terminate()
        rc = self.p.wait(timeout=30)
        self.log.close()
        return rc


WEB = """apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web, labels: {app: web}}
spec:
  image: keelson-test/busybox:1
  command: [sleep, "60"]
  resources: {cpus: "0.5", memory: 64Mi}
"""

RUNNER_B = """apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: lint, labels: {team: b}}
spec: {image: keelson-test/busybox:1, command: [sleep, "60"]}
"""

api = None


def words(line):
    return line.split()


def discovery_lists_keelsons_kinds_as_kubectl_api_resources_shows_them():
    out = api.ok('api-resources')
    rows = {words(line)[0]: words(line) for line in out.splitlines()[1:] if line.strip()}
    expect(rows.get('runnerpools') == ['runnerpools', 'pool', 'keelson.dev/v1alpha1', 'true', 'RunnerPool'], out)
    expect(rows.get('runners') == ['runners', 'rn', 'keelson.dev/v1alpha1', 'true', 'Runner'], out)
    for plural in ('images', 'networks', 'volumes', 'policies'):
        expect(plural in rows, f'{plural} missing:\n{out}')
    expect(rows.get('namespaces', [None])[-2:] == ['false', 'Namespace'], out)
    # keelson api-resources prints the rows kubectl prints for keelson's group.
    theirs = [words(line) for line in api.ok('api-resources', '--api-group', 'keelson.dev').splitlines()]
    ours = [words(line) for line in api.k.ok('api-resources').splitlines()]
    expect(theirs == ours, f'kubectl:\n{theirs}\nkeelson:\n{ours}')
    expect(api.k.ok('api-resources', '-o', 'name').split() ==
           api.ok('api-resources', '--api-group', 'keelson.dev', '-o', 'name').split(), '-o name')
    # kubectl api-resources --api-group narrows it as on a cluster.
    only = api.ok('api-resources', '--api-group', 'keelson.dev', '-o', 'name')
    expect(sorted(only.split()) == sorted(f'{p}.keelson.dev' for p in
                                          ('images', 'networks', 'volumes', 'runners', 'runnerpools', 'policies',
                                           'gitrepositories')), only)


def kubectl_get_prints_the_columns_of_keelson_get():
    for kind in ('runners', 'runnerpools', 'networks', 'volumes', 'images', 'policies'):
        theirs = api.ok('get', kind).splitlines()
        ours = api.k.ok('get', kind).splitlines()
        expect(words(theirs[0]) == words(ours[0]), f'{kind}: kubectl {theirs[0]!r} != keelson {ours[0]!r}')
        # Every cell but AGE (which may tick between the two reads).
        expect([words(r)[:-1] for r in theirs[1:]] == [words(r)[:-1] for r in ours[1:]], f'{kind}:\n{theirs}\n{ours}')
    wide_theirs = api.ok('get', 'runnerpools', '-o', 'wide').splitlines()[0]
    wide_ours = api.k.ok('get', 'runnerpools', '-o', 'wide').splitlines()[0]
    # CONTAINERS is the CLI's, asked of the engine the CLI reaches; the
    # server's table is the store's columns only.
    expect(words(wide_theirs) == [w for w in words(wide_ours) if w != 'CONTAINERS'],
           f'-o wide: {wide_theirs!r} != {wide_ours!r}')
    # The short name and the singular work as kubectl users type them.
    expect(api.ok('get', 'pool', 'ci-runners', '--no-headers').split()[0] == 'ci-runners', 'get pool NAME')


def kubectl_get_outputs_json_yaml_name_and_jsonpath():
    doc = json.loads(api.ok('get', 'runner', 'artifact-cache', '-o', 'json'))
    expect(doc['apiVersion'] == 'keelson.dev/v1alpha1' and doc['kind'] == 'Runner', doc)
    expect(doc['metadata']['name'] == 'artifact-cache' and doc['metadata']['namespace'] == 'default', doc)
    expect(doc['spec']['image'] == 'keelson-test/busybox:1', doc)
    expect(doc['metadata']['resourceVersion'].isdigit(), doc)
    lst = json.loads(api.ok('get', 'runners', '-o', 'json'))
    expect(lst['kind'] == 'List' and [i['metadata']['name'] for i in lst['items']] == ['artifact-cache'], lst)
    y = api.ok('get', 'runnerpool', 'ci-runners', '-o', 'yaml')
    expect('kind: RunnerPool' in y and 'name: ci-runners' in y and 'replicas: 3' in y, y)
    expect(api.ok('get', 'runners,runnerpools', '-o', 'name').split() ==
           ['runner.keelson.dev/artifact-cache', 'runnerpool.keelson.dev/ci-runners'], 'get -o name')
    expect(api.ok('get', 'runner', 'artifact-cache', '-o', 'jsonpath={.spec.networks[0].aliases[0]}') == 'artifacts',
           'jsonpath')


def selectors_namespaces_and_all_namespaces():
    expect(api.ok('get', 'runners', '-l', 'team=ci', '-o', 'name').split() == ['runner.keelson.dev/artifact-cache'],
           'label selector')
    expect(api.ok('get', 'runners', '-l', 'team notin (ci)', '-o', 'name').split() == [], 'notin')
    expect(api.ok('get', 'runners', '-n', 'team-b', '-o', 'name').split() == ['runner.keelson.dev/lint'], '-n')
    everywhere = api.ok('get', 'runners', '-A').splitlines()
    expect(words(everywhere[0])[:2] == ['NAMESPACE', 'NAME'], everywhere)
    expect(sorted((words(r)[0], words(r)[1]) for r in everywhere[1:]) ==
           [('default', 'artifact-cache'), ('team-b', 'lint')], everywhere)
    expect(api.ok('get', 'runners', '-A', '--field-selector', 'metadata.name=lint', '-o', 'name').split() ==
           ['runner.keelson.dev/lint'], 'field selector =')
    expect(api.ok('get', 'runners', '-A', '--field-selector', 'metadata.namespace!=team-b', '-o', 'name').split() ==
           ['runner.keelson.dev/artifact-cache'], 'field selector !=')
    labels = api.ok('get', 'runners', '-n', 'team-b', '--show-labels').splitlines()
    expect(words(labels[0])[-1] == 'LABELS' and words(labels[1])[-1] == 'team=b', labels)
    ns = api.ok('get', 'namespaces', '-o', 'name').split()
    expect(ns == ['namespace/default', 'namespace/team-b'], ns)


def errors_are_kubernetes_status_objects():
    rc, out, err = api.kubectl('get', 'runner', 'nope')
    expect(rc == 1 and 'Error from server (NotFound): runners.keelson.dev "nope" not found' in err, err)
    rc, out, err = api.kubectl('get', 'runners', '--field-selector', 'spec.image=x')
    expect(rc == 1 and 'field label not supported: spec.image' in err, err)
    code, body = api.http('/apis/keelson.dev/v1alpha1/namespaces/default/runners/nope', token=api.token())
    expect(code == 404 and body['kind'] == 'Status' and body['reason'] == 'NotFound' and body['code'] == 404, body)
    code, body = api.http('/apis/keelson.dev/v1alpha1/runners?labelSelector=a%20in%20(', token=api.token())
    expect(code == 400 and body['reason'] == 'BadRequest', body)
    code, body = api.http('/apis/keelson.dev/v1alpha1/widgets', token=api.token())
    expect(code == 404 and body['reason'] == 'NotFound', body)


def server_side_printing_is_a_table():
    code, body = api.http('/apis/keelson.dev/v1alpha1/namespaces/default/runnerpools', token=api.token(),
                          accept='application/json;as=Table;v=v1;g=meta.k8s.io')
    expect(code == 200 and body['kind'] == 'Table' and body['apiVersion'] == 'meta.k8s.io/v1', body)
    names = [c['name'] for c in body['columnDefinitions']]
    expect(names[0] == 'Name' and names[-1] == 'Age', names)
    row = body['rows'][0]
    expect(row['cells'][0] == 'ci-runners' and row['object']['kind'] == 'PartialObjectMetadata', row)
    expect(row['object']['metadata']['labels']['team'] == 'ci', row)
    wide = [c['name'] for c in body['columnDefinitions'] if c['priority'] == 1]
    expect(wide, 'the -o wide columns have priority 1')


def authentication_bearer_tokens():
    code, body = api.http('/version')
    expect(code == 200 and body['major'] == '1', body)
    code, body = api.http('/apis/keelson.dev/v1alpha1/runners')
    expect(code == 401 and body['reason'] == 'Unauthorized', body)
    code, body = api.http('/apis/keelson.dev/v1alpha1/runners', token='not-a-token')
    expect(code == 401, body)
    anonymous = api.k.write('anonymous', open(api.kubeconfig).read().replace(api.token(), 'wrong'))
    rc, out, err = api.kubectl('get', 'runners', kubeconfig=anonymous)
    expect(rc == 1 and 'Unauthorized' in err, err)
    tokens = api.k.db + '.api-tokens'
    expect(stat.S_IMODE(os.stat(tokens).st_mode) == 0o600, oct(os.stat(tokens).st_mode))
    # Another identity gets a token of its own, the same one each time.
    viewer = api.k.ok('kubeconfig', '--user', 'ci-bot', '--groups', 'ci,readers')
    expect(api.token() not in viewer, 'a token of its own')
    expect(api.k.ok('kubeconfig', '--user', 'ci-bot', '--groups', 'ci,readers') == viewer, 'issued once')
    path = api.k.write('viewer', viewer)
    # The new token authenticates; nothing is granted to it yet (403, not 401).
    rc, out, err = api.kubectl('get', 'runners', '-o', 'name', kubeconfig=path)
    expect(rc == 1 and 'Error from server (Forbidden)' in err and 'User "ci-bot" cannot list resource "runners"' in err, err)
    with open(tokens) as f:
        expect(sum(1 for line in f if ',ci-bot,' in line) == 1, 'one line for ci-bot')


def tls_from_the_stores_ca():
    ca_key = api.k.db + '.api-ca.key'
    expect(stat.S_IMODE(os.stat(ca_key).st_mode) == 0o600, oct(os.stat(ca_key).st_mode))
    # A client that does not trust the store's CA refuses the server...
    try:
        urllib.request.urlopen(api.url + '/version', timeout=5, context=ssl.create_default_context()).read()
        raise AssertionError('a certificate not from a trusted CA was accepted')
    except urllib.error.URLError as e:
        expect('CERTIFICATE_VERIFY_FAILED' in str(e.reason), str(e))
    # ...and plain HTTP gets no answer from the TLS port.
    try:
        urllib.request.urlopen(f'http://127.0.0.1:{api.port}/version', timeout=5).read()
        raise AssertionError('plain HTTP was answered')
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        pass
    # The kubeconfig carries the CA: kubectl verifies the server with it (no --insecure-skip-tls-verify).
    expect('certificate-authority-data' in open(api.kubeconfig).read(), 'CA in the kubeconfig')
    expect('insecure' not in open(api.kubeconfig).read(), 'never insecure')


def kubeconfig_needs_a_controller_that_served_the_api():
    k = Keelson(binary)
    k.ok('apply', '-f', k.write('b.yaml', RUNNER_B))
    rc, out, err = k.run('kubeconfig', timeout=20)
    expect(rc == 1 and 'no controller has served the API' in err and len(err.strip().splitlines()) == 1, err)


def path(kind, name='', ns='default', sub=''):
    p = f'/apis/keelson.dev/v1alpha1/namespaces/{ns}/{kind}'
    return p + (f'/{name}' if name else '') + (f'/{sub}' if sub else '')


def stored(kind, name, field, ns='default'):
    """What the store holds at a dotted path ('.spec.command[1]'), read by
    keelson's own CLI (not through the API); None when the object is absent."""
    rc, out, err = api.k.run('-n', ns, 'get', kind, name, '-o', 'json')
    if rc != 0:
        return None
    value = json.loads(out)
    for part in field.strip('.').replace('[', '.').replace(']', '').split('.'):
        if isinstance(value, list):
            value = value[int(part)] if int(part) < len(value) else ''
        elif isinstance(value, dict):
            value = value.get(part, '')
        else:
            return ''
    return value if isinstance(value, str) else json.dumps(value)


def kubectl_apply_create_replace_and_delete():
    f = api.k.write('web.yaml', WEB)
    expect(api.ok('apply', '-f', f).strip() == 'runner.keelson.dev/web created', 'created')
    expect(stored('runner', 'web', '.spec.command[1]') == '60', 'stored by the API, read from the file')
    expect('last-applied-configuration' in stored('runner', 'web', '.metadata.annotations'), 'apply annotates')
    api.k.write('web.yaml', WEB.replace('"60"', '"61"'))
    expect(api.ok('apply', '-f', f).strip() == 'runner.keelson.dev/web configured', 'configured')
    expect(stored('runner', 'web', '.spec.command[1]') == '61', 'three-way merge patch landed')
    expect(stored('runner', 'web', '.metadata.generation') == '2', 'generation +1 on a spec change')
    expect(api.ok('apply', '-f', f).strip() == 'runner.keelson.dev/web unchanged', 'unchanged')
    rc, out, err = api.kubectl('create', '-f', f)
    expect(rc == 1 and 'Error from server (AlreadyExists)' in err and 'runners.keelson.dev "web" already exists' in err,
           err)
    api.k.write('web.yaml', WEB.replace('"60"', '"62"'))
    expect(api.ok('replace', '-f', f).strip() == 'runner.keelson.dev/web replaced', 'replaced')
    expect(stored('runner', 'web', '.spec.command[1]') == '62', 'replace stored')
    # kubectl diff: a server-side dry run, which stores nothing.
    api.k.write('web.yaml', WEB.replace('"60"', '"63"'))
    rc, out, err = api.kubectl('diff', '-f', f)
    expect(rc == 1 and '-  - "62"' in out and '+  - "63"' in out, out + err)
    expect(stored('runner', 'web', '.spec.command[1]') == '62', 'the dry run stored nothing')
    # kubectl waits (a watch) until the controller has removed it.
    expect(api.ok('delete', '-f', f).strip() == 'runner.keelson.dev "web" deleted', 'deleted')
    expect(stored('runner', 'web', '.metadata.name') is None, 'gone from the store')


def kubectl_patch_label_annotate_and_scale():
    api.ok('apply', '-f', api.k.write('web.yaml', WEB))
    expect(api.ok('patch', 'runner', 'web', '--type', 'merge', '-p', '{"spec":{"command":["sleep","5"]}}').strip() ==
           'runner.keelson.dev/web patched', 'merge patch')
    api.ok('patch', 'runner', 'web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/command/1","value":"7"}]')
    expect(stored('runner', 'web', '.spec.command[1]') == '7', 'JSON patch')
    rc, out, err = api.kubectl('patch', 'runner', 'web', '-p', '{"spec":{"command":["sleep","9"]}}')
    expect(rc == 1 and 'UnsupportedMediaType' in err, 'strategic merge patch is not for custom resources: ' + err)
    rc, out, err = api.kubectl('patch', 'runner', 'web', '--type', 'json', '-p', '[{"op":"test","path":"/spec/image","value":"x"}]')
    expect(rc == 1 and 'invalid' in err, err)
    code, body = api.http(path('runners', 'web'), token=api.token(), method='PATCH', content_type='application/json-patch+json',
                          body=[{'op': 'test', 'path': '/spec/image', 'value': 'x'}])
    expect(code == 422 and 'the JSON patch cannot be applied: unsuccessful' in body['message'], body)
    expect(stored('runner', 'web', '.spec.command[1]') == '7', 'failed patches change nothing')
    api.ok('label', 'runner', 'web', 'tier=ci')
    api.ok('annotate', 'runner', 'web', 'owner=platform')
    expect(stored('runner', 'web', '.metadata.labels.tier') == 'ci', 'label')
    expect(stored('runner', 'web', '.metadata.annotations.owner') == 'platform', 'annotate')
    expect(stored('runner', 'web', '.metadata.generation') == '3', 'labels and annotations do not bump generation')
    expect(api.ok('scale', 'runnerpool', 'ci-runners', '--replicas', '5').strip() ==
           'runnerpool.keelson.dev/ci-runners scaled', 'scale')
    expect(stored('runnerpool', 'ci-runners', '.spec.replicas') == '5', 'scaled in the store')
    code, body = api.http(path('runnerpools', 'ci-runners', sub='scale'), token=api.token())
    expect(code == 200 and body['kind'] == 'Scale' and body['spec']['replicas'] == 5, body)
    code, body = api.http(path('runners', 'web', sub='scale'), token=api.token())
    expect(code == 404, 'only RunnerPools scale')
    api.ok('scale', 'runnerpool', 'ci-runners', '--replicas', '3')
    # An autoscaled pool that follows a queue: its replicas are not set by hand, through kubectl or keelson.
    api.ok('apply', '-f', api.k.write('auto.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\n'
                                                  'metadata: {name: auto}\nspec:\n  autoscaling:\n    maxReplicas: 4\n'
                                                  '    queue: {url: "http://127.0.0.1:9/queue", jsonPath: "{.pending}"}\n'
                                                  '  template: {image: keelson-test/busybox:1, resources: {cpus: "0.5", memory: 64Mi}}\n'))
    rc, out, err = api.kubectl('scale', 'runnerpool', 'auto', '--replicas', '5')
    expect(rc == 1 and 'runnerpool/auto is autoscaled: its replicas follow the job queue' in err, err)
    rc, out, err = api.k.run('scale', 'runnerpool', 'auto', '--replicas', '5')
    expect(rc == 1 and 'runnerpool/auto is autoscaled' in err, err)
    code, body = api.http(path('runnerpools', 'auto', sub='scale'), token=api.token())
    expect(code == 200 and body['spec']['replicas'] == 0, body)  # no decision yet: none wanted
    api.ok('delete', 'runnerpool', 'auto')
    # One with neither GitHub nor a queue takes /scale as its signal, as a Deployment under an HPA does.
    api.ok('apply', '-f', api.k.write('ext.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\n'
                                                 'metadata: {name: ext}\nspec:\n  autoscaling: {maxReplicas: 4}\n'
                                                 '  template: {image: keelson-test/busybox:1, resources: {cpus: "0.5", memory: 64Mi}}\n'))
    rc, out, err = api.kubectl('scale', 'runnerpool', 'ext', '--replicas', '3')
    expect(rc == 0, err)
    expect(stored('runnerpool', 'ext', '.spec.replicas') == '3', 'the request is stored')
    api.ok('delete', 'runnerpool', 'ext')


def the_api_refuses_what_apply_refuses_with_the_same_messages():
    bad = api.k.write('bad.yaml', WEB.replace('name: web', 'name: bad').replace('cpus: "0.5"', 'cpus: lots')
                      .replace('image: keelson-test/busybox:1', 'image: evil.example/x:1'))
    rc, out, err = api.k.run('apply', '-f', bad)
    expect(rc == 1, err)
    # "FILE:LINE:COL: FIELD: MESSAGE" from the CLI; "FIELD: MESSAGE" from the API.
    theirs = [line.split(': ', 1)[1] for line in err.strip().splitlines()]
    rc, out, err = api.kubectl('create', '-f', bad, '--validate=false')
    expect(rc == 1 and 'The Runner "bad" is invalid' in err, err)
    for line in theirs:
        expect(line in err, f'{line!r} not in the API\'s answer:\n{err}')
    code, body = api.http(path('runners'), token=api.token(), method='POST',
                          body={'apiVersion': 'keelson.dev/v1alpha1', 'kind': 'Runner', 'metadata': {'name': 'bad'},
                                'spec': {'image': 'keelson-test/busybox:1', 'bogus': 1}})
    expect(code == 422 and body['reason'] == 'Invalid', body)
    expect(body['details']['causes'][0]['field'] == 'spec.bogus', body)
    expect(stored('runner', 'bad', '.metadata.name') is None, 'nothing stored')
    # Specs sent over the API name no files outside what the server allows.
    code, body = api.http(path('runners'), token=api.token(), method='POST',
                          body={'apiVersion': 'keelson.dev/v1alpha1', 'kind': 'Runner', 'metadata': {'name': 'bad'},
                                'spec': {'image': 'keelson-test/busybox:1', 'resources': {'cpus': '1', 'memory': '8Mi'},
                                         'env': [{'name': 'X', 'valueFrom': {'file': '/etc/shadow'}}]}})
    expect(code == 422 and 'outside the directories the API server allows' in body['message'], body)


def a_stale_resource_version_is_a_conflict_and_racing_clients_both_land():
    api.ok('apply', '-f', api.k.write('web.yaml', WEB))
    code, current = api.http(path('runners', 'web'), token=api.token())
    stale = json.loads(json.dumps(current))
    current['spec']['command'] = ['sleep', '11']
    code, body = api.http(path('runners', 'web'), token=api.token(), method='PUT', body=current)
    expect(code == 200 and body['spec']['command'] == ['sleep', '11'], body)
    stale['spec']['command'] = ['sleep', '12']
    code, body = api.http(path('runners', 'web'), token=api.token(), method='PUT', body=stale)
    expect(code == 409 and body['reason'] == 'Conflict' and 'has been modified' in body['message'], body)
    expect(stored('runner', 'web', '.spec.command[1]') == '11', 'the stale write changed nothing')
    del stale['metadata']['resourceVersion']
    code, body = api.http(path('runners', 'web'), token=api.token(), method='PUT', body=stale)
    expect(code == 422 and 'must be specified for an update' in body['message'], body)
    # Two kubectl clients at once: the server retries its own read, so both land.
    procs = [subprocess.Popen([KUBECTL, '--kubeconfig', api.kubeconfig, '--cache-dir',
                               os.path.join(api.k.dir, 'kube-cache'), 'label', 'runner', 'web', f'race{i}=yes'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(4)]
    for p in procs:
        expect(p.wait(timeout=60) == 0, p.stderr.read().decode())
    labels = json.loads(api.ok('get', 'runner', 'web', '-o', 'json'))['metadata']['labels']
    expect(all(labels.get(f'race{i}') == 'yes' for i in range(4)), labels)


def status_is_written_only_through_the_status_subresource():
    code, current = api.http(path('runners', 'web'), token=api.token())
    current['status'] = {'phase': 'Hacked'}
    current['metadata']['labels']['via'] = 'main'
    code, body = api.http(path('runners', 'web'), token=api.token(), method='PUT', body=current)
    expect(code == 200 and body.get('status', {}).get('phase') != 'Hacked', body)
    expect(body['metadata']['labels']['via'] == 'main', 'the rest of the write landed')
    generation = body['metadata']['generation']
    code, body = api.http(path('runners', 'web', sub='status'), token=api.token(), method='PATCH',
                          body={'status': {'phase': 'Patched'}, 'spec': {'image': 'other:1'}},
                          content_type='application/merge-patch+json')
    expect(code == 200 and body['status']['phase'] == 'Patched', body)
    expect(body['spec']['image'] == 'keelson-test/busybox:1' and body['metadata']['generation'] == generation,
           '/status leaves the spec alone')


def token_of(kubeconfig_text):
    for line in kubeconfig_text.splitlines():
        if line.strip().startswith('token:'):
            return json.loads(line.split(':', 1)[1].strip())
    raise AssertionError('no token')


def rbac_grants_per_verb_and_per_namespace():
    text = api.k.ok('kubeconfig', '--user', 'ci-viewer', '--groups', 'ci')
    viewer, viewer_token = api.k.write('viewer2', text), token_of(text)
    rc, out, err = api.kubectl('get', 'runners', kubeconfig=viewer)
    expect(rc == 1 and 'Forbidden' in err, 'nothing granted yet: ' + err)
    expect(api.kubectl('auth', 'can-i', 'list', 'runners', kubeconfig=viewer)[1].strip() == 'no', 'can-i: no')
    # As on a cluster: bind the built-in view role to the group, in one namespace.
    expect(api.ok('create', 'rolebinding', 'ci-view', '--clusterrole=view', '--group=ci', '-n', 'default').strip() ==
           'rolebinding.rbac.authorization.k8s.io/ci-view created', 'rolebinding')
    expect(api.ok('get', 'runner', 'web', '-o', 'name', kubeconfig=viewer).strip() == 'runner.keelson.dev/web', 'view reads')
    for verb in ('get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'):
        answer = api.kubectl('auth', 'can-i', verb, 'runners', '-n', 'default', kubeconfig=viewer)[1].strip()
        expect(answer == ('yes' if verb in ('get', 'list', 'watch') else 'no'), f'can-i {verb}: {answer}')
    # Each write refused, whatever its verb, and nothing changes.
    code, current = api.http(path('runners', 'web'), token=api.token())
    for method, p, body, ctype, verb in (
            ('POST', path('runners'), dict(current, metadata={'name': 'viewer-made'}), 'application/json', 'create'),
            ('PUT', path('runners', 'web'), current, 'application/json', 'update'),
            ('PATCH', path('runners', 'web'), {'metadata': {'labels': {'by': 'viewer'}}}, 'application/merge-patch+json', 'patch'),
            ('DELETE', path('runners', 'web'), None, 'application/json', 'delete'),
            ('DELETE', path('runners'), None, 'application/json', 'deletecollection'),
            ('PATCH', path('runnerpools', 'ci-runners', sub='scale'), {'spec': {'replicas': 9}}, 'application/merge-patch+json',
             'patch')):
        code, body = api.http(p, token=viewer_token, method=method, body=body, content_type=ctype)
        expect(code == 403 and body['reason'] == 'Forbidden' and f'cannot {verb} resource' in body['message'], body)
    expect(stored('runner', 'web', '.metadata.labels.by') == '', 'nothing changed')
    expect(stored('runnerpool', 'ci-runners', '.spec.replicas') == '3', 'nothing scaled')
    rc, out, err = api.kubectl('get', 'runners', '-n', 'team-b', kubeconfig=viewer)
    expect(rc == 1 and 'in the namespace "team-b"' in err, 'the binding is for default only: ' + err)

    # A user confined to team-b edits there, and nowhere else.
    text = api.k.ok('kubeconfig', '--user', 'b-dev')
    dev = api.k.write('b-dev', text)
    api.ok('create', 'rolebinding', 'b-edit', '--clusterrole=edit', '--user=b-dev', '-n', 'team-b')
    api.ok('label', 'runner', 'lint', '-n', 'team-b', 'edited=yes', kubeconfig=dev)
    expect(stored('runner', 'lint', '.metadata.labels.edited', ns='team-b') == 'yes', 'edit in team-b')
    rc, out, err = api.kubectl('label', 'runner', 'web', '-n', 'default', 'edited=yes', kubeconfig=dev)
    expect(rc == 1 and 'Forbidden' in err, err)
    rc, out, err = api.kubectl('get', 'runners', '-A', kubeconfig=dev)
    expect(rc == 1 and 'at the cluster scope' in err, err)
    # No escalation: edit holds no RBAC rights; an admin of team-b may not grant cluster-admin.
    rc, out, err = api.kubectl('create', 'rolebinding', 'me', '--clusterrole=cluster-admin', '--user=b-dev', '-n', 'team-b',
                               kubeconfig=dev)
    expect(rc == 1 and 'is forbidden: User "b-dev" cannot create resource "rolebindings"' in err, err)
    admin_b = api.k.write('b-admin', api.k.ok('kubeconfig', '--user', 'b-admin'))
    api.ok('create', 'rolebinding', 'b-admin', '--clusterrole=admin', '--user=b-admin', '-n', 'team-b')
    api.ok('create', 'rolebinding', 'more-edit', '--clusterrole=edit', '--user=someone', '-n', 'team-b', kubeconfig=admin_b)
    rc, out, err = api.kubectl('create', 'rolebinding', 'root', '--clusterrole=cluster-admin', '--user=b-admin', '-n',
                               'team-b', kubeconfig=admin_b)
    expect(rc == 1 and 'attempting to grant RBAC permissions not currently held' in err, err)
    roles = api.ok('get', 'clusterroles', '-o', 'name').split()
    expect(all(f'clusterrole.rbac.authorization.k8s.io/{r}' in roles for r in ('admin', 'cluster-admin', 'edit', 'view')),
           roles)
    bindings = api.ok('get', 'rolebindings', '-n', 'team-b').splitlines()
    expect(words(bindings[0])[:2] == ['NAME', 'ROLE'] and any(words(b)[:2] == ['b-edit', 'ClusterRole/edit'] for b in bindings),
           bindings)
    api.ok('delete', 'rolebinding', 'ci-view', '-n', 'default')
    rc, out, err = api.kubectl('get', 'runners', kubeconfig=viewer)
    expect(rc == 1 and 'Forbidden' in err, 'the grant is gone with its binding: ' + err)


def kubectl_explain_and_the_openapi_documents():
    out = api.ok('explain', 'runner.spec')
    expect('KIND:     Runner' in out and 'image\t<string>' in out, out)
    out = api.ok('explain', 'runnerpool.spec.replicas')
    expect('FIELD:    replicas <integer>' in out, out)
    code, doc = api.http('/openapi/v2', token=api.token())
    runner = doc['definitions']['dev.keelson.v1alpha1.Runner']
    expect(runner['x-kubernetes-group-version-kind'] == [{'group': 'keelson.dev', 'kind': 'Runner', 'version': 'v1alpha1'}],
           runner.get('x-kubernetes-group-version-kind'))
    code, pb = api.http('/openapi/v2', token=api.token(), accept='application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
                        raw=True)
    expect(code == 200 and pb[:5] == b'\x0a\x032.0' and b'dev.keelson.v1alpha1.RunnerPool' in pb, pb[:40])
    code, v3 = api.http('/openapi/v3', token=api.token())
    url = v3['paths']['apis/keelson.dev/v1alpha1']['serverRelativeURL']
    code, doc = api.http(url, token=api.token())
    expect(code == 200 and 'dev.keelson.v1alpha1.Volume' in doc['components']['schemas'], list(doc))


POOL = """apiVersion: keelson.dev/v1alpha1
kind: RunnerPool
metadata: {name: watched}
spec:
  replicas: 1
  template:
    image: keelson-test/busybox:1
    command: [sleep, "60"]
    resources: {cpus: "0.5", memory: 64Mi}
"""


def json_stream(text):
    """The JSON documents of a stream of concatenated documents."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = decoder.raw_decode(text, i)
        out.append(doc)


def watch_events(query, seconds):
    """The events of a raw watch of runnerpools in default, read until the server ends it."""
    req = urllib.request.Request(api.url + path('runnerpools') + '?watch=1&timeoutSeconds=' + str(seconds) + query)
    req.add_header('Authorization', 'Bearer ' + api.token())
    with urllib.request.urlopen(req, timeout=seconds + 10, context=api.ca) as r:
        return [json.loads(line) for line in r.read().decode().splitlines() if line.strip()]


def a_watch_sees_an_apply_a_scale_and_a_delete_in_order():
    watcher = subprocess.Popen([KUBECTL, '--kubeconfig', api.kubeconfig, '--cache-dir', os.path.join(api.k.dir, 'kube-cache'),
                                'get', 'runnerpools', '-w', '--output-watch-events', '-o', 'json', '--request-timeout', '0'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        f = api.k.write('pool.yaml', POOL)
        api.ok('apply', '-f', f)
        time.sleep(0.3)
        api.ok('scale', 'runnerpool', 'watched', '--replicas', '4')
        time.sleep(0.3)
        api.ok('delete', 'runnerpool', 'watched')  # --wait: the controller removes it (no engine objects)
        time.sleep(1)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=10)
    events = [(e['type'], e['object']['spec']['replicas']) for e in json_stream(out)
              if e['object']['metadata']['name'] == 'watched']
    expect(events and events[0] == ('ADDED', 1), events)
    expect(events[-1][0] == 'DELETED', events)
    scaled = [i for i, e in enumerate(events) if e == ('MODIFIED', 4)]
    expect(scaled and 0 < scaled[0] < len(events) - 1, f'the scale between the apply and the delete: {events}')
    # The watch listed what was there first: ci-runners, ADDED.
    expect(any(e['type'] == 'ADDED' and e['object']['metadata']['name'] == 'ci-runners' for e in json_stream(out)), out[:300])


def a_watch_from_a_resource_version_replays_what_came_after():
    code, before = api.http(path('runnerpools'), token=api.token())
    rv = before['metadata']['resourceVersion']
    api.ok('scale', 'runnerpool', 'ci-runners', '--replicas', '2')
    api.ok('scale', 'runnerpool', 'ci-runners', '--replicas', '3')
    events = watch_events('&resourceVersion=' + rv, 1)
    names = [(e['type'], e['object']['metadata']['name']) for e in events]
    expect(names and all(n == ('MODIFIED', 'ci-runners') for n in names), names)
    expect(events[-1]['object']['spec']['replicas'] == 3, 'the latest state')
    expect(all(int(e['object']['metadata']['resourceVersion']) > int(rv) for e in events), 'only what came after')
    # A version the store no longer remembers: one ERROR event, 410 Expired (clients list again).
    db = sqlite3.connect(api.k.db)
    db.execute("UPDATE counters SET value = ? WHERE name = 'changes_floor'", (int(rv) + 1,))
    db.commit()
    db.close()
    events = watch_events('&resourceVersion=' + rv, 2)
    expect(len(events) == 1 and events[0]['type'] == 'ERROR' and events[0]['object']['code'] == 410 and
           events[0]['object']['reason'] == 'Expired', events)


def bookmarks_say_how_far_a_quiet_watch_has_come():
    start = time.time()

    def write_elsewhere():
        time.sleep(0.5)
        api.ok('label', 'runner', 'lint', '-n', 'team-b', 'bookmark=yes', '--overwrite')
    t = threading.Thread(target=write_elsewhere)
    t.start()
    events = watch_events('&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dnothing-here', 7)
    t.join()
    expect(time.time() - start < 15, 'the watch ended at its timeout')
    marks = [e for e in events if e['type'] == 'BOOKMARK']
    expect(marks and all(e['object']['kind'] == 'RunnerPool' for e in marks), events)
    code, lint = api.http(path('runners', 'lint', ns='team-b'), token=api.token())
    expect(int(marks[-1]['object']['metadata']['resourceVersion']) >= int(lint['metadata']['resourceVersion']),
           f'the last bookmark is past the write in team-b: {marks} {lint["metadata"]["resourceVersion"]}')


def kubectl_wait_and_delete_wait_follow_the_watch():
    api.ok('apply', '-f', api.k.write('pool.yaml', POOL))
    # No engine here: the controller reports Ready False for the generation it saw.
    out = api.ok('wait', '--for=condition=Ready=False', 'runnerpool/watched', '--timeout=20s')
    expect(out.strip() == 'runnerpool.keelson.dev/watched condition met', out)
    rc, out, err = api.kubectl('wait', '--for=condition=Ready', 'runnerpool/watched', '--timeout=2s')
    expect(rc == 1 and 'timed out' in err, err)
    started = time.time()
    expect(api.ok('delete', 'runnerpool', 'watched', '--timeout=30s').strip() ==
           'runnerpool.keelson.dev "watched" deleted', 'deleted')
    expect(stored('runnerpool', 'watched', '.metadata.name') is None, 'gone when delete --wait returned')
    expect(time.time() - started < 30, 'the DELETED event ended the wait')


def the_audit_log_records_every_write_and_no_secret():
    code, body = api.http(path('runners'), token=api.token(), method='POST',
                          body={'apiVersion': 'keelson.dev/v1alpha1', 'kind': 'Runner', 'metadata': {'name': 'audited'},
                                'spec': {'image': 'keelson-test/busybox:1', 'resources': {'cpus': '1', 'memory': '8Mi'},
                                         'env': [{'name': 'TOKEN', 'value': 's3cret-env-value'}]}})
    expect(code == 201, body)
    log = api.k.db + '.api-audit.log'
    expect(stat.S_IMODE(os.stat(log).st_mode) == 0o600, oct(os.stat(log).st_mode))
    text = open(log).read()
    expect('s3cret-env-value' not in text, 'no body in the audit log')
    events = [json.loads(line) for line in text.splitlines()]
    expect(all(e['kind'] == 'Event' and e['apiVersion'] == 'audit.k8s.io/v1' for e in events), events[:1])
    made = [e for e in events if e['objectRef'].get('resource') == 'runners' and e['verb'] == 'create' and
            e['responseStatus']['code'] == 201 and e['user']['username'] == 'admin']
    expect(made and made[-1]['objectRef']['namespace'] == 'default' and made[-1]['sourceIPs'] == ['127.0.0.1'], made[-1:])
    refused = [e for e in events if e['user']['username'] == 'ci-viewer' and e['responseStatus']['code'] == 403]
    expect(len(refused) >= 6, f'each refused write is recorded: {len(refused)}')
    reads = [e for e in events if e['verb'] not in ('create', 'update', 'patch', 'delete')]
    expect(not reads, f'reads are not audited: {reads[:1]}')


def failed_authentications_are_slowed_per_address():
    codes = [api.http(path('runners'), token='guess-%d' % i)[0] for i in range(30)]
    expect(set(codes) == {401, 429} and codes.index(429) >= 15, codes)
    code, body = api.http(path('runners'), token=api.token())
    expect(code == 200, 'a valid token is not held back: %s' % body)


def client_certificates_from_the_stores_ca_authenticate():
    text = api.k.ok('kubeconfig', '--user', 'cert-user', '--groups', 'certs,qa', '--client-certificate')
    expect('client-certificate-data' in text and 'client-key-data' in text and 'token' not in text, text)
    conf = api.k.write('cert-kubeconfig', text)
    rc, out, err = api.kubectl('get', 'runners', kubeconfig=conf)
    expect(rc == 1 and 'User "cert-user" cannot list' in err, 'CN is the user: ' + err)
    api.ok('create', 'rolebinding', 'certs-view', '--clusterrole=view', '--group=qa', '-n', 'default')
    expect('runner.keelson.dev/artifact-cache' in api.ok('get', 'runners', '-o', 'name', kubeconfig=conf).split(),
           'O is a group')
    expect(api.kubectl('auth', 'can-i', 'list', 'runners', kubeconfig=conf)[1].strip() == 'yes', 'can-i')
    # A certificate with the same name from another CA is nobody.
    key, crt = os.path.join(api.k.dir, 'forged.key'), os.path.join(api.k.dir, 'forged.crt')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                    '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=cert-user/O=qa'], check=True,
                   capture_output=True)
    forged = text.split('client-certificate-data')[0] + \
        'client-certificate-data: "%s"\n    client-key-data: "%s"\n' % (
            base64.b64encode(open(crt, 'rb').read()).decode(), base64.b64encode(open(key, 'rb').read()).decode()) + \
        'contexts:' + text.split('contexts:')[1]
    rc, out, err = api.kubectl('get', 'runners', kubeconfig=api.k.write('forged-kubeconfig', forged))
    expect(rc == 1 and 'Unauthorized' in err, err)


SSA = """apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: ssa, labels: {owner: ci, temp: yes-please}}
spec:
  image: keelson-test/busybox:1
  command: [sleep, "60"]
  resources: {cpus: "0.5", memory: 64Mi}
"""


def kubectl_apply_server_side_owns_fields():
    f = api.k.write('ssa.yaml', SSA)
    expect(api.ok('apply', '--server-side', '-f', f).strip() == 'runner.keelson.dev/ssa serverside-applied', 'created')
    expect(stored('runner', 'ssa', '.spec.command[1]') == '60', 'stored')
    # Another manager changing a field kubectl applied: a conflict, then --force-conflicts takes it.
    other = api.k.write('ssa-other.yaml', SSA.replace('"60"', '"61"').replace(', temp: yes-please', ''))
    rc, out, err = api.kubectl('apply', '--server-side', '--field-manager', 'ci-bot', '-f', other)
    expect(rc == 1 and 'Apply failed with 1 conflict: conflict with "kubectl" using keelson.dev/v1alpha1: .spec.command'
           in err, err)
    expect(stored('runner', 'ssa', '.spec.command[1]') == '60', 'the conflict changed nothing')
    api.ok('apply', '--server-side', '--field-manager', 'ci-bot', '--force-conflicts', '-f', other)
    expect(stored('runner', 'ssa', '.spec.command[1]') == '61', 'forced')
    # kubectl drops the command and the temp label from its configuration: the label (its alone) goes,
    # the command (ci-bot's now) stays.
    api.k.write('ssa.yaml', SSA.replace('  command: [sleep, "60"]\n', '').replace(', temp: yes-please', ''))
    api.ok('apply', '--server-side', '-f', f)
    expect(stored('runner', 'ssa', '.spec.command[1]') == '61', "ci-bot's field stays")
    expect(stored('runner', 'ssa', '.metadata.labels.temp') == '', 'a field no manager applies any more goes')
    expect(stored('runner', 'ssa', '.metadata.labels.owner') == 'ci', 'co-owned stays')
    # Same admission as apply.
    rc, out, err = api.kubectl('apply', '--server-side', '-f', api.k.write('ssa-bad.yaml', SSA.replace('cpus: "0.5"', 'cpus: x')),
                               '--validate=false')
    expect(rc == 1 and 'spec.resources.cpus' in err, err)


def kubectl_edit_saves_through_a_merge_patch():
    env = dict(os.environ, KUBE_EDITOR='sed -i s/busybox:1/busybox:2/')
    p = subprocess.run([KUBECTL, '--kubeconfig', api.kubeconfig, '--cache-dir', os.path.join(api.k.dir, 'kube-cache'),
                        'edit', 'runner', 'ssa'], capture_output=True, text=True, env=env, timeout=60)
    expect(p.returncode == 0 and 'runner.keelson.dev/ssa edited' in p.stdout, p.stdout + p.stderr)
    expect(stored('runner', 'ssa', '.spec.image') == 'keelson-test/busybox:2', 'edited')


def the_official_javascript_client_library_works():
    lib = subprocess.run([os.path.join(ROOT, 'scripts', 'client-node.sh')], check=True, capture_output=True,
                         text=True).stdout.strip()
    script = os.path.join(ROOT, 'tests', 'integration', 'client_node.js')
    p = subprocess.run(['node', script, api.kubeconfig], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, NODE_PATH=os.path.join(lib, 'node_modules')))
    expect(p.returncode == 0, p.stdout + p.stderr)
    out = json.loads(p.stdout)
    expect(out['created']['generation'] == 1 and len(out['created']['uid']) == 36, out)
    expect(out['errors']['again'] == {'status': 409, 'reason': 'AlreadyExists'}, out['errors'])
    expect(out['errors']['missing']['status'] == 404 and out['errors']['missing']['reason'] == 'NotFound', out['errors'])
    expect(out['patched'] == {'generation': 2, 'command': ['sleep', '2']}, out['patched'])
    expect(out['listed'] == ['from-node'], out['listed'])
    types = [t for t, _ in out['events']]
    expect(types[0] == 'ADDED' and types[-1] == 'DELETED' and ['MODIFIED', '2'] in out['events'], out['events'])
    expect('watchError' not in out, out.get('watchError'))


def a_serving_certificate_of_ones_own():
    k = Keelson(binary)
    key, crt = os.path.join(k.dir, 'own.key'), os.path.join(k.dir, 'own.crt')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                    '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=keelson.example',
                    '-addext', 'subjectAltName=IP:127.0.0.1'], check=True, capture_output=True)
    port = free_port()
    p = subprocess.Popen([binary, '--db', k.db, *NO_ENGINE, 'controller', '--listen', 'off', '--api-listen',
                          f'127.0.0.1:{port}', '--api-tls-cert-file', crt, '--api-tls-key-file', key],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ctx = ssl.create_default_context(cafile=crt)
        for _ in range(100):
            try:
                body = json.loads(urllib.request.urlopen(f'https://127.0.0.1:{port}/version', timeout=2, context=ctx).read())
                break
            except (OSError, ssl.SSLError):
                time.sleep(0.1)
        else:
            raise AssertionError('the API did not answer with the given certificate')
        expect(body['major'] == '1', body)
        conf = k.ok('kubeconfig')
        expect('certificate-authority-data' not in conf and 'server: "https://127.0.0.1:%d"' % port in conf, conf)
    finally:
        p.terminate()
        p.wait(timeout=30)
    rc, out, err = k.run('controller', '--once', '--api-listen', '127.0.0.1:0', '--api-tls-cert-file', crt, timeout=30)
    expect(rc != 0 and 'go together' in err, err)


def the_keelson_cli_drives_a_remote_store_over_the_api():
    # Another directory, no store file: everything goes through the API.
    remote = Keelson(binary)
    kc = ['--kubeconfig', api.kubeconfig]
    f = remote.write('far.yaml', WEB.replace('name: web', 'name: far'))
    expect(remote.ok(*kc, 'apply', '-f', f).strip() == 'runner/far created', 'created')
    expect(stored('runner', 'far', '.spec.command[1]') == '60', 'in the server\'s store')
    expect(not os.path.exists(remote.db), 'no local store was made')
    expect(remote.ok(*kc, 'apply', '-f', f).strip() == 'runner/far unchanged', 'unchanged')
    remote.write('far.yaml', WEB.replace('name: web', 'name: far').replace('"60"', '"61"'))
    expect(remote.ok(*kc, 'apply', '-f', f).strip() == 'runner/far configured', 'configured')
    expect(stored('runner', 'far', '.spec.command[1]') == '61', 'configured in the server\'s store')
    theirs = remote.ok(*kc, 'get', 'runners').splitlines()
    ours = api.k.ok('get', 'runners').splitlines()
    # Names, images and the header: the controller may write a status between the two reads.
    expect([(words(r)[0], words(r)[3]) for r in theirs] == [(words(r)[0], words(r)[3]) for r in ours],
           f'{theirs}\n{ours}')
    doc = json.loads(remote.ok(*kc, 'get', 'runner', 'far', '-o', 'json'))
    expect(doc['metadata']['name'] == 'far' and doc['spec']['command'] == ['sleep', '61'], doc)
    expect(remote.ok(*kc, 'get', 'runners', '-l', 'app=web', '-o', 'name').split() ==
           sorted(api.k.ok('get', 'runners', '-l', 'app=web', '-o', 'name').split()), 'selector')
    expect(remote.ok(*kc, 'scale', 'runnerpool', 'ci-runners', '--replicas', '4').strip() == 'runnerpool/ci-runners scaled', '')
    expect(stored('runnerpool', 'ci-runners', '.spec.replicas') == '4', 'scaled')
    remote.ok(*kc, 'scale', 'runnerpool', 'ci-runners', '--replicas', '3')
    out = remote.ok(*kc, 'wait', 'runner/far', '--for=condition=Ready=False', '--timeout', '20s')
    expect(out.strip() == 'condition met', out)
    # The same refusals: the files are judged before anything is sent, and the server judges again.
    bad = remote.write('bad.yaml', WEB.replace('cpus: "0.5"', 'cpus: lots'))
    rc, out, err = remote.run(*kc, 'apply', '-f', bad)
    expect(rc == 1 and 'bad.yaml:7:' in err and 'spec.resources.cpus' in err, err)
    # --server and --token as kubectl takes them; a wrong token is refused.
    token, ca = api.token(), api.k.db + '.api-ca.crt'
    flags = ['--server', api.url, '--certificate-authority', ca]
    expect('runner/far' in remote.ok(*flags, '--token', token, 'get', 'runners', '-o', 'name').split(), '--server')
    rc, out, err = remote.run(*flags, '--token', 'wrong', 'get', 'runners')
    expect(rc == 1 and 'Unauthorized' in err, err)
    described = remote.ok(*kc, 'describe', 'runner', 'far')
    expect('Name:         far' in described and 'not served over the API' in described, described)
    rc, out, err = remote.run(*kc, 'diff', '-f', f)
    expect(rc == 0, 'no difference: ' + out + err)
    remote.write('far.yaml', WEB.replace('name: web', 'name: far').replace('"60"', '"62"'))
    rc, out, err = remote.run(*kc, 'diff', '-f', f)
    changed = [line for line in out.splitlines() if line[:1] in '+-' and line[:3] not in ('---', '+++')]
    expect(rc == 1 and len(changed) == 2 and '"61"' in changed[0] and '"62"' in changed[1], out + err)
    rc, out, err = remote.run(*kc, 'events')
    expect(rc == 2 and 'works on the store file only' in err, err)
    expect(remote.ok(*kc, 'delete', 'runner', 'far', '--wait').strip() in ('runner/far deleted', 'runner/far marked for deletion'),
           'deleted')
    expect(stored('runner', 'far', '.metadata.name') is None, 'gone')


def keelson_explain_prints_what_kubectl_explain_prints():
    paths = []
    for kind in ('runner', 'runnerpool', 'image', 'network', 'volume', 'policy'):
        paths.append(kind)
        stack = []
        for line in api.k.ok('explain', kind, '--recursive').split('FIELDS:\n', 1)[1].splitlines():
            depth = (len(line) - len(line.lstrip(' ')) - 3) // 3
            stack[depth:] = [line.strip().split('\t')[0]]
            paths.append('.'.join([kind] + stack))
    expect(len(paths) > 300, len(paths))
    # Every fifth field (and every kind) against the stock kubectl reading the API's OpenAPI document;
    # kubectl's printf mangles a '%' in a description ("25%!"(MISSING)"): such lines are left out.
    for p in paths[::5] + paths[:1]:
        theirs = [line for line in api.ok('explain', p).splitlines() if '%!' not in line]
        ours = [line for line in api.k.ok('explain', p).splitlines() if '%' not in line]
        expect(theirs == ours, f'{p}:\n' + '\n'.join(theirs) + '\n---\n' + '\n'.join(ours))
    rc, out, err = api.k.run('explain', 'runner.spec.nope')
    expect(rc == 1 and 'field "nope" does not exist' in err, err)


def keelson_get_jsonpath_and_custom_columns_print_what_kubectl_prints():
    templates = ['{.items[*].metadata.name}',
                 '{range .items[*]}{.metadata.name}{"\\t"}{.spec.image}{"\\n"}{end}',
                 '{.items[0].spec.command}',
                 '{.items[*].metadata.labels}',
                 '{.items[?(@.metadata.name=="artifact-cache")].spec.networks[0].aliases}',
                 '{.items[-1:].metadata.name} and {.kind}']  # not {..name}: kubectl walks maps in Go's random order
    for kind in ('runners', 'runnerpools'):
        for t in templates:
            theirs = api.kubectl('get', kind, '-o', 'jsonpath=' + t)
            ours = api.k.run('get', kind, '-o', 'jsonpath=' + t)
            expect(theirs[0] == ours[0] and theirs[1] == ours[1], f'{kind} {t}:\n{theirs}\n{ours}')
    single = 'jsonpath={.metadata.name}:{.spec.replicas}'
    expect(api.ok('get', 'runnerpool', 'ci-runners', '-o', single) == api.k.ok('get', 'runnerpool', 'ci-runners', '-o', single),
           'one object')
    rc, out, err = api.k.run('get', 'runners', '-o', 'jsonpath={.items[99].metadata.name}')
    expect(rc == 1 and 'array index out of bounds: index 99' in err, err)
    spec = 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,IMAGE:{.spec.template.image},NONE:.spec.nothing'
    expect(api.ok('get', 'runnerpools', '-A', '-o', spec) == api.k.ok('get', 'runnerpools', '-A', '-o', spec),
           api.k.ok('get', 'runnerpools', '-A', '-o', spec))


def kubectl_apply_samples_with_the_servers_files_dir():
    # kubectl sends objects, not files: a relative path in a spec (the Image's build context) resolves
    # against the server's --api-files-dir, and without one is refused.
    rc, out, err = api.kubectl('apply', '-f', samples)
    expect(rc == 1 and 'spec.build.context: runner-image: a path sent to the API must be absolute' in err, err)
    k = Keelson(binary)
    port = free_port()
    p = subprocess.Popen([binary, '--db', k.db, 'serve', '--api-listen', f'127.0.0.1:{port}', '--api-files-dir', samples],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                ctx = ssl.create_default_context(cafile=k.db + '.api-ca.crt')
                urllib.request.urlopen(f'https://127.0.0.1:{port}/version', timeout=2, context=ctx).read()
                break
            except (OSError, ssl.SSLError):
                time.sleep(0.1)
        conf = k.write('kc', k.ok('kubeconfig'))
        p2 = subprocess.run([KUBECTL, '--kubeconfig', conf, '--cache-dir', os.path.join(k.dir, 'kc-cache'), 'apply', '-f',
                             samples], capture_output=True, text=True, timeout=60)
        expect(p2.returncode == 0 and len(p2.stdout.splitlines()) == 6 and
               all(line.endswith(' created') for line in p2.stdout.splitlines()), p2.stdout + p2.stderr)
        image = json.loads(k.ok('get', 'image', 'ci-runner', '-o', 'json'))
        expect(image['spec']['build']['context'] == os.path.join(samples, 'runner-image'), image['spec'])
    finally:
        p.terminate()
        p.wait(timeout=30)


def git_push_webhooks_on_the_api_listener_need_the_sources_signature():
    import hashlib
    import hmac
    secret = api.k.write('hook/secret', 'webhook-secret-do-not-print\n')
    api.k.ok('apply', '-f', api.k.write('hook/src.yaml', 'apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\n'
                                                       'metadata: {name: hooked}\n'
                                                       'spec:\n  url: https://example.invalid/fleet.git\n'
                                                       '  interval: 1h\n  suspend: true\n'
                                                       '  webhook: {secretFile: secret}\n'))
    stored = json.loads(api.k.ok('get', 'gitrepository', 'hooked', '-o', 'json'))
    expect(stored['spec']['webhook']['secretFile'] == os.path.realpath(secret), 'resolved at apply, as other files')
    body = json.dumps({'ref': 'refs/heads/main'}).encode()

    def deliver(headers):
        req = urllib.request.Request(api.url + '/hooks/git/default/hooked', data=body, method='POST')
        for k, v in headers.items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10, context=api.ca) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def requested():
        meta = json.loads(api.k.ok('get', 'gitrepository', 'hooked', '-o', 'json'))['metadata']
        return meta.get('annotations', {}).get('keelson.dev/sync-requested-at')

    status, text = deliver({'X-Hub-Signature-256': 'sha256=' + hmac.new(b'wrong', body, hashlib.sha256).hexdigest(),
                            'X-GitHub-Event': 'push'})
    expect(status == 401 and 'webhook-secret' not in text, f'{status} {text}')
    expect(requested() is None, 'a bad signature starts nothing')
    good = hmac.new(b'webhook-secret-do-not-print', body, hashlib.sha256).hexdigest()
    status, text = deliver({'X-Hub-Signature-256': 'sha256=' + good, 'X-GitHub-Event': 'push'})
    expect(status == 202, f'{status} {text}')
    first = requested()
    expect(first and first in text, f'the request is recorded on the source: {first} {text}')
    status, _ = deliver({'X-Gitlab-Token': 'webhook-secret-do-not-print'})
    expect(status == 202 and requested() != first, 'GitLab\'s token header')
    status, _ = deliver({})
    expect(status == 401, 'no signature at all')
    expect('webhook-secret-do-not-print' not in api.output(), 'the secret is never logged')


def main():
    global api
    api = Api()
    try:
        run_tests([
            discovery_lists_keelsons_kinds_as_kubectl_api_resources_shows_them,
            kubectl_get_prints_the_columns_of_keelson_get,
            kubectl_get_outputs_json_yaml_name_and_jsonpath,
            selectors_namespaces_and_all_namespaces,
            errors_are_kubernetes_status_objects,
            server_side_printing_is_a_table,
            authentication_bearer_tokens,
            tls_from_the_stores_ca,
            kubeconfig_needs_a_controller_that_served_the_api,
            kubectl_apply_create_replace_and_delete,
            kubectl_patch_label_annotate_and_scale,
            the_api_refuses_what_apply_refuses_with_the_same_messages,
            a_stale_resource_version_is_a_conflict_and_racing_clients_both_land,
            status_is_written_only_through_the_status_subresource,
            rbac_grants_per_verb_and_per_namespace,
            kubectl_explain_and_the_openapi_documents,
            a_watch_sees_an_apply_a_scale_and_a_delete_in_order,
            a_watch_from_a_resource_version_replays_what_came_after,
            bookmarks_say_how_far_a_quiet_watch_has_come,
            kubectl_wait_and_delete_wait_follow_the_watch,
            the_audit_log_records_every_write_and_no_secret,
            client_certificates_from_the_stores_ca_authenticate,
            kubectl_apply_server_side_owns_fields,
            kubectl_edit_saves_through_a_merge_patch,
            the_official_javascript_client_library_works,
            a_serving_certificate_of_ones_own,
            the_keelson_cli_drives_a_remote_store_over_the_api,
            keelson_explain_prints_what_kubectl_explain_prints,
            keelson_get_jsonpath_and_custom_columns_print_what_kubectl_prints,
            kubectl_apply_samples_with_the_servers_files_dir,
            git_push_webhooks_on_the_api_listener_need_the_sources_signature,
            failed_authentications_are_slowed_per_address,
        ])
    finally:
        rc = api.stop()
        if rc != 0:
            print(api.output())


main()
