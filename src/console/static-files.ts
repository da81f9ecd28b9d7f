// The page's files: src/console/static/ as it is (no build step; tsc does not copy it, so it is
// found from the package root whether this runs as src/console/ or dist/src/console/), and the
// two uPlot files from the `uplot` dependency. A fixed map from URL path to file: no directory
// listing, no request path is ever joined to a file path.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, JourneylensError } from '../errors.ts';

const CANDIDATES = ['./static/', '../../../src/console/static/'];

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/** Absolute path of src/console/static/ in this package (with a trailing slash). */
export function consoleStaticDir(): string {
  for (const rel of CANDIDATES) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new JourneylensError(ErrorCodes.INTERNAL, `src/console/static/index.html not found next to ${fileURLToPath(import.meta.url)}; the package is incomplete.`);
}

const PAGE_FILES = {
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
  '/favicon.svg': ['favicon.svg', 'image/svg+xml'],
} as const;

const UPLOT_FILES = {
  '/vendor/uplot/uPlot.esm.js': ['uplot/dist/uPlot.esm.js', 'text/javascript; charset=utf-8'],
  '/vendor/uplot/uPlot.min.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
} as const;

/** URL path → file, read once at start (about 200 KB in all). */
export function loadStaticFiles(): Map<string, StaticFile> {
  const dir = consoleStaticDir();
  const out = new Map<string, StaticFile>();
  for (const [path, [file, contentType]] of Object.entries(PAGE_FILES)) out.set(path, { body: readFileSync(`${dir}${file}`), contentType });
  out.set('/', out.get('/index.html')!);
  // uplot has no "exports" map, so its dist files resolve as they are.
  const require = createRequire(import.meta.url);
  for (const [path, [spec, contentType]] of Object.entries(UPLOT_FILES)) {
    let file: string;
    try {
      file = require.resolve(spec);
    } catch (err) {
      throw new JourneylensError(ErrorCodes.INTERNAL, `the console's chart library is missing (${spec}): reinstall journeylens' dependencies (npm ci).`, { cause: err });
    }
    out.set(path, { body: readFileSync(file), contentType });
  }
  return out;
}
