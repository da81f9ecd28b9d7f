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

  /**
   * `c`, moved back out of every span it falls inside (to the first offset of the span, and again
   * while that offset falls inside another); spans wholly below the result are dropped.
   *
   * Spans of sessions that closed above the commit point pile up while open sessions hold the
   * commit back (a backlog: thousands per partition), and chains of overlapping spans are the
   * rule, so moving `c` one span at a time until nothing moves was quadratic in them (88 of 136 s
   * of a 1,000,000-event backlog run). Sorted by first offset, overlapping spans merge into runs
   * (first, last]; a point inside a run ends at the run's first offset, one outside every run
   * stays where it is.
   */
  clamp(topic: string, partition: number, c: bigint): bigint {
    const k = tpKey(topic, partition);
    const spans = this.spans.get(k);
    if (!spans || spans.length === 0) return c;
    // kept sorted from the last call, so this sort mostly checks order and places new spans
    spans.sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
    let result = c;
    let runFirst = spans[0]!.first;
    let runLast = spans[0]!.last;
    for (let i = 1; i <= spans.length; i++) {
      const span = spans[i];
      if (span !== undefined && span.first <= runLast) {
        if (span.last > runLast) runLast = span.last;
        continue;
      }
      // the run (runFirst, runLast] is complete
      if (runFirst < c && c <= runLast) {
        result = runFirst;
        break;
      }
      if (span === undefined || span.first >= c) break;
      runFirst = span.first;
      runLast = span.last;
    }
    // commits only move forward, so spans wholly below this point never matter again
    this.spans.set(
      k,
      spans.filter((span) => span.last >= result),
    );
    return result;
  }

  /** A revoked partition: its sessions are rebuilt by the new owner. */
  forget(topic: string, partition: number): void {
    this.spans.delete(tpKey(topic, partition));
  }
}
