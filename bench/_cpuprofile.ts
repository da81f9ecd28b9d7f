// Reads V8 .cpuprofile files (node --cpu-prof, one per thread) and sums self time by function and
// by file over a time window, so a benchmark can report where a thread spends its time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** Function name and where it is (file relative to the repository, or a package name). */
  where: string;
  share: number;
  ms: number;
}

export interface ProfileSummary {
  /** Milliseconds of samples in the window. */
  windowMs: number;
  idleShare: number;
  gcShare: number;
  functions: SelfTime[];
  files: SelfTime[];
}

/** `node_modules/<pkg>/…` → the package; `…/src/x/y.ts` → `src/x/y.ts`; node internals → `node:…`. */
export function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.search(/\/(src|bench)\//);
  if (src >= 0) return url.slice(src + 1);
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per file over the last `lastMs` of the profile, or from `fromUs` to
 * `toUs` (all of it when omitted). Shares are of the window's sampled time, idle included.
 */
export function summariseProfile(path: string, options: { lastMs?: number; top?: number; fromUs?: number; toUs?: number } = {}): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // fromUs/toUs: the monotonic clock V8 stamps profiles with (process.hrtime in µs)
  const fromUs = options.fromUs ?? (options.lastMs === undefined ? -Infinity : p.endTime - options.lastMs * 1000);
  const toUs = options.toUs ?? Infinity;
  const selfUs = new Map<number, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) continue;
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  }
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') idle += us;
    if (name === '(garbage collector)') gc += us;
    const f = name.startsWith('(') && n.callFrame.url === '' ? name : shortUrl(n.callFrame.url);
    const key = name.startsWith('(') && n.callFrame.url === '' ? name : `${name} (${f}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''})`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    file.set(f, (file.get(f) ?? 0) + us);
  }
  const top = options.top ?? 15;
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({ where, share: +(us / Math.max(1, total)).toFixed(4), ms: Math.round(us / 1000) }));
  return { windowMs: Math.round(total / 1000), idleShare: +(idle / Math.max(1, total)).toFixed(4), gcShare: +(gc / Math.max(1, total)).toFixed(4), functions: rank(fn), files: rank(file) };
}
