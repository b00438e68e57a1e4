import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from '@sie/telemetry';
import { registerRtspMetrics } from './metrics.js';
import { RtspServer } from './server.js';
import { waitFor } from './testing/ffmpeg.js';
import { publishSynthetic, readTcp } from './testing/synthetic-clients.js';

/** The value of one series in Prometheus text, e.g. `sie_rtsp_readers{path="cam1"}`. */
function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

test('metrics mirror stats() and paths() when scraped', async () => {
  const server = new RtspServer({ port: 0 });
  const port = await server.start();
  const registry = new Registry();
  registerRtspMetrics(registry, server);
  try {
    const idle = await registry.metrics();
    assert.equal(value(idle, 'sie_rtsp_publishers'), 0);
    assert.equal(value(idle, 'sie_rtsp_paths{state="ready"}'), 0);
    assert.equal(value(idle, 'sie_rtsp_bytes_received_total'), 0);
    assert.match(idle, /# TYPE sie_rtsp_reader_drops_total counter/);

    const pub = await publishSynthetic(port, 'cam1', 10);
    const sent = pub.sendPictures(12);
    await waitFor(() => (server.paths()[0]?.packetsReceived ?? 0) === sent.length, 2000, 'ingest');
    const r1 = await readTcp(port, 'cam1');
    const r2 = await readTcp(port, 'cam1');
    await waitFor(() => r1.seqs().length > 0 && r2.seqs().length > 0, 2000, 'cached GOP');

    const text = await registry.metrics();
    const stats = server.stats();
    assert.equal(value(text, 'sie_rtsp_paths{state="ready"}'), 1);
    assert.equal(value(text, 'sie_rtsp_paths{state="announced"}'), 0);
    assert.equal(value(text, 'sie_rtsp_publishers'), 1);
    assert.equal(value(text, 'sie_rtsp_readers{path="cam1"}'), 2);
    assert.equal(value(text, 'sie_rtsp_connections'), 3);
    assert.equal(value(text, 'sie_rtsp_sessions'), 3);
    assert.equal(value(text, 'sie_rtsp_rtp_packets_received_total'), sent.length);
    assert.equal(value(text, 'sie_rtsp_bytes_received_total'), stats.bytesReceived);
    assert.ok((value(text, 'sie_rtsp_bytes_sent_total') ?? 0) > 0);
    assert.ok((value(text, 'sie_rtsp_packets_sent_total') ?? 0) > 0);
    assert.equal(value(text, 'sie_rtsp_reader_drops_total'), 0);
    assert.equal(value(text, 'sie_rtsp_requests_total'), stats.requests);
    assert.equal(value(text, 'sie_rtsp_connections_accepted_total'), 3);
    assert.equal(
      value(text, 'sie_rtsp_path_bytes_received_total{path="cam1"}'),
      server.paths()[0]?.bytesReceived,
    );
    assert.equal(value(text, 'sie_rtsp_path_reader_drops_total{path="cam1"}'), 0);

    // A path that goes away leaves no per-path series behind.
    pub.client.close();
    r1.client.close();
    r2.client.close();
    await waitFor(() => server.paths().length === 0, 2000, 'path freed');
    const after = await registry.metrics();
    assert.equal(value(after, 'sie_rtsp_readers{path="cam1"}'), undefined);
    assert.equal(value(after, 'sie_rtsp_publishers'), 0);
    // Totals only grow.
    assert.ok((value(after, 'sie_rtsp_bytes_received_total') ?? 0) >= stats.bytesReceived);
  } finally {
    await server.stop();
  }
});
