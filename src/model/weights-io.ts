// Encoder weights on disk, read and written with no network access. Two files in a directory:
//   encoder.json         format name + version, the EncoderConfig, and for every parameter its
//                        name, shape, and float offset/length inside the binary file
//   encoder.weights.bin  all parameters as little-endian float32, in the order listed
// The bundle (manifest with checksums, clusters, HNSW index) is built around these files.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ErrorCodes, UserError } from '../errors.ts';
import {
  AutoencoderModel,
  ENCODER_KINDS,
  type EncoderConfig,
  paramSpecs,
  validateEncoderConfig,
} from './encoder-model.ts';

export const ENCODER_JSON = 'encoder.json';
export const ENCODER_WEIGHTS = 'encoder.weights.bin';
export const ENCODER_FORMAT = 'journeylens-encoder';
export const ENCODER_FORMAT_VERSION = 1;

const entrySchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
});

const encoderJsonSchema = z.object({
  format: z.literal(ENCODER_FORMAT),
  formatVersion: z.number().int(),
  config: z.object({
    kind: z.enum(ENCODER_KINDS),
    rows: z.number().int().positive(),
    cols: z.number().int().positive(),
    embeddingDim: z.number().int().positive(),
    channels: z.array(z.number().int().positive()).min(1),
    kernelSize: z.number().int().positive(),
    decoderHidden: z.number().int().positive(),
  }),
  dtype: z.literal('float32'),
  byteOrder: z.literal('little-endian'),
  weightsFile: z.string(),
  weights: z.array(entrySchema),
});

export type EncoderJson = z.infer<typeof encoderJsonSchema>;

export interface EncoderWeights {
  config: EncoderConfig;
  weights: Map<string, Float32Array>;
}

export interface SaveEncoderOptions {
  /** Also store the decoder (only needed to resume training); default false. */
  includeDecoder?: boolean;
}

function bad(file: string, message: string, cause?: unknown): UserError {
  return new UserError(ErrorCodes.BUNDLE_INVALID, `${file}: ${message}`, cause === undefined ? {} : { cause });
}

/** Writes the two encoder files into `dir` (created if missing); returns their paths. */
export async function saveEncoder(model: AutoencoderModel, dir: string, options: SaveEncoderOptions = {}): Promise<string[]> {
  const values = model.weightValues(options.includeDecoder === true ? undefined : 'encoder');
  const specs = model.specs.filter((s) => values.has(s.name));
  let offset = 0;
  const entries = specs.map((s) => {
    const length = values.get(s.name)!.length;
    const e = { name: s.name, shape: s.shape, offset, length };
    offset += length;
    return e;
  });
  const bin = Buffer.alloc(offset * 4);
  for (const e of entries) {
    const v = values.get(e.name)!;
    for (let i = 0; i < v.length; i++) bin.writeFloatLE(v[i]!, (e.offset + i) * 4);
  }
  const json: EncoderJson = {
    format: ENCODER_FORMAT,
    formatVersion: ENCODER_FORMAT_VERSION,
    config: { ...model.config, channels: [...model.config.channels] },
    dtype: 'float32',
    byteOrder: 'little-endian',
    weightsFile: ENCODER_WEIGHTS,
    weights: entries,
  };
  await mkdir(dir, { recursive: true });
  const jsonPath = path.join(dir, ENCODER_JSON);
  const binPath = path.join(dir, ENCODER_WEIGHTS);
  await writeFile(binPath, bin);
  await writeFile(jsonPath, JSON.stringify(json, null, 2) + '\n');
  return [jsonPath, binPath];
}

/** Reads and checks the encoder files without touching TF.js (usable in any thread). */
export async function readEncoderWeights(dir: string): Promise<EncoderWeights> {
  const jsonPath = path.join(dir, ENCODER_JSON);
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (err) {
    throw bad(jsonPath, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); is '${dir}' an encoder/bundle directory?`, err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(jsonPath, `is not valid JSON (${(err as Error).message})`, err);
  }
  const parsed = encoderJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bad(jsonPath, `field '${issue.path.join('.') || '(root)'}' is invalid: ${issue.message}`);
  }
  const json = parsed.data;
  if (json.formatVersion !== ENCODER_FORMAT_VERSION) {
    throw bad(jsonPath, `has format version ${json.formatVersion}; this journeylens reads version ${ENCODER_FORMAT_VERSION} (retrain or use a matching release)`);
  }
  const config: EncoderConfig = json.config;
  try {
    validateEncoderConfig(config);
  } catch (err) {
    throw bad(jsonPath, (err as Error).message, err);
  }
  if (path.basename(json.weightsFile) !== json.weightsFile) throw bad(jsonPath, `weightsFile must be a plain file name (got '${json.weightsFile}')`);
  const binPath = path.join(dir, json.weightsFile);
  let bin: Buffer;
  try {
    bin = await readFile(binPath);
  } catch (err) {
    throw bad(binPath, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
  }
  const total = json.weights.reduce((a, e) => Math.max(a, e.offset + e.length), 0);
  if (bin.length !== total * 4) throw bad(binPath, `has ${bin.length} bytes; ${ENCODER_JSON} describes ${total * 4}`);
  const expected = new Map(paramSpecs(config).map((s) => [s.name, s]));
  const weights = new Map<string, Float32Array>();
  for (const e of json.weights) {
    const spec = expected.get(e.name);
    if (spec === undefined) throw bad(jsonPath, `lists an unknown parameter '${e.name}' for a '${config.kind}' encoder`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (e.shape.join(',') !== spec.shape.join(',') || e.length !== size) {
      throw bad(jsonPath, `parameter '${e.name}' has shape [${e.shape.join(', ')}]; the config needs [${spec.shape.join(', ')}]`);
    }
    const v = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) v[i] = bin.readFloatLE((e.offset + i) * 4);
    weights.set(e.name, v);
  }
  for (const s of expected.values()) {
    if (s.part === 'encoder' && !weights.has(s.name)) throw bad(jsonPath, `has no weights for '${s.name}'`);
  }
  return { config, weights };
}

/** Loads a servable model (TF.js variables in this thread; call initBackend() first). */
export async function loadEncoder(dir: string): Promise<AutoencoderModel> {
  const { config, weights } = await readEncoderWeights(dir);
  return AutoencoderModel.fromWeights(config, weights);
}
