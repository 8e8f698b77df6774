/**
 * The category tree: creating, renaming and moving categories (never under themselves), soft
 * deleting an empty one and restoring it (its parent must be live), the tree the store shows, each
 * category's path up to the root and the products under a category (read by search and
 * promotions). A change that alters which products a listing holds evicts the cached listings of
 * the categories concerned and their ancestors. `assertCategory` is the check product writes use.
 */
import type { Database } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { catalogSql } from './catalog.sql.ts';
import {
  buildTree,
  slugify,
  toCategory,
  unknownCategory,
  type Category,
  type CategoryNode,
} from './catalog.model.ts';

/** The event every category change records (search re-reads the products under it). */
const categoryUpdated = (id: string) => ({
  type: 'category.updated',
  aggregateType: 'category',
  aggregateId: id,
  payload: { categoryId: id },
});

export class CatalogCategories {
  constructor(private readonly deps: { db: Database; cache?: CatalogCache }) {}

  /** Soft-deletes an empty category (no live sub-category, no live product): 409 otherwise. */
  async deleteCategory(id: string): Promise<void> {
    if (!isUuid(id)) throw AppError.notFound('Category', { categoryId: id });
    const affected = await withTransaction(this.deps.db.primary, async (tx) => {
      const outcome = await catalogSql.softDeleteCategory(tx, id);
      if (!outcome) throw AppError.notFound('Category', { categoryId: id });
      if (outcome !== 'deleted')
        throw AppError.conflict(
          'category_not_empty',
          outcome === 'has_children'
            ? 'The category has sub-categories: move or delete them first'
            : 'The category has products: move or delete them first',
          { categoryId: id, reason: outcome },
        );
      await recordEvents(tx, [categoryUpdated(id)]);
      return catalogSql.ancestry(tx, [id]);
    });
    await this.deps.cache?.invalidateListings(affected);
  }

  /** Brings a deleted category back (its parent must be live). */
  async restoreCategory(id: string): Promise<Category> {
    if (!isUuid(id)) throw AppError.notFound('Deleted category', { categoryId: id });
    const row = await withTransaction(this.deps.db.primary, async (tx) => {
      const outcome = await catalogSql.restoreCategory(tx, id);
      if (!outcome) throw AppError.notFound('Deleted category', { categoryId: id });
      if (outcome === 'parent_deleted')
        throw AppError.conflict(
          'parent_deleted',
          'Its parent category is deleted: restore the parent first',
          {
            categoryId: id,
          },
        );
      await recordEvents(tx, [categoryUpdated(id)]);
      return outcome;
    });
    return toCategory(row);
  }

  async deletedCategories(): Promise<(Category & { deletedAt: string })[]> {
    return (await catalogSql.deletedCategories(this.deps.db.primary)).map((r) => ({
      ...toCategory(r),
      deletedAt: r.deleted_at.toISOString(),
    }));
  }

  async createCategory(input: { name: string; slug?: string; parentId?: string | null }): Promise<Category> {
    const slug = input.slug ?? slugify(input.name);
    if (!slug)
      throw AppError.invalid('A slug cannot be derived from this name', [
        { field: 'slug', message: 'required' },
      ]);
    await this.assertCategory(input.parentId, 'parentId');
    return toCategory(
      await catalogSql.insertCategory(this.deps.db.primary, {
        name: input.name,
        slug,
        parentId: input.parentId ?? null,
      }),
    );
  }

  async updateCategory(
    id: string,
    patch: { name?: string; slug?: string; parentId?: string | null },
  ): Promise<Category> {
    if (!isUuid(id)) throw AppError.notFound('Category', { categoryId: id });
    return withTransaction(this.deps.db.primary, async (tx) => {
      if (patch.parentId) {
        // Serialise tree moves so two concurrent moves cannot build a cycle together.
        await catalogSql.lockCategoryTree(tx);
        if (!(await catalogSql.categoryExists(tx, patch.parentId))) throw unknownCategory('parentId');
        if (await catalogSql.isSelfOrDescendant(tx, id, patch.parentId)) {
          throw AppError.conflict(
            'category_cycle',
            'A category cannot be moved under itself or its descendants',
          );
        }
      }
      const before = await catalogSql.ancestry(tx, [id]);
      const row = await catalogSql.updateCategory(tx, id, patch);
      if (!row) throw AppError.notFound('Category', { categoryId: id });
      await recordEvents(tx, [categoryUpdated(id)]);
      return { category: toCategory(row), affected: [...before, ...(await catalogSql.ancestry(tx, [id]))] };
    }).then(async ({ category, affected }) => {
      // A move changes which products the old and the new ancestors' listings hold.
      await this.deps.cache?.invalidateListings([...new Set(affected)]);
      return category;
    });
  }

  /** An `invalid_request` naming `field` when `id` is given and is not a live category. */
  async assertCategory(id: string | null | undefined, field = 'categoryId'): Promise<void> {
    if (id && !(await catalogSql.categoryExists(this.deps.db.primary, id))) throw unknownCategory(field);
  }

  async categoryTree(): Promise<CategoryNode[]> {
    return buildTree(await catalogSql.listCategories(this.deps.db.read));
  }

  /** Each category's path: the category, then its ancestors up to the root. */
  async categoryPaths(): Promise<Map<string, string[]>> {
    const rows = await catalogSql.listCategories(this.deps.db.primary);
    const parent = new Map(rows.map((r) => [r.id, r.parent_id]));
    const paths = new Map<string, string[]>();
    for (const { id } of rows) {
      const path: string[] = [];
      for (let c: string | null | undefined = id; c && !path.includes(c); c = parent.get(c)) path.push(c);
      paths.set(id, path);
    }
    return paths;
  }

  /** Every product (deleted ones too) in a category or below it. */
  async productIdsUnder(categoryId: string): Promise<string[]> {
    const db = this.deps.db.primary;
    return catalogSql.productIdsInCategories(db, await catalogSql.subtree(db, categoryId));
  }
}
