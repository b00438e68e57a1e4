#!/usr/bin/env node
import { runService } from '@sie/service-kit';
import { INGEST_ENV_ALIASES, ingestConfigSchema } from './config.js';
import { startIngest } from './service.js';

await runService({
  service: 'ingest',
  schema: ingestConfigSchema,
  envAliases: INGEST_ENV_ALIASES,
  nats: true,
  start: startIngest,
});
