#!/usr/bin/env python3
"""Generates crds/*.yaml, the CustomResourceDefinitions of keelson's kinds.

The schemas share pieces (object metadata, status conditions, and the Runner
spec that a RunnerPool's template repeats), so they are written once here,
as controller-gen does for Go types. The generated files are committed; the
build embeds them and a test checks they match this script's output.

It also writes the field reference of docs/manifests.md (between the
BEGIN/END GENERATED markers) from the same schemas, so the docs cannot drift.

    scripts/gen_crds.py crds/ docs/manifests.md          # rewrite the files
    scripts/gen_crds.py --check crds/ docs/manifests.md  # exit 1 if stale
"""
import json
import os
import re
import sys

GROUP = 'keelson.dev'
VERSION = 'v1alpha1'


def s(desc, **kw):
    return dict(type='string', description=desc, **kw)


def b(desc, default=None):
    d = dict(type='boolean', description=desc)
    if default is not None:
        d['default'] = default
    return d


def i(desc, **kw):
    return dict(type='integer', description=desc, **kw)


def obj(desc, props, required=None, **kw):
    d = dict(type='object', description=desc)
    if required:
        d['required'] = required
    d['properties'] = props
    d.update(kw)
    return d


def strmap(desc, value_format=None):
    value = dict(type='string')
    if value_format:
        value['format'] = value_format
    return dict(type='object', description=desc, additionalProperties=value)


def strlist(desc, **item):
    return dict(type='array', description=desc, items=dict(type='string', **item))


def duration(desc, default=None):
    d = s(desc + ' A duration such as "500ms", "10s", "1h30m".', format='duration', maxLength=64)
    if default is not None:
        d['default'] = default
    return d


def abspath(desc):
    return s(desc + ' An absolute path.', pattern='^/', maxLength=4096)


NAME = s('Name of an object of this kind in the same namespace.', format='dns1123-label')

METADATA = obj('Standard object metadata.', {
    'name': s('Unique within the namespace and kind; a DNS-1123 label.', format='dns1123-label'),
    'namespace': s('Namespace of the object; "default" when absent (or the -n flag).',
                   format='dns1123-label'),
    'labels': strmap('Labels for selection (get -l, apply --prune -l); Kubernetes label syntax.',
                     'label-value'),
    'annotations': strmap('Free-form notes. keelson.dev/prune: disabled keeps the object from '
                          'apply --prune.'),
    'uid': s('Read-only, set by keelson; ignored on apply.'),
    'generation': i('Read-only, set by keelson; ignored on apply.'),
    'resourceVersion': s('Read-only, set by keelson; ignored on apply.'),
    'creationTimestamp': s('Read-only, set by keelson; ignored on apply.'),
    'deletionTimestamp': s('Read-only, set by keelson; ignored on apply.'),
}, required=['name'])

CONDITIONS = dict(type='array', description='Kubernetes-style conditions (Ready, Progressing, Degraded).',
                  items=obj('One condition (metav1.Condition).', {
                      'type': s('Ready, Progressing or Degraded.'),
                      'status': s('True, False or Unknown.', enum=['True', 'False', 'Unknown']),
                      'reason': s('CamelCase reason.'),
                      'message': s('Human-readable detail.'),
                      'lastTransitionTime': s('When status last changed.'),
                      'observedGeneration': i('Generation the condition was computed for.'),
                  }))


def status(desc, extra):
    props = {
        'observedGeneration': i('The generation the controller last acted on.'),
        'conditions': CONDITIONS,
    }
    props.update(extra)
    return obj(desc + ' Written by the controller only; a status in an applied file is ignored '
               'with a warning.', props, **{'x-kubernetes-preserve-unknown-fields': True})


