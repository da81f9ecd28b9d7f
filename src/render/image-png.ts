// Renders any H×W image in [0,1] (a session's journey image, or a cluster prototype) as a
// labelled PNG: cells scaled up, column names above (vertical text), row numbers on the left,
// a title and a colour legend. pngjs writes the file format; the text is drawn with the small
// bitmap font in bitmap-font.ts.
import { PNG } from 'pngjs';
import { type ImageSpec, imageColumns } from '../journey/image-spec.ts';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './bitmap-font.ts';
import { ErrorCodes, JourneylensError } from '../errors.ts';

export interface ImagePngOptions {
  /** Pixels per image cell (default 14, at least 8 so row numbers fit). */
  scale?: number;
  /** First line of text above the image. */
  title?: string;
  /** Text under the legend (e.g. what the rows are). */
  footer?: string;
  /** Column indices before which a darker separator line is drawn (column groups). */
  separators?: readonly number[];
}

type Rgb = readonly [number, number, number];

const WHITE: Rgb = [255, 255, 255];
const TEXT: Rgb = [33, 33, 33];
const GRID: Rgb = [226, 226, 226];
const SEPARATOR: Rgb = [110, 110, 110];
const INVALID: Rgb = [255, 0, 255];
// a sequential blue ramp: pale at 0+, dark at 1; exactly 0 stays white so empty cells read as empty
const RAMP: readonly Rgb[] = [
  [239, 246, 255],
  [107, 174, 214],
  [8, 48, 107],
];

/** Colour of a cell value: 0 → white, (0,1] → light to dark blue, NaN → magenta. */
export function cellColor(v: number): Rgb {
  if (Number.isNaN(v)) return INVALID;
  if (v <= 0) return WHITE;
  const x = Math.min(1, v) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const t = x - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  return [Math.round(a[0] + (b[0] - a[0]) * t), Math.round(a[1] + (b[1] - a[1]) * t), Math.round(a[2] + (b[2] - a[2]) * t)];
}

class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height, colorType: 2 });
    this.png.data.fill(255);
  }

  rect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x1 = Math.min(this.width, x + w);
    const y1 = Math.min(this.height, y + h);
    for (let yy = Math.max(0, y); yy < y1; yy++) {
      for (let xx = Math.max(0, x); xx < x1; xx++) {
        const i = (yy * this.width + xx) * 4;
        this.png.data[i] = c[0];
        this.png.data[i + 1] = c[1];
        this.png.data[i + 2] = c[2];
        this.png.data[i + 3] = 255;
      }
    }
  }

  /** Left-to-right text with its top-left corner at (x, y); `f` = font pixel size. */
  text(x: number, y: number, s: string, f: number, c: Rgb = TEXT): void {
    [...s].forEach((ch, k) => {
      const rows = glyph(ch);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if ((rows[gy]! >> (GLYPH_WIDTH - 1 - gx)) & 1) this.rect(x + (k * GLYPH_ADVANCE + gx) * f, y + gy * f, f, f, c);
        }
      }
    });
  }

  /** Bottom-to-top text (rotated 90° anticlockwise) starting at (x, bottom). */
  textUp(x: number, bottom: number, s: string, f: number, c: Rgb = TEXT): void {
    [...s].forEach((ch, k) => {
      const rows = glyph(ch);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if ((rows[gy]! >> (GLYPH_WIDTH - 1 - gx)) & 1) this.rect(x + gy * f, bottom - (k * GLYPH_ADVANCE + gx + 1) * f, f, f, c);
        }
      }
    });
  }
}

/**
 * Renders `image` (rows × columns.length floats, row-major, values in [0,1]) to PNG bytes.
 *
 * @example
 * const png = renderImagePng(view.rasterize(), spec.rows, imageColumns(spec), { title: view.sessionId });
 * writeFileSync('session.png', png);
 */
export function renderImagePng(image: Float32Array, rows: number, columns: readonly string[], options: ImagePngOptions = {}): Buffer {
  const cols = columns.length;
  if (image.length < rows * cols) throw new JourneylensError(ErrorCodes.INPUT_INVALID, `renderImagePng: the image has ${image.length} values, ${rows}×${cols} needs ${rows * cols}`);
  const scale = Math.max(8, Math.round(options.scale ?? 14));
  const f = scale >= 18 ? 2 : 1;
  const pad = 6;
  const textH = GLYPH_HEIGHT * f;
  const longest = Math.max(1, ...columns.map((c) => c.length));
  const titleH = options.title ? textH + pad : 0;
  const labelH = longest * GLYPH_ADVANCE * f + pad;
  const rowLabelW = String(rows - 1).length * GLYPH_ADVANCE * f + pad;
  const gridX = pad + rowLabelW;
  const gridY = pad + titleH + labelH;
  const legendY = gridY + rows * scale + pad + 2;
  const footerY = legendY + textH + pad;
  const minWidth = Math.max(
    gridX + cols * scale + pad,
    pad + ((options.title?.length ?? 0) * GLYPH_ADVANCE * f) + pad,
    pad + ((options.footer?.length ?? 0) * GLYPH_ADVANCE * f) + pad,
    pad + (2 * GLYPH_ADVANCE + 4) * f + 100 + pad,
  );
  const height = (options.footer ? footerY + textH : legendY + textH) + pad;
  const canvas = new Canvas(minWidth, height);

  if (options.title) canvas.text(pad, pad, options.title, f);
  columns.forEach((name, c) => {
    canvas.textUp(gridX + c * scale + Math.floor((scale - textH) / 2), gridY - Math.ceil(pad / 2), name, f);
  });
  for (let r = 0; r < rows; r++) {
    const label = String(r);
    canvas.text(gridX - pad + 2 - label.length * GLYPH_ADVANCE * f, gridY + r * scale + Math.floor((scale - textH) / 2), label, f);
  }
  // cells on a light grid
  canvas.rect(gridX, gridY, cols * scale + 1, rows * scale + 1, GRID);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) canvas.rect(gridX + c * scale + 1, gridY + r * scale + 1, scale - 1, scale - 1, cellColor(image[r * cols + c]!));
  }
  for (const s of options.separators ?? []) {
    if (s > 0 && s < cols) canvas.rect(gridX + s * scale, gridY, 1, rows * scale + 1, SEPARATOR);
  }
  // legend: 0 [ramp] 1
  canvas.text(pad, legendY, '0', f);
  const barX = pad + (GLYPH_ADVANCE + 2) * f;
  for (let i = 0; i < 100; i++) canvas.rect(barX + i, legendY, 1, textH, cellColor(i === 0 ? 0 : i / 99));
  canvas.rect(barX, legendY + textH, 100, 1, GRID);
  canvas.text(barX + 100 + 2 * f, legendY, '1', f);
  if (options.footer) canvas.text(pad, footerY, options.footer, f);
  return PNG.sync.write(canvas.png);
}

/** A journey image with its spec's column names, group separators and a footer saying what the rows are. */
export function renderJourneyPng(image: Float32Array, spec: ImageSpec, options: { title?: string; scale?: number } = {}): Buffer {
  const types = spec.eventTypes.length + 1;
  const rowsAre = spec.rowMode === 'steps' ? 'rows: steps, oldest at top' : `rows: ${formatMs(spec.bucketMs)} buckets from the session start`;
  return renderImagePng(image, spec.rows, imageColumns(spec), {
    ...options,
    separators: [types, types + spec.pageBuckets],
    footer: `${rowsAre}; image spec v${spec.version}`,
  });
}

function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
