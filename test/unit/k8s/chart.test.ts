import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config';
import { ROOT } from '../../support/cli';

// The plain-JavaScript renderer `npm run k8s` runs: the test renders exactly as it does.
const render = require(join(ROOT, 'ops/build/k8s.js')) as { helmPath(): string; renderArgs(): string[]; header(): string };

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

/** The Kubernetes API's JSON schemas, as the kubernetes-models packages carry them (offline). */
const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function helm(...args: string[]): { status: number | null; out: string; err: string } {
  const res = spawnSync(render.helmPath(), args, { encoding: 'utf8', cwd: ROOT });
  if (res.error) throw new Error(`helm is not installed: run \`npm run setup\` — ${res.error.message}`);
  return { status: res.status, out: res.stdout, err: res.stderr };
}

function objects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function renderWith(...set: string[]): { status: number | null; objects: K8sObject[]; err: string } {
  const res = helm(...render.renderArgs(), ...set.flatMap((s) => ['--set', s]));
  return { status: res.status, objects: res.status === 0 ? objects(res.out) : [], err: res.err };
}

const find = (list: K8sObject[], kind: string, component?: string): K8sObject[] =>
  list.filter((o) => o.kind === kind && (!component || o.metadata.labels?.['app.kubernetes.io/component'] === component));
const envOf = (workload: K8sObject): Map<string, any> => new Map((workload.spec.template.spec.containers[0].env as { name: string }[]).map((e) => [e.name, e]));

/**
 * The Helm chart (k8s/helm/streaming-analytics) and the plain manifests rendered from it
 * (k8s/streaming-analytics.yaml): lint, validation of every object against the
 * Kubernetes API's schemas, and the invariants a cluster would only reveal at run time.
 */
