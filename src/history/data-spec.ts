// The data spec of recorded events: `spec.json` beside an events file (as `import` writes it)
// says how its sessions are cut and drawn; training, evaluation and `render` read it the same way.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCodes, UserError } from '../errors.ts';
import { type DataSpec, defaultImageSpec, defaultSessionizationSpec, parseDataSpec } from '../journey/image-spec.ts';

/** Reads `spec.json` (explicit, or beside the events), else the defaults. */
export function loadDataSpec(specPath: string | undefined, eventsPath: string): DataSpec {
  const path = specPath ?? join(dirname(eventsPath), 'spec.json');
  if (!existsSync(path)) {
    if (specPath !== undefined) throw new UserError(ErrorCodes.CONFIG_INVALID, `--spec ${specPath}: no such file.`, { exitCode: 2 });
    return { image: defaultImageSpec, sessionization: defaultSessionizationSpec };
  }
  return parseDataSpec(readFileSync(path, 'utf8'), path);
}
