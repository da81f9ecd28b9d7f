// The cluster prototype images of a bundle (prototypes.bin: float32 [H, W] per image, indexed
// by each cluster's `prototype` offset). `journeylens render --cluster` and the web console's
// gallery draw them; both read them here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FILES, type BundleCluster, type ClustersFile } from '../contracts/bundle-format.ts';
import { ErrorCodes, UserError } from '../errors.ts';

/** The prototype image of each cluster of `file`, read from the bundle directory `dir`. */
export function readClusterPrototypes(dir: string, file: Pick<ClustersFile, 'rows' | 'cols' | 'clusters'>): Map<number, Float32Array> {
  const size = file.rows * file.cols;
  const bytes = readFileSync(join(dir, BUNDLE_FILES.prototypes));
  // a copy, so the floats are aligned whatever offset the file buffer has in Node's pool
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + Math.floor(bytes.byteLength / 4) * 4));
  const out = new Map<number, Float32Array>();
  for (const c of file.clusters) out.set(c.id, prototypeOf(all, c, size, dir));
  return out;
}

function prototypeOf(all: Float32Array, cluster: BundleCluster, size: number, dir: string): Float32Array {
  const end = (cluster.prototype + 1) * size;
  if (!Number.isInteger(cluster.prototype) || cluster.prototype < 0 || end > all.length) {
    throw new UserError(ErrorCodes.BUNDLE_INVALID, `model bundle ${dir} refused: cluster ${cluster.id}'s prototype (offset ${cluster.prototype}) lies outside ${BUNDLE_FILES.prototypes} (${Math.floor(all.length / size)} images).`);
  }
  return all.slice(cluster.prototype * size, end);
}