describe('Kubernetes: the Helm chart and the manifests', function () {
  this.timeout(60_000);
  let rendered: K8sObject[] = [];

  before(() => {
    const res = renderWith();
    assert.equal(res.status, 0, res.err);
    rendered = res.objects;
  });

  it('helm lint passes', () => {
    const res = helm('lint', join(ROOT, 'k8s/helm/streaming-analytics'), '--kube-version', '1.30.0', '--strict');
    assert.equal(res.status, 0, res.out + res.err);
  });

  it('every rendered object and every object of the plain manifests is valid against the Kubernetes schemas', () => {
    const plain = objects(readFileSync(join(ROOT, 'k8s/streaming-analytics.yaml'), 'utf8'));
    for (const o of [...rendered, ...plain]) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      assert.ok(Model, `no schema known for ${o.apiVersion} ${o.kind}`);
      assert.doesNotThrow(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`);
    }
    assert.deepEqual(rendered.map((o) => o.kind).sort(), [
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Secret',
      'Secret',
      'Service',
      'Service',
      'Service',
      'ServiceMonitor',
      'ServiceMonitor',
      'StatefulSet',
    ]);
  });

  it('the plain manifests, the rules and the dashboard in the chart are up to date (npm run k8s)', () => {
    const res = helm(...render.renderArgs());
    assert.equal(readFileSync(join(ROOT, 'k8s/streaming-analytics.yaml'), 'utf8'), render.header() + res.out, 'run npm run k8s');
    assert.equal(
      readFileSync(join(ROOT, 'k8s/helm/streaming-analytics/files/alerts.yml'), 'utf8'),
      readFileSync(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8'),
    );
    assert.equal(
      readFileSync(join(ROOT, 'k8s/helm/streaming-analytics/files/dashboard.json'), 'utf8'),
      readFileSync(join(ROOT, 'ops/grafana/streaming-analytics.json'), 'utf8'),
    );
  });

  it('the processor: replicas ≤ partitions, grace > close timeout, probes on the admin port, state on a volume claim', () => {
    const [sts] = find(rendered, 'StatefulSet');
    const [config] = find(rendered, 'ConfigMap').filter((c) => c.metadata.name.endsWith('-config'));
    const env = envOf(sts!);
    assert.ok(sts!.spec.replicas <= Number(config!.data!.STREAMING_TOPICS__PARTITIONS), 'replicas beyond the partition count idle');
    assert.ok(sts!.spec.template.spec.terminationGracePeriodSeconds * 1000 > Number(env.get('STREAMING_PROCESSOR__CLOSE_TIMEOUT_MS').value));
    const container = sts!.spec.template.spec.containers[0];
    const admin = container.ports.find((p: { name: string }) => p.name === 'admin').containerPort;
    assert.equal(String(admin), env.get('STREAMING_PROCESSOR__ADMIN_PORT').value);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) assert.equal(container[probe].httpGet.port, 'admin', probe);
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(env.get('STREAMING_PROCESSOR__INSTANCE_ID').valueFrom.fieldRef.fieldPath, 'metadata.name', 'the pod name is the instance id');
    const stateDir = env.get('STREAMING_PROCESSOR__STATE_DIR').value;
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === stateDir);
    assert.equal(sts!.spec.volumeClaimTemplates[0].metadata.name, mount.name, 'the state directory is the volume claim');
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(sts!.spec.template.spec.securityContext.runAsNonRoot, true);
  });

  it("the advertised URL is the pod's DNS name under the headless Service the StatefulSet names", () => {
    const [sts] = find(rendered, 'StatefulSet');
    const headless = find(rendered, 'Service', 'processor').find((s) => s.spec.clusterIP === 'None')!;
    assert.equal(sts!.spec.serviceName, headless.metadata.name);
    const url = envOf(sts!).get('STREAMING_PROCESSOR__ADVERTISED_URL').value as string;
    const queryPort = sts!.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === 'query').containerPort;
    assert.equal(url, `http://$(STREAMING_PROCESSOR__INSTANCE_ID).${headless.metadata.name}.$(POD_NAMESPACE).svc.cluster.local:${queryPort}`);
    assert.ok(headless.spec.ports.some((p: { port: number }) => p.port === queryPort));
    const names = [...envOf(sts!).keys()];
    assert.ok(
      names.indexOf('STREAMING_PROCESSOR__INSTANCE_ID') < names.indexOf('STREAMING_PROCESSOR__ADVERTISED_URL') &&
        names.indexOf('POD_NAMESPACE') < names.indexOf('STREAMING_PROCESSOR__ADVERTISED_URL'),
      'variables used in $(…) are defined before',
    );
  });

  it('with a TLS Secret the query API serves https, advertises https, and trusts the CA of its peers', () => {
    const res = renderWith('processor.queryTls.secretName=query-tls');
    assert.equal(res.status, 0, res.err);
    const [sts] = find(res.objects, 'StatefulSet');
    const env = envOf(sts!);
    assert.match(env.get('STREAMING_PROCESSOR__ADVERTISED_URL').value, /^https:\/\//);
    assert.equal(env.get('STREAMING_PROCESSOR__QUERY_TLS_CERT_FILE').value, '/etc/streaming-analytics/query-tls/tls.crt');
    assert.equal(env.get('NODE_EXTRA_CA_CERTS').value, '/etc/streaming-analytics/query-tls/ca.crt');
    assert.ok(sts!.spec.template.spec.volumes.some((v: { secret?: { secretName: string } }) => v.secret?.secretName === 'query-tls'));
    assert.doesNotThrow(() => new StatefulSet(sts as any).validate());
  });

  it("the memory limit holds the Node heap, RocksDB's cache and write buffer, and room for the model and native buffers", () => {
    const [sts] = find(rendered, 'StatefulSet');
    const container = sts!.spec.template.spec.containers[0];
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(envOf(sts!).get('NODE_OPTIONS').value)![1]);
    const limitMb = mebibytes(container.resources.limits.memory);
    const rocksDbMb = 64 + 16; // block cache + write buffer (KafkaStreams' defaults)
    assert.ok(limitMb >= heapMb + rocksDbMb + 512, `limit ${limitMb} MiB < heap ${heapMb} + RocksDB ${rocksDbMb} + 512`);
    assert.ok(mebibytes(container.resources.requests.memory) >= heapMb + rocksDbMb, 'requests cover the steady state');
  });

  it('every STREAMING_ variable the workloads get is one the configuration accepts', () => {
    const [config] = find(rendered, 'ConfigMap').filter((c) => c.metadata.name.endsWith('-config'));
    const [secret] = find(rendered, 'Secret').filter((s) => s.metadata.name.endsWith('-env'));
    const dir = mkdtempSync(join(tmpdir(), 'k8s-env-'));
    try {
      // Files the pods get mounted: stand-ins here, so the readable-file checks pass.
      const stand = (p: string): string => {
        const file = join(dir, p.replace(/\//g, '_'));
        writeFileSync(file, 'x');
        return file;
      };
      for (const workload of [...find(rendered, 'StatefulSet'), ...find(rendered, 'Deployment')]) {
        const env: NodeJS.ProcessEnv = { ...config!.data, ...secret!.stringData };
        for (const [name, e] of envOf(workload)) if (name.startsWith('STREAMING_')) env[name] = e.value ?? 'processor-0';
        for (const [k, v] of Object.entries(env)) if (v?.startsWith('/etc/streaming-analytics/')) env[k] = stand(v);
        env.STREAMING_PROCESSOR__ADVERTISED_URL &&= 'http://processor-0.processor-headless.ns.svc.cluster.local:8080';
        assert.doesNotThrow(() => loadConfig(env), workload.kind);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("STREAMING_MONITORING__ENABLE_AUTO_SCALING turns the fan-out's autoscaler on and off; connections scale it where an adapter serves them", () => {
    const off = renderWith('monitoring.enableAutoScaling=false');
    assert.equal(find(off.objects, 'HorizontalPodAutoscaler').length, 0);
    assert.equal(find(off.objects, 'ConfigMap')[0]!.data!.STREAMING_MONITORING__ENABLE_AUTO_SCALING, 'false');
    assert.equal(find(off.objects, 'Deployment')[0]!.spec.replicas, 2);
    const [hpa] = find(rendered, 'HorizontalPodAutoscaler');
    assert.deepEqual(
      hpa!.spec.metrics.map((m: { type: string }) => m.type),
      ['Resource'],
    );
    assert.equal(find(rendered, 'Deployment')[0]!.spec.replicas, undefined, 'the autoscaler owns the replica count');
    const withConnections = renderWith('fanout.autoscaling.connectionsMetric=true');
    assert.equal(find(withConnections.objects, 'HorizontalPodAutoscaler')[0]!.spec.metrics[1].pods.metric.name, 'websocket_connections_active');
  });

  it('only the query API and the WebSocket port take traffic from anywhere; admin ports only from monitoring', () => {
    for (const policy of find(rendered, 'NetworkPolicy')) {
      const open = policy.spec.ingress.filter((r: { from?: unknown }) => !r.from).flatMap((r: { ports: { port: string }[] }) => r.ports.map((p) => p.port));
      assert.deepEqual(open, [policy.metadata.labels!['app.kubernetes.io/component'] === 'processor' ? 'query' : 'ws']);
      const admin = policy.spec.ingress.find((r: { ports: { port: string }[] }) => r.ports.some((p) => p.port === 'admin'));
      assert.ok(admin.from[0].namespaceSelector, 'admin only from the monitoring namespace');
    }
  });

  it('refuses values that would break at run time, naming them', () => {
    const tooMany = renderWith('processor.replicas=7');
    assert.notEqual(tooMany.status, 0);
    assert.match(tooMany.err, /processor\.replicas \(7\) exceeds the input topic's partitions \(config\.STREAMING_TOPICS__PARTITIONS = 6\)/);
    const shortGrace = renderWith('processor.terminationGracePeriodSeconds=30');
    assert.notEqual(shortGrace.status, 0);
    assert.match(shortGrace.err, /terminationGracePeriodSeconds \(30s\) must exceed processor\.closeTimeoutMs \(45000ms\)/);
  });
});

function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  assert.ok(m, `unexpected quantity ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}
