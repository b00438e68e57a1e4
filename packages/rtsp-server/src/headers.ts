/**
 * Header fields of one RTSP message in arrival order. Lookups are case-insensitive because
 * clients disagree on case (`CSeq`, `Cseq`, `CSEQ` are all seen in the wild).
 */
export class RtspHeaders {
  private readonly list: Array<readonly [string, string]> = [];

  add(name: string, value: string): void {
    this.list.push([name, value]);
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const [n, v] of this.list) if (n.toLowerCase() === key) return v;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.list.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
  }

  get size(): number {
    return this.list.length;
  }

  entries(): ReadonlyArray<readonly [string, string]> {
    return this.list;
  }
}
