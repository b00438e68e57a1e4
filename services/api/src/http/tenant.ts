import { tenants } from '@sie/db';
import type { DbTx } from '@sie/lifecycle';
import { idSchema } from '@sie/pipeline';
import type { FastifyRequest } from 'fastify';
import { RequestInvalidError } from '../errors.js';

/**
 * The header naming the tenant of a request. Authentication is another layer's job (a gateway
 * sets this header); the API only scopes every read and write to it.
 */
export const TENANT_HEADER = 'x-sie-tenant';

export function tenantOf(req: FastifyRequest, defaultTenant: string): string {
  const raw = req.headers[TENANT_HEADER];
  if (raw === undefined || raw === '') return defaultTenant;
  const value = Array.isArray(raw) ? raw : [raw];
  const parsed = idSchema.safeParse(value.length === 1 ? value[0] : undefined);
  if (!parsed.success) {
    throw new RequestInvalidError([
      {
        path: `headers.${TENANT_HEADER}`,
        message:
          value.length > 1
            ? 'give the header once'
            : (parsed.error.issues[0]?.message ?? 'invalid tenant'),
      },
    ]);
  }
  return parsed.data;
}

/**
 * Creates the tenant row on its first write, inside that write's transaction, so a rejected
 * request leaves no tenant behind.
 */
export async function ensureTenant(tx: DbTx, tenantId: string): Promise<void> {
  await tx.insert(tenants).values({ id: tenantId, name: tenantId }).onConflictDoNothing();
}
