// What can be checked of the packaging on a machine without a container engine or a cluster: every YAML
// under deploy/ parses; compose, Kubernetes and the Dockerfile keep their security properties (non-root,
// read-only root, no capabilities, secrets as files, pinned images); the shipped configs and policies
// validate; probe paths are real gateway routes; the systemd unit passes `systemd-analyze verify`; the
// Grafana dashboard queries only metrics the gateway exports. The image build itself: deploy-image.test.ts.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../../src/config/keys.js';
import { loadConfigText } from '../../src/config/validate.js';
import { formatProblem } from '../../src/config/yaml-source.js';
import { GatewayMetrics } from '../../src/gateway/metrics.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { testConfig, testKeys } from '../helpers/gateway.js';
import { dockerfileStages, type DockerStage } from '../helpers/dockerfile.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

type Doc = Record<string, any>;

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name))
    .filter((path) => statSync(join(root, path)).isFile())
    .sort();
}

/** Writes throw-away key files and returns a config text whose `file:` secrets point at them. */
function withTemporarySecrets(text: string, secretDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-deploy-secrets-'));
  writeFileSync(join(dir, 'encryption-key'), generateEncryptionKey());
  writeFileSync(join(dir, 'assertion-key'), generateAssertionKeyPem());
  writeFileSync(join(dir, 'audit-signing-key'), generateAuditSigningKeyPem());
  writeFileSync(join(dir, 'plain'), 'a-test-value-of-some-length');
  return text.replace(new RegExp(`file:${secretDir.replace(/[./]/g, (c) => `\\${c}`)}/?([^\\s"]+)`, 'g'), (_m, name: string) => {
    const kind = /encryption/.test(name) ? 'encryption-key' : /assertion/.test(name) ? 'assertion-key' : /audit/.test(name) ? 'audit-signing-key' : 'plain';
    return `file:${join(dir, kind)}`;
  });
}

function validates(file: string, text: string, secretDir: string): ReturnType<typeof loadConfigText> {
  const result = loadConfigText(file, withTemporarySecrets(text, secretDir), {});
  expect(result.problems.map(formatProblem)).toEqual([]);
  return result;
}

describe('every YAML file under deploy/', () => {
  const files = yamlFilesUnder('deploy');

  it('parses without errors or warnings', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const file of files) {
      for (const doc of parseAllDocuments(read(file))) {
        expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
        expect(doc.warnings.map((e) => `${file}: ${e.message}`)).toEqual([]);
      }
    }
  });
});

describe('probe paths', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    // A real gateway (memory store, an unreachable IdP: discovery is retried on demand), never listening.
    gateway = await createGateway(testConfig({ port: 0, issuer: 'http://127.0.0.1:9/unreachable', clientSecret: 'x'.repeat(32), upstream: 'http://127.0.0.1:9', store: 'memory', keys: testKeys() }), { logger: false });
    await gateway.app.ready();
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('used by compose, Kubernetes and the image are GET routes of the gateway (and a made-up one is not)', () => {
    const paths = new Set<string>(['/healthz', '/readyz']);
    const manifest = parse(read('deploy/kubernetes/statefulset.yaml')) as Doc;
    for (const container of manifest.spec.template.spec.containers) {
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) if (container[probe]) paths.add(container[probe].httpGet.path);
    }
    for (const path of paths) expect(gateway.app.hasRoute({ method: 'GET', url: path }), path).toBe(true);
    expect(gateway.app.hasRoute({ method: 'GET', url: '/health' })).toBe(false);
  });
});

