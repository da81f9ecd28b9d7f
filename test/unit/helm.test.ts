// `helm lint` and `helm template` on the chart with default values and each example file, then
// checks of what Kubernetes would actually receive. helm is built once from the Go module
// proxy by scripts/ensure-helm.mjs (minutes on a fresh machine, instant afterwards).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configSection, resolveConfig, runOptions } from '../../src/config.ts';
import { parseIngestionOptions } from '../../src/consumers/options.ts';
import { parseDenyFields } from '../../src/sinks/privacy.ts';
import { codeBlocks } from '../helpers/docs.ts';
import { ensureTool } from '../helpers/tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const chart = join(root, 'helm', 'journeylens');
const examples = readdirSync(join(chart, 'examples')).filter((f) => f.endsWith('.yaml')).sort();
let helm = '';

// The env vars `journeylens run` reads (the lead's config schema); every one the chart sets must be in this list.
const KNOWN_ENV = new Set([
  'JOURNEYLENS_BROKERS', 'JOURNEYLENS_INPUT', 'JOURNEYLENS_SIGNALS_TOPIC', 'JOURNEYLENS_ALERTS_TOPIC', 'JOURNEYLENS_DLQ_TOPIC',
  'JOURNEYLENS_GROUP', 'JOURNEYLENS_METRICS_PORT', 'JOURNEYLENS_METRICS_HOST', 'JOURNEYLENS_BUNDLE', 'JOURNEYLENS_LOG_LEVEL',
  'JOURNEYLENS_CONFIG', 'JOURNEYLENS_SASL_MECHANISM', 'JOURNEYLENS_SASL_USERNAME', 'JOURNEYLENS_SASL_PASSWORD_FILE',
  'JOURNEYLENS_SASL_PASSWORD', 'JOURNEYLENS_SSL', 'JOURNEYLENS_SSL_CA_FILE', 'JOURNEYLENS_SSL_CERT_FILE', 'JOURNEYLENS_SSL_KEY_FILE',
  'JOURNEYLENS_WEBHOOK_URL', 'JOURNEYLENS_WEBHOOK_SECRET_FILE', 'JOURNEYLENS_WEBHOOK_SECRET', 'JOURNEYLENS_FROM_BEGINNING',
  'JOURNEYLENS_WEBHOOK_TIMEOUT_MS', 'JOURNEYLENS_WEBHOOK_MAX_ATTEMPTS', 'JOURNEYLENS_WEBHOOK_CONCURRENCY',
  'JOURNEYLENS_PSEUDONYMIZE_KEY_FILE', 'JOURNEYLENS_DLQ_DENY_FIELDS',
]);

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML */
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any; data?: Record<string, string> };

