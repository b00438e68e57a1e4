/**
 * The container deployment, checked without a Docker engine: the compose file parses and wires
 * every service (image or build, health check, healthy dependencies, GPUs, shared frame store,
 * model store), each sie service's environment loads with that service's own config loader in
 * strict mode (an unknown SIE_* name fails, so every name in the file is real), and the
 * Dockerfiles are multi-stage, run as a non-root user, have a HEALTHCHECK and copy only paths
 * that exist.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { ConfigError } from '@sie/errors';
import { SERVICE_NODE_FLAGS, findRepoRoot } from '@sie/infra';
import { parse } from 'yaml';

const root = findRepoRoot();
const COMPOSE = join(root, 'deploy', 'compose', 'docker-compose.yml');
const DOCKERFILES = ['deploy/docker/Dockerfile', 'deploy/docker/Dockerfile.jetson'];

const SIE_SERVICES = ['api', 'scheduler', 'ingest', 'inference', 'rules', 'render'] as const;
type SieService = (typeof SIE_SERVICES)[number];
const NEEDS_POSTGRES: SieService[] = ['api', 'scheduler'];
const NEEDS_NATS: SieService[] = ['api', 'scheduler', 'ingest', 'rules', 'render'];
const NEEDS_GPU: SieService[] = ['inference', 'ingest', 'render'];
const READS_FRAMES: SieService[] = ['ingest', 'inference', 'render'];

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  volumes?: string[];
  deploy?: {
    resources?: {
      reservations?: {
        devices?: { driver: string; count: number | string; capabilities: string[] }[];
      };
    };
  };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, { driver?: string; driver_opts?: Record<string, string> } | null>;
}

/** Compose's `${VAR:-default}` with nothing set: the defaults (every variable must have one). */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(:-([^}]*))?\}/g, (whole, name: string, _d, def) => {
    assert.ok(def !== undefined, `${whole} has no default: compose up would need a .env`);
    return String(def);
  });
}

const compose = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as ComposeFile;

function envOf(name: string): Record<string, string> {
  const env = compose.services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v))]));
}

type Loader = (options: {
  env: NodeJS.ProcessEnv;
  argv: string[];
  rejectUnknownEnv: boolean;
}) => Record<string, unknown>;

/**
 * The service's exported config loader (`load<Service>Config` from its index), imported from its
 * compiled package: the test package does not depend on the services, the built workspace has them.
 */
async function loaderOf(service: SieService): Promise<Loader> {
  const url = pathToFileURL(join(root, 'services', service, 'dist', 'index.js')).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const name = `load${service[0]?.toUpperCase()}${service.slice(1)}Config`;
  const loader = mod[name];
  assert.equal(typeof loader, 'function', `services/${service} exports ${name}`);
  return loader as Loader;
}

test('compose: every service with image or build, a health check and healthy dependencies', () => {
  const names = Object.keys(compose.services).sort();
  assert.deepEqual(names, [...SIE_SERVICES, 'mediamtx', 'nats', 'postgres'].sort());
  for (const [name, svc] of Object.entries(compose.services)) {
    assert.ok(svc.image || svc.build, `${name} has an image or a build`);
    assert.ok(svc.healthcheck?.test, `${name} has a health check`);
  }
  assert.match(compose.services.postgres?.image ?? '', /^postgres:16/);
  assert.match(JSON.stringify(compose.services.postgres?.healthcheck), /pg_isready/);
  const nats = compose.services.nats;
  assert.ok(nats?.command?.includes('-js'), 'NATS runs with JetStream');
  assert.match(JSON.stringify(nats?.healthcheck), /8222\/healthz/);
  assert.match(compose.services.mediamtx?.image ?? '', /^bluenviron\/mediamtx/);
  for (const service of SIE_SERVICES) {
    const svc = compose.services[service];
    assert.ok(svc?.build, `${service} is built from this repository`);
    assert.deepEqual(svc.command?.[0], service, `${service} runs its own service`);
    assert.match(JSON.stringify(svc.healthcheck), /healthcheck\.mjs/);
    const needs = [
      ...(NEEDS_POSTGRES.includes(service) ? ['postgres'] : []),
      ...(NEEDS_NATS.includes(service) ? ['nats'] : []),
    ];
    for (const dep of needs) {
      assert.equal(
        svc.depends_on?.[dep]?.condition,
        'service_healthy',
        `${service} waits for a healthy ${dep}`,
      );
    }
  }
  assert.equal(compose.services.render?.depends_on?.mediamtx?.condition, 'service_healthy');
});

