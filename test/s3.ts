/** An S3-protocol endpoint for the tests: s3rver on a free port, with ShopFlow's buckets. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { BucketName } from '../src/config.ts';

export const TEST_BUCKETS: Record<BucketName, string> = {
  productImages: 'shopflow-products-images',
  userUploads: 'shopflow-user-uploads',
  invoices: 'shopflow-invoices',
  archive: 'shopflow-archive',
  backups: 'shopflow-backups',
};

export interface TestS3 {
  endpoint: string;
  client: S3Client;
  stop(): Promise<void>;
}

export async function startS3(options: { createBuckets?: boolean } = {}): Promise<TestS3> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shopflow-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver accepts these fixed credentials; real deployments use the AWS credential chain.
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  if (options.createBuckets ?? true)
    for (const b of Object.values(TEST_BUCKETS)) await client.send(new CreateBucketCommand({ Bucket: b }));
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SentCommand {
  command: string;
  input: Record<string, unknown>;
}

/** Records every command the client sends (its name and input, as the SDK was asked to send it). */
export function recordCommands(client: S3Client): SentCommand[] {
  const sent: SentCommand[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'record' },
  );
  return sent;
}

/** The app's settings for an S3 endpoint with the test buckets (`endpoint`: s3rver's, or a proxy's). */
export function s3Env(endpoint: string): Record<string, string> {
  return {
    STORAGE_DRIVER: 's3',
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    S3_BUCKET_PRODUCT_IMAGES: TEST_BUCKETS.productImages,
    S3_BUCKET_USER_UPLOADS: TEST_BUCKETS.userUploads,
    S3_BUCKET_INVOICES: TEST_BUCKETS.invoices,
    S3_BUCKET_ARCHIVE: TEST_BUCKETS.archive,
    S3_BUCKET_BACKUPS: TEST_BUCKETS.backups,
  };
}
