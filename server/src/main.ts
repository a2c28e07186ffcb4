import { ConfigError, helpText, loadConfig } from './config.ts';
import { demoBanner, seedDemoRoom } from './demo.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';

const usage = 'Usage: livecart serve [options]   (livecart serve --help for the options, --help-advanced for the internals)';

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`unknown command ${command}\n${usage}\n`);
    return 2;
  }
  let loaded;
  try {
    loaded = loadConfig(rest, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (loaded.help !== undefined) {
    process.stdout.write(`${helpText(loaded.help)}\n`);
    return 0;
  }
  const { config } = loaded;
  const log = createLogger(config);
  const server = await startServer(config, log);
  log.info({ url: server.url, devMode: server.tokens.devMode }, 'listening');
  if (server.tokens.devMode) {
    const roomId = config.demoRoom ? await seedDemoRoom(server) : undefined;
    process.stdout.write(await demoBanner(server, roomId));
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    // One listener for good: between removing a `once` listener and adding the next, a signal
    // would meet the default action and kill the process mid-drain.
    const stop = (signal: 'SIGTERM' | 'SIGINT') => {
      // A second signal means "now".
      if (stopping) process.exit(1);
      stopping = true;
      log.info({ signal }, 'shutting down');
      // SIGTERM (a process manager, an orchestrator) drains: the sockets move to the other nodes
      // over the drain window. SIGINT (Ctrl-C at a terminal) stops now.
      if (signal === 'SIGTERM') void server.drainAndClose().then(() => resolve());
      else void server.close().then(() => setTimeout(resolve, config.shutdownGraceMs).unref());
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    createLogger({ logLevel: 'error' }).fatal({ err: error }, 'livecart failed to start');
    process.exit(1);
  },
);
