const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since` as the API's `since`: a duration back from `now` (`90s`, `15m`, `2h`, `1d`) becomes
 * an ISO time; an ISO time or a stream sequence passes unchanged. Undefined when unusable.
 */
export function sinceParam(value: string, now = Date.now()): string | undefined {
  const d = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (d) return new Date(now - Number(d[1]) * (UNIT_MS[d[2] ?? 's'] ?? 1000)).toISOString();
  if (/^\d{1,15}$/.test(value)) return value;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
