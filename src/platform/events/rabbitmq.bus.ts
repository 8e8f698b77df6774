/**
 * RabbitMQ through amqp-connection-manager (reconnects and re-declares by itself) over amqplib: a
 * durable topic exchange `shopflow.events`, routing key = event type, persistent messages,
 * publisher confirms. Each consumer has a durable quorum queue with manual acks; a message that
 * fails MAX_DELIVERIES times goes to the dead-letter exchange and its `.dead` queue. An inline
 * consumer (ConsumerSpec.inline) has no queue: publish runs it once the broker has confirmed.
 */
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../backoff.ts';
import {
  DEAD_LETTER_EXCHANGE,
  EXCHANGE,
  isTransient,
  MAX_DELIVERIES,
  matches,
  runInline,
  type ConsumerSpec,
  type EventBus,
} from './bus.ts';
import type { EventEnvelope } from './outbox.ts';

export class RabbitMqEventBus implements EventBus {
  private readonly connection: AmqpConnectionManager;
  private readonly publisher: ChannelWrapper;
  private readonly consumers: ChannelWrapper[] = [];
  /** Consumers run by publish itself, in outbox order (ConsumerSpec.inline). */
  private readonly inline: ConsumerSpec[] = [];
  private closing = false;

  constructor(
    url: string,
    private readonly logger: Logger,
    private readonly publishTimeoutMs = 5000,
    /** How long a handler failing on an unavailable dependency is retried before the message is requeued. */
    private readonly transientRetryMs = 120_000,
  ) {
    this.connection = amqp.connect([url], { heartbeatIntervalInSeconds: 15, reconnectTimeInSeconds: 1 });
    this.connection.on('disconnect', ({ err }) =>
      logger.warn({ err }, 'RabbitMQ disconnected; reconnecting'),
    );
    this.publisher = this.connection.createChannel({
      confirm: true,
      json: false,
      setup: (ch: ConfirmChannel) => ch.assertExchange(EXCHANGE, 'topic', { durable: true }),
    });
    this.watch(this.publisher, 'publisher');
  }

  /**
   * A channel whose setup fails while the link flaps emits 'error'; an emitter without a listener
   * would throw it out of the process. The manager retries the setup on the next connection.
   */
  private watch(channel: ChannelWrapper, name: string): void {
    channel.on('error', (err: unknown) =>
      this.logger.warn({ err, channel: name }, 'RabbitMQ channel setup failed; retrying'),
    );
  }

  async publish(event: EventEnvelope): Promise<void> {
    await this.publisher.publish(EXCHANGE, event.type, Buffer.from(JSON.stringify(event)), {
      persistent: true,
      contentType: 'application/json',
      messageId: String(event.id),
      type: event.type,
      timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
      timeout: this.publishTimeoutMs,
    });
    for (const c of this.inline) if (matches(c.bindings, event.type)) await runInline(c, event, this.logger);
  }

  async consume(spec: ConsumerSpec): Promise<void> {
    if (spec.inline) {
      this.inline.push(spec);
      return;
    }
    const queue = `shopflow.${spec.name}`;
    const channel = this.connection.createChannel({
      json: false,
      setup: async (ch: Channel) => {
        await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
        await ch.assertExchange(DEAD_LETTER_EXCHANGE, 'topic', { durable: true });
        await ch.assertQueue(`${queue}.dead`, { durable: true });
        await ch.bindQueue(`${queue}.dead`, DEAD_LETTER_EXCHANGE, `${queue}.#`);
        await ch.assertQueue(queue, {
          durable: true,
          arguments: {
            'x-queue-type': 'quorum',
            'x-delivery-limit': MAX_DELIVERIES,
            'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
            'x-dead-letter-routing-key': `${queue}.dead`,
          },
        });
        for (const key of spec.bindings) await ch.bindQueue(queue, EXCHANGE, key);
        await ch.prefetch(16);
        await ch.consume(queue, (msg) => void this.handle(ch, spec, msg), { noAck: false });
      },
    });
    this.watch(channel, queue);
    this.consumers.push(channel);
    await channel.waitForConnect();
  }

  private async handle(ch: Channel, spec: ConsumerSpec, msg: ConsumeMessage | null): Promise<void> {
    if (!msg) return;
    let event: EventEnvelope;
    try {
      event = JSON.parse(msg.content.toString('utf8')) as EventEnvelope;
    } catch {
      this.settle(() => ch.nack(msg, false, false)); // unreadable: straight to the dead letters
      return;
    }
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await spec.handler(event);
        this.settle(() => ch.ack(msg));
        return;
      } catch (err) {
        // A dependency is away: keep the message and retry here with backoff while the outage
        // lasts, rather than spend its bounded deliveries in seconds.
        if (isTransient(err) && !this.closing && Date.now() - started < this.transientRetryMs) {
          if (attempt === 1)
            this.logger.warn(
              { err, consumer: spec.name, eventId: event.id },
              'event handler waits for a dependency; retrying',
            );
          await sleep(backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 }));
          continue;
        }
        this.logger.warn(
          { err, consumer: spec.name, eventId: event.id },
          'event handler failed; will be redelivered',
        );
        // Requeued; the quorum queue counts deliveries and dead-letters past the limit.
        this.settle(() => ch.nack(msg, false, true));
        return;
      }
    }
  }

  /**
   * Acks and nacks throw when the channel closed while the handler ran (shutdown, lost link). The
   * broker then redelivers the message by itself, and the consumers are idempotent: log it only.
   */
  private settle(op: () => void): void {
    try {
      op();
    } catch (err) {
      this.logger.debug({ err }, 'could not settle a message on a closed channel; it will be redelivered');
    }
  }

  async ping(): Promise<void> {
    if (!this.connection.isConnected()) throw new Error('RabbitMQ is not connected');
    // While the link flaps the channel can wait for a connection indefinitely: a ping answers in
    // bounded time either way (the publish timeout).
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.publisher.waitForConnect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('RabbitMQ did not answer in time')),
            this.publishTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.consumers.map((c) => c.close().catch(() => undefined)));
    await this.publisher.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}
