import { z } from 'zod';

/** Leaf paths of an object schema (through defaults, optionals and nullables), as key arrays. */
export function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    const out: string[][] = [];
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
      out.push(...leafPaths(child, [...prefix, key]));
    }
    return out;
  }
  return [prefix];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPrefault) {
      s = s.unwrap() as z.ZodType;
    } else {
      return s;
    }
  }
}

/** `grpc.maxMessageBytes` → `SIE_GRPC__MAX_MESSAGE_BYTES` (segments joined by a double underscore). */
export function envNameFor(path: string[], prefix: string): string {
  return (
    prefix + path.map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')
  );
}
