import cliProgress from 'cli-progress';
import type { TrainHooks, TrainProgress } from '../train/trainer.js';

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
type Within = NonNullable<TrainHooks['onEpochProgress']>;

export function trainingProgress(stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: TrainProgress) => void; onEpochProgress: Within; stop: () => void } {
  if (!stream.isTTY) return { onProgress: (p) => void stream.write(`${progressLine(p)}\n`), onEpochProgress: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let key = '';
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  // Bar units are hundredths of an epoch, so a long epoch moves the bar (and its ETA) as it runs.
  const barFor = (label: string, epochs: number): cliProgress.SingleBar => {
    if (label !== key || !bar) {
      stop();
      key = label;
      bar = new cliProgress.SingleBar(
        { stream, format: `${label} [{bar}] epoch {ep}/${epochs} | ETA {eta_formatted} | loss {loss} | valid HR@10 {valid} | {speed} samples/s`, hideCursor: true, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(epochs * 100, 0, { ep: 1, loss: '-', valid: '-', speed: '-' });
    }
    return bar;
  };
  let stage = '';
  return {
    onProgress: (p) => {
      stage = p.stage ?? '';
      if (p.epoch === undefined || p.epochs === undefined) return;
      barFor(`${stage ? `${stage} ` : ''}${p.phase}`, p.epochs).update(p.epoch * 100, { ep: p.epoch, loss: p.loss?.toFixed(4) ?? '-', valid: p.valid?.toFixed(4) ?? '-', speed: Math.round(p.samplesPerSec ?? 0).toLocaleString('en') });
    },
    onEpochProgress: (p) => {
      barFor(`${stage ? `${stage} ` : ''}${p.phase}`, p.epochs).update(Math.round((p.epoch - 1 + p.fraction) * 100), { ep: p.epoch });
    },
    stop,
  };
}