RUNNER_SPEC_PROPS = {
    'image': s('Image reference to run, e.g. 127.0.0.1:5000/ci/runner:1.4. Exactly one of '
               'image and imageRef.', format='image-ref'),
    'imageRef': s('Name of an Image object in the same namespace; the runner waits until it is '
                  'Ready. Exactly one of image and imageRef.', format='dns1123-label'),
    'entrypoint': strlist('Overrides the image ENTRYPOINT.'),
    'command': strlist('Overrides the image CMD (the arguments).'),
    'workingDir': abspath('Working directory inside the container.'),
    'user': s('User (and group) to run as: "1000", "1000:1000" or a name.', maxLength=256),
    'env': dict(type='array', description='Environment variables.',
                **{'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name']},
                items=obj('One variable: value, or valueFrom a file read when the container is '
                          'created.', {
                              'name': s('Variable name.', pattern='^[^=]+$', minLength=1,
                                        maxLength=256),
                              'value': s('Literal value.'),
                              'valueFrom': obj('Where to read the value from.', {
                                  'file': s('Path of a file whose contents (trailing newline '
                                            'removed) become the value; relative to the '
                                            'manifest file and inside its directory (or '
                                            'KEELSON_ALLOWED_PATHS). The value is never '
                                            'printed.', minLength=1),
                              }, required=['file']),
                          }, required=['name'])),
    'envFrom': dict(type='array', description='Files of NAME=value lines, as docker run '
                    '--env-file reads them (the value is the rest of the line, as it is; # comments '
                    'and blank lines skipped), read when the container is created; later files and '
                    'env win. Values are never printed.',
                    items=obj('One file.', {
                        'file': s('Path of the file; relative to the manifest file and inside its '
                                  'directory (or KEELSON_ALLOWED_PATHS).', minLength=1, maxLength=4096),
                    }, required=['file'])),
    'ports': dict(type='array', description='Published ports.',
                  **{'x-kubernetes-list-type': 'map',
                     'x-kubernetes-list-map-keys': ['containerPort', 'protocol']},
                  items=obj('One published port.', {
                      'containerPort': i('Port inside the container.', minimum=1, maximum=65535),
                      'hostPort': i('Port on the host; absent or 0: the engine picks one.',
                                    minimum=0, maximum=65535),
                      'hostIP': s('Host address to bind; absent: all addresses.',
                                  pattern='^[0-9a-fA-F:.]+$', maxLength=64),
                      'protocol': s('tcp, udp or sctp.', enum=['tcp', 'udp', 'sctp'],
                                    default='tcp'),
                  }, required=['containerPort'])),
    'networks': dict(type='array', description='Network objects to attach; the runner waits '
                     'until they are Ready.',
                     **{'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name']},
                     items=obj('One attachment.', {
                         'name': NAME,
                         'aliases': strlist('DNS aliases on that network.', format='dns1123-subdomain'),
                     }, required=['name'])),
    'volumes': dict(type='array', description='Volume objects to mount.',
                    **{'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['mountPath']},
                    items=obj('One mount of a Volume object.', {
                        'name': NAME,
                        'mountPath': abspath('Where to mount it.'),
                        'readOnly': b('Mount read-only.', False),
                    }, required=['name', 'mountPath'])),
    'binds': dict(type='array', description='Host directories to bind-mount.',
                  **{'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['mountPath']},
                  items=obj('One bind mount.', {
                      'hostPath': abspath('Path on the host.'),
                      'mountPath': abspath('Where to mount it.'),
                      'readOnly': b('Mount read-only.', False),
                  }, required=['hostPath', 'mountPath'])),
    'tmpfs': dict(strlist('Paths to mount as tmpfs.', pattern='^/', maxLength=4096),
                  **{'x-kubernetes-list-type': 'set'}),
    'resources': obj('Resource limits.', {
        'cpus': dict(description='CPU limit: a decimal ("1.5", 0.25) or milli-CPUs ("500m").',
                     format='cpus', **{'x-keelson-number-or-string': True}),
        'memory': dict(description='Memory limit: a quantity ("512Mi", "2Gi", "1G") or bytes.',
                       format='quantity', **{'x-kubernetes-int-or-string': True}),
        'pids': i('Maximum number of processes.', minimum=1),
    }),
    'healthcheck': obj('Container healthcheck; its result feeds the Ready condition.', {
        'test': dict(strlist('["CMD", "prog", "arg"...] or ["CMD-SHELL", "command"].'),
                     minItems=1),
        'interval': duration('Time between checks.'),
        'timeout': duration('Time a check may take.'),
        'retries': i('Consecutive failures before unhealthy.', minimum=0),
        'startPeriod': duration('Grace period after start.'),
    }, required=['test']),
    'hostname': s('The container\'s host name (default: the engine\'s, its short id).',
                  pattern='^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$', maxLength=253),
    'hostAliases': dict(type='array', description='Entries added to /etc/hosts, as a Kubernetes '
                        'pod\'s hostAliases (docker run --add-host).',
                        items=obj('One address and its names.', {
                            'ip': s('The address, or host-gateway (the host, as Docker resolves it).',
                                    pattern='^([0-9a-fA-F:.]+|host-gateway)$', maxLength=64),
                            'hostnames': dict(strlist('Names for it.', maxLength=253), minItems=1),
                        }, required=['ip', 'hostnames'])),
    'dnsConfig': obj('Name resolution, as a Kubernetes pod\'s dnsConfig (docker run --dns, '
                     '--dns-search, --dns-option).', {
        'nameservers': strlist('DNS servers.', pattern='^[0-9a-fA-F:.]+$', maxLength=64),
        'searches': strlist('Search domains.', maxLength=253),
        'options': dict(type='array', description='resolv.conf options.', items=obj('One option.', {
            'name': s('Option name, e.g. ndots.', minLength=1, maxLength=64),
            'value': s('Its value, if it takes one.', maxLength=64),
        }, required=['name'])),
    }),
    'init': b('Run an init process as PID 1 that reaps zombies and forwards signals '
              '(docker run --init).', False),
    'shmSize': dict(description='Size of /dev/shm: a quantity ("256Mi") or bytes (default: the '
                    'engine\'s, 64Mi).', format='quantity', **{'x-kubernetes-int-or-string': True}),
    'ulimits': dict(type='array', description='Resource limits (docker run --ulimit).',
                    **{'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name']},
                    items=obj('One limit.', {
                        'name': s('The limit: nofile, nproc, core, memlock, stack, ...',
                                  pattern='^[a-z]+$', maxLength=32),
                        'soft': i('Soft limit (-1: unlimited).', minimum=-1),
                        'hard': i('Hard limit (-1: unlimited); at least soft.', minimum=-1),
                    }, required=['name', 'soft', 'hard'])),
    'logging': obj('Where the engine sends the container\'s output (docker run --log-driver, '
                   '--log-opt); keelson logs reads json-file, local and journald.', {
        'driver': s('json-file, local, journald, syslog, none, ...', minLength=1, maxLength=64),
        'options': strmap('Driver options, e.g. max-size: 10m.'),
    }, required=['driver']),
    'securityContext': obj('Privileges.', {
        'privileged': b('Run privileged.', False),
        'readOnlyRootFilesystem': b('Mount the root filesystem read-only.', False),
        'noNewPrivileges': b('Set no-new-privileges.', False),
        'capAdd': strlist('Capabilities to add, e.g. NET_ADMIN.', pattern='^[A-Z_]+$', maxLength=64),
        'capDrop': strlist('Capabilities to drop, e.g. ALL.', pattern='^[A-Z_]+$', maxLength=64),
        'sysctls': dict(type='array', description='Namespaced kernel parameters, as a Kubernetes '
                        'pod\'s securityContext.sysctls (docker run --sysctl).',
                        **{'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name']},
                        items=obj('One parameter.', {
                            'name': s('e.g. net.core.somaxconn.', pattern='^[a-z0-9_.]+$', maxLength=253),
                            'value': s('Its value.', maxLength=4096),
                        }, required=['name', 'value'])),
    }),
    'restartPolicy': s('Enforced by the controller, with a crash-loop backoff.',
                       enum=['Always', 'OnFailure', 'Never'], default='Always'),
    'stopTimeout': duration('Time between SIGTERM and SIGKILL when stopping.', '10s'),
    'labels': strmap('Extra container labels; the dev.keelson. prefix is reserved.'),
    'restartedAt': s('Set by keelson rollout restart (an RFC 3339 time): a new value replaces the '
                     'container(s) with no other change, as kubectl rollout restart does with its '
                     'restartedAt annotation.', format='date-time'),
}


