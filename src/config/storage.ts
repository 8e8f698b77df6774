/** Object storage: the local directory or S3 (or compatible), its buckets, URLs and size limits. */
import path from 'node:path';
import { z } from 'zod';
import type { BucketName } from '../platform/storage/object-store.ts';
import { bool, ConfigError, int, type EnvOf } from './kit.ts';

export const storageEnv = {
  STORAGE_DRIVER: z.enum(['local', 's3']).optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_BUCKET_PRODUCT_IMAGES: z.string().min(3).default('shopflow-products-images'),
  S3_BUCKET_USER_UPLOADS: z.string().min(3).default('shopflow-user-uploads'),
  S3_BUCKET_INVOICES: z.string().min(3).default('shopflow-invoices'),
  S3_BUCKET_ARCHIVE: z.string().min(3).default('shopflow-archive'),
  S3_BUCKET_BACKUPS: z.string().min(3).default('shopflow-backups'),
  S3_REPLICATION_ROLE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN')
    .optional(),
  S3_REPLICA_BUCKET_SUFFIX: z
    .string()
    .regex(/^[a-z0-9.-]{1,40}$/)
    .optional(),
  CDN_BASE_URL: z.string().url().optional(),
  PUBLIC_BASE_URL: z.string().url().optional(),
  STORAGE_SIGNING_SECRET: z.string().min(32).optional(),
  UPLOAD_MAX_BYTES: int(1, 1_073_741_824).default(10 * 1024 * 1024),
  IMAGE_MAX_BYTES: int(1, 1_073_741_824).default(10 * 1024 * 1024),
  UPLOADS_PER_OWNER: int(1, 100_000).default(20),
  UPLOAD_BYTES_PER_OWNER: int(1, 1_099_511_627_776).default(100 * 1024 * 1024),
  UPLOAD_UNREFERENCED_HOURS: int(1, 87_600).default(168),
  IMAGE_RENDER_CONCURRENCY: int(1, 64).default(2),
  /** `true`: a catalog import may fetch image URLs of private and loopback addresses (development, tests). */
  CATALOG_IMPORT_ALLOW_PRIVATE_URLS: bool.default(false),
};

export interface StorageConfig {
  driver: 'local' | 's3';
  /** Local driver: where objects live. */
  dir: string;
  s3: {
    endpoint?: string;
    region: string;
    forcePathStyle: boolean;
    /** Cross-region replication of the invoices and backups buckets (storage setup applies it). */
    replication?: { roleArn: string; bucketSuffix: string };
  };
  buckets: Record<BucketName, string>;
  /** Base URL the app is reached at (local signed URLs, image URLs without a CDN). */
  publicBaseUrl: string;
  cdnBaseUrl?: string;
  /** HMAC key of the local driver's signed URLs; generated into the data directory if unset. */
  signingSecret?: string;
  uploadMaxBytes: number;
  /** Uploads (and their declared bytes) one owner may hold that no order uses yet. */
  uploadsPerOwner: number;
  uploadBytesPerOwner: number;
  /** Uploads no order references are deleted this long after they were asked for. */
  uploadUnreferencedHours: number;
  imageMaxBytes: number;
  /** First renders of image renditions running at once (CPU-bound). */
  imageRenderConcurrency: number;
  /** Whether a catalog import's image URLs may point at private and loopback addresses. */
  importAllowPrivateUrls: boolean;
}

type StorageEnv = EnvOf<typeof storageEnv>;

/** The driver in force: the one named, else S3 when an endpoint or region is set, else local. */
export const storageDriverOf = (e: StorageEnv) =>
  e.STORAGE_DRIVER ?? (e.S3_ENDPOINT || e.S3_REGION ? 's3' : 'local');

export function storageConfig(
  e: StorageEnv,
  app: { dataDir: string; host: string; port: number; production: boolean },
): { storage: StorageConfig } {
  if (app.production && e.CATALOG_IMPORT_ALLOW_PRIVATE_URLS)
    throw new ConfigError([
      'CATALOG_IMPORT_ALLOW_PRIVATE_URLS=true lets a catalog import reach internal addresses and is refused with NODE_ENV=production',
    ]);
  if (Boolean(e.S3_REPLICATION_ROLE_ARN) !== Boolean(e.S3_REPLICA_BUCKET_SUFFIX))
    throw new ConfigError([
      'S3_REPLICATION_ROLE_ARN and S3_REPLICA_BUCKET_SUFFIX go together: set both or neither',
    ]);
  return {
    storage: {
      driver: storageDriverOf(e),
      dir: path.join(app.dataDir, 'storage'),
      s3: {
        ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
        region: e.S3_REGION ?? 'us-east-1',
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        ...(e.S3_REPLICATION_ROLE_ARN && e.S3_REPLICA_BUCKET_SUFFIX
          ? { replication: { roleArn: e.S3_REPLICATION_ROLE_ARN, bucketSuffix: e.S3_REPLICA_BUCKET_SUFFIX } }
          : {}),
      },
      buckets: {
        productImages: e.S3_BUCKET_PRODUCT_IMAGES,
        userUploads: e.S3_BUCKET_USER_UPLOADS,
        invoices: e.S3_BUCKET_INVOICES,
        archive: e.S3_BUCKET_ARCHIVE,
        backups: e.S3_BUCKET_BACKUPS,
      },
      publicBaseUrl: (
        e.PUBLIC_BASE_URL ?? `http://${app.host === '0.0.0.0' ? '127.0.0.1' : app.host}:${app.port}`
      ).replace(/\/$/, ''),
      ...(e.CDN_BASE_URL ? { cdnBaseUrl: e.CDN_BASE_URL.replace(/\/$/, '') } : {}),
      ...(e.STORAGE_SIGNING_SECRET ? { signingSecret: e.STORAGE_SIGNING_SECRET } : {}),
      uploadMaxBytes: e.UPLOAD_MAX_BYTES,
      uploadsPerOwner: e.UPLOADS_PER_OWNER,
      uploadBytesPerOwner: e.UPLOAD_BYTES_PER_OWNER,
      uploadUnreferencedHours: e.UPLOAD_UNREFERENCED_HOURS,
      imageMaxBytes: e.IMAGE_MAX_BYTES,
      imageRenderConcurrency: e.IMAGE_RENDER_CONCURRENCY,
      importAllowPrivateUrls: e.CATALOG_IMPORT_ALLOW_PRIVATE_URLS,
    },
  };
}
