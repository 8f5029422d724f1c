import cliProgress from 'cli-progress';
import type { TrainProgress } from '../train/trainer.js';

/** One line per epoch: what the CLI prints when stderr is not a terminal (logs, CI). */
export function progressLine(p: TrainProgress): string {
  const where = p.stage ? `${p.stage}: ` : '';
  if (p.epoch === undefined) return `${where}${p.phase}…`;
  const bits = [`${where}${p.phase} epoch ${p.epoch}/${p.epochs}`, `loss ${p.loss?.toFixed(4)}`, `${Math.round(p.samplesPerSec ?? 0).toLocaleString('en')} samples/s`];
  if (p.valid !== undefined) bits.push(`valid HR@10 ${p.valid.toFixed(4)}`);
  return bits.join('  ');
}

/**
 * Training progress on stderr: a bar with ETA per training phase on a terminal (one bar per
 * candidate and phase; epochs are its units), plain lines otherwise.
 */
export function trainingProgress(stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: TrainProgress) => void; stop: () => void } {
  if (!stream.isTTY) return { onProgress: (p) => void stream.write(`${progressLine(p)}\n`), stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let key = '';
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    onProgress: (p) => {
      if (p.epoch === undefined || p.epochs === undefined) return;
      const label = `${p.stage ? `${p.stage} ` : ''}${p.phase}`;
      if (label !== key || !bar) {
        stop();
        key = label;
        bar = new cliProgress.SingleBar(
          { stream, format: `${label} [{bar}] {value}/{total} epochs | ETA {eta_formatted} | loss {loss} | valid HR@10 {valid} | {speed} samples/s`, hideCursor: true, etaBuffer: 5 },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.epochs, 0, { loss: '-', valid: '-', speed: '-' });
      }
      bar.update(p.epoch, { loss: p.loss?.toFixed(4) ?? '-', valid: p.valid?.toFixed(4) ?? '-', speed: Math.round(p.samplesPerSec ?? 0).toLocaleString('en') });
    },
    stop,
  };
}
