/**
 * Product images: originals in the product-images bucket, renditions (thumbnail 150, medium 600,
 * large 1200 px on the long side, never upscaled) rendered on first request with sharp, stored
 * beside them and served as the CDN origin. Hostile inputs are refused without decoding them
 * whole: a pixel limit, a byte limit, and only the formats we name.
 */
import { LRUCache } from 'lru-cache';
import pLimit, { type LimitFunction } from 'p-limit';
import { createHash, randomUUID } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import type { Database } from '../../platform/db/pool.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { FetchFailure, type PublicFetcher } from '../../platform/net/public-fetch.ts';
import { isSafeKey, type ObjectStore, type PresignedUpload } from '../../platform/storage/object-store.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { CatalogImages, ProductImagesWrite, StoredImage } from '../catalog/catalog-csv.images.ts';
import { mediaSql } from './media.sql.ts';

export const SIZES = { thumbnail: 150, medium: 600, large: 1200 } as const;
export type ImageSize = keyof typeof SIZES;

const FORMATS: Record<string, { ext: string; type: string }> = {
  jpeg: { ext: 'jpg', type: 'image/jpeg' },
  png: { ext: 'png', type: 'image/png' },
  webp: { ext: 'webp', type: 'image/webp' },
};
const TYPES = new Set(Object.values(FORMATS).map((f) => f.type));
const notAnImage = () =>
  new AppError('invalid', 'unsupported_media_type', 'The file is not a supported image (JPEG, PNG or WebP)');
/** 40 megapixels: a decompression bomb is refused before it is decoded. */
const MAX_PIXELS = 40_000_000;

sharp.cache(false); // renditions are cached in the object store, not in process memory
sharp.concurrency(1);

export interface ImageUrls {
  thumbnail: string;
  medium: string;
  large: string;
}

/** The document's getProductImageUrl: CDN (or the app as origin) + key + size. */
export function imageUrlBuilder(baseUrl: string): (key: string) => ImageUrls {
  const url = (key: string, size: ImageSize) => `${baseUrl}/images/${key}?size=${size}`;
  return (key) => ({
    thumbnail: url(key, 'thumbnail'),
    medium: url(key, 'medium'),
    large: url(key, 'large'),
  });
}

interface Rendition {
  body: Buffer;
  contentType: string;
  etag: string;
}

export class MediaService implements CatalogImages {
  /** Renders at most this many images at once (sharp is CPU-bound); the rest wait their turn. */
  private readonly renders: LimitFunction;
  /** One render per rendition at a time: concurrent first requests share it. */
  private readonly rendering = new Map<string, Promise<Rendition>>();
  /** Keys with no original, remembered for a minute: a probe of made-up keys reads storage once each. */
  private readonly absent = new LRUCache<string, true>({ max: 10_000, ttl: 60_000 });

  constructor(
    private readonly deps: {
      db: Database;
      /** Whether a product is live (images are added to live products only). */
      catalog: Pick<CatalogService, 'livePrices'>;
      store: ObjectStore;
      urls: (key: string) => ImageUrls;
      onChanged?: (productId: string) => Promise<void>;
      /** Concurrent renders; past `renderConcurrency * 4` waiting, first renders answer 503. */
      renderConcurrency?: number;
      /** Fetches image URLs of catalog imports (public addresses only), at most `imageMaxBytes` each. */
      fetcher?: PublicFetcher;
      imageMaxBytes?: number;
    },
  ) {
    this.renders = pLimit(deps.renderConcurrency ?? 2);
  }

  /** Stores an original after checking it is a real, reasonably sized image. */
  async addProductImage(
    productId: string,
    data: Buffer,
  ): Promise<{ id: string; key: string; urls: ImageUrls }> {
    await this.requireProduct(productId);
    const image = await this.inspect(data);
    const key = `products/${productId}/${randomUUID()}.${image.format.ext}`;
    const stored = await this.storeOriginal(key, data, image, { productid: productId });
    const id = await mediaSql.addImage(this.deps.db.primary, { productId, ...stored });
    await this.deps.onChanged?.(productId);
    return { id, key, urls: this.deps.urls(key) };
  }