test('compose: a GPU for inference, ingest and render; one frame store and one model store', () => {
  for (const service of NEEDS_GPU) {
    const devices = compose.services[service]?.deploy?.resources?.reservations?.devices ?? [];
    assert.ok(
      devices.some(
        (d) => d.driver === 'nvidia' && Number(d.count) >= 1 && d.capabilities.includes('gpu'),
      ),
      `${service} reserves an NVIDIA GPU: ${JSON.stringify(devices)}`,
    );
  }
  for (const service of ['api', 'scheduler', 'rules'] as const) {
    assert.equal(compose.services[service]?.deploy, undefined, `${service} needs no GPU`);
  }
  // Ingest writes frames, inference and render read them: one tmpfs volume at the directory
  // each of them is configured with.
  const mounts = (service: string): Map<string, string> =>
    new Map(
      (compose.services[service]?.volumes ?? []).map((v) => {
        const [source = '', target = ''] = interpolate(v).split(':');
        return [target, source];
      }),
    );
  for (const service of READS_FRAMES) {
    const dir = envOf(service).SIE_FRAME_STORE_DIR ?? '';
    assert.ok(dir, `${service} sets SIE_FRAME_STORE_DIR`);
    assert.equal(mounts(service).get(dir), 'frames', `${service} mounts the frame store at ${dir}`);
  }
  const frames = compose.volumes.frames;
  assert.equal(frames?.driver_opts?.type, 'tmpfs', 'the frame store is shared memory');
  // The api stores model files, inference opens them by the path the api recorded.
  const storeDir = envOf('api').SIE_MODELS__STORE_DIR ?? '';
  assert.ok(storeDir);
  assert.equal(mounts('api').get(storeDir), 'models');
  assert.equal(mounts('inference').get(storeDir), 'models');
});

