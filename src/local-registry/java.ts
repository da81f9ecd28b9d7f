// Finds a Java runtime of at least a given feature version, without a hard-coded path: the
// local schema registry (Apicurio Registry 3) needs Java 21+, while the machine's default `java`
// may be older (Debian 12 ships 17) with a newer JDK installed beside it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface FoundJava {
  /** The java binary to run. */
  java: string;
  /** Feature version: 17, 21, 25… */
  version: number;
  /** Where it was found: $JOURNEYLENS_JAVA_HOME, $JAVA_HOME, PATH, or a scan of a JDK root. */
  source: string;
}

/** `openjdk version "25.0.1" 2025-10-21` → 25; `java version "1.8.0_402"` → 8; `"21-ea"` → 21. */
export function parseJavaVersion(text: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

function versionOf(java: string): number | undefined {
  const res = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 20_000 });
  if (res.error || res.status !== 0) return undefined;
  return parseJavaVersion(`${res.stderr}\n${res.stdout}`);
}

/** Where JDKs are usually installed (Debian/Ubuntu packages and Temurin, RPM, macOS, SDKMAN, IntelliJ). */
export const JDK_ROOTS = ['/usr/lib/jvm', '/usr/java', '/opt/java', '/Library/Java/JavaVirtualMachines', join(homedir(), '.sdkman', 'candidates', 'java'), join(homedir(), '.jdks')];

/**
 * A `java` of feature version >= `min`. Explicit choices first ($JOURNEYLENS_JAVA_HOME, $JAVA_HOME,
 * `java` on PATH: the first that qualifies wins), then the newest JDK under `roots`.
 */
export function findJava(min: number, env: NodeJS.ProcessEnv = process.env, roots: readonly string[] = JDK_ROOTS): FoundJava | undefined {
  const seen = new Set<string>();
  const firstVisit = (bin: string): boolean => {
    let key = bin;
    try {
      if (existsSync(bin)) key = realpathSync(bin);
    } catch {
      // keep the name
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  const explicit: [string, string][] = [];
  for (const v of ['JOURNEYLENS_JAVA_HOME', 'JAVA_HOME']) if (env[v]) explicit.push([join(env[v] as string, 'bin', 'java'), `$${v}`]);
  explicit.push(['java', 'PATH']);
  for (const [java, source] of explicit) {
    if (!firstVisit(java)) continue;
    const version = versionOf(java);
    if (version !== undefined && version >= min) return { java, version, source };
  }
  let best: FoundJava | undefined;
  for (const root of roots) {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      // the second is macOS' bundle layout
      for (const home of [join(root, name), join(root, name, 'Contents', 'Home')]) {
        const java = join(home, 'bin', 'java');
        if (!existsSync(java) || !firstVisit(java)) continue;
        const version = versionOf(java);
        if (version !== undefined && version >= min && (!best || version > best.version)) best = { java, version, source: `a scan of ${root}` };
      }
    }
  }
  return best;
}