DEPENDS_ON = dict(
    type='array', description='Objects (same namespace) that must hold a condition before '
    'this one is started; cycles are refused at apply.',
    **{'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['kind', 'name']},
    items=obj('One dependency.', {
        'kind': s('Kind of the object.', enum=['Image', 'Network', 'Volume', 'Runner',
                                               'RunnerPool']),
        'name': s('Name of the object in the same namespace.', format='dns1123-label'),
        'condition': s('Condition it must hold.', enum=['Ready'], default='Ready'),
    }, required=['kind', 'name']))


BUSY_PROBE = obj(
    'Autoscaled pools: a command run in each replica at an interval, as a Kubernetes exec '
    'probe; exit code 0 means the replica is busy with a job, so scale-down and template '
    'updates leave it alone. A probe that cannot run or passes its timeout keeps the last '
    'answer. Changing it does not replace replicas.', {
        'exec': obj('The command.', {
            'command': dict(strlist('The argv run in the container (no shell unless you name one: '
                                    '["sh", "-c", "test -f /tmp/job-running"]).', maxLength=4096),
                            minItems=1, maxItems=64),
        }, required=['command']),
        'periodSeconds': i('Seconds between probes of a replica.', minimum=1, maximum=3600, default=5),
        'timeoutSeconds': i('Seconds a probe may take.', minimum=1, maximum=600, default=1),
    }, required=['exec'])


def runner_spec(desc, depends_on=False, busy_probe=False):
    props = dict(RUNNER_SPEC_PROPS)
    if depends_on:
        props['dependsOn'] = DEPENDS_ON
    if busy_probe:
        props['busyProbe'] = BUSY_PROBE
        # No schema default: absent, it is 90s in an autoscaled pool.
        props['stopTimeout'] = duration('Time between SIGTERM and SIGKILL when stopping: 10s by '
                                        'default, 90s in an autoscaled pool.')
    return obj(desc, props)


SPECS = {
    'Image': (
        'An image present on the engine: pulled, or built from a context directory.',
        obj('Desired state of the image.', {
            'ref': s('Image reference, e.g. 127.0.0.1:5000/ci/runner:1.4.', format='image-ref'),
            'pullPolicy': s('When to pull.', enum=['IfNotPresent', 'Always', 'Never'],
                            default='IfNotPresent'),
            'auth': obj('Registry credentials, bound to one registry as ~/.docker/config.json '
                        'binds them: sent only to auth.registry, which must be the registry of ref.', {
                'registry': s('The registry the credentials are for (host[:port], e.g. ghcr.io or '
                              '127.0.0.1:5000; docker.io for Docker Hub).', minLength=1),
                'username': s('Registry user name.', minLength=1),
                'passwordFile': s('File holding the password; relative to the manifest file and '
                                  'inside its directory (or KEELSON_ALLOWED_PATHS).', minLength=1),
            }, required=['registry', 'username', 'passwordFile']),
            'build': obj('Build the image instead of pulling it.', {
                'context': s('Build context directory, relative to the manifest file and inside '
                             'its directory (or KEELSON_ALLOWED_PATHS).',
                             minLength=1),
                'dockerfile': s('Dockerfile path inside the context.', default='Dockerfile',
                                minLength=1),
                'args': strmap('Build arguments.'),
                'target': s('Build stage to stop at.'),
            }, required=['context']),
            'push': b('Push ref after a build.', False),
        }, required=['ref']),
        {'id': s('Image ID.'), 'repoDigest': s('Digest in the registry.'), 'size': i('Bytes.'),
         'createdOnEngine': b('keelson pulled or built the image while the engine did not have it: '
                              'deleting this Image removes it again, once no container uses it and '
                              'no other Image object names it. Images that were there before are '
                              'never removed.')},
        [('Ref', '.spec.ref'), ('Policy', '.spec.pullPolicy')],
    ),
    'Network': (
        'A Docker network.',
        obj('Desired state of the network.', {
            'driver': s('Network driver.', default='bridge', minLength=1),
            'internal': b('No external connectivity.', False),
            'attachable': b('Allow manual attachment (swarm networks).', False),
            'subnet': s('Subnet in CIDR form, e.g. 10.89.0.0/24.', pattern='^[0-9a-fA-F:.]+/[0-9]{1,3}$'),
            'gateway': s('Gateway address inside subnet.', pattern='^[0-9a-fA-F:.]+$'),
            'mtu': i('MTU of the bridge.', minimum=68, maximum=65535),
            'options': strmap('Driver options.'),
            'labels': strmap('Extra labels; the dev.keelson. prefix is reserved.'),
        }),
        {'id': s('Network ID.')},
        [('Driver', '.spec.driver')],
    ),
    'Volume': (
        'A Docker volume.',
        obj('Desired state of the volume.', {
            'driver': s('Volume driver.', default='local', minLength=1),
            'driverOpts': strmap('Driver options.'),
            'labels': strmap('Extra labels; the dev.keelson. prefix is reserved.'),
        }),
        {'mountpoint': s('Where the engine keeps it.')},
        [('Driver', '.spec.driver')],
    ),
    'Runner': (
        'One long-running container.',
        runner_spec('Desired state of the container.', depends_on=True),
        {'containerID': s('Container ID.'), 'state': s('Engine state.'),
         'health': s('Healthcheck state.'), 'restarts': i('Restarts by the controller.'),
         'startedAt': s('When the container last started.')},
        [('Image', '.spec.image')],
    ),
    'RunnerPool': (
        'N interchangeable runners from one template, optionally ephemeral.',
        obj('Desired state of the pool.', {
            'replicas': i('Number of runners (1 when absent). With autoscaling, see there.',
                          minimum=0, maximum=10000),
            'template': runner_spec('The spec of every replica (a Runner spec, with busyProbe). '
                                    'stopTimeout defaults to 90s in an autoscaled pool: runners '
                                    'need the time to deregister.', busy_probe=True),
            'ephemeral': b('A replica whose container exits is removed and replaced: one job '
                           'per runner.', False),
            'successfulRunsHistoryLimit': i('Ephemeral pools: how many runs that exited 0 keep the '
                                            'tail of their output (keelson logs --previous), as a '
                                            "CronJob's successfulJobsHistoryLimit.", minimum=0,
                                            maximum=100, default=3),
            'failedRunsHistoryLimit': i('Ephemeral pools: how many failed runs keep the tail of '
                                        'their output, as a CronJob\'s failedJobsHistoryLimit.',
                                        minimum=0, maximum=100, default=1),
            'strategy': obj('How a template change rolls out.', {
                'type': s('RollingUpdate or Recreate.', enum=['RollingUpdate', 'Recreate'],
                          default='RollingUpdate'),
                'maxSurge': dict(description='Replicas above the desired count during an '
                                 'update: a number or a percentage ("25%").', default=1,
                                 pattern='^[0-9]+%$', **{'x-kubernetes-int-or-string': True}),
                'maxUnavailable': dict(description='Replicas that may be unavailable during an '
                                       'update: a number or a percentage.', default=0,
                                       pattern='^[0-9]+%$',
                                       **{'x-kubernetes-int-or-string': True}),
            }, default={'type': 'RollingUpdate'}),
            'minReadySeconds': i('Seconds a replica without a healthcheck must run before it '
                                 'counts as ready.', minimum=0, default=0),
            'dependsOn': DEPENDS_ON,
            'progressDeadline': duration('How long a template change may take to make every '
                                         'replica ready before the pool is Degraded '
                                         '(ProgressDeadlineExceeded) and the update stops.', '10m'),
            'rollback': s('auto: when the progress deadline passes, restore the previous '
                          'template; none: leave it to `keelson rollout undo`.',
                          enum=['none', 'auto'], default='none'),
            'autoscaling': obj('Follow the job queue: replicas = clamp(minIdle + jobs queued + jobs '
                               'running, minReplicas, maxReplicas), computed and shown in '
                               'status.desiredReplicas. With github or queue, spec.replicas is '
                               'ignored and `keelson scale` refused; with neither, spec.replicas '
                               '(set through /scale: kubectl scale, an external autoscaler) is a '
                               'request the rule keeps within its bounds. Scale-down removes idle '
                               'replicas only.', {
                'minReplicas': i('Fewest replicas.', minimum=0, maximum=10000, default=0),
                'maxReplicas': i('Most replicas.', minimum=1, maximum=10000),
                'minIdle': i('Replicas kept started and waiting on top of the jobs, so that a job '
                             'never waits for a container.', minimum=0, maximum=10000, default=0),
                'scaleDownDelay': duration('No scale-down sooner than this after a scale-up.', '5m'),
                'queuedJobTimeout': duration('A queued job reserves a replica until it starts or '
                                             'this passes (webhook delivery is not guaranteed).',
                                             '30m'),
                'runningJobTimeout': duration('A running job holds its replica until it completes or '
                                              'this passes without word of it.', '6h'),
                'schedules': dict(type='array', maxItems=20, description=(
                    'Time windows that raise minReplicas or minIdle (working hours): each is active '
                    'from a time its start matches until its end next matches, as KEDA\'s cron '
                    'scaler reads them; the highest active value counts.'), items=obj(
                    'One window.', {
                        'timeZone': s('An IANA time zone (Europe/Berlin) from the tz database.',
                                      default='UTC', maxLength=255),
                        'start': s('A cron expression (minute hour day-of-month month day-of-week, '
                                   'or @daily, @weekly, ...) that opens the window.', maxLength=255),
                        'end': s('A cron expression that closes it.', maxLength=255),
                        'minReplicas': i('minReplicas while the window is open.', minimum=0,
                                         maximum=10000),
                        'minIdle': i('minIdle while the window is open.', minimum=0, maximum=10000),
                    }, required=['start', 'end'])),
                'queue': obj('A queue depth polled over HTTP, for CI systems other than GitHub: '
                             'the number counts as jobs queued for this pool. Set exactly one of '
                             'jsonPath and prometheusQuery.', {
                    'url': s('The endpoint (http or https) answering JSON; with prometheusQuery, '
                             'the Prometheus server (its /api/v1/query is asked).',
                             pattern='^https?://', maxLength=2048),
                    'jsonPath': s('A kubectl JSONPath to the number in the answer, e.g. '
                                  '"{.queue.pending}".', maxLength=1024),
                    'prometheusQuery': s('A PromQL instant query whose value is the depth '
                                         '(an empty result is 0).', maxLength=4096),
                    'interval': duration('Time between polls.', '15s'),
                    'bearerTokenFile': s('A file holding a bearer token sent with each poll '
                                         '(relative to the manifest); never stored or printed.',
                                         minLength=1, maxLength=4096),
                    'caFile': s('PEM certificates to trust for an https url instead of the '
                                'system\'s (relative to the manifest).', minLength=1, maxLength=4096),
                }, required=['url']),
            }, required=['maxReplicas']),
            'github': obj('GitHub Actions: workflow_job webhooks posted to /hooks/github on the API '
                          'listener are matched to this pool by labels.', {
                'url': s('The organisation (https://github.com/ORG) or repository '
                         '(https://github.com/ORG/REPO) whose jobs this pool runs; jobs of other '
                         'repositories are not matched. Absent: any.', pattern='^https?://',
                         maxLength=2048),
                'labels': strlist('The runners\' labels: a job matches when every label it asks for '
                                  'is here (case-insensitive; self-hosted is implied). Among '
                                  'matching pools the one with the fewest labels takes the job.',
                                  minLength=1, maxLength=256),
                'webhookSecretFile': s('The file holding the webhook secret (relative to the '
                                       'manifest): X-Hub-Signature-256 is checked against it; never '
                                       'stored or printed.', minLength=1, maxLength=4096),
                'apiURL': s('The REST API (GitHub Enterprise Server: https://HOST/api/v3, the default '
                            'for a url that is not github.com).', pattern='^https?://', maxLength=2048),
                'tokenFile': s('With credentials keelson manages the runners: each replica gets a '
                               'just-in-time configuration made for it alone, and registrations are '
                               'removed with their replicas. A file holding a token allowed to '
                               'administer the scope\'s self-hosted runners (relative to the '
                               'manifest); never stored or printed. Or app.', minLength=1,
                               maxLength=4096),
                'app': obj('A GitHub App installed on the organisation or repository: keelson '
                           'mints installation tokens from an RS256 JWT.', {
                    'appID': dict(description='The App\'s id (or client id).',
                                  **{'x-kubernetes-int-or-string': True}),
                    'installationID': dict(description='The installation\'s id.',
                                           **{'x-kubernetes-int-or-string': True}),
                    'privateKeyFile': s('The App\'s private key (PEM; relative to the manifest); '
                                        'never stored or printed.', minLength=1, maxLength=4096),
                }, required=['appID', 'installationID', 'privateKeyFile']),
                'caFile': s('PEM certificates to trust for the API instead of the system\'s (a '
                            'GitHub Enterprise Server with a private CA; relative to the manifest).',
                            minLength=1, maxLength=4096),
                'runnerGroup': s('The runner group replicas join (an organisation\'s or '
                                 'enterprise\'s); absent: the default group.', maxLength=256),
                'registrationTimeout': duration('With credentials: a replica whose runner is not '
                                                'online this long after its start is replaced.',
                                                '10m'),
            }, required=['webhookSecretFile']),
        }, required=['template']),
        {'replicas': i('Replicas that exist.'), 'readyReplicas': i('Replicas ready.'),
         'desiredReplicas': i('With autoscaling: the replicas the job queue asks for now.'),
         'autoscaling': obj('With autoscaling: what the last decision saw.', {
             'queued': i('Jobs queued for the pool (unexpired reservations).'),
             'running': i('Jobs running on its replicas.'),
             'idle': i('Replicas not running a job.'),
             'busy': i('Replicas running a job.'),
             'lastScaleUp': s('When desiredReplicas last grew.', format='date-time'),
             'cause': s('Why desiredReplicas is what it is.'),
             'queueDepth': i('spec.autoscaling.queue: the depth last polled.'),
             'queueError': s('spec.autoscaling.queue: why the last poll failed (the last depth '
                             'stands); absent when it succeeded.'),
         }),
         'updatedReplicas': i('Replicas on the current template.'),
         'availableReplicas': i('Replicas ready for minReadySeconds.'),
         'completedRuns': i('Ephemeral runs that ended with exit code 0.'),
         'failedRuns': i('Ephemeral runs that ended with another exit code.')},
        [('Desired', '.spec.replicas'), ('Ready', '.status.readyReplicas')],
    ),
    'Policy': (
        'Admission and audit rules for Runners and RunnerPools in its namespace (all '
        'namespaces when in keelson-system).',
        obj('The rules and how to enforce them.', {
            'enforcement': s('enforce: reject on apply; warn: accept with warnings; audit: '
                             'record events only.', enum=['enforce', 'warn', 'audit'],
                             default='enforce'),
            'rules': obj('The rules; absent ones do not apply.', {
                'denyPrivileged': b('Refuse privileged containers.'),
                'denyHostPathBinds': b('Refuse binds outside allowedHostPaths.'),
                'allowedHostPaths': strlist('Host path prefixes binds may use.', pattern='^/'),
                'allowedSecretPaths': strlist('Directories that env[].valueFrom.file may read '
                                              'from (after apply resolved the path and its '
                                              'symlinks).', pattern='^/'),
                'denyDockerSocket': b('Refuse binding the Docker socket, or a directory holding it '
                                  '(/var/run, /run, /).'),
                'allowedRegistries': strlist('Registries images may come from: a host as the engine '
                                         'resolves it (docker.io for Docker Hub names, so busybox '
                                         'is docker.io/library/busybox), or a host/path prefix '
                                         '(docker.io/keelson-test). Checks Runners\' image, '
                                         'pool templates\' image and Images\' ref.'),
                'requireResources': b('Require resources.cpus and resources.memory.'),
                'requireNonRoot': b('Require spec.user, not root or 0.'),
                'requireReadOnlyRootFilesystem': b('Require a read-only root filesystem.'),
                'maxMemory': s('Largest memory limit allowed.', format='quantity'),
                'maxCpus': dict(description='Largest CPU limit allowed.', format='cpus',
                                **{'x-keelson-number-or-string': True}),
            }),
        }, required=['rules']),
        {'violations': i('Stored objects in scope that break a rule (the controller audits them '
                         'on every resync).'),
         'violators': strlist('The first 20 of them, each with the rules it breaks.')},
        [('Enforcement', '.spec.enforcement'), ('Violations', '.status.violations')],
    ),
    'GitRepository': (
        'Manifests kept in git: the controller fetches the ref every interval and applies the '
        'manifests under path, a whole revision or none of it, pruning what the revision no '
        'longer has.',
        obj('Where the manifests are and how to sync them.', {
            'url': s('The repository: https://, http://, ssh://, git://, file:// or a local path.',
                     minLength=1, maxLength=4096),
            'ref': obj('Which commit: one of branch, tag, semver or commit.', {
                'branch': s('A branch; its newest commit.', minLength=1, maxLength=255),
                'tag': s('A tag (annotated or lightweight).', minLength=1, maxLength=255),
                'semver': s('A semver constraint over the tags, as Flux reads it (Masterminds/semver: '
                            '">=1.0.0 <2.0.0", "~1.2", "^1", "1.x"): the highest matching tag.',
                            minLength=1, maxLength=255),
                'commit': s('A full commit sha.', pattern='^[0-9a-f]{40}$'),
            }, default={'branch': 'main'}, minProperties=1, maxProperties=1),
            'path': s('The directory of the manifests inside the repository (its subdirectories '
                      'too, as apply -R); the root when absent.', default='.', maxLength=4096),
            'interval': duration('How often to look for a new commit.', '1m'),
            'timeout': duration('How long a fetch may take.', '60s'),
            'prune': b('Delete objects this source applied that the newest revision no longer '
                       'has (unless annotated keelson.dev/prune: disabled).', True),
            'suspend': b('Stop syncing; what was applied stays.', False),
            'mode': s('apply: store each revision; report: fetch and compare, say in status which '
                      'objects a sync would change (Ready InSync or DriftDetected), store nothing.',
                      enum=['apply', 'report'], default='apply'),
            'auth': obj('Credentials, by file (relative to the manifest; read at each fetch, never '
                        'stored or printed).', {
                'username': s('http(s): the user for basic authentication (default git; with a token, '
                              'any name the forge accepts).', maxLength=255),
                'passwordFile': s('http(s): the file holding the password or token.', minLength=1,
                                  maxLength=4096),
                'sshKeyFile': s('ssh: the private key (OpenSSH or PEM, without a passphrase).',
                                minLength=1, maxLength=4096),
                'knownHostsFile': s('ssh: the known_hosts lines that may sign for the server (required '
                                    'for ssh: an unknown or changed host key is refused).', minLength=1,
                                    maxLength=4096),
                'caFile': s('https: the PEM certificates of the authorities to trust for the server '
                            '(instead of the system\'s), for a forge with a private CA.', minLength=1,
                            maxLength=4096),
            }),
            'webhook': obj('Push webhooks: POST /hooks/git/NAMESPACE/NAME on the API listener starts a '
                           'sync at once.', {
                'secretFile': s('The file holding the webhook secret (relative to the manifest): '
                                'GitHub X-Hub-Signature-256, Gitea/Forgejo signatures and GitLab '
                                'X-Gitlab-Token are checked against it; never stored or printed.',
                                minLength=1, maxLength=4096),
            }, required=['secretFile']),
        }, required=['url']),
        {'revision': s('The revision last fetched: BRANCH@sha1:HEX, TAG@sha1:HEX or sha1:HEX.'),
         'lastAppliedRevision': s('The revision whose manifests are stored now.'),
         'lastAttemptedRevision': s('The revision last tried, applied or not.'),
         'lastHandledSyncAt': s('The keelson.dev/sync-requested-at annotation value last handled '
                                '(keelson sync gitrepository).'),
         'inventory': strlist('The objects this source applied, as KIND/NAMESPACE/NAME.'),
         'drift': strlist('mode report: the objects (at most 20) a sync of the revision would change, '
                          'as kind/namespace/name (absent|differs|not in git).'),
         'history': dict(type='array', description='The last 5 syncs that applied or failed, newest first.',
                         items=obj('One sync.', {
                             'revision': s('The revision.'),
                             'time': s('When it ended.'),
                             'duration': s('How long it took.'),
                             'result': s('Applied, or the failure reason.'),
                         }))},
        [('URL', '.spec.url'), ('Revision', '.status.lastAppliedRevision')],
    ),
}

SHORT = {'Image': 'img', 'Network': 'net', 'Volume': 'vol', 'Runner': 'rn',
         'RunnerPool': 'pool', 'Policy': 'pol', 'GitRepository': 'gitrepo'}
PLURAL = {'Policy': 'policies', 'GitRepository': 'gitrepositories'}


def crd(kind):
    desc, spec, status_props, columns = SPECS[kind]
    plural = PLURAL.get(kind, kind.lower() + 's')
    required = ['apiVersion', 'kind', 'metadata']
    schema = obj(desc, {
        'apiVersion': s('keelson.dev/v1alpha1', enum=[GROUP + '/' + VERSION]),
        'kind': s(kind, enum=[kind]),
        'metadata': METADATA,
        'spec': spec,
        'status': status(desc.split(':')[0].rstrip('.') + ' status.', status_props),
    }, required=required + ['spec'])
    printer = [dict(name=n, type='string', jsonPath=p) for n, p in columns]
    printer.append(dict(name='Age', type='date', jsonPath='.metadata.creationTimestamp'))
    return {
        'apiVersion': 'apiextensions.k8s.io/v1',
        'kind': 'CustomResourceDefinition',
        'metadata': {'name': plural + '.' + GROUP},
        'spec': {
            'group': GROUP,
            'scope': 'Namespaced',
            'names': {'kind': kind, 'listKind': kind + 'List', 'plural': plural,
                      'singular': kind.lower(), 'shortNames': [SHORT[kind]]},
            'versions': [{
                'name': VERSION, 'served': True, 'storage': True,
                'subresources': {'status': {}},
                'additionalPrinterColumns': printer,
                'schema': {'openAPIV3Schema': schema},
            }],
        },
    }


PLAIN = re.compile(r'^[A-Za-z_./][A-Za-z0-9_./ -]*$')
RESERVED = {'true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n', '~'}


def scalar(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return json.dumps(v)
    if PLAIN.match(v) and v.lower() not in RESERVED and not v.endswith(' ') and ': ' not in v:
        return v
    return json.dumps(v)


def emit(v, indent=0):
    pad = ' ' * indent
    out = []
    if isinstance(v, dict):
        if not v:
            return ['{}']
        for k, val in v.items():
            if isinstance(val, (dict, list)) and val:
                out.append(f'{pad}{scalar(k)}:')
                out += emit(val, indent + 2)
            else:
                empty = '{}' if isinstance(val, dict) else '[]' if isinstance(val, list) else None
                out.append(f'{pad}{scalar(k)}: {empty or scalar(val)}')
    else:
        for item in v:
            if isinstance(item, dict) and item:
                lines = emit(item, indent + 2)
                out.append(pad + '- ' + lines[0][indent + 2:])
                out += lines[1:]
            else:
                out.append(f'{pad}- {scalar(item)}')
    return out


def render(kind):
    header = f'# Generated by scripts/gen_crds.py: edit that script, not this file.\n'
    return header + '---\n' + '\n'.join(emit(crd(kind))) + '\n'


def type_of(sch):
    if sch.get('x-kubernetes-int-or-string'):
        t = 'int or string'
    elif sch.get('x-keelson-number-or-string'):
        t = 'number or string'
    else:
        t = sch.get('type', 'any')
        if t == 'array':
            t = 'list of ' + type_of(sch.get('items', {}))
        elif t == 'object' and 'additionalProperties' in sch and 'properties' not in sch:
            t = 'map of ' + type_of(sch['additionalProperties'])
    return t


def constraints(sch):
    c = []
    if 'enum' in sch:
        c.append('one of ' + ', '.join(f'`{v}`' for v in sch['enum']))
    if 'format' in sch:
        c.append(f'format {sch["format"]}')
    for key, word in (('minimum', '>='), ('maximum', '<='), ('minLength', 'length >='),
                      ('maxLength', 'length <='), ('minItems', 'items >='), ('maxItems', 'items <=')):
        if key in sch:
            c.append(f'{word} {sch[key]}')
    if 'pattern' in sch:
        c.append(f'pattern `{sch["pattern"]}`')
    if sch.get('x-kubernetes-list-type') == 'map':
        c.append('unique by ' + ', '.join(sch.get('x-kubernetes-list-map-keys', [])))
    elif sch.get('x-kubernetes-list-type') == 'set':
        c.append('unique items')
    return c


def cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


# Fields whose sub-fields are documented once elsewhere in docs/manifests.md.
SEE_ALSO = {'spec.template': 'every field of a Runner\'s spec, see Runner',
            'status.conditions': 'see "Status and conditions"'}


def field_rows(sch, path, required=False):
    rows = []
    see = SEE_ALSO.get(path)
    default = f'`{json.dumps(sch["default"])}`' if 'default' in sch else ''
    notes = constraints(sch)
    if required:
        notes.insert(0, '**required**')
    if see:
        notes.append(see)
    rows.append(f'| `{path}` | {type_of(sch)} | {default} | {cell(sch.get("description", ""))}'
                + (f' ({"; ".join(notes)})' if notes else '') + ' |')
    if see:
        return rows
    inner = sch.get('items', sch) if sch.get('type') == 'array' else sch
    suffix = '[]' if sch.get('type') == 'array' else ''
    for name, sub in inner.get('properties', {}).items():
        rows += field_rows(sub, f'{path}{suffix}.{name}', name in inner.get('required', []))
    return rows


def reference():
    out = []
    for kind in SPECS:
        schema = crd(kind)['spec']['versions'][0]['schema']['openAPIV3Schema']
        out.append(f'### {kind}\n')
        out.append(schema['description'] + '\n')
        out.append(f'Names: `{kind.lower()}`, `{PLURAL.get(kind, kind.lower() + "s")}`, `{SHORT[kind]}`.\n')
        for part in ('spec', 'status'):
            out.append('| field | type | default | description |')
            out.append('| --- | --- | --- | --- |')
            for name, sub in schema['properties'][part].get('properties', {}).items():
                out += field_rows(sub, f'{part}.{name}', name in schema['properties'][part].get('required', []))
            out.append('')
    return '\n'.join(out)


BEGIN = '<!-- BEGIN GENERATED by scripts/gen_crds.py -->\n'
END = '<!-- END GENERATED -->\n'


def with_reference(text):
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + reference() + END + tail


def main(argv):
    check = '--check' in argv
    paths = [a for a in argv if not a.startswith('--')]
    outdir = paths[0]
    stale = []
    if len(paths) > 1:
        with open(paths[1], encoding='utf-8') as f:
            text = f.read()
        new = with_reference(text)
        if check and new != text:
            stale.append(paths[1])
        elif not check:
            with open(paths[1], 'w', encoding='utf-8') as f:
                f.write(new)
    for kind in SPECS:
        path = os.path.join(outdir, kind.lower() + '.yaml')
        text = render(kind)
        if check:
            with open(path, encoding='utf-8') as f:
                if f.read() != text:
                    stale.append(path)
        else:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)
    if stale:
        print('stale (run scripts/gen_crds.py crds/ docs/manifests.md): ' + ', '.join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
