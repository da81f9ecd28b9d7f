import { type Command, Option } from 'commander';
import { LocalKafkaError, readSavedBroker, startDetached, stateDirOf, stopDetached } from '../local-kafka/local-kafka.ts';
import { ErrorCodes, UserError } from '../errors.ts';
import { parseIntOption } from './parse.ts';

/** `journeylens kafka start|stop|status`: the pinned local broker for development. */
export function registerKafkaCommands(program: Command): void {
  const kafka = program.command('kafka').description('run a local single-node Kafka 3.9.1 broker (KRaft, 127.0.0.1) for development');

  kafka
    .command('start')
    .description('start a local broker in the background and print its bootstrap address')
    .addOption(new Option('--port <n>', 'client port (default: a free port)').argParser(parseIntOption('--port', 1, 65535)))
    .addOption(stateDirOption())
    .action(async (opts: { port?: number; stateDir?: string }) => {
      try {
        const b = await startDetached(opts.port, opts.stateDir);
        process.stdout.write(`${b.bootstrap}\n`);
        process.stderr.write(`local Kafka started (pid ${b.pid}, state in ${stateDirOf(opts.stateDir)}); stop it with \`journeylens kafka stop\`\n`);
      } catch (err) {
        throw asUserError(err);
      }
    });

  kafka
    .command('stop')
    .description('stop the local broker that `kafka start` started from this checkout (or --state-dir) and delete its data')
    .addOption(stateDirOption())
    .action(async (opts: { stateDir?: string }) => {
      const b = await stopDetached(opts.stateDir);
      process.stderr.write(b ? `local Kafka at ${b.bootstrap} stopped\n` : `no local Kafka broker of ${stateDirOf(opts.stateDir)} is running\n`);
    });

  kafka
    .command('status')
    .description('print the bootstrap address of the local broker of this checkout (or --state-dir), if it runs')
    .addOption(stateDirOption())
    .action((opts: { stateDir?: string }) => {
      const b = readSavedBroker(opts.stateDir);
      if (!b) throw new UserError(ErrorCodes.LOCAL_KAFKA, `no local Kafka broker of ${stateDirOf(opts.stateDir)} is running; start one with \`journeylens kafka start\`.`);
      process.stdout.write(`${b.bootstrap}\n`);
    });
}

function stateDirOption(): Option {
  return new Option('--state-dir <dir>', 'where start/stop/status keep the broker\'s pid and port (default: .journeylens/ in this checkout) [env JOURNEYLENS_STATE_DIR]');
}

function asUserError(err: unknown): unknown {
  return err instanceof LocalKafkaError ? new UserError(ErrorCodes.LOCAL_KAFKA, err.message, { cause: err }) : err;
}
