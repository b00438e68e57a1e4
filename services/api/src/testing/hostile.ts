import fc from 'fast-check';

/**
 * Generators of hostile request parts for the API's property tests: arbitrary JSON *text* (so
 * numbers JSON.stringify cannot write, like `1e400`, and keys like `__proto__` reach the server
 * as a client would send them), and near-valid bodies that differ from a valid one in exactly one
 * place, so the answer must name that place.
 */

/** Keys that try prototype pollution, or that are odd as object keys. */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  '$where',
  'a.b',
  '0',
  'é',
  '\u0000',
] as const;

/** Number literals that are valid JSON but not what a schema expects. */
const NUMBER_TEXTS = ['1e400', '-1e400', '1e-400', '-0', '9007199254740993', '1E+2', '0.5'];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    'x'.repeat(70_000),
    '\u0000',
    '\ud800',
    '\u202e',
    '../../etc/passwd',
    'concat:/etc/passwd|/etc/hosts',
    "'; drop table runs; --",
    '%00',
    'NaN',
  ),
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_KEYS),
  fc.string({ maxLength: 12 }),
);

const leafText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('null', 'true', 'false', ...NUMBER_TEXTS),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  hostileString.map((s) => JSON.stringify(s)),
);

/** Arbitrary JSON text, a few levels deep, with hostile keys and values. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'json' },
    leafText,
    fc.array(tie('value'), { maxLength: 5 }).map((xs) => `[${xs.join(',')}]`),
    fc
      .array(fc.tuple(hostileKey, tie('value')), { maxLength: 5 })
      .map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

/** Nesting far deeper than any schema: arrays or objects thousands of levels down. */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 100, max: 5000 }), fc.boolean())
  .map(([n, arrays]) =>
    arrays ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
  );

/** Any body at all: arbitrary JSON, deep nesting, or text that is not JSON. */
export const anyBodyText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: jsonText },
  { weight: 1, arbitrary: deepJsonText },
  { weight: 1, arbitrary: hostileString },
);

/** A value of another JSON type than the leaf it replaces (or one no schema field accepts). */
function wrongValueFor(current: unknown): fc.Arbitrary<string> {
  const others: fc.Arbitrary<string>[] = [
    Array.isArray(current)
      ? fc.constantFrom('null', '{}', '{"x":1}')
      : fc.constantFrom('null', '[]', '{}', '[1,2]', '{"x":1}'),
    fc.constantFrom('1e400', '-1e400'),
  ];
  if (typeof current !== 'number') others.push(fc.integer().map(String));
  if (typeof current !== 'boolean') others.push(fc.constantFrom('true', 'false'));
  if (typeof current === 'string') {
    others.push(fc.constantFrom('""', JSON.stringify('x'.repeat(70_000))));
  } else {
    others.push(hostileString.map((s) => JSON.stringify(s)));
  }
  return fc.oneof(...others);
}

export interface NearValid {
  /** The body as JSON text. */
  text: string;
  /** Dotted path of the one place that is wrong. */
  path: string;
  what: 'wrong value' | 'unknown key';
}

type Place = { path: string[]; value: unknown };

function places(value: unknown, path: string[] = []): Place[] {
  const out: Place[] = [{ path, value }];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) out.push(...places(v, [...path, k]));
  }
  return out;
}

const HOLE = '@@hole@@';
const KEY = '@@key@@';

function setAt(root: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = { ...(root as Record<string, unknown>) };
  const [head, ...rest] = path as [string, ...string[]];
  copy[head] = setAt(copy[head], rest, value);
  return copy;
}

/**
 * A valid body changed in exactly one place: a leaf replaced by a value of the wrong type (or out
 * of every range), or an unknown (often hostile) key added to one of its objects. Every object
 * of `valid` must be a strict schema object and every leaf must be required-typed, so each
 * result is invalid.
 */
export function nearValid(valid: Record<string, unknown>): fc.Arbitrary<NearValid> {
  const all = places(valid);
  const isObject = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v);
  const objects = all.filter((p) => isObject(p.value));
  const leaves = all.filter((p) => p.path.length > 0 && !isObject(p.value));
  const wrongLeaf = fc
    .constantFrom(...leaves)
    .chain((p) => wrongValueFor(p.value).map((raw) => ({ p, raw })))
    .map(({ p, raw }) => ({
      text: JSON.stringify(setAt(valid, p.path, HOLE)).replace(JSON.stringify(HOLE), () => raw),
      path: p.path.join('.'),
      what: 'wrong value' as const,
    }));
  const extraKey = fc
    .tuple(fc.constantFrom(...objects), hostileKey, jsonText)
    .filter(([p, key]) => !Object.hasOwn(p.value as object, key))
    .map(([p, key, raw]) => {
      const target = { ...(p.value as Record<string, unknown>), [KEY]: HOLE };
      const text = JSON.stringify(setAt(valid, p.path, target)).replace(
        `${JSON.stringify(KEY)}:${JSON.stringify(HOLE)}`,
        () => `${JSON.stringify(key)}:${raw}`,
      );
      return { text, path: [...p.path, key].join('.'), what: 'unknown key' as const };
    });
  return fc.oneof(wrongLeaf, extraKey);
}

/** Source URLs every run and probe must refuse (schemes, traversal, relative, control chars). */
export const refusedSourceUrl: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'concat:/etc/passwd|/etc/hosts',
    'subfile:,,start,0,end,0,,:/etc/passwd',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00:ec2::254]/latest/meta-data',
    'rtsp://169.254.169.254/stream',
    'ftp://x/y',
    'gopher://x',
    'data:video/mp4;base64,AAAA',
    'pipe:0',
    'tcp://127.0.0.1:22',
    'udp://239.0.0.1:1234',
    'file:///media/../etc/passwd',
    '/media/../../etc/passwd',
    'file:///media/%2e%2e/etc/passwd',
    'videos/cam.mp4',
    './cam.mp4',
    ' /media/cam.mp4',
    '/media/cam\u0000.mp4',
    '/media/cam\n.mp4',
    'rtsp://',
    `/${'a'.repeat(5000)}`,
  ),
  fc
    .tuple(fc.stringMatching(/^[a-z][a-z0-9+.-]{0,10}$/), fc.string({ maxLength: 20 }))
    .filter(
      ([scheme]) =>
        !['file', 'rtsp', 'rtsps', 'http', 'https', 'hls+http', 'hls+https', 'onvif'].includes(
          scheme,
        ),
    )
    .map(([scheme, rest]) => `${scheme}:${rest}`),
  fc
    .array(fc.constantFrom('..', 'a', '.', ''), { minLength: 1, maxLength: 6 })
    .filter((segs) => segs.includes('..'))
    .map((segs) => `/${segs.join('/')}/x.mp4`),
);

/** A URL path segment for any string; lone surrogates go out as bytes no decoder accepts. */
export function pathSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'latin1')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

/** Raw path segments that are not valid percent-encoding or are traversal attempts. */
export const RAW_PATH_SEGMENTS = [
  '%',
  '%zz',
  '%E0%A4%A',
  '%ff%fe',
  '..',
  '%2e%2e',
  '..%2f..%2fetc',
];