  /** The format and size of an image, without decoding it whole; 415/413 when it is not one we take. */
  private async inspect(
    data: Buffer,
  ): Promise<{ format: { ext: string; type: string }; width: number; height: number }> {
    let meta: Metadata;
    try {
      meta = await sharp(data, { limitInputPixels: MAX_PIXELS, failOn: 'error' }).metadata();
    } catch {
      throw notAnImage();
    }
    const format = meta.format ? FORMATS[meta.format] : undefined;
    if (!format || !meta.width || !meta.height) throw notAnImage();
    if (meta.width * meta.height > MAX_PIXELS)
      throw new AppError('too_large', 'payload_too_large', 'The image has too many pixels');
    return { format, width: meta.width, height: meta.height };
  }

  /** Stores a checked original under `key` (its size kept in the object's metadata too). */
  private async storeOriginal(
    key: string,
    data: Buffer,
    image: { format: { type: string }; width: number; height: number },
    metadata: Record<string, string>,
    ifAbsent = false,
  ): Promise<StoredImage> {
    await this.deps.store.put('productImages', key, data, {
      contentType: image.format.type,
      metadata: { ...metadata, width: String(image.width), height: String(image.height) },
      ifAbsent,
    });
    return {
      key,
      contentType: image.format.type,
      sizeBytes: data.length,
      width: image.width,
      height: image.height,
    };
  }

  /**
   * A catalog import's image URL: fetched (public addresses only, at most `imageMaxBytes`, a JPEG,
   * PNG or WebP content type), checked like an upload, and stored under a key named by its
   * content (products/imported/<sha-256>.<ext>): the same picture is stored once, and importing
   * the same file again finds the product already has it.
   */
  async importFromUrl(url: string): Promise<StoredImage> {
    const fetcher = this.deps.fetcher;
    if (!fetcher) throw new FetchFailure('image URLs are not fetched here');
    const maxBytes = this.deps.imageMaxBytes ?? 10 * 1024 * 1024;
    const file = await fetcher.get(url, { maxBytes, accept: (type) => TYPES.has(type) });
    const image = await this.inspect(file.body);
    const digest = createHash('sha256').update(file.body).digest('hex');
    const key = `products/imported/${digest}.${image.format.ext}`;
    return this.storeOriginal(key, file.body, image, {}, true);
  }

  isRejection(error: unknown): boolean {
    return (
      error instanceof FetchFailure ||
      (error instanceof AppError && (error.kind === 'invalid' || error.kind === 'too_large'))
    );
  }

  /** A stored product original (HEAD: not read, not copied), or undefined. */
  async describe(key: string): Promise<StoredImage | undefined> {
    if (!isSafeKey(key) || !key.startsWith('products/')) return undefined;
    const head = await this.deps.store.head('productImages', key);
    if (!head || !TYPES.has(head.contentType)) return undefined;
    const dimension = (v: string | undefined) => (v && /^\d{1,9}$/.test(v) ? Number(v) : null);
    return {
      key,
      contentType: head.contentType,
      sizeBytes: head.size,
      width: dimension(head.metadata.width),
      height: dimension(head.metadata.height),
    };
  }

  /** Products' images become exactly these lists (detached ones keep their stored originals). */
  async setProductImagesInTx(tx: Tx, writes: ProductImagesWrite[]): Promise<void> {
    await mediaSql.setImages(tx, writes);
  }

