// Service processes for the cross-service tests come from @sie/infra (the bench uses them too).
export { startServiceProcess } from '@sie/infra';
export type { ServiceName, ServiceProcess } from '@sie/infra';