describe('deploy/compose', () => {
  const compose = parse(read('deploy/compose/compose.yaml')) as Doc;
  const services = compose.services as Record<string, Doc>;
  const config = () => validates('deploy/compose/roomguard.yaml', read('deploy/compose/roomguard.yaml'), '/run/secrets').config!;

  it('runs roomguard and Redis with a read-only root, no capabilities, no privilege escalation and a health check', () => {
    expect(Object.keys(services).sort()).toEqual(['redis', 'roomguard']);
    for (const [name, service] of Object.entries(services)) {
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(['ALL']);
      expect(service.security_opt, name).toContain('no-new-privileges:true');
      expect(service.cap_add, name).toBeUndefined();
      expect(service.privileged, name).toBeUndefined();
      expect(service.healthcheck?.test, name).toBeDefined();
      const [uid] = String(service.user).split(':');
      expect(Number(uid), name).toBeGreaterThan(0);
    }
    expect(services.roomguard!.healthcheck.test.join(' ')).toMatch(/fetch\('http:\/\/127\.0\.0\.1:8080\/healthz'\)/);
    expect(services.roomguard!.depends_on.redis.condition).toBe('service_healthy');
  });

  it('passes secrets as files, never as environment variables, and requires a Redis password', () => {
    for (const service of Object.values(services)) expect(service.environment).toBeUndefined();
    for (const secret of Object.values(compose.secrets as Record<string, Doc>)) expect(secret.file).toMatch(/^\.\/secrets\//);
    expect(read('deploy/compose/.gitignore')).toMatch(/^secrets\/$/m);
    const redis = services.redis!;
    expect(redis.secrets).toEqual(['redis_password']);
    expect(redis.command.join(' ')).toMatch(/requirepass .*\/run\/secrets\/redis_password/);
    // Second factors live only in Redis: persistent, never evicted.
    expect(redis.command.join(' ')).toMatch(/appendonly yes.*maxmemory-policy noeviction/);
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(redis.ports).toBeUndefined();
    const c = config();
    expect(c.store.password).toBeDefined();
    for (const key of ['encryptionKey', 'assertionKey', 'auditSigningKey'] as const) expect(c.secrets[key]).toBeDefined();
    const text = read('deploy/compose/roomguard.yaml');
    const referenced = [...text.matchAll(/file:\/run\/secrets\/([\w.-]+)/g)].map((m) => m[1]).sort();
    expect(referenced).toEqual([...services.roomguard!.secrets].sort());
  });

  it('ships a roomguard.yaml that validates, whose paths are the mounted ones, and a policy set that loads', () => {
    const c = config();
    const mounts = (services.roomguard!.volumes as string[]).map((v) => v.split(':'));
    expect(mounts).toContainEqual(['./roomguard.yaml', '/etc/roomguard/roomguard.yaml', 'ro']);
    expect(mounts).toContainEqual(['./policies', c.policies.dir, 'ro']);
    expect(mounts).toContainEqual(['audit', c.audit.dir]);
    expect(services.roomguard!.tmpfs[0]).toMatch(/^\/tmp:/);
    const policies = loadPolicyDir(join(root, 'deploy/compose/policies'));
    expect(policies.problems.map(formatProblem)).toEqual([]);
    expect(policies.files.length).toBeGreaterThan(0);
  });

  it('make-secrets.sh writes keys that make roomguard.yaml valid, keeps them on a second run, and keeps the folder private', () => {
    const copy = mkdtempSync(join(tmpdir(), 'rg-compose-'));
    cpSync(join(root, 'deploy/compose'), copy, { recursive: true });
    // `docker run … roomguard:local keys generate` with the CLI from the sources instead of the image.
    const bin = mkdtempSync(join(tmpdir(), 'rg-fake-docker-'));
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\n[ "$*" = "run --rm --network none roomguard:local keys generate" ] || { echo "unexpected: docker $*" >&2; exit 99; }\nexec "${process.execPath}" "${join(root, 'node_modules/tsx/dist/cli.mjs')}" "${join(root, 'src/cli/cli.ts')}" keys generate\n`, { mode: 0o755 });
    const run = () => spawnSync('sh', [join(copy, 'make-secrets.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeout: 60_000 });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(statSync(join(copy, 'secrets')).mode & 0o777).toBe(0o700);
    writeFileSync(join(copy, 'secrets/oidc_client_secret'), 'the-secret-the-idp-issued');
    const files = Object.fromEntries(Object.entries(compose.secrets as Record<string, Doc>).map(([name, s]) => [name, join(copy, s.file)]));
    const contents = () => Object.values(files).map((f) => readFileSync(f, 'utf8'));
    const before = contents();
    const text = read('deploy/compose/roomguard.yaml').replace(/file:\/run\/secrets\/([\w.-]+)/g, (_m, name: string) => `file:${files[name]}`);
    const result = loadConfigText('deploy/compose/roomguard.yaml', text, {});
    expect(result.problems.map(formatProblem)).toEqual([]);
    expect(result.config!.store.password!.reveal()).toMatch(/^[0-9a-f]{64}$/);
    expect(run().status).toBe(0);
    expect(contents()).toEqual(before);
  });

  it('publishes the metrics listener on the host loopback only', () => {
    expect(config().metrics.listen).toBe('0.0.0.0:9464');
    const ports = services.roomguard!.ports as string[];
    expect(ports).toContain('127.0.0.1:9464:9464');
    expect(ports.filter((p) => p.endsWith(':9464'))).toEqual(['127.0.0.1:9464:9464']);
  });
});

describe('deploy/kubernetes', () => {
  const dir = 'deploy/kubernetes';
  const docs: Doc[] = yamlFilesUnder(dir).filter((f) => !f.endsWith('kustomization.yaml')).flatMap((f) => parseAllDocuments(read(f)).map((d) => d.toJS() as Doc));
  const find = (kind: string, name?: string) => docs.filter((d) => d.kind === kind && (!name || d.metadata.name === name));
  const workload = find('StatefulSet')[0]!;
  const pod = workload.spec.template.spec as Doc;
  const container = pod.containers[0] as Doc;
  const podLabels = workload.spec.template.metadata.labels as Record<string, string>;
  const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);

  it('lists every manifest in the kustomization except the example Secret', () => {
    const kustomization = parse(read(`${dir}/kustomization.yaml`)) as Doc;
    const manifests = readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort();
    expect([...kustomization.resources].sort()).toEqual(manifests);
    expect(kustomization.resources).not.toContain('secret.example.yaml');
  });

  it('puts everything in one namespace that enforces the restricted pod security standard', () => {
    const namespace = find('Namespace')[0]!;
    expect(namespace.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const d of docs.filter((x) => x.kind !== 'Namespace')) expect(d.metadata.namespace, `${d.kind}/${d.metadata.name}`).toBe(namespace.metadata.name);
  });

  it('runs at least two replicas spread over nodes, and a disruption budget keeps one', () => {
    expect(workload.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(selects(workload.spec.selector.matchLabels)).toBe(true);
    const spread = pod.topologySpreadConstraints as Doc[];
    expect(spread.some((c) => c.topologyKey === 'kubernetes.io/hostname' && c.whenUnsatisfiable === 'DoNotSchedule' && selects(c.labelSelector.matchLabels))).toBe(true);
    expect(pod.affinity.podAntiAffinity).toBeDefined();
    const pdb = find('PodDisruptionBudget')[0]!;
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(workload.spec.replicas);
  });

  it('runs as a non-root user with a read-only root filesystem, no capabilities and the runtime seccomp profile', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
    expect(container.securityContext.capabilities.add).toBeUndefined();
    expect(container.env ?? []).toEqual([]);
  });

  it('probes liveness on /healthz and readiness on /readyz, and drains within the termination grace period', () => {
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const preStop = container.lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe('sleep');
    // preStop, then roomguard's own drain and WebSocket grace (shutdown.*), then the audit flush.
    const configMap = find('ConfigMap', 'roomguard-config')[0]!;
    const { shutdown } = validates(`${dir}/configmap.yaml`, configMap.data['roomguard.yaml'], '/etc/roomguard/secrets').config!;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(preStop[1]) + (shutdown.drainTimeout + shutdown.websocketGrace) / 1000 + 10);
    // One drain budget everywhere: Kubernetes, compose and systemd.
    expect(`${pod.terminationGracePeriodSeconds}s`).toBe((parse(read('deploy/compose/compose.yaml')) as Doc).services.roomguard.stop_grace_period);
    expect(read('deploy/systemd/roomguard.service')).toMatch(new RegExp(`^TimeoutStopSec=${pod.terminationGracePeriodSeconds}$`, 'm'));
  });

  it('mounts the config, the policies, the secrets, one audit volume per pod and a writable /tmp', () => {
    const configMap = find('ConfigMap', 'roomguard-config')[0]!;
    const config = validates(`${dir}/configmap.yaml`, configMap.data['roomguard.yaml'], '/etc/roomguard/secrets').config!;
    const mountAt = (path: string) => (container.volumeMounts as Doc[]).find((m) => m.mountPath === path);
    const volume = (name: string) => (pod.volumes as Doc[]).find((v) => v.name === name);
    expect(volume(mountAt('/etc/roomguard/roomguard.yaml')!.name)!.configMap.name).toBe('roomguard-config');
    expect(volume(mountAt(config.policies.dir)!.name)!.configMap.name).toBe('roomguard-policies');
    expect(mountAt(config.policies.dir)!.subPath).toBeUndefined();
    expect(config.policies.watch).toBe(true);
    const secrets = volume(mountAt('/etc/roomguard/secrets')!.name)!.secret;
    expect(secrets.defaultMode & 0o007).toBe(0);
    const example = find('Secret', secrets.secretName)[0]!;
    const referenced = [...configMap.data['roomguard.yaml'].matchAll(/file:\/etc\/roomguard\/secrets\/([\w.-]+)/g)].map((m: RegExpMatchArray) => m[1]).sort();
    expect(referenced).toEqual(Object.keys(example.stringData).sort());
    const audit = mountAt(config.audit.dir)!;
    expect(volume(audit.name)).toBeUndefined();
    expect((workload.spec.volumeClaimTemplates as Doc[]).map((t) => t.metadata.name)).toContain(audit.name);
    expect(config.audit.instance).toBeUndefined();
    expect(volume(mountAt('/tmp')!.name)!.emptyDir).toBeDefined();
    const writable = (container.volumeMounts as Doc[]).filter((m) => !m.readOnly).map((m) => m.mountPath).sort();
    expect(writable).toEqual([config.audit.dir, '/tmp'].sort());
    const policies = find('ConfigMap', 'roomguard-policies')[0]!;
    const policyDir = mkdtempSync(join(tmpdir(), 'rg-k8s-policies-'));
    for (const [name, text] of Object.entries(policies.data as Record<string, string>)) writeFileSync(join(policyDir, name), text);
    expect(loadPolicyDir(policyDir).problems.map(formatProblem)).toEqual([]);
  });

  it('exposes HTTP through a Service and metrics only to the monitoring namespace', () => {
    const ports = new Map((container.ports as Doc[]).map((p) => [p.name, p.containerPort]));
    const configMap = find('ConfigMap', 'roomguard-config')[0]!;
    const config = validates(`${dir}/configmap.yaml`, configMap.data['roomguard.yaml'], '/etc/roomguard/secrets').config!;
    expect(ports.get('http')).toBe(Number(config.listen.split(':')[1]));
    expect(ports.get('metrics')).toBe(Number(config.metrics.listen!.split(':')[1]));
    const services = find('Service');
    for (const service of services) {
      expect(selects(service.spec.selector)).toBe(true);
      for (const p of service.spec.ports as Doc[]) expect(ports.has(p.targetPort)).toBe(true);
    }
    expect(services.find((s) => s.metadata.name === workload.spec.serviceName)?.spec.clusterIP).toBe('None');
    const publicService = find('Service', 'roomguard')[0]!;
    expect((publicService.spec.ports as Doc[]).map((p) => p.targetPort)).toEqual(['http']);
    const policy = find('NetworkPolicy')[0]!;
    expect(selects(policy.spec.podSelector.matchLabels)).toBe(true);
    const metricsRule = (policy.spec.ingress as Doc[]).find((r) => r.ports.some((p: Doc) => p.port === ports.get('metrics')))!;
    expect(metricsRule.ports).toHaveLength(1);
    expect(metricsRule.from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('monitoring');
  });
});

describe('deploy/systemd', () => {
  const unitPath = join(root, 'deploy/systemd/roomguard.service');
  const unit = read('deploy/systemd/roomguard.service');
  const settings = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
  const analyze = (...args: string[]) => spawnSync('systemd-analyze', args, { encoding: 'utf8', cwd: tmpdir(), timeout: 60_000 });

  it('passes systemd-analyze verify without a warning', () => {
    const result = analyze('verify', unitPath);
    expect(result.error).toBeUndefined();
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('systemd-analyze verify does catch a misspelt hardening option (so the check above means something)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-unit-'));
    writeFileSync(join(dir, 'roomguard.service'), unit.replace('ProtectSystem=strict', 'ProtectSystm=strict'));
    const result = analyze('verify', join(dir, 'roomguard.service'));
    expect(result.stderr).toMatch(/Unknown key 'ProtectSystm'/);
  });

  it('is sandboxed: strict read-only system, no capabilities, system-service calls only, exposure rated low', () => {
    for (const [key, value] of Object.entries({ ProtectSystem: 'strict', PrivateTmp: 'yes', NoNewPrivileges: 'yes', CapabilityBoundingSet: '', AmbientCapabilities: '', ProtectHome: 'yes', RestrictNamespaces: 'yes' })) {
      expect(settings(key), key).toEqual([value]);
    }
    expect(settings('SystemCallFilter')).toContain('@system-service');
    expect(settings('RestrictAddressFamilies')).toEqual(['AF_INET AF_INET6 AF_UNIX AF_NETLINK']);
    expect(settings('ReadWritePaths')).toEqual(['/var/lib/roomguard/audit']);
    expect(settings('User')).toEqual(['roomguard']);
    // V8's JIT needs writable+executable pages: with MemoryDenyWriteExecute Node cannot start.
    expect(settings('MemoryDenyWriteExecute')).toEqual([]);
    expect(settings('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(settings('ExecStart')[0]).toMatch(/dist\/cli\/cli\.js serve --config /);
    const security = analyze('security', '--offline=true', unitPath);
    const exposure = /Overall exposure level for roomguard\.service: ([\d.]+)/.exec(security.stdout)?.[1];
    expect(Number(exposure)).toBeLessThanOrEqual(2);
  });

  it('hands secrets in as credentials that the example config reads, never through the environment file', () => {
    const credentials = settings('LoadCredential').map((c) => c.split(':')[0]).sort();
    expect(credentials.length).toBeGreaterThanOrEqual(5);
    const text = read('deploy/systemd/roomguard.yaml');
    const config = validates('deploy/systemd/roomguard.yaml', text, '/run/credentials/roomguard.service').config!;
    const referenced = [...text.matchAll(/file:\/run\/credentials\/roomguard\.service\/([\w.-]+)/g)].map((m) => m[1]).sort();
    expect(referenced).toEqual(credentials);
    expect(config.audit.dir).toBe(settings('ReadWritePaths')[0]);
    expect(settings('ExecStart')[0]).toContain(`--config /etc/roomguard/roomguard.yaml`);
    const env = read('deploy/systemd/roomguard.env.example');
    expect(env).not.toMatch(/^[^#]*(SECRET|KEY|PASSWORD)\w*=/m);
    expect(read('deploy/systemd/roomguard.sysusers.conf')).toMatch(/^u roomguard /m);
  });
});

describe('Dockerfile', () => {
  const stages: DockerStage[] = dockerfileStages(read('Dockerfile'));
  const runtime = stages.at(-1)!;
  const all = stages.flatMap((s) => s.instructions);

  it('builds in stages from a pinned Node image that satisfies package.json engines', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(stage.image, stage.name).toMatch(/^node:(\d+)\.(\d+)\.(\d+)-[a-z]+(-slim)?(@sha256:[0-9a-f]{64})?$/);
      expect(stage.image).not.toMatch(/latest/);
    }
    const [major, minor] = /^node:(\d+)\.(\d+)/.exec(runtime.image)!.slice(1).map(Number);
    const engines = /^>=(\d+)(?:\.(\d+))?/.exec((JSON.parse(read('package.json')) as Doc).engines.node)!.slice(1).map((n) => Number(n ?? 0));
    expect(major! > engines[0]! || (major === engines[0] && minor! >= engines[1]!)).toBe(true);
    // The image runs the Node.js line CI tests with (.ci/run installs node@<major>).
    expect(read('.ci/run')).toMatch(new RegExp(`\\bnode@${major}\\b`));
    expect(stages.some((s) => s.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)))).toBe(true);
  });

  it('ships dist and production dependencies only, never the sources or dev dependencies', () => {
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY');
    const from = (path: string) => copies.find((c) => c.args.split(/\s+/).includes(path) || c.args.split(/\s+/).some((a) => a.startsWith(path)));
    expect(from('/src/dist')?.flags.from).toBe(stages.find((s) => s.instructions.some((i) => /npm run build/.test(i.args)))!.name);
    const depsStage = stages.find((s) => s.name === from('/src/node_modules')?.flags.from)!;
    expect(depsStage.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    for (const copy of copies) expect(copy.args).not.toMatch(/(^|\s)(\.\/)?src(\/|\s|$)/);
    expect(runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["node", "dist/cli/cli.js"]');
    expect(runtime.instructions.find((i) => i.keyword === 'CMD')?.args).toMatch(/^\["serve"/);
  });

  it('runs as a numeric non-root user and declares the audit volume', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    const lastUser = runtime.instructions.lastIndexOf(users[0]!);
    expect(runtime.instructions.slice(lastUser).some((i) => i.keyword === 'RUN')).toBe(false);
    expect(runtime.instructions.find((i) => i.keyword === 'VOLUME')?.args).toContain('/var/lib/roomguard/audit');
  });

  it('checks health with Node against /healthz, fetches nothing from the network, and bakes in no secret', () => {
    const health = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK')!;
    expect(health.args).toMatch(/CMD \["node", "-e", "fetch\(process\.env\.ROOMGUARD_HEALTHCHECK_URL\)/);
    expect(runtime.instructions.find((i) => i.keyword === 'ENV' && i.args.startsWith('ROOMGUARD_HEALTHCHECK_URL='))?.args).toMatch(/\/healthz$/);
    expect(all.filter((i) => i.keyword === 'ADD')).toEqual([]);
    expect(all.filter((i) => /\b(curl|wget)\b|https?:\/\/(?!127\.0\.0\.1)/.test(i.args)).map((i) => i.args)).toEqual([]);
    expect(all.filter((i) => (i.keyword === 'ENV' || i.keyword === 'ARG') && /(SECRET|PASSWORD|TOKEN|_KEY)\b/i.test(i.args.split('=')[0]!))).toEqual([]);
  });

  it('has a .dockerignore that lets in exactly what the Dockerfile copies from the context, and no secrets', () => {
    const rules = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1)).sort();
    const copied = all.filter((i) => i.keyword === 'COPY' && !i.flags.from).flatMap((i) => i.args.split(/\s+/).slice(0, -1)).map((p) => p.replace(/^\.\//, '')).sort();
    expect(allowed).toEqual([...new Set(copied)].sort());
    for (const pattern of ['**/*.pem', '**/.env', '**/secrets']) expect(rules).toContain(pattern);
  });
});

describe('deploy/grafana dashboard', () => {
  const dashboard = JSON.parse(read('deploy/grafana/roomguard-dashboard.json')) as Doc;
  const panels = (dashboard.panels as Doc[]).filter((p) => p.type !== 'row');
  const exprs = panels.flatMap((p) => (p.targets as Doc[]).map((t) => String(t.expr)));
  let exported: Set<string>;
  let ownFamilies: string[];

  beforeAll(async () => {
    const text = await new GatewayMetrics().registry.metrics();
    exported = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) => type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!]));
    // The gateway's own families (not prom-client's process_/nodejs_ defaults).
    ownFamilies = [...text.matchAll(/^# TYPE (roomguard_\S+)/gm)].map((m) => m[1]!).filter((n) => !/^roomguard_(process|nodejs)_/.test(n));
  });

  it('queries only metrics the gateway exports', () => {
    const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\broomguard_\w+/g)].map((m) => m[0])));
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
    expect(exported.has('roomguard_no_such_metric')).toBe(false);
  });

  it('has a panel for every metric family the gateway defines', () => {
    expect(ownFamilies.length).toBeGreaterThanOrEqual(12);
    for (const family of ownFamilies) expect(exprs.some((e) => new RegExp(`\\b${family}(_bucket|_count|_sum)?\\b`).test(e)), family).toBe(true);
  });

  it('takes the Prometheus data source and the instances as variables, and gives every panel a unit', () => {
    const variables = dashboard.templating.list as Doc[];
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.find((v) => v.name === 'instance')).toMatchObject({ type: 'query', includeAll: true });
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.fieldConfig.defaults.unit, panel.title).toBeTruthy();
      for (const target of panel.targets as Doc[]) expect(target.expr, panel.title).toContain('instance=~"$instance"');
    }
    const ids = (dashboard.panels as Doc[]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses rates over counters and max (not sum) for the store-wide session count', () => {
    for (const e of exprs.filter((x) => /_total\b|_bucket\b|_count\b/.test(x))) expect(e).toMatch(/\b(rate|increase)\(/);
    for (const e of exprs.filter((x) => x.includes('roomguard_active_sessions'))) expect(e).toMatch(/^max\(/);
  });
});
