/**
 * Node flags every sie service process runs with (the image's entry point, the local stack, the
 * tests' and benchmarks' process starters all use these; a static test keeps the Dockerfiles in
 * step).
 *
 * `--initial-old-space-size`: a service's heap is small (~20 MB) while it moves megabytes of
 * frames per second through short-lived buffers. With V8's default initial old-generation limit
 * it starts an incremental mark-compact every second or two (74 in 54 s in ingest at 20 fps),
 * which cost ingest ~3.5 CPU ms per frame; with 64 MB of headroom before the first one, ingest
 * drops from 6.4 to 2.6 ms per frame and the whole stack from 32.5 to 26.9 (docs/benchmarks.md,
 * "Where the CPU per frame goes"). It is a starting size, not a cap: heaps still grow and shrink.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
