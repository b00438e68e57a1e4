import { RtspServer } from '@sie/rtsp-server';
import { natsUrl } from './env.js';
import { startNodeStack, type NodeStack } from './node-stack.js';
import { OtlpReceiver } from './otlp-receiver.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

/** The four frame stages as real processes, exporting their spans to an in-test OTLP receiver. */
export interface TracedStack {
  receiver: OtlpReceiver;
  node: NodeStack;
  rules: ServiceProcess;
  render: ServiceProcess;
  /** Stops the services (which flushes their span processors), then the RTSP server and receiver. */
  stop(): Promise<void>;
}

export async function startTracedStack(name: string, sampleRatio: number): Promise<TracedStack> {
  const receiver = new OtlpReceiver();
  const endpoint = await receiver.start();
  const rtsp = new RtspServer({ host: '127.0.0.1', port: 0 });
  const rtspPort = await rtsp.start();
  const env = {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
    SIE_TRACING__SAMPLE_RATIO: String(sampleRatio),
    NATS_URL: natsUrl(),
  };
  const node = await startNodeStack(name, { env });
  const common = { ...env, SIE_NODE_ID: node.nodeId };
  const [rules, render] = await Promise.all([
    startServiceProcess('rules', common),
    startServiceProcess('render', {
      ...common,
      SIE_FRAME_STORE_DIR: node.frameDir,
      SIE_RTSP_PUBLISH_URL: `rtsp://127.0.0.1:${rtspPort}`,
    }),
  ]);
  return {
    receiver,
    node,
    rules,
    render,
    async stop() {
      await Promise.all([rules.stop(), render.stop(), node.stop()]);
      await rtsp.stop();
      await receiver.stop();
    },
  };
}
