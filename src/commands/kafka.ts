import { type Command, Option } from 'commander';
import { LocalKafkaError, readSavedBroker, startDetached, stopDetached } from '../local-kafka/local-kafka.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { parseIntOption } from './parse.ts';

/** `journeylens kafka start|stop|status`: the pinned local broker for development. */
export function registerKafkaCommands(program: Command): void {
  const kafka = program.command('kafka').description('run a local single-node Kafka 3.9.1 broker (KRaft, 127.0.0.1) for development');

  kafka
    .command('start')
    .description('start a local broker in the background and print its bootstrap address')
    .addOption(new Option('--port <n>', 'client port (default: a free port)').argParser(parseIntOption('--port', 1, 65535)))
    .action(async (opts: { port?: number }) => {
      try {
        const b = await startDetached(opts.port);
        process.stdout.write(`${b.bootstrap}\n`);
        process.stderr.write(`local Kafka started (pid ${b.pid}); stop it with \`journeylens kafka stop\`\n`);
      } catch (err) {
        throw asUserError(err);
      }
    });

  kafka
    .command('stop')
    .description('stop the local broker started by `kafka start` and delete its data')
    .action(async () => {
      const b = await stopDetached();
      process.stderr.write(b ? `local Kafka at ${b.bootstrap} stopped\n` : 'no local Kafka broker is running\n');
    });

  kafka
    .command('status')
    .description('print the bootstrap address of the running local broker, if any')
    .action(() => {
      const b = readSavedBroker();
      if (!b) throw new UserError(ErrorCodes.LOCAL_KAFKA, 'no local Kafka broker is running; start one with `journeylens kafka start`.');
      process.stdout.write(`${b.bootstrap}\n`);
    });
}

function asUserError(err: unknown): unknown {
  return err instanceof LocalKafkaError ? new UserError(ErrorCodes.LOCAL_KAFKA, err.message, { cause: err }) : err;
}