function render(args: string[] = []): Manifest[] {
  const out = execFileSync(helm, ['template', 'jl', chart, '--namespace', 'analytics', ...args], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

function renderError(args: string[]): string {
  const res = spawnSync(helm, ['template', 'jl', chart, ...args], { encoding: 'utf8' });
  expect(res.status).not.toBe(0);
  return res.stderr;
}

const byKind = (ms: Manifest[], kind: string): Manifest[] => ms.filter((m) => m.kind === kind);
function one(ms: Manifest[], kind: string): Manifest {
  const found = byKind(ms, kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
}
const container = (ms: Manifest[]): any => one(ms, 'Deployment').spec.template.spec.containers[0];
const env = (ms: Manifest[]): Record<string, any> => Object.fromEntries((container(ms).env as { name: string }[]).map((e) => [e.name, e]));

beforeAll(() => {
  helm = ensureTool('ensure-helm.mjs');
}, 1_200_000);

describe('helm lint', () => {
  for (const values of [undefined, ...examples]) {
    it(`passes with ${values ?? 'default values'}`, () => {
      const args = ['lint', '--strict', chart, ...(values ? ['-f', join(chart, 'examples', values)] : [])];
      const res = spawnSync(helm, args, { encoding: 'utf8' });
      expect(res.stdout + res.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(res.status).toBe(0);
    });
  }
});

describe('helm template', () => {
  it('renders with every values file and each manifest is well-formed', () => {
    for (const values of [undefined, ...examples]) {
      const ms = render(values ? ['-f', join(chart, 'examples', values)] : []);
      for (const m of ms) {
        expect(m.apiVersion, `${m.kind} apiVersion`).toBeTruthy();
        expect(m.metadata.name.length, `${m.kind} name`).toBeLessThanOrEqual(63);
        expect(m.metadata.labels?.['app.kubernetes.io/instance']).toBe('jl');
      }
      expect(one(ms, 'Deployment').spec.template.spec.containers[0].args).toEqual(['run']);
    }
  });

  it('wires probes to /healthz and /readyz on the named metrics port that the Service exposes', () => {
    const ms = render();
    const c = container(ms);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.readinessProbe.periodSeconds).toBeGreaterThan(0);
    const svc = one(ms, 'Service');
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(svc.spec.selector).toEqual(one(ms, 'Deployment').spec.selector.matchLabels);
    expect(env(ms).JOURNEYLENS_METRICS_PORT.value).toBe('9464');
    expect(env(ms).JOURNEYLENS_METRICS_HOST.value).toBe('0.0.0.0');

    const moved = render(['--set', 'metrics.port=9100', '--set', 'service.port=80']);
    expect(container(moved).ports[0].containerPort).toBe(9100);
    expect(env(moved).JOURNEYLENS_METRICS_PORT.value).toBe('9100');
    expect(one(moved, 'Service').spec.ports[0]).toMatchObject({ port: 80, targetPort: 'metrics' });
  });

  it('configures the app with JOURNEYLENS_* env vars and mounts the config file', () => {
    const ms = render();
    const e = env(ms);
    for (const name of Object.keys(e)) expect(KNOWN_ENV.has(name), name).toBe(true);
    expect(e.JOURNEYLENS_BROKERS.value).toBe('kafka:9092');
    expect(e.JOURNEYLENS_INPUT.value).toBe('clicks');
    expect(e.JOURNEYLENS_GROUP.value).toBe('journeylens');
    expect(e.JOURNEYLENS_BUNDLE.value).toBe('/app/models/default');
    expect(e.JOURNEYLENS_LOG_LEVEL.value).toBe('info');
    expect(e.JOURNEYLENS_CONFIG.value).toBe('/etc/journeylens/config/config.json');
    expect(e.JOURNEYLENS_SASL_MECHANISM).toBeUndefined();
    const cm = one(ms, 'ConfigMap');
    expect(JSON.parse(cm.data!['config.json']!)).toEqual({});
    expect(container(ms).volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/journeylens/config', readOnly: true });
  });

  it('runs non-root with a read-only root filesystem and a writable /tmp emptyDir', () => {
    for (const values of [undefined, ...examples]) {
      const ms = render(values ? ['-f', join(chart, 'examples', values)] : []);
      const pod = one(ms, 'Deployment').spec.template.spec;
      const c = container(ms);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
      expect(pod.automountServiceAccountToken).toBe(false);
    }
  });

  it('leaves resources to the user by default and applies the examples', () => {
    expect(container(render()).resources).toEqual({});
    const prod = render(['-f', join(chart, 'examples', 'sasl-scram-production.yaml')]);
    expect(container(prod).resources).toEqual({ requests: { cpu: '1', memory: '768Mi' }, limits: { memory: '1536Mi' } });
    const dev = render(['-f', join(chart, 'examples', 'minimal-dev.yaml')]);
    expect(container(dev).resources.requests).toEqual({ cpu: '100m', memory: '256Mi' });
  });

  it('creates a PodDisruptionBudget selecting the pods, unless disabled', () => {
    const ms = render();
    const pdb = one(ms, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: one(ms, 'Deployment').spec.selector.matchLabels } });
    expect(one(render(['--set', 'podDisruptionBudget.minAvailable=2']), 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    expect(byKind(render(['-f', join(chart, 'examples', 'minimal-dev.yaml')]), 'PodDisruptionBudget')).toEqual([]);
  });

  it('creates a ServiceMonitor only when enabled, scraping the metrics port', () => {
    expect(byKind(render(), 'ServiceMonitor')).toEqual([]);
    const sm = one(render(['--set', 'serviceMonitor.enabled=true', '--set', 'serviceMonitor.labels.release=prom']), 'ServiceMonitor');
    expect(sm.metadata.labels?.release).toBe('prom');
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', interval: '30s' });
    expect(sm.spec.namespaceSelector.matchNames).toEqual(['analytics']);
  });

  it('autoscales on consumer lag with KEDA only when enabled, and then leaves replicas to KEDA', () => {
    expect(byKind(render(), 'ScaledObject')).toEqual([]);
    expect(one(render(), 'Deployment').spec.replicas).toBe(1);
    const ms = render(['-f', join(chart, 'examples', 'sasl-scram-production.yaml')]);
    const so = one(ms, 'ScaledObject');
    expect(so.spec.scaleTargetRef.name).toBe(one(ms, 'Deployment').metadata.name);
    expect(so.spec.maxReplicaCount).toBe(12);
    expect(so.spec.triggers[0]).toMatchObject({ type: 'kafka', metadata: { consumerGroup: 'journeylens-prod', topic: 'web.clickstream.v1', lagThreshold: '5000' }, authenticationRef: { name: 'journeylens-kafka' } });
    expect(one(ms, 'Deployment').spec.replicas).toBeUndefined();
  });

  it("derives KEDA's offsetResetPolicy from the app's start position, and refuses a second place to set it", () => {
    const keda = (args: string[]) => {
      const ms = render(['--set', 'autoscaling.enabled=true', ...args]);
      return { policy: one(ms, 'ScaledObject').spec.triggers[0].metadata.offsetResetPolicy, fromBeginning: env(ms).JOURNEYLENS_FROM_BEGINNING.value };
    };
    // the app's own default (--from-beginning true) is earliest
    expect(keda([])).toEqual({ policy: 'earliest', fromBeginning: 'true' });
    expect(keda(['--set', 'kafka.startFrom=latest'])).toEqual({ policy: 'latest', fromBeginning: 'false' });
    expect(renderError(['--set', 'kafka.startFrom=middle'])).toMatch(/startFrom.*(one of|enum)/i);
    expect(renderError(['--set', 'config.fromBeginning=false'])).toContain('config.fromBeginning is set, but the chart sets JOURNEYLENS_FROM_BEGINNING from kafka.startFrom');
  });

  it('exposes the webhook timeout, attempts and concurrency as the env vars the app reads', () => {
    const base = ['--set', 'webhook.url=https://crm.example/h', '--set', 'webhook.existingSecret=wh'];
    const e = env(render(base));
    expect([e.JOURNEYLENS_WEBHOOK_TIMEOUT_MS.value, e.JOURNEYLENS_WEBHOOK_MAX_ATTEMPTS.value, e.JOURNEYLENS_WEBHOOK_CONCURRENCY.value]).toEqual(['10000', '8', '8']);
    const tuned = env(render([...base, '--set', 'webhook.timeoutMs=2500', '--set', 'webhook.maxAttempts=20', '--set', 'webhook.concurrency=32']));
    expect([tuned.JOURNEYLENS_WEBHOOK_TIMEOUT_MS.value, tuned.JOURNEYLENS_WEBHOOK_MAX_ATTEMPTS.value, tuned.JOURNEYLENS_WEBHOOK_CONCURRENCY.value]).toEqual(['2500', '20', '32']);
    // the values the chart renders are the ones `journeylens run` accepts (files exist only in the pod)
    const cfg = resolveConfig(runOptions, {}, { JOURNEYLENS_BROKERS: 'k:9092', JOURNEYLENS_INPUT: 'clicks', ...Object.fromEntries(Object.entries(tuned).filter(([k, v]) => typeof v.value === 'string' && !/_CONFIG$|_FILE$/.test(k)).map(([k, v]) => [k, v.value as string])) });
    expect([cfg.webhookTimeoutMs, cfg.webhookMaxAttempts, cfg.webhookConcurrency, cfg.fromBeginning]).toEqual([2500, 20, 32, true]);
    expect(renderError([...base, '--set', 'webhook.concurrency=0'])).toMatch(/concurrency/);
  });

  it('passes secrets as mounted files named by *_FILE env vars, never as values', () => {
    const ms = render(['-f', join(chart, 'examples', 'sasl-scram-production.yaml')]);
    const e = env(ms);
    expect(e.JOURNEYLENS_SASL_MECHANISM.value).toBe('scram-sha-512');
    expect(e.JOURNEYLENS_SASL_USERNAME.value).toBe('journeylens');
    expect(e.JOURNEYLENS_SASL_PASSWORD_FILE.value).toBe('/etc/journeylens/secrets/kafka-sasl/password');
    expect(e.JOURNEYLENS_SSL_CA_FILE.value).toBe('/etc/journeylens/secrets/kafka-tls/ca.crt');
    expect(e.JOURNEYLENS_WEBHOOK_SECRET_FILE.value).toBe('/etc/journeylens/secrets/webhook/secret');
    expect(e.JOURNEYLENS_SASL_PASSWORD).toBeUndefined();
    const pod = one(ms, 'Deployment').spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'kafka-sasl', secret: { secretName: 'journeylens-kafka', defaultMode: 0o440, items: [{ key: 'password', path: 'password' }] } });
    expect(pod.volumes).toContainEqual({ name: 'webhook', secret: { secretName: 'journeylens-webhook', defaultMode: 0o440, items: [{ key: 'secret', path: 'secret' }] } });
    expect(byKind(ms, 'Secret')).toEqual([]);

    const asEnv = env(render(['-f', join(chart, 'examples', 'sasl-scram-production.yaml'), '--set', 'secretsMountMode=env']));
    expect(asEnv.JOURNEYLENS_SASL_PASSWORD.valueFrom).toEqual({ secretKeyRef: { name: 'journeylens-kafka', key: 'password' } });
    expect(asEnv.JOURNEYLENS_SASL_PASSWORD_FILE).toBeUndefined();
  });

  it('passes the privacy options: the pseudonymization key as a mounted Secret file, the DLQ deny-list, consent in the config file', () => {
    const defaults = render();
    expect(env(defaults).JOURNEYLENS_PSEUDONYMIZE_KEY_FILE).toBeUndefined();
    expect(env(defaults).JOURNEYLENS_DLQ_DENY_FIELDS).toBeUndefined();
    expect(one(defaults, 'Deployment').spec.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain('pseudonymize-key');

    // docs/privacy.md's values, as a values file
    const dir = mkdtempSync(join(tmpdir(), 'jl-helm-'));
    const [docValues] = codeBlocks('docs/privacy.md', 'yaml').filter((b) => b.includes('privacy:'));
    expect(docValues).toBeDefined();
    writeFileSync(join(dir, 'privacy.yaml'), `${docValues!}config:\n  tickMs: 500\n`);
    const privacy = ['-f', join(dir, 'privacy.yaml')];
    for (const mode of ['file', 'env']) {
      // the option takes a path only: a file in either mount mode
      const ms = render([...privacy, '--set', `secretsMountMode=${mode}`]);
      expect(env(ms).JOURNEYLENS_PSEUDONYMIZE_KEY_FILE.value).toBe('/etc/journeylens/secrets/pseudonymize/key');
      expect(container(ms).volumeMounts).toContainEqual({ name: 'pseudonymize-key', mountPath: '/etc/journeylens/secrets/pseudonymize', readOnly: true });
      expect(one(ms, 'Deployment').spec.template.spec.volumes).toContainEqual({ name: 'pseudonymize-key', secret: { secretName: 'journeylens-pseudonym', defaultMode: 0o440, items: [{ key: 'key', path: 'key' }] } });
      expect(byKind(ms, 'Secret')).toEqual([]);
    }
    const ms = render(privacy);
    const e = env(ms);
    expect(e.JOURNEYLENS_DLQ_DENY_FIELDS.value).toBe('userId,properties.email');
    // what `journeylens run` reads from that env and that config file
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, one(ms, 'ConfigMap').data!['config.json']!);
    const podEnv = { JOURNEYLENS_BROKERS: 'k:9092', JOURNEYLENS_INPUT: 'clicks', JOURNEYLENS_CONFIG: configFile, JOURNEYLENS_DLQ_DENY_FIELDS: e.JOURNEYLENS_DLQ_DENY_FIELDS.value as string };
    const cfg = resolveConfig(runOptions, {}, podEnv);
    expect(parseDenyFields(cfg.dlqDenyFields)).toEqual([['userId'], ['properties', 'email']]);
    expect(cfg.tickMs).toBe(500);
    const ingestion = parseIngestionOptions(configSection('ingestion', {}, podEnv).value);
    expect(ingestion.consent).toEqual({ path: 'consent.analytics', granted: [true, 'yes'] });
    // a rule as a plain path, beside other ingestion options of the config value
    const merged = render(['--set', 'privacy.consent=consent', '--set-json', 'config={"ingestion":{"sessionKey":"userId"}}']);
    expect(JSON.parse(one(merged, 'ConfigMap').data!['config.json']!)).toEqual({ ingestion: { sessionKey: 'userId', consent: 'consent' } });
    expect(renderError(['--set', 'privacy.consent=consent', '--set-json', 'config={"ingestion":{"consent":"c"}}'])).toContain('privacy.consent and config.ingestion.consent both set the consent rule');
  });

  it('adds client certificate files for mutual TLS', () => {
    const e = env(render(['--set', 'kafka.tls.enabled=true', '--set', 'kafka.tls.existingSecret=kafka-client', '--set', 'kafka.tls.clientAuth=true']));
    expect(e.JOURNEYLENS_SSL.value).toBe('true');
    expect(e.JOURNEYLENS_SSL_CERT_FILE.value).toBe('/etc/journeylens/secrets/kafka-tls/tls.crt');
    expect(e.JOURNEYLENS_SSL_KEY_FILE.value).toBe('/etc/journeylens/secrets/kafka-tls/tls.key');
  });

  it('serves the web console only when enabled: its port, a Service port, the token as a file, and an Ingress only when asked', () => {
    const off = render();
    expect(container(off).ports.map((p: { name: string }) => p.name)).toEqual(['metrics']);
    expect(one(off, 'Service').spec.ports.map((p: { name: string }) => p.name)).toEqual(['metrics']);
    expect(byKind(off, 'Ingress')).toEqual([]);
    expect(Object.keys(env(off)).filter((k) => k.startsWith('JOURNEYLENS_UI_'))).toEqual([]);

    const on = render(['--set', 'console.enabled=true', '--set', 'console.existingSecret=jl-console']);
    expect(container(on).ports).toContainEqual({ name: 'console', containerPort: 9465, protocol: 'TCP' });
    expect(one(on, 'Service').spec.ports).toContainEqual({ name: 'console', port: 9465, targetPort: 'console', protocol: 'TCP' });
    const e = env(on);
    expect(e.JOURNEYLENS_UI_PORT.value).toBe('9465');
    // beyond loopback (the Service must reach it), so with the token, from a mounted file
    expect(e.JOURNEYLENS_UI_HOST.value).toBe('0.0.0.0');
    expect(e.JOURNEYLENS_UI_TOKEN_FILE.value).toBe('/etc/journeylens/secrets/console/token');
    expect(e.JOURNEYLENS_UI_TOKEN).toBeUndefined();
    const pod = one(on, 'Deployment').spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'console-token', secret: { secretName: 'jl-console', defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] } });
    expect(container(on).volumeMounts).toContainEqual({ name: 'console-token', mountPath: '/etc/journeylens/secrets/console', readOnly: true });
    expect(byKind(on, 'Ingress')).toEqual([]);
    expect(env(render(['--set', 'console.enabled=true', '--set', 'console.existingSecret=jl-console', '--set', 'secretsMountMode=env'])).JOURNEYLENS_UI_TOKEN.valueFrom).toEqual({ secretKeyRef: { name: 'jl-console', key: 'token' } });

    const ingress = one(
      render(['--set', 'console.enabled=true', '--set', 'console.existingSecret=jl-console', '--set', 'console.ingress.enabled=true', '--set', 'console.ingress.className=nginx', '--set', 'console.ingress.host=churn.example.com', '--set', 'console.ingress.tls[0].secretName=churn-tls', '--set', 'console.ingress.tls[0].hosts[0]=churn.example.com']),
      'Ingress',
    );
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ secretName: 'churn-tls', hosts: ['churn.example.com'] }]);
    expect(ingress.spec.rules).toEqual([{ host: 'churn.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'jl-journeylens', port: { name: 'console' } } } }] } }]);
  });

  it("renders the console with docs/console.md's helm line: the Secret the doc creates, one replica", () => {
    const lines = codeBlocks('docs/console.md', 'sh').flatMap((b) => b.split('\n'));
    const secret = /^kubectl create secret generic (\S+) --from-literal=token=/.exec(lines.find((l) => l.startsWith('kubectl create secret')) ?? '');
    const install = lines.find((l) => l.startsWith('helm install '))?.split(/\s+/);
    expect(install?.slice(0, 4)).toEqual(['helm', 'install', 'jl', 'helm/journeylens']);
    const ms = render(install!.slice(4));
    expect(env(ms).JOURNEYLENS_UI_TOKEN_FILE.value).toBe('/etc/journeylens/secrets/console/token');
    expect(one(ms, 'Deployment').spec.template.spec.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: secret?.[1] }) }));
    expect(one(ms, 'Service').spec.ports).toContainEqual({ name: 'console', port: 9465, targetPort: 'console', protocol: 'TCP' });
    expect(one(ms, 'Deployment').spec.replicas).toBe(1);
  });

  it('keeps names within 63 characters and honours name overrides', () => {
    const long = 'a'.repeat(70);
    expect(one(render(['--set', `fullnameOverride=${long.slice(0, 63)}`]), 'Deployment').metadata.name).toBe(long.slice(0, 63));
    const ms = render(['--set', 'nameOverride=jlens']);
    expect(one(ms, 'Deployment').metadata.name).toBe('jl-jlens');
    expect(one(ms, 'Deployment').spec.selector.matchLabels['app.kubernetes.io/name']).toBe('jlens');
  });

  it('refuses more replicas than partitions, and invalid values, with messages naming the value', () => {
    expect(renderError(['--set', 'replicaCount=7'])).toContain('replicaCount (7) must be <= kafka.partitions (6)');
    expect(renderError(['--set', 'autoscaling.enabled=true', '--set', 'autoscaling.maxReplicas=9'])).toContain('autoscaling.maxReplicas (9) must be <= kafka.partitions (6)');
    expect(renderError(['--set', 'kafka.sasl.enabled=true', '--set', 'kafka.sasl.username=u'])).toContain('kafka.sasl.existingSecret is required');
    expect(renderError(['--set', 'webhook.url=https://crm.example/h'])).toContain('webhook.existingSecret is required');
    expect(renderError(['--set', 'autoscaling.enabled=true', '--set', 'kafka.topics.input=/clicks\\..*/'])).toContain('autoscaling.enabled needs a single input topic');
    expect(renderError(['--set', 'kafka.sasl.mechanism=gssapi'])).toMatch(/kafka\/sasl\/mechanism.*one of/);
    expect(renderError(['--set', 'logLevel=verbose'])).toMatch(/logLevel/);
    expect(renderError(['--set', 'kafka.replicas=3'])).toMatch(/additional properties 'replicas' not allowed/);
    expect(renderError(['--set', 'console.enabled=true'])).toContain('console.existingSecret is required when console.enabled=true');
    expect(renderError(['--set', 'console.enabled=true', '--set', 'console.existingSecret=s', '--set', 'replicaCount=2'])).toContain('run `journeylens ui` (docs/console.md) as its own Deployment');
    expect(renderError(['--set', 'console.ingress.enabled=true'])).toContain('console.ingress.enabled needs console.enabled=true');
    expect(renderError(['--set', 'console.enabled=true', '--set', 'console.existingSecret=s', '--set', 'console.port=9464'])).toContain('console.port (9464) must differ from metrics.port');
  });
});

