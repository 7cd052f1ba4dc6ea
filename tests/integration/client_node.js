// Drives keelson's API with the official Kubernetes client library for
// JavaScript (@kubernetes/client-node): list, create, get, merge patch,
// delete, errors as Status objects, and a watch that sees it all. Prints
// one JSON document of what it saw; api_test.py judges it.
//
//   NODE_PATH=DIR/node_modules node client_node.js KUBECONFIG
'use strict';
const k8s = require('@kubernetes/client-node');

const [group, version, ns, plural] = ['keelson.dev', 'v1alpha1', 'default', 'runners'];

async function main() {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(process.argv[2]);
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const out = {events: [], errors: {}};

  const watch = new k8s.Watch(kc);
  const watching = await watch.watch(`/apis/${group}/${version}/namespaces/${ns}/${plural}`, {},
      (type, obj) => { if (obj.metadata.name === 'from-node') out.events.push([type, obj.spec.command[1]]); },
      (err) => { if (err && err.name !== 'AbortError') out.watchError = String(err); });

  const runner = {
    apiVersion: `${group}/${version}`, kind: 'Runner', metadata: {name: 'from-node', labels: {via: 'node'}},
    spec: {image: 'keelson-test/busybox:1', command: ['sleep', '1'], resources: {cpus: '0.5', memory: '16Mi'}},
  };
  const created = await api.createNamespacedCustomObject(group, version, ns, plural, runner);
  out.created = {uid: created.body.metadata.uid, generation: created.body.metadata.generation};
  try {
    await api.createNamespacedCustomObject(group, version, ns, plural, runner);
  } catch (e) {
    out.errors.again = {status: e.statusCode, reason: e.body.reason};
  }
  try {
    await api.getNamespacedCustomObject(group, version, ns, plural, 'nope');
  } catch (e) {
    out.errors.missing = {status: e.statusCode, reason: e.body.reason, message: e.body.message};
  }
  await new Promise((r) => setTimeout(r, 300));
  const patched = await api.patchNamespacedCustomObject(group, version, ns, plural, 'from-node',
      {spec: {command: ['sleep', '2']}}, undefined, undefined, undefined,
      {headers: {'Content-Type': 'application/merge-patch+json'}});
  out.patched = {generation: patched.body.metadata.generation, command: patched.body.spec.command};
  const list = await api.listNamespacedCustomObject(group, version, ns, plural, undefined, undefined, undefined,
      undefined, 'via=node');
  out.listed = list.body.items.map((i) => i.metadata.name);
  await new Promise((r) => setTimeout(r, 300));
  await api.deleteNamespacedCustomObject(group, version, ns, plural, 'from-node');
  for (let i = 0; i < 50 && !out.events.some((e) => e[0] === 'DELETED'); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  watching.abort();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.body ? JSON.stringify(e.body) : String(e));
  process.exit(1);
});