  /**
   * A presigned form upload of an image straight to the product-images bucket, under a key of
   * this product's own `incoming/` prefix (never served). {@link addUploadedImage} then checks it
   * like any other image and files it under products/.
   */
  async presignImageUpload(
    productId: string,
    input: { contentType: string; size: number },
    maxBytes: number,
  ): Promise<{ key: string; upload: PresignedUpload }> {
    await this.requireProduct(productId);
    if (!Object.values(FORMATS).some((f) => f.type === input.contentType))
      throw new AppError('invalid', 'unsupported_media_type', 'Images may be JPEG, PNG or WebP', {
        details: [{ field: 'contentType', message: 'not allowed' }],
      });
    if (input.size > maxBytes)
      throw new AppError('too_large', 'payload_too_large', `Images are limited to ${maxBytes} bytes`, {
        details: [{ field: 'size', message: `at most ${maxBytes}` }],
      });
    const key = `incoming/${productId}/${randomUUID()}`;
    const upload = await this.deps.store.presignedUpload('productImages', key, {
      contentType: input.contentType,
      maxBytes: input.size,
      expiresSeconds: 15 * 60,
    });
    return { key, upload };
  }

  /** Files an image uploaded through {@link presignImageUpload}: checked, stored, the upload removed. */
  async addUploadedImage(
    productId: string,
    key: string,
  ): Promise<{ id: string; key: string; urls: ImageUrls }> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    const object =
      isSafeKey(key) && key.startsWith(`incoming/${productId}/`)
        ? await this.deps.store.get('productImages', key)
        : undefined;
    if (!object) throw AppError.notFound('Upload');
    const image = await this.addProductImage(productId, object.body);
    await this.deps.store.delete('productImages', key);
    return image;
  }

  private async requireProduct(productId: string): Promise<void> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    const live = await this.deps.catalog.livePrices(this.deps.db.primary, [productId]);
    if (live.size === 0) throw AppError.notFound('Product', { productId });
  }

  /** A rendition, rendered on first request and stored; `webp` when the client accepts it. */
  async rendition(key: string, size: ImageSize, webp: boolean): Promise<Rendition> {
    if (!isSafeKey(key) || !key.startsWith('products/') || this.absent.has(key))
      throw AppError.notFound('Image');
    const renditionKey = `renditions/${size}/${webp ? 'webp' : 'orig'}/${key}`;
    const cached = await this.deps.store.get('productImages', renditionKey);
    if (cached)
      return {
        body: cached.body,
        contentType: cached.contentType,
        etag: cached.metadata.etag ?? cached.etag,
      };
    const inflight = this.rendering.get(renditionKey);
    if (inflight) return inflight;
    if (this.renders.pendingCount >= this.renders.concurrency * 4) {
      throw new AppError('unavailable', 'render_busy', 'Images are being rendered: try again shortly', {
        retryAfter: 1,
      });
    }
    const render = this.renders(() => this.render(key, renditionKey, size, webp)).finally(() =>
      this.rendering.delete(renditionKey),
    );
    this.rendering.set(renditionKey, render);
    return render;
  }

  private async render(
    key: string,
    renditionKey: string,
    size: ImageSize,
    webp: boolean,
  ): Promise<Rendition> {
    const original = await this.deps.store.get('productImages', key);
    if (!original) {
      this.absent.set(key, true);
      throw AppError.notFound('Image');
    }
    const px = SIZES[size];
    let pipeline = sharp(original.body, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
      .rotate()
      .resize({ width: px, height: px, fit: 'inside', withoutEnlargement: true });
    let contentType = original.contentType;
    if (webp) {
      pipeline = pipeline.webp({ quality: 80 });
      contentType = 'image/webp';
    } else if (contentType === 'image/png') pipeline = pipeline.png({ compressionLevel: 9 });
    else if (contentType === 'image/jpeg') pipeline = pipeline.jpeg({ quality: 82, mozjpeg: true });
    const body = await pipeline.toBuffer();
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    // Two first requests may render at once; both results are equal, the first write stays.
    await this.deps.store.put('productImages', renditionKey, body, {
      contentType,
      metadata: { etag },
      ifAbsent: true,
    });
    return { body, contentType, etag };
  }
}