describe('values.yaml documentation and schema', () => {
  const text = readFileSync(join(chart, 'values.yaml'), 'utf8');
  const values = parse(text) as Record<string, unknown>;
  const documented = new Set([...text.matchAll(/^## @param (\S+) \S/gm)].map((m) => m[1]!));
  const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as SchemaNode;
  interface SchemaNode {
    properties?: Record<string, SchemaNode>;
  }

  function paths(value: unknown, prefix: string): string[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...paths(v, `${prefix}${k}.`).filter((p) => !p.endsWith('.'))]);
  }
  const all = paths(values, '').filter(Boolean);

  // Leaves: scalars, lists and empty objects; a documented object covers everything below it.
  const leaves = all.filter((p) => !all.some((q) => q.startsWith(`${p}.`)));

  it('documents every value with ## @param (itself or the object it belongs to)', () => {
    expect(leaves.length).toBeGreaterThan(50);
    for (const p of leaves) {
      const parts = p.split('.');
      const covered = parts.some((_, i) => documented.has(parts.slice(0, i + 1).join('.')));
      expect(covered, `${p} has no ## @param line`).toBe(true);
    }
  });

  it('has no ## @param for a value that does not exist', () => {
    for (const d of documented) expect(all, `## @param ${d}`).toContain(d);
  });

  it('declares every value in values.schema.json', () => {
    for (const p of all) {
      let node: SchemaNode | undefined = schema;
      for (const part of p.split('.')) {
        if (node?.properties === undefined) break; // a free-form object (e.g. config, resources)
        node = node.properties[part];
        expect(node, `${p} is not in values.schema.json`).toBeDefined();
      }
    }
  });
});

