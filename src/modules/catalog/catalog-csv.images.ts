/**
 * The `images` column of the catalog CSV (docs/catalog-import.md): each entry is the object key of
 * a stored image (what the export writes) or an `http(s)` URL the import fetches. The images
 * themselves belong to the media module: the import reaches them through {@link CatalogImages}
 * (src/modules/media/media.service.ts implements it), so the catalog writes no image table.
 */
import pLimit from 'p-limit';
import type { Tx } from '../../platform/db/transaction.ts';
import { isFetchableUrl } from '../../platform/net/public-fetch.ts';
import { isSafeKey } from '../../platform/storage/object-store.ts';
import type { CsvProduct, ImportError } from './catalog-csv.model.ts';

/** A stored original, as a product's image row files it. */
export interface StoredImage {
  key: string;
  contentType: string;
  sizeBytes: number;
  width: number | null;
  height: number | null;
}

/** A product's images to be exactly these, in this order (`file`: what to file for a key it lacks). */
export interface ProductImagesWrite {
  productId: string;
  images: { key: string; file?: StoredImage }[];
}

export interface CatalogImages {
  /** The stored original under `key` (read without copying it), or undefined when there is none. */
  describe(key: string): Promise<StoredImage | undefined>;
  /** Fetches, checks and stores the image at `url`; throws an Error whose message says why not. */
  importFromUrl(url: string): Promise<StoredImage>;
  /** Whether an error of {@link importFromUrl} is about the URL or its image (else: our fault). */
  isRejection(error: unknown): boolean;
  setProductImagesInTx(tx: Tx, writes: ProductImagesWrite[]): Promise<void>;
}

/** Images one product may list. */
export const MAX_IMAGES = 50;
const URL_START = /^https?:\/\//i;

export const isImageUrl = (entry: string) => URL_START.test(entry);

/** The syntax of a product's `images` entries: keys of product originals, or http(s) URLs. */
export function checkImageEntries(images: string[], line: number, errors: ImportError[]): void {
  if (images.length > MAX_IMAGES)
    errors.push({ line, field: 'images', reason: `at most ${MAX_IMAGES} images per product` });
  if (new Set(images).size !== images.length)
    errors.push({ line, field: 'images', reason: 'an image is listed twice' });
  for (const entry of images) {
    const ok = isImageUrl(entry) ? isFetchableUrl(entry) : isSafeKey(entry) && entry.startsWith('products/');
    if (!ok)
      errors.push({
        line,
        field: 'images',
        reason: `not an image key (products/...) or an http(s) URL: ${entry.slice(0, 200)}`,
      });
  }
}

/**
 * Resolved image entries of one import: the URLs fetched (in the phase before writing) and the
 * keys read in the current batch. What a URL or key stands for; null: it failed (the product is
 * reported); undefined: not resolved (a URL in a dry run or during validation).
 */
export class ImageResolutions {
  readonly urls = new Map<string, StoredImage | null>();
  private keys = new Map<string, StoredImage | null>();

  constructor(private readonly images: CatalogImages | undefined) {}

  get(entry: string): StoredImage | null | undefined {
    return isImageUrl(entry) ? this.urls.get(entry) : this.keys.get(entry);
  }

  /**
   * Reads (HEAD) the keys of `batch` its products do not have yet (`known`: a product's current
   * keys). Kept for this batch only: memory stays bounded by a batch.
   */
  async readKeys(batch: CsvProduct[], known: (handle: string) => string[]): Promise<void> {
    const wanted = new Set<string>();
    for (const p of batch) {
      const have = new Set(known(p.handle));
      for (const e of p.images) if (!isImageUrl(e) && !have.has(e)) wanted.add(e);
    }
    const images = this.images;
    this.keys = new Map();
    if (wanted.size === 0) return;
    if (!images) {
      for (const k of wanted) this.keys.set(k, null);
      return;
    }
    const limit = pLimit(8);
    await Promise.all(
      [...wanted].map((k) => limit(async () => this.keys.set(k, (await images.describe(k)) ?? null))),
    );
  }

  /**
   * Fetches every URL of `uses` once, 4 at a time. Each failure is reported on every product
   * (line) that lists the URL, and those products are added to `bad`.
   */
  async fetchUrls(
    uses: Map<string, { handle: string; line: number }[]>,
    bad: Set<string>,
    errors: ImportError[],
  ): Promise<void> {
    const limit = pLimit(4);
    await Promise.all(
      [...uses].map(([url, users]) =>
        limit(async () => {
          if (users.every((u) => bad.has(u.handle))) return;
          const reason = await this.fetchOne(url);
          if (reason === undefined) return;
          for (const u of users) {
            errors.push({ line: u.line, field: 'images', reason: `${url.slice(0, 200)}: ${reason}` });
            bad.add(u.handle);
          }
        }),
      ),
    );
  }

  /** Undefined when the URL's image is stored; else why not. */
  private async fetchOne(url: string): Promise<string | undefined> {
    const images = this.images;
    if (!images) return 'images cannot be fetched here';
    try {
      this.urls.set(url, await images.importFromUrl(url));
      return undefined;
    } catch (error) {
      if (!images.isRejection(error)) throw error;
      this.urls.set(url, null);
      return (error as Error).message.slice(0, 300);
    }
  }
}
