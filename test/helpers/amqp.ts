/** The RabbitMQ the suites that need a broker use, and whether it answers. */
import amqplib from 'amqplib';
import { skipUnless } from './services.ts';

export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export async function amqpReachable(): Promise<boolean> {
  try {
    const c = await amqplib.connect(AMQP_URL);
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/** Why a RabbitMQ suite cannot run here (see skipUnless), or undefined when it can. */
export async function amqpSkip(): Promise<string | undefined> {
  return skipUnless(
    (await amqpReachable()) ? undefined : `RabbitMQ not reachable at ${new URL(AMQP_URL).host}`,
  );
}
