import { Transform, type Readable } from 'node:stream';

/**
 * Passes a request body through `charge`, which throws to cut it off. Fastify listens for errors
 * only on the stream the last preParsing hook returns, so an error from an earlier hook's meter
 * is forwarded down the chain too (a lost one crashed the process).
 */
export function meterBody(payload: Readable, charge: (bytes: number) => void): Readable {
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        charge(chunk.length);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
  });
  payload.on('error', (err) => out.destroy(err));
  return payload.pipe(out);
}
