import { Command } from 'commander';
import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../config.js';
import { asFileSections, effectiveConfig } from '../config/effective.js';

/**
 * `recflow config check [FILE]`: validates a configuration file with the environment over it, as
 * the service would at start, and prints the configuration in effect (secrets redacted). Exits 2
 * naming the first bad setting.
 */
export function configCommand(): Command {
  const config = new Command('config').description('configuration files (recflow.yaml)');
  config
    .command('check')
    .description('validate a configuration file (RECFLOW_CONFIG or ./recflow.yaml when none is named) and print the effective configuration')
    .argument('[file]', 'the file to check')
    .option('--json', 'print JSON with each value\'s variable and origin (default, file, env)')
    .action((file: string | undefined, o: { json?: boolean }) => {
      try {
        const effective = effectiveConfig(loadConfig(process.env, file ? { file } : { discover: true }));
        if (o.json) process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
        else {
          const overridden = Object.values(effective.settings).flatMap((s) => Object.values(s)).filter((s) => s.origin === 'env').map((s) => s.env);
          process.stdout.write(`# effective configuration${effective.file ? ` of ${effective.file}` : ' (no file: defaults)'}${overridden.length ? `; overridden by ${overridden.join(', ')}` : ''}\n`);
          process.stdout.write(stringify(asFileSections(effective)));
        }
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`recflow: ${err.message}\n`);
        process.exitCode = 2;
      }
    });
  return config;
}
