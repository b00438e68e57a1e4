import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  HealthService,
  InferenceService,
  type HealthServer,
  type InferenceServer,
} from '@sie/contracts';
import { UnavailableError } from '@sie/errors';

export interface GrpcServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  maxMessageBytes: number;
  inference: InferenceServer;
  health: HealthServer;
}

export interface GrpcServer {
  port: number;
  /** Stops accepting calls, waits for running ones up to `graceMs`, then cuts the rest. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startGrpcServer(o: GrpcServerOptions): Promise<GrpcServer> {
  const server = new Server({
    'grpc.max_receive_message_length': o.maxMessageBytes,
    'grpc.max_send_message_length': o.maxMessageBytes,
  });
  server.addService(InferenceService, o.inference);
  server.addService(HealthService, o.health);
  const address = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => {
      if (err)
        reject(new UnavailableError(`cannot listen on ${address}: ${err.message}`, { cause: err }));
      else resolve(bound);
    });
  });
  return {
    port,
    shutdown: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
