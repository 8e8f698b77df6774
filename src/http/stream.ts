import { Readable } from 'node:stream';

/**
 * A streamed answer from a generator of parts that starts only once the first part is ready, so
 * an error thrown before it (a 404, say) is still a clean error answer, not a broken stream.
 */
export async function streamParts(parts: AsyncGenerator<string>): Promise<Readable> {
  const first = await parts.next();
  return Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      yield* parts;
    })(),
  );
}
