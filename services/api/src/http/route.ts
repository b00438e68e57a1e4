import { NotFoundError } from '@sie/errors';
import { idSchema } from '@sie/pipeline';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { UnsupportedMediaTypeError } from '../errors.js';
import { parseInput } from './validate.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ResponseDoc {
  description: string;
  /** JSON body; omitted for empty responses. */
  schema?: z.ZodType;
  /** Another content type than JSON (SSE, HTML, Prometheus text). */
  contentType?: string;
}

/** One field of a multipart/form-data body. */
export interface MultipartFieldDoc {
  description: string;
  /** A file part. */
  file?: boolean;
  /** A text field holding JSON that must match this schema. */
  json?: z.ZodType;
  required?: boolean;
}

/** What a route is, for its registration and for the OpenAPI document at once. */
export interface RouteDoc {
  method: HttpMethod;
  /** Fastify syntax: `/v1/models/:id`. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** The route reads the tenant from `x-sie-tenant`. */
  tenant?: boolean;
  body?: z.ZodType;
  multipart?: Record<string, MultipartFieldDoc>;
  query?: z.ZodObject;
  responses: Record<number, ResponseDoc>;
}

/** Every route the app serves, in registration order; the OpenAPI document is built from it. */
export class RouteCatalog {
  readonly routes: RouteDoc[] = [];
  add(doc: RouteDoc): void {
    this.routes.push(doc);
  }
}

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<B, Q> {
  body: Output<B>;
  query: Output<Q>;
  params: Record<string, string>;
}

export type RouteHandler<B, Q> = (
  req: FastifyRequest,
  reply: FastifyReply,
  input: RouteInput<B, Q>,
) => Promise<unknown>;

/**
 * Registers a route whose JSON body and query are parsed with strict zod schemas before the
 * handler runs (a rejected request reaches no handler, so it cannot write anything), and records
 * it in the catalog so the OpenAPI document lists exactly the routes that exist.
 */
export function addRoute<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
>(
  app: FastifyInstance,
  catalog: RouteCatalog,
  doc: RouteDoc & { body?: B; query?: Q },
  handler: RouteHandler<B, Q>,
): void {
  catalog.add(doc);
  app.route({
    method: doc.method,
    url: doc.url,
    handler: async (req, reply) => {
      if (doc.body && req.headers['content-type'] && !isJson(req.headers['content-type'])) {
        throw new UnsupportedMediaTypeError('this route takes an application/json body');
      }
      const params = (req.params ?? {}) as Record<string, string>;
      checkIds(doc.url, params);
      const input = {
        body: (doc.body ? parseInput(doc.body, req.body ?? {}) : undefined) as Output<B>,
        query: (doc.query ? parseInput(doc.query, req.query ?? {}) : undefined) as Output<Q>,
        params,
      };
      return handler(req, reply, input);
    },
  });
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

/** Path parameters that name a resource by one of our ids (`idSchema`). */
const RESOURCE_ID_PARAMS = new Set(['id', 'nodeId']);

/**
 * A path id that no id could be (a NUL, a slash, 500 characters) names nothing: the same 404 as
 * an unknown id, answered before the database sees a value it would refuse with an error.
 */
function checkIds(url: string, params: Record<string, string>): void {
  for (const [name, value] of Object.entries(params)) {
    // Other parameters (an event id, a dashboard file name) have their own shapes and schemas.
    if (!RESOURCE_ID_PARAMS.has(name) || idSchema.safeParse(value).success) continue;
    const segments = url.split('/');
    const collection = segments[segments.indexOf(`:${name}`) - 1] ?? 'resource';
    throw new NotFoundError(collection.replace(/s$/, ''), value);
  }
}
