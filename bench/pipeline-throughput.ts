// End-to-end (backlog) throughput of the processor (`journeylens run` in-process, default
// bundle, JSON input, Avro signals) on a pre-filled topic, beside baselines on the same topic in
// the same run: consume-only with raw kafkajs (the client the processor uses) and with
// @platformatic/kafka, and the passthrough (kafkajs consume → one small record produced per
// input record, acks=all → commit per batch: the transport limit of any 1:1 processor) with the
// kafkajs producer and with @platformatic/kafka's. Each reader is a fresh consumer group from
// the earliest offset. The processor runs with its producer (@platformatic/kafka) and with the
// kafkajs producer it had before (still its producer under --exactly-once). Rates are "steady"
// (first record to last); the figures with start-up (join, model load) are reported too.
//
//   node --expose-gc --import tsx bench/pipeline-throughput.ts [--quick]
import { kafkajsConsume, passthroughConsume, createTopic, flowingClicks, log, platformaticConsume, processorConsume, produceAll, uniqueName, withBroker } from './_kafka.ts';

const quick = process.argv.includes('--quick');
const events = quick ? 100_000 : 1_000_000;
const perSession = 10;
const timeoutMs = quick ? 180_000 : 900_000;
// issue 18: backlog throughput ≥ 0.3 of kafkajs consume-only (0.5 later)
const target = 0.3;

const result = await withBroker(async (broker, kafka) => {
  const topic = uniqueName('clicks');
  await createTopic(kafka, topic, 3);
  log(`pipeline-throughput: producing ${events} events`);
  const produced = await produceAll(kafka, topic, flowingClicks(events, perSession, uniqueName('r')));
  log(`pipeline-throughput: produced ${produced.records} in ${produced.seconds.toFixed(1)} s; kafkajs consume-only`);
  const kafkajs = await kafkajsConsume(broker.bootstrap, topic, events, timeoutMs);
  log(`pipeline-throughput: kafkajs ${kafkajs.eventsPerSecond}/s; @platformatic/kafka consume-only`);
  const platformatic = await platformaticConsume(broker.bootstrap, topic, events, timeoutMs);
  log(`pipeline-throughput: platformatic ${platformatic.eventsPerSecond}/s; kafkajs passthrough`);
  const passKafkajs = await passthroughConsume(broker.bootstrap, topic, events, timeoutMs, 'kafkajs');
  log(`pipeline-throughput: kafkajs passthrough ${passKafkajs.eventsPerSecond}/s; passthrough with the @platformatic/kafka producer`);
  const passPlatformatic = await passthroughConsume(broker.bootstrap, topic, events, timeoutMs, 'platformatic');
  log(`pipeline-throughput: platformatic-producer passthrough ${passPlatformatic.eventsPerSecond}/s; processor`);
  const processor = await processorConsume(broker.bootstrap, topic, events, timeoutMs);
  log(`pipeline-throughput: processor ${processor.eventsPerSecond}/s; with the kafkajs producer`);
  const kafkajsProducer = await processorConsume(broker.bootstrap, topic, events, timeoutMs, {}, 'kafkajs');
  log(`pipeline-throughput: processor with the kafkajs producer ${kafkajsProducer.eventsPerSecond}/s; with 2 scoring workers`);
  const twoWorkers = await processorConsume(broker.bootstrap, topic, events, timeoutMs, { scoringWorkers: '2' });
  log(`pipeline-throughput: processor with 2 scoring workers ${twoWorkers.eventsPerSecond}/s`);
  return { produced, kafkajs, platformatic, passKafkajs, passPlatformatic, processor, kafkajsProducer, twoWorkers };
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
    processorTwoScoringWorkers: result.twoWorkers,
    processorKafkajsProducer: result.kafkajsProducer,
    baselines: {
      kafkajsConsumeOnly: result.kafkajs,
      platformaticConsumeOnly: result.platformatic,
      kafkajsPassthrough: result.passKafkajs,
      platformaticProducerPassthrough: result.passPlatformatic,
    },
    ratios: {
      processorToKafkajs: ratio(result.processor.eventsPerSecond, result.kafkajs.eventsPerSecond),
      processorToPassthrough: ratio(result.processor.eventsPerSecond, result.passKafkajs.eventsPerSecond),
      processorToPlatformaticProducerPassthrough: ratio(result.processor.eventsPerSecond, result.passPlatformatic.eventsPerSecond),
      processorToKafkajsProducerProcessor: ratio(result.processor.eventsPerSecond, result.kafkajsProducer.eventsPerSecond),
      kafkajsProducerProcessorToPassthrough: ratio(result.kafkajsProducer.eventsPerSecond, result.passKafkajs.eventsPerSecond),
      twoWorkersToOne: ratio(result.twoWorkers.eventsPerSecond, result.processor.eventsPerSecond),
      passthroughToKafkajs: ratio(result.passKafkajs.eventsPerSecond, result.kafkajs.eventsPerSecond),
      platformaticProducerToKafkajsProducer: ratio(result.passPlatformatic.eventsPerSecond, result.passKafkajs.eventsPerSecond),
      processorToPlatformatic: ratio(result.processor.eventsPerSecond, result.platformatic.eventsPerSecond),
      platformaticToKafkajs: ratio(result.platformatic.eventsPerSecond, result.kafkajs.eventsPerSecond),
    },
    target: { processorToKafkajsAtLeast: target },
    meetsTarget: result.processor.eventsPerSecond / result.kafkajs.eventsPerSecond >= target,
  })}\n`,
);
