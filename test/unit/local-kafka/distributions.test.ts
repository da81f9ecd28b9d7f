// The brokers the tests run are pinned by poms (tools/kafka, tools/kafka4); the README's line on
// tested broker versions must name what they pin, and the client the tests use.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { KAFKA_DISTRIBUTIONS, kafkaVersion, packageRoot } from '../../../src/local-kafka/local-kafka.ts';

describe('pinned Kafka distributions', () => {
  it('3.9.x is the default and 4.x the second', () => {
    expect(KAFKA_DISTRIBUTIONS).toEqual(['kafka', 'kafka4']);
    expect(kafkaVersion()).toMatch(/^3\.9\.\d+$/);
    expect(kafkaVersion('kafka4')).toMatch(/^4\.\d+\.\d+$/);
  });

  it("the README's tested-versions line names the pinned versions, the script and the client", () => {
    const readme = readFileSync(`${packageRoot}/README.md`, 'utf8');
    const line = /\*\*Tested broker versions:([^*]+)\*\*/.exec(readme)?.[1]?.replace(/\s+/g, ' ');
    const kafkajs = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
    expect(line).toContain(`Apache Kafka ${kafkaVersion()} (\`npm test\``);
    expect(line).toContain(`Apache Kafka ${kafkaVersion('kafka4')} (\`npm run test:kafka4\`)`);
    expect(line).toContain(`kafkajs ${kafkajs}`);
    const pkg = JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test:kafka4']).toMatch(/JOURNEYLENS_KAFKA=kafka4 vitest run --project integration .*run\.test\.ts.*ingestion\.test\.ts.*exactly-once\.test\.ts.*rebalance\.test\.ts/);
  });
});
