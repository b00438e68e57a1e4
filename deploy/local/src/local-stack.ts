import { existsSync } from 'node:fs';
import { asSieError } from '@sie/errors';
import { startNats, startPostgres, type NatsServer, type PostgresServer } from '@sie/infra';
import type { Logger } from '@sie/telemetry';
import { buildEndpoints, natsUrlFor } from './endpoints.js';
import { StackStartError } from './errors.js';
import { tcpAccepts } from './health.js';
import { serviceLogFile, type StackPaths } from './paths.js';
import {
  buildProcessTable,
  selectedServices,
  serviceEntry,
  type ServiceProcess,
} from './services.js';
import { portsInUse, type StackConfig } from './stack-config.js';
import { writeState, type ServiceStatus, type StackState } from './state-file.js';
import { SupervisedProcess } from './supervised-process.js';

export interface LocalStackOptions {
  config: StackConfig;
  paths: StackPaths;
  logger: Logger;
  /** The environment children inherit (the supervisor's own). */
  env: NodeJS.ProcessEnv;
  /** How long a service gets to stop after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

/**
 * Postgres, NATS and the services of one node, started in dependency order, supervised, and
 * stopped in reverse. Every change is mirrored into stack.json for stack-up and people to read.
 */
export class LocalStack {
  private readonly abort = new AbortController();
  private readonly state: StackState;
  private services: { spec: ServiceProcess; proc: SupervisedProcess }[] = [];
  private postgres: PostgresServer | undefined;
  private nats: NatsServer | undefined;
  private infraStarting: Promise<unknown> = Promise.resolve();
  /** Status rows of Postgres and NATS, shown in stack.json before the services. */
  private infra: ServiceStatus[] = [];

  constructor(private readonly options: LocalStackOptions) {
    const now = new Date().toISOString();
    this.state = {
      state: 'starting',
      pid: process.pid,
      startedAt: now,
      updatedAt: now,
      services: [],
    };
  }

  /** Resolves once every service is healthy; throws (a StackStartError where it can) if not. */
  async start(): Promise<void> {
    const { config, paths, logger } = this.options;
    this.save();
    this.checkBuilt();
    await this.checkPortsFree();

    const log = (line: string): void => logger.info({ source: 'infra' }, line);
    const pgStatus = config.externalDatabaseUrl ? undefined : this.infraStatus('postgres');
    const natsStatus = this.infraStatus('nats');
    this.infra = [pgStatus, natsStatus].filter((s) => s !== undefined);
    this.state.services = [...this.infra];
    this.save();
    const pg = config.externalDatabaseUrl
      ? Promise.resolve(undefined)
      : startPostgres({
          dataDir: paths.postgres,
          port: config.ports.postgres,
          database: 'sie',
          log,
        });
    const nats = startNats({
      port: config.ports.nats,
      storeDir: paths.nats,
      monitorPort: config.ports.natsMonitor,
      log,
    });
    // Each is kept as soon as it is up, so a failure of the other, or a stop() arriving
    // meanwhile (it awaits `infraStarting`), still stops it.
    const starting = Promise.allSettled([
      pg.then(
        (s) => (this.postgres = s),
        (err: unknown) => this.infraFailed(pgStatus, err),
      ),
      nats.then(
        (s) => (this.nats = s),
        (err: unknown) => this.infraFailed(natsStatus, err),
      ),
    ]);
    this.infraStarting = starting;
    const [pgResult, natsResult] = await starting;
    if (pgStatus && this.postgres) this.infraUp(pgStatus, this.postgres.pid);
    if (this.nats) this.infraUp(natsStatus, this.nats.process.pid);
    if (pgResult.status === 'rejected') {
      throw new StackStartError('postgres', asSieError(pgResult.reason).message, {
        cause: pgResult.reason,
      });
    }
    if (natsResult.status === 'rejected') {
      throw new StackStartError('nats', asSieError(natsResult.reason).message, {
        cause: natsResult.reason,
      });
    }
    this.abort.signal.throwIfAborted();

    const databaseUrl = config.externalDatabaseUrl ?? this.postgres?.url ?? '';
    const table = buildProcessTable({
      config,
      databaseUrl,
      natsUrl: this.nats?.url ?? natsUrlFor(config),
      nodePath: process.execPath,
      exists: existsSync,
    });
    this.state.endpoints = buildEndpoints(
      config,
      table.map((s) => s.name),
      databaseUrl,
      paths.logs,
    );
    this.services = table.map((spec) => ({
      spec,
      proc: new SupervisedProcess({
        spec,
        logFile: serviceLogFile(paths, spec.name),
        cwd: config.repoRoot,
        baseEnv: this.options.env,
        logger,
        onChange: () => this.save(),
      }),
    }));
    this.state.services = [...this.infra, ...this.services.map((s) => s.proc.status)];
    this.save();

    const byName = new Map(this.services.map((s) => [s.spec.name as string, s.proc]));
    const signal = this.abort.signal;
    // Each service starts as soon as the services it depends on are healthy.
    await Promise.all(
      this.services.map(async ({ spec, proc }) => {
        for (const dep of spec.dependsOn) await byName.get(dep)?.waitHealthy(signal);
        signal.throwIfAborted();
        proc.start();
        await proc.waitHealthy(signal);
      }),
    );
    this.state.state = 'ready';
    this.save();
    logger.info({ endpoints: this.state.endpoints }, 'stack ready');
  }

