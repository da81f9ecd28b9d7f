// `journeylens ui`: the web console apart from any processor, reading the output topics. It
// scales and restarts on its own: its state is rebuilt from the last --window-minutes of the
// topics at every start (console/topic-reader.ts).
import { type Command } from 'commander';
import { addConfigOptions, checkRunConfig, type OptionSpec, resolveConfig, type RunConfig, runOptions } from '../config.ts';
import { startConsole } from '../console/console.ts';
import { checkConsoleBinding } from '../console/server.ts';
import { startTopicReader } from '../console/topic-reader.ts';
import { assertBrokersReachable, assertTopicsExist, createKafka, kafkaSecurity } from '../consumers/kafka-client.ts';
import { createLogger } from '../log.ts';
import { resolveBundleDir } from '../model/runtime.ts';
import { parseRiskSetting } from '../contracts/risk.ts';
import { pseudonymizer, readPseudonymKey } from '../sinks/privacy.ts';

/** The console's default port when it runs on its own (the metrics port is 9464). */
export const UI_DEFAULT_PORT = 9465;

const SHARED = ['brokers', 'signalsTopic', 'alertsTopic', 'bundle', 'risk', 'clientId', 'ssl', 'sslCaFile', 'sslCertFile', 'sslKeyFile', 'saslMechanism', 'saslUsername', 'saslPassword', 'connectTimeoutMs', 'uiHost', 'uiToken', 'logLevel'] as const;

const pick = <K extends (typeof runOptions)[number]['key']>(key: K): Extract<(typeof runOptions)[number], { key: K }> =>
  runOptions.find((o) => o.key === key) as Extract<(typeof runOptions)[number], { key: K }>;

/** `journeylens ui`'s options: the run options it shares (same flags and env variables) and its own. */
export const uiOptions = [
  ...SHARED.map((k) => pick(k)),
  { ...pick('uiPort'), default: UI_DEFAULT_PORT, description: 'port of the web console (0 = any free port)' },
  { ...pick('pseudonymizeKeyFile'), description: "the key file of run's --pseudonymize-key-file: alerts (real ids) then join their sessions on the pseudonymous signals topic, and a session or user is found by its real id (docs/privacy.md)" },
  { key: 'windowMinutes', flag: '--window-minutes <n>', env: 'JOURNEYLENS_UI_WINDOW_MINUTES', kind: 'int', min: 0, max: 1440, default: 60, description: 'on start, re-read this much of the output topics (by record time) to rebuild the feed, charts and session index' },
  { key: 'groupPrefix', flag: '--group-prefix <prefix>', env: 'JOURNEYLENS_UI_GROUP_PREFIX', kind: 'string', default: 'journeylens-ui', description: 'each console joins a consumer group of its own, <prefix>-<host>-<random>, and commits nothing' },
] as const satisfies readonly OptionSpec[];

export function registerUiCommand(program: Command): void {
  const cmd = program
    .command('ui')
    .description('serve the read-only web console from the output topics, apart from any processor (runs until SIGTERM/SIGINT; docs/console.md)');
  addConfigOptions(cmd, uiOptions);
  cmd.action(async (flags: Record<string, unknown>) => {
    const config = resolveConfig(uiOptions, flags);
    // the SASL/TLS pairing rules of `run` (the other rules name options `ui` does not have)
    checkRunConfig(config as unknown as RunConfig);
    checkConsoleBinding(config.uiHost, config.uiToken);
    // the key file before any broker: a bad key is a config error, not a wait for Kafka
    const pseudonym = config.pseudonymizeKeyFile !== undefined ? pseudonymizer(readPseudonymKey(config.pseudonymizeKeyFile)) : undefined;
    const log = createLogger({ level: config.logLevel, component: 'ui' });
    const security = kafkaSecurity(config);
    await assertBrokersReachable(config.brokers, config.connectTimeoutMs, security);
    const kafka = createKafka({
      brokers: config.brokers,
      clientId: config.clientId,
      connectTimeoutMs: config.connectTimeoutMs,
      security,
      onLog: (level, message, extra) => (level === 'error' ? log.warn({ kafkajs: extra }, message) : log.debug({ kafkajs: extra }, message)),
    });
    await assertTopicsExist(kafka, [
      { topic: config.signalsTopic, option: '--signals-topic' },
      ...(config.alertsTopic ? [{ topic: config.alertsTopic, option: '--alerts-topic' }] : []),
    ]);
    if (!config.alertsTopic) log.warn('no --alerts-topic: the console shows signals but no alerts');

    const ui = await startConsole({
      mode: 'ui',
      host: config.uiHost,
      port: config.uiPort,
      token: config.uiToken,
      bundleDir: resolveBundleDir(config.bundle),
      // the bands the processor's --risk gives; set the same --risk here
      risk: parseRiskSetting(config.risk, '--risk (env JOURNEYLENS_RISK)'),
      pseudonym,
      log,
    });
    const reader = await startTopicReader({
      kafka,
      signalsTopic: config.signalsTopic,
      alertsTopic: config.alertsTopic,
      groupPrefix: config.groupPrefix,
      windowMs: config.windowMinutes * 60_000,
      state: ui.state,
      log,
    }).catch(async (err: unknown) => {
      await ui.stop();
      throw err;
    });
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log.info({ signal, ...reader.stats }, 'console stopping');
        void reader
          .stop()
          .catch(() => undefined)
          .then(() => ui.stop())
          .finally(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  });
}
