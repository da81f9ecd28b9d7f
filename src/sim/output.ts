// Buffered line output with backpressure: a few large writes instead of one per event,
// and never more than one buffer ahead of the disk.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { type Writable } from 'node:stream';

const FLUSH_AT = 1 << 16;

export class LineWriter {
  private buffer = '';
  private readonly stream: Writable;

  constructor(path: string) {
    this.stream = createWriteStream(path);
  }

  async line(text: string): Promise<void> {
    this.buffer += `${text}\n`;
    if (this.buffer.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }
}

/** Writes `value` to a stream, waiting for 'drain' when its buffer is full. */
export async function writeWithBackpressure(stream: Writable, value: unknown): Promise<void> {
  if (!stream.write(value)) await once(stream, 'drain');
}