  /** Records why the stack failed, for stack-up to show. */
  markFailed(err: unknown): void {
    const e = asSieError(err);
    this.state.state = 'failed';
    this.state.error = e.message;
    if (err instanceof StackStartError) this.state.failedService = err.component;
    this.save();
  }

  /**
   * Stops the services in reverse start order, then NATS and Postgres. A failed stack keeps
   * state `failed`; otherwise it ends `stopped`.
   */
  async stop(): Promise<void> {
    const { logger } = this.options;
    const failed = this.state.state === 'failed';
    if (!failed) {
      this.state.state = 'stopping';
      this.save();
    }
    this.abort.abort(new Error('stack stopping'));
    await this.infraStarting;
    const grace = this.options.stopGraceMs ?? 10_000;
    // One at a time, last started first: the api and the scheduler stop before the stages they
    // command, so the scheduler never sees a stage vanish and restarts or fails its runs.
    for (const { proc } of [...this.services].reverse()) await proc.stop(grace);
    const infra: [string, { stop(): Promise<void> } | undefined][] = [
      ['nats', this.nats],
      ['postgres', this.postgres],
    ];
    for (const [name, server] of infra) {
      try {
        await server?.stop();
      } catch (err) {
        logger.error({ err, server: name }, 'could not stop server');
      }
    }
    for (const status of this.infra) {
      if (status.state !== 'failed') status.state = 'stopped';
      delete status.pid;
    }
    if (!failed) this.state.state = 'stopped';
    this.save();
    logger.info({ state: this.state.state }, 'stack stopped');
  }

  private infraStatus(name: string): ServiceStatus {
    return { name, state: 'starting', restarts: 0, log: this.options.paths.supervisorLog };
  }

  private infraUp(status: ServiceStatus, pid: number | undefined): void {
    status.state = 'healthy';
    if (pid !== undefined) status.pid = pid;
    this.save();
  }

  /** Marks the server failed and rethrows, so allSettled reports the original error. */
  private infraFailed(status: ServiceStatus | undefined, err: unknown): never {
    if (status) status.state = 'failed';
    this.save();
    throw err;
  }

  private save(): void {
    this.state.updatedAt = new Date().toISOString();
    try {
      writeState(this.options.paths.stateFile, this.state);
    } catch (err) {
      this.options.logger.error({ err }, 'could not write stack.json');
    }
  }

  /** A service that is not compiled would crash-loop forever; say so before starting anything. */
  private checkBuilt(): void {
    const { config } = this.options;
    for (const name of selectedServices(config, existsSync)) {
      const entry = serviceEntry(config.repoRoot, name);
      if (!existsSync(entry)) {
        throw new StackStartError(
          name,
          `${entry} does not exist: run \`pnpm build\`, or leave ${name} out with SIE_STACK_SERVICES`,
        );
      }
    }
  }

  /**
   * A port held by someone else would make our service fail to bind, or worse, make another
   * process answer our health check. Postgres is left out: a server from an earlier run on our
   * own data dir is adopted by startPostgres.
   */
  private async checkPortsFree(): Promise<void> {
    const busy: string[] = [];
    const { config } = this.options;
    const running = selectedServices(config, existsSync);
    await Promise.all(
      portsInUse(config, running)
        .filter((p) => p.name !== 'SIE_PG_PORT')
        .map(async (p) => {
          if (await tcpAccepts('127.0.0.1', p.port, 500)) busy.push(`${p.port} (${p.name})`);
        }),
    );
    if (busy.length > 0) {
      throw new StackStartError(
        'ports',
        `already in use by another process: ${busy.sort().join(', ')}; stop it or choose other ports`,
      );
    }
  }
}