test("compose: each service's environment loads with its own config loader, strictly", async () => {
  const loaded = new Map<SieService, Record<string, unknown>>();
  for (const service of SIE_SERVICES) {
    const load = await loaderOf(service);
    const env = envOf(service);
    assert.ok(
      Object.keys(env).some((k) => k.startsWith('SIE_')),
      `${service} sets SIE_* variables`,
    );
    try {
      loaded.set(service, load({ env, argv: [], rejectUnknownEnv: true }));
    } catch (err) {
      assert.fail(`${service}: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Strict mode is on: a misspelt name fails, naming it.
    assert.throws(
      () => load({ env: { ...env, SIE_OPS__PROT: '1' }, argv: [], rejectUnknownEnv: true }),
      (err: unknown) => err instanceof ConfigError && err.message.includes('SIE_OPS__PROT'),
    );
  }
  const get = (service: SieService, path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>((n, k) => (n as Record<string, unknown>)?.[k], loaded.get(service));
  // The values the wiring depends on, as the services read them.
  assert.equal(get('api', 'http.host'), '0.0.0.0');
  assert.equal(get('api', 'databaseUrl'), 'postgres://postgres:postgres@postgres:5432/sie');
  assert.equal(get('api', 'inference.url'), 'inference:50051');
  assert.equal(get('scheduler', 'inferenceUrl'), 'inference:50051');
  assert.equal(get('ingest', 'inference.url'), 'inference:50051');
  assert.equal(get('inference', 'grpc.host'), '0.0.0.0');
  assert.equal(get('inference', 'grpc.port'), 50051);
  assert.equal(get('inference', 'executionProvider'), 'cuda');
  assert.equal(get('render', 'rtspPublishUrl'), 'rtsp://mediamtx:8554');
  assert.equal(get('render', 'encoder'), 'h264_nvenc');
  for (const service of NEEDS_NATS) assert.equal(get(service, 'nats.url'), 'nats://nats:4222');
  const nodeIds = new Set(
    (['ingest', 'inference', 'rules', 'render'] as const).map((s) => get(s, 'nodeId')),
  );
  assert.deepEqual([...nodeIds], ['node-1'], 'the stage services of the node share one node id');

  // The image's health check probes each service's default ops port when none is set.
  const script = readFileSync(join(root, 'deploy', 'docker', 'healthcheck.mjs'), 'utf8');
  for (const service of SIE_SERVICES) {
    const load = await loaderOf(service);
    const port = (load({ env: {}, argv: [], rejectUnknownEnv: true }).ops as { port: number }).port;
    assert.match(script, new RegExp(`\\b${service}: ${port},`), `${service} ops port ${port}`);
    assert.equal(Number(envOf(service).SIE_OPS__PORT), port, `${service} SIE_OPS__PORT`);
  }
});

test('Dockerfiles: multi-stage, non-root, a HEALTHCHECK, and only COPY paths that exist', () => {
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8');
  for (const rel of DOCKERFILES) {
    const text = readFileSync(join(root, rel), 'utf8').replace(/\\\n/g, ' ');
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const froms = lines.filter((l) => /^FROM\s/i.test(l));
    assert.ok(froms.length >= 2, `${rel}: ${froms.length} FROM stages`);
    const stages = new Set(froms.map((l) => /\sAS\s+(\S+)/i.exec(l)?.[1]).filter(Boolean));
    // The runtime stage (the last one) runs as a user that is not root.
    const last = lines.slice(lines.lastIndexOf(froms[froms.length - 1] ?? ''));
    const user = last.filter((l) => /^USER\s/i.test(l)).pop();
    assert.ok(user, `${rel}: USER in the runtime stage`);
    assert.doesNotMatch(user, /^USER\s+(root|0)(:|\s|$)/i, `${rel}: ${user}`);
    assert.ok(
      last.some((l) => /^HEALTHCHECK\s+.*CMD/i.test(l)),
      `${rel}: HEALTHCHECK in the runtime stage`,
    );
    for (const line of lines.filter((l) => /^COPY\s/i.test(l))) {
      const words = line.split(/\s+/).slice(1);
      const from = words.find((w) => w.startsWith('--from='));
      const paths = words.filter((w) => !w.startsWith('--'));
      const sources = paths.slice(0, -1);
      if (from) {
        const stage = from.slice('--from='.length);
        assert.ok(stages.has(stage), `${rel}: ${line} copies from a stage of this file`);
        continue;
      }
      for (const src of sources) {
        assert.ok(existsSync(join(root, src)), `${rel}: ${line}: ${src} exists in the repository`);
        assert.ok(!ignore.split('\n').includes(src), `${rel}: ${src} is not in .dockerignore`);
      }
    }
    // Files the image runs exist where the image expects them (/app is the repository root).
    for (const used of text.match(/\/app\/[\w./-]+/g) ?? []) {
      assert.ok(existsSync(join(root, used.slice('/app/'.length))), `${rel}: ${used} exists`);
    }
    for (const project of /tsc -b ([^\n]*?)(\s+RUN|\n|$)/.exec(text)?.[1]?.split(/\s+/) ?? []) {
      if (project)
        assert.ok(existsSync(join(root, project, 'tsconfig.json')), `${rel}: ${project}`);
    }
  }
  const ignored = ignore.split('\n').map((l) => l.trim());
  for (const entry of ['**/node_modules', '**/dist', '.git']) {
    assert.ok(ignored.includes(entry), `.dockerignore leaves out ${entry}`);
  }
});

test('images and package start scripts run services with the node flags the test and local stacks use', () => {
  for (const rel of DOCKERFILES) {
    const text = readFileSync(join(root, rel), 'utf8');
    const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(text)?.[1];
    assert.ok(entry, `${rel}: an exec-form ENTRYPOINT`);
    assert.deepEqual(JSON.parse(entry), [
      'node',
      ...SERVICE_NODE_FLAGS,
      '/app/deploy/docker/start.mjs',
    ]);
  }
  for (const svc of ['api', 'scheduler', 'ingest', 'inference', 'rules', 'render']) {
    const pkg = JSON.parse(readFileSync(join(root, 'services', svc, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(pkg.scripts.start, ['node', ...SERVICE_NODE_FLAGS, 'dist/main.js'].join(' '), svc);
  }
});
