import { status, type ServerWritableStream } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
} from '@sie/contracts';

/** Status of a health service name; undefined when the name is unknown. */
export type ServingStatusOf = (service: string) => Serving | undefined;

const WATCH_POLL_MS = 1000;

/** grpc.health.v1: `Check` answers at once; `Watch` sends the status and then every change. */
export function createHealthService(statusOf: ServingStatusOf): HealthServer {
  return {
    check: (call, callback) => {
      const s = statusOf(call.request.service);
      if (s === undefined) {
        callback({ code: status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      } else {
        callback(null, { status: s });
      }
    },
    watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
      let last: Serving | undefined;
      const tick = (): void => {
        const s = statusOf(call.request.service) ?? Serving.SERVICE_UNKNOWN;
        if (s !== last) {
          last = s;
          call.write({ status: s });
        }
      };
      tick();
      const timer = setInterval(tick, WATCH_POLL_MS);
      timer.unref();
      const stop = (): void => clearInterval(timer);
      call.on('cancelled', stop);
      call.on('error', stop);
      call.on('close', stop);
    },
  };
}
