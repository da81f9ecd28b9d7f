// The local schema registry needs Java >= 21 while the default `java` may be older: findJava looks
// for one (explicit homes first, then a scan of the usual JDK roots), never a hard-coded path.
// Fake JDKs here: shell scripts that print a version banner the way `java -version` does.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findJava, parseJavaVersion } from '../../../src/local-registry/java.ts';

const root = mkdtempSync(join(tmpdir(), 'jl-java-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A JDK home under `parent` whose bin/java answers `-version` with `banner` (on stderr, as Java does). */
function fakeJdk(parent: string, name: string, banner: string): string {
  const home = join(parent, name);
  mkdirSync(join(home, 'bin'), { recursive: true });
  const java = join(home, 'bin', 'java');
  writeFileSync(java, `#!/bin/sh\necho '${banner}' >&2\n`);
  chmodSync(java, 0o755);
  return home;
}

// Versions no real `java` on PATH has, so the machine's own JDKs never qualify for these minimums.
const jvm = join(root, 'jvm');
const old = fakeJdk(jvm, 'java-90-openjdk-amd64', 'openjdk version "90.0.2" 2090-01-01');
const newest = fakeJdk(jvm, 'temurin-91-jdk-amd64', 'openjdk version "91.0.1" 2091-10-21');
const mac = join(root, 'mac');
fakeJdk(join(mac, 'temurin-92.jdk', 'Contents'), 'Home', 'openjdk version "92" 2092-03-17');
const broken = join(root, 'broken');
mkdirSync(join(broken, 'no-java-here', 'bin'), { recursive: true });

describe('parseJavaVersion', () => {
  it.each([
    ['openjdk version "25.0.1" 2025-10-21', 25],
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['java version "1.8.0_402"', 8],
    ['openjdk version "21-ea" 2023-09-19', 21],
    ['no banner at all', undefined],
  ])('%s → %s', (text, version) => {
    expect(parseJavaVersion(text)).toBe(version);
  });
});

describe('findJava', () => {
  it('scans the JDK roots and takes the newest that qualifies', () => {
    expect(findJava(90, {}, [broken, jvm])).toEqual({ java: join(newest, 'bin', 'java'), version: 91, source: `a scan of ${jvm}` });
  });

  it('reads the macOS bundle layout (<name>.jdk/Contents/Home)', () => {
    expect(findJava(92, {}, [jvm, mac])).toMatchObject({ java: join(mac, 'temurin-92.jdk', 'Contents', 'Home', 'bin', 'java'), version: 92 });
  });

  it('prefers $JOURNEYLENS_JAVA_HOME, then $JAVA_HOME, over a newer JDK found by the scan', () => {
    expect(findJava(90, { JOURNEYLENS_JAVA_HOME: old, JAVA_HOME: newest }, [jvm, mac])).toEqual({ java: join(old, 'bin', 'java'), version: 90, source: '$JOURNEYLENS_JAVA_HOME' });
    expect(findJava(90, { JAVA_HOME: old }, [jvm, mac])).toMatchObject({ version: 90, source: '$JAVA_HOME' });
  });

  it('passes over an explicit home that is too old', () => {
    expect(findJava(91, { JAVA_HOME: old }, [jvm])).toMatchObject({ version: 91, source: `a scan of ${jvm}` });
  });

  it('finds nothing when no JDK is new enough', () => {
    expect(findJava(93, { JAVA_HOME: old }, [jvm, mac, join(root, 'missing')])).toBeUndefined();
  });
});
