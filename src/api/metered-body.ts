import { Transform, type Readable } from 'node:stream';

/**
 * Passes a request body through `charge`, which throws (or rejects) to cut it off; a chunk goes on
 * once its charge is settled. Fastify listens for errors
 * only on the stream the last preParsing hook returns, so an error from an earlier hook's meter
 * is forwarded down the chain too (a lost one crashed the process).
 */
export function meterBody(payload: Readable, charge: (bytes: number) => void | Promise<void>): Readable {
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      Promise.resolve()
        .then(() => charge(chunk.length))
        .then(
          () => done(null, chunk),
          (err: unknown) => done(err as Error),
        );
    },
  });
  payload.on('error', (err) => out.destroy(err));
  return payload.pipe(out);
}
