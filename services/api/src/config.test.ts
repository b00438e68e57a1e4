import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '@sie/config';
import { API_ENV_ALIASES, apiConfigSchema, modelStoreDir } from './config.js';

const load = (env: Record<string, string>) =>
  loadConfig({ schema: apiConfigSchema, env, argv: [], envAliases: API_ENV_ALIASES });

test('defaults, env names and aliases', () => {
  const c = load({});
  assert.equal(c.inference.url, '127.0.0.1:50051');
  assert.equal(c.tenants.default, 'default');
  assert.equal(c.rtsp.publicBaseUrl, 'rtsp://127.0.0.1:8554');
  assert.equal(c.mediaRoot, undefined);
  assert.equal(c.allowDevices, false);
  assert.equal(c.discovery.target, '239.255.255.250:3702');
  assert.equal(c.dashboard.enabled, true);
  // The render service's preview port in the local stack.
  assert.equal(c.dashboard.previewBaseUrl, 'http://127.0.0.1:9106');
  assert.equal(load({ SIE_DASHBOARD__PREVIEW_BASE_URL: '' }).dashboard.previewBaseUrl, '');
  assert.equal(modelStoreDir(c), resolve('.data', 'models'));
  const e = load({
    SIE_INFERENCE_URL: '10.0.0.2:50051',
    SIE_DATA_DIR: '/var/lib/sie',
    SIE_MODELS__MAX_UPLOAD_BYTES: '1048576',
    SIE_TENANTS__DEFAULT: 'acme',
    SIE_MEDIA_ROOT: '/srv/media',
  });
  assert.equal(e.inference.url, '10.0.0.2:50051');
  assert.equal(e.models.maxUploadBytes, 1 << 20);
  assert.equal(e.tenants.default, 'acme');
  assert.equal(e.mediaRoot, '/srv/media');
  assert.equal(modelStoreDir(e), '/var/lib/sie/models');
  assert.equal(modelStoreDir({ ...e, models: { ...e.models, storeDir: '/models' } }), '/models');
});

test('a bad value names its key', () => {
  assert.throws(
    () => load({ SIE_RTSP__PUBLIC_BASE_URL: 'http://x', SIE_TENANTS__DEFAULT: 'a b' }),
    /rtsp\.publicBaseUrl.*tenants\.default|tenants\.default.*rtsp\.publicBaseUrl/,
  );
  assert.throws(
    () => load({ SIE_DASHBOARD__PREVIEW_BASE_URL: 'javascript:alert(1)' }),
    /dashboard\.previewBaseUrl/,
  );
});
