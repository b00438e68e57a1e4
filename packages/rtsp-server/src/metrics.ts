import { Counter, Gauge } from '@sie/telemetry';
import type { Registry } from '@sie/telemetry';
import type { RtspPathInfo, RtspServerCounters, RtspServerStats } from './types.js';

/** What the metrics read from a server; RtspServer satisfies it. */
export interface RtspStatsSource {
  stats(): RtspServerStats;
  paths(): RtspPathInfo[];
}

type CounterKey = keyof RtspServerCounters;

/** Server-wide totals, each mirrored by a Prometheus counter read from stats() on scrape. */
const TOTALS: readonly { name: string; help: string; key: CounterKey }[] = [
  {
    name: 'sie_rtsp_connections_accepted_total',
    help: 'RTSP control connections accepted',
    key: 'connectionsAccepted',
  },
  {
    name: 'sie_rtsp_connections_rejected_total',
    help: 'RTSP connections refused with 503 (over maxConnections or stopping)',
    key: 'connectionsRejected',
  },
  { name: 'sie_rtsp_requests_total', help: 'RTSP requests received', key: 'requests' },
  {
    name: 'sie_rtsp_bad_requests_total',
    help: 'RTSP requests answered 4xx/5xx, and framing errors',
    key: 'badRequests',
  },
  {
    name: 'sie_rtsp_bytes_received_total',
    help: 'bytes read from RTSP connections and UDP sockets',
    key: 'bytesReceived',
  },
  {
    name: 'sie_rtsp_bytes_sent_total',
    help: 'bytes written to RTSP connections and UDP sockets',
    key: 'bytesSent',
  },
  {
    name: 'sie_rtsp_rtp_packets_received_total',
    help: 'RTP packets received from publishers',
    key: 'rtpPacketsReceived',
  },
  {
    name: 'sie_rtsp_rtcp_packets_received_total',
    help: 'RTCP packets received from publishers',
    key: 'rtcpPacketsReceived',
  },
  {
    name: 'sie_rtsp_invalid_packets_total',
    help: 'packets from publishers that were not valid RTP and were discarded',
    key: 'invalidPackets',
  },
  {
    name: 'sie_rtsp_packets_sent_total',
    help: 'RTP/RTCP packets sent to readers',
    key: 'packetsSent',
  },
  {
    name: 'sie_rtsp_reader_drops_total',
    help: 'packets slow readers did not get (queue full, or withheld until the next keyframe)',
    key: 'packetsDropped',
  },
  {
    name: 'sie_rtsp_session_timeouts_total',
    help: 'RTSP sessions and idle connections closed for inactivity',
    key: 'sessionTimeouts',
  },
  {
    name: 'sie_rtsp_stalled_readers_total',
    help: 'readers disconnected after staying over their queue limit',
    key: 'stalledReaders',
  },
  {
    name: 'sie_rtsp_request_timeouts_total',
    help: 'connections closed because a request did not complete within requestTimeoutMs',
    key: 'requestTimeouts',
  },
];

const GAUGES: readonly {
  name: string;
  help: string;
  key: 'connections' | 'sessions' | 'publishers' | 'readers';
}[] = [
  { name: 'sie_rtsp_connections', help: 'open RTSP control connections', key: 'connections' },
  { name: 'sie_rtsp_sessions', help: 'RTSP sessions (publishers and readers)', key: 'sessions' },
  { name: 'sie_rtsp_publishers', help: 'publishing sessions', key: 'publishers' },
];

/**
 * Registers the RTSP server's metrics on `registry`. Every value is read from `source` when the
 * registry is scraped (prom-client collect callbacks), so nothing runs between scrapes.
 */
export function registerRtspMetrics(registry: Registry, source: RtspStatsSource): void {
  // stats() and paths() are cheap walks over in-memory maps; each collector reads them afresh.
  const read = (): { stats: RtspServerStats; paths: RtspPathInfo[] } => ({
    stats: source.stats(),
    paths: source.paths(),
  });

  for (const t of TOTALS) {
    new Counter({
      name: t.name,
      help: t.help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read().stats[t.key]);
      },
    });
  }
  for (const g of GAUGES) {
    new Gauge({
      name: g.name,
      help: g.help,
      registers: [registry],
      collect() {
        this.set(read().stats[g.key]);
      },
    });
  }
  new Gauge({
    name: 'sie_rtsp_paths',
    help: 'published paths, by state (ready: the publisher sent RECORD)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const paths = read().paths;
      const ready = paths.filter((p) => p.ready).length;
      this.set({ state: 'ready' }, ready);
      this.set({ state: 'announced' }, paths.length - ready);
    },
  });
  new Gauge({
    name: 'sie_rtsp_readers',
    help: 'reading sessions per path',
    labelNames: ['path'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().paths) this.set({ path: p.path }, p.readers);
    },
  });
  new Counter({
    name: 'sie_rtsp_path_bytes_received_total',
    help: "bytes received from a path's publisher (resets when the path is announced again)",
    labelNames: ['path'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().paths) this.inc({ path: p.path }, p.bytesReceived);
    },
  });
  new Counter({
    name: 'sie_rtsp_path_reader_drops_total',
    help: "packets dropped for a path's slow readers (resets when the path is announced again)",
    labelNames: ['path'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().paths) this.inc({ path: p.path }, p.readerPacketsDropped);
    },
  });
}
