export { OnvifClient, resolveOnvifStream, selectProfile, withCredentials } from './client.js';
export type { OnvifProfile, OnvifTarget, ResolveOptions, ResolvedStream } from './client.js';
export {
  WS_DISCOVERY_MULTICAST,
  discoverOnvifDevices,
  parseProbeMatches,
  probeMessage,
} from './discovery.js';
export type { DiscoverOptions, DiscoveredDevice } from './discovery.js';
export { passwordDigest, usernameToken } from './soap.js';
export type { Credentials } from './soap.js';
export { startTestOnvifDevice } from './testing/device.js';
export type {
  TestDeviceProfile,
  TestOnvifDevice,
  TestOnvifDeviceOptions,
} from './testing/device.js';
export { parseXml } from './xml.js';
export type { XmlNode } from './xml.js';
