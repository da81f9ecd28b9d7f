// The closed-span guard: offset spans (first..last event) of closed sessions, per
// topic-partition, until commits pass them. A commit inside a closed session's span would make a
// restart rebuild only its tail and publish a wrong final signal, so a commit point that falls
// inside a span moves back to the span's first offset.
import { tpKey } from './topic-partition.ts';

export class ClosedSpans {
  private readonly spans = new Map<string, { first: bigint; last: bigint }[]>();

  /** A session of this topic-partition closed; its events were at offsets first..last. */
  add(topic: string, partition: number, first: bigint, last: bigint): void {
    const k = tpKey(topic, partition);
    const span = { first, last };
    const list = this.spans.get(k);
    if (list) list.push(span);
    else this.spans.set(k, [span]);
  }

  /** `c`, moved back out of every span it falls inside; spans wholly below the result are dropped. */
  clamp(topic: string, partition: number, c: bigint): bigint {
    const k = tpKey(topic, partition);
    const spans = this.spans.get(k);
    if (!spans || spans.length === 0) return c;
    for (let moved = true; moved; ) {
      moved = false;
      for (const span of spans) {
        if (span.first < c && span.last >= c) {
          c = span.first;
          moved = true;
        }
      }
    }
    // commits only move forward, so spans wholly below this point never matter again
    this.spans.set(
      k,
      spans.filter((span) => span.last >= c),
    );
    return c;
  }

  /** A revoked partition: its sessions are rebuilt by the new owner. */
  forget(topic: string, partition: number): void {
    this.spans.delete(tpKey(topic, partition));
  }
}
