// End-to-end throughput of the processor (`journeylens run` in-process, default bundle, JSON
// input, Avro signals) on a pre-filled topic, beside two consume-only baselines on the same
// topic in the same run: raw kafkajs (the client the processor uses) and @platformatic/kafka.
// Each reader is a fresh consumer group from the earliest offset. Rates are "steady" (first
// record to last); the figures with start-up (join, model load) are reported too.
//
//   node --expose-gc --import tsx bench/pipeline-throughput.ts [--quick]
import { kafkajsConsume, createTopic, flowingClicks, log, platformaticConsume, processorConsume, produceAll, uniqueName, withBroker } from './_kafka.ts';

const quick = process.argv.includes('--quick');
const events = quick ? 100_000 : 1_000_000;
const perSession = 10;
const timeoutMs = quick ? 180_000 : 900_000;
const target = 0.5;

const result = await withBroker(async (broker, kafka) => {
  const topic = uniqueName('clicks');
  await createTopic(kafka, topic, 3);
  log(`pipeline-throughput: producing ${events} events`);
  const produced = await produceAll(kafka, topic, flowingClicks(events, perSession, uniqueName('r')));
  log(`pipeline-throughput: produced ${produced.records} in ${produced.seconds.toFixed(1)} s; kafkajs consume-only`);
  const kafkajs = await kafkajsConsume(broker.bootstrap, topic, events, timeoutMs);
  log(`pipeline-throughput: kafkajs ${kafkajs.eventsPerSecond}/s; @platformatic/kafka consume-only`);
  const platformatic = await platformaticConsume(broker.bootstrap, topic, events, timeoutMs);
  log(`pipeline-throughput: platformatic ${platformatic.eventsPerSecond}/s; processor`);
  const processor = await processorConsume(broker.bootstrap, topic, events, timeoutMs);
  log(`pipeline-throughput: processor ${processor.eventsPerSecond}/s`);
  return { produced, kafkajs, platformatic, processor };
});

const ratio = (a: number, b: number) => +(a / b).toFixed(3);
process.stdout.write(
  `${JSON.stringify({
    bench: 'pipeline-throughput',
    quick,
    events,
    eventsPerSession: perSession,
    partitions: 3,
    produce: { eventsPerSecond: Math.round(result.produced.records / result.produced.seconds) },
    processor: result.processor,
    baselines: { kafkajsConsumeOnly: result.kafkajs, platformaticConsumeOnly: result.platformatic },
    ratios: {
      processorToKafkajs: ratio(result.processor.eventsPerSecond, result.kafkajs.eventsPerSecond),
      processorToPlatformatic: ratio(result.processor.eventsPerSecond, result.platformatic.eventsPerSecond),
      platformaticToKafkajs: ratio(result.platformatic.eventsPerSecond, result.kafkajs.eventsPerSecond),
    },
    target: { processorToKafkajsAtLeast: target },
    meetsTarget: result.processor.eventsPerSecond / result.kafkajs.eventsPerSecond >= target,
  })}\n`,
);
