// A paced producer of simple sample sessions for the demo. (The synthetic clickstream generator
// with archetypes replaces this as its source of events.)
import { type Kafka } from 'kafkajs';

export interface SampleTraffic {
  produced(): number;
  stop(): Promise<void>;
}

const TYPES = ['page_view', 'search', 'product_view', 'add_to_cart', 'checkout', 'support_contact'];

export function startSampleTraffic(kafka: Kafka, opts: { topic: string; rate: number; signal: AbortSignal }): SampleTraffic {
  const producer = kafka.producer();
  let produced = 0;
  let running = true;
  let seq = 0;
  const loop = (async () => {
    await producer.connect();
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((opts.rate * tickMs) / 1000));
    while (running && !opts.signal.aborted) {
      const t = Date.now();
      const messages = Array.from({ length: perTick }, () => {
        const n = seq++;
        const session = `demo-s${Math.floor(n / 8) % 500}-${Math.floor(n / 4000)}`;
        const ev = { eventId: `demo-e${n}`, sessionId: session, userId: `demo-u${Math.floor(n / 8) % 120}`, timestamp: t, type: TYPES[n % TYPES.length], page: '/', durationMs: 1000 + (n % 7) * 500, value: null, properties: {} };
        return { key: session, value: JSON.stringify(ev) };
      });
      await producer.send({ topic: opts.topic, messages });
      produced += messages.length;
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - t))));
    }
  })();
  return {
    produced: () => produced,
    async stop() {
      running = false;
      await loop.catch(() => undefined);
      await producer.disconnect();
    },
  };
}
