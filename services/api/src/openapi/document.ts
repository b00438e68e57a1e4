import { z } from 'zod';
import { errorSchema } from '../http/error-schema.js';
import type { RouteCatalog, RouteDoc } from '../http/route.js';
import { TENANT_HEADER } from '../http/tenant.js';

type Json = Record<string, unknown>;

/** Names under components.schemas for the schemas routes share; others are inlined. */
export type SchemaNames = ReadonlyMap<z.ZodType, string>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/**
 * The OpenAPI 3.1 document of every route in the catalog. Request schemas describe what a client
 * may send (defaults make fields optional); response schemas what it gets back.
 */
export function buildOpenApi(
  catalog: RouteCatalog,
  names: SchemaNames,
  info: { title: string; version: string; description: string },
): Json {
  const requestSchemas = new Map<string, z.ZodType>();
  const responseSchemas = new Map<string, z.ZodType>([['Error', errorSchema]]);
  const use = (schema: z.ZodType, side: 'request' | 'response'): Json => {
    const name = schema === errorSchema ? 'Error' : names.get(schema);
    if (!name) return jsonSchema(schema, side === 'request' ? 'input' : 'output');
    (side === 'request' ? requestSchemas : responseSchemas).set(name, schema);
    return ref(name);
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of catalog.routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, use);
  }
  const schemas: Record<string, Json> = {};
  for (const [name, schema] of requestSchemas) schemas[name] = jsonSchema(schema, 'input');
  for (const [name, schema] of responseSchemas) schemas[name] = jsonSchema(schema, 'output');
  return {
    openapi: '3.1.0',
    info,
    tags: [...new Set(catalog.routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      parameters: {
        Tenant: {
          name: TENANT_HEADER,
          in: 'header',
          required: false,
          description:
            'Tenant of the request (set by the gateway that authenticated it); the configured ' +
            'default tenant when absent. Other tenants\u2019 resources answer 404.',
          schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
        },
      },
    },
  };
}

function operation(
  route: RouteDoc,
  use: (s: z.ZodType, side: 'request' | 'response') => Json,
): Json {
  const parameters: Json[] = [];
  for (const match of route.url.matchAll(/:([A-Za-z0-9_]+)/g)) {
    parameters.push({ name: match[1], in: 'path', required: true, schema: { type: 'string' } });
  }
  if (route.tenant) parameters.push({ $ref: '#/components/parameters/Tenant' });
  if (route.query) {
    for (const [name, field] of Object.entries(route.query.shape)) {
      const schema = field as z.ZodType;
      const { description, ...json } = jsonSchema(schema, 'input');
      parameters.push({
        name,
        in: 'query',
        required: !schema.safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema: json,
      });
    }
  }
  const op: Json = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.description ? { description: route.description } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
  };
  if (route.body) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: use(route.body, 'request') } },
    };
  } else if (route.multipart) {
    const properties: Record<string, Json> = {};
    const encoding: Record<string, Json> = {};
    const required: string[] = [];
    for (const [name, field] of Object.entries(route.multipart)) {
      if (field.file) {
        properties[name] = { type: 'string', format: 'binary', description: field.description };
      } else if (field.json) {
        properties[name] = { ...use(field.json, 'request'), description: field.description };
        encoding[name] = { contentType: 'application/json' };
      } else {
        properties[name] = { type: 'string', description: field.description };
      }
      if (field.required) required.push(name);
    }
    op.requestBody = {
      required: true,
      content: {
        'multipart/form-data': {
          schema: { type: 'object', properties, required },
          ...(Object.keys(encoding).length > 0 ? { encoding } : {}),
        },
      },
    };
  }
  const responses: Record<string, Json> = {};
  for (const [code, res] of Object.entries(route.responses)) {
    const type = res.contentType ?? 'application/json';
    responses[code] = {
      description: res.description,
      ...(res.schema || res.contentType
        ? {
            content: {
              [type]: { schema: res.schema ? use(res.schema, 'response') : { type: 'string' } },
            },
          }
        : {}),
    };
  }
  responses.default = {
    description: 'Any other error',
    content: { 'application/json': { schema: use(errorSchema, 'response') } },
  };
  op.responses = responses;
  return op;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Json;
  delete out.$schema;
  return out;
}
