/**
 * Editing a product's options once it exists (PUT /admin/products/:id/options): the pure rules, no
 * I/O. The request gives the whole new list of options in order; each one is an option the product
 * has (by its name, or by `renamedFrom` when it is renamed) or a new one (with `defaultValue`, the
 * value every live variant gets). An option the list leaves out is removed. Within an option,
 * `renamedValues` maps old values to new ones; an old value neither kept nor renamed is removed.
 * Live variants follow: their option maps are rewritten. Soft-deleted variants and placed orders
 * keep what they had. SKUs do not change.
 */
import { AppError } from '../../platform/errors.ts';
import { checkOptions, duplicate } from './variants.model.ts';
import type { ProductOption } from './catalog.model.ts';

export interface OptionEdit {
  name: string;
  values: string[];
  /** The current name of the option this entry renames. */
  renamedFrom?: string | undefined;
  /** Old value to new value (the new one among `values`). */
  renamedValues?: { from: string; to: string }[] | undefined;
  /** A new option: the value the live variants get. */
  defaultValue?: string | undefined;
}

export interface LiveVariant {
  id: string;
  options: Record<string, string>;
}

export interface OptionsPlan {
  options: ProductOption[];
  /** The live variants whose option values change, with their new values. */
  changed: LiveVariant[];
  /** What changed, for the audit log (names and values of options only). */
  summary: {
    added: string[];
    removed: string[];
    renamed: { from: string; to: string }[];
    valuesRenamed: { option: string; from: string; to: string }[];
    valuesRemoved: { option: string; value: string }[];
  };
}

/** How a variant's value of one new option is found: a new option's value, or the old one mapped. */
interface Step {
  name: string;
  value?: string;
  old: string;
  map: Map<string, string>;
}

const invalid = (field: string, message: string) => AppError.invalid(message, [{ field, message }]);

/**
 * For each entry, the current option it continues (undefined: a new option): the one it names in
 * `renamedFrom`, else the one of its name that no other entry renames.
 */
function matchOptions(current: ProductOption[], edits: OptionEdit[]): (ProductOption | undefined)[] {
  const claimed = new Set<string>();
  const renamed = edits.map((e, i) => {
    if (e.renamedFrom === undefined) return undefined;
    const from = e.renamedFrom.trim();
    const old = current.find((o) => o.name === from);
    if (!old) throw invalid(`options.${i}.renamedFrom`, `the product has no option ${from}`);
    if (claimed.has(old.name)) throw invalid(`options.${i}.renamedFrom`, `option ${from} is renamed twice`);
    claimed.add(old.name);
    return old;
  });
  return edits.map((e, i) => {
    if (e.renamedFrom !== undefined) return renamed[i];
    const old = current.find((o) => o.name === e.name.trim() && !claimed.has(o.name));
    if (old) claimed.add(old.name);
    return old;
  });
}

/** Old value to new value of one continued option; 400 for renames that do not fit. */
function valueMap(old: ProductOption, edit: ProductOption & OptionEdit, i: number): Map<string, string> {
  const map = new Map<string, string>();
  const field = `options.${i}.renamedValues`;
  for (const r of edit.renamedValues ?? []) {
    const from = r.from.trim();
    const to = r.to.trim();
    if (!old.values.includes(from)) throw invalid(field, `option ${old.name} has no value ${from}`);
    if (!edit.values.includes(to)) throw invalid(field, `${to} is not among the new values`);
    if (map.has(from)) throw invalid(field, `value ${from} is renamed twice`);
    map.set(from, to);
  }
  for (const v of old.values) if (!map.has(v) && edit.values.includes(v)) map.set(v, v);
  const targets = [...map.values()];
  const merged = targets.find((v, j) => targets.indexOf(v) !== j);
  if (merged !== undefined)
    throw invalid(field, `two values would become ${merged}: remove one instead of renaming it`);
  return map;
}

/** The new options and the live variants' new option values; 400, or 409 for what variants use. */
export function planOptionsEdit(
  current: ProductOption[],
  variants: LiveVariant[],
  edits: OptionEdit[],
): OptionsPlan {
  const options = checkOptions(edits);
  const olds = matchOptions(current, edits);
  const summary: OptionsPlan['summary'] = {
    added: [],
    removed: current.filter((o) => !olds.includes(o)).map((o) => o.name),
    renamed: [],
    valuesRenamed: [],
    valuesRemoved: [],
  };
  /** Per new option: the old option it continues with its value map, or the new option's value. */
  const steps = options.map((o, i): Step => {
    const edit = { ...edits[i]!, ...o };
    const old = olds[i];
    if (!old) {
      const value = edit.defaultValue?.trim();
      if (value === undefined || !o.values.includes(value))
        throw invalid(`options.${i}.defaultValue`, 'a new option needs a defaultValue among its values');
      summary.added.push(o.name);
      return { name: o.name, value, old: '', map: new Map() };
    }
    if (edit.defaultValue !== undefined)
      throw invalid(`options.${i}.defaultValue`, 'only a new option takes a defaultValue');
    if (old.name !== o.name) summary.renamed.push({ from: old.name, to: o.name });
    const map = valueMap(old, edit, i);
    for (const v of old.values) {
      const to = map.get(v);
      if (to === undefined) summary.valuesRemoved.push({ option: old.name, value: v });
      else if (to !== v) summary.valuesRenamed.push({ option: o.name, from: v, to });
    }
    return { name: o.name, old: old.name, map };
  });
  const inUse: { option: string; value: string; variantIds: string[] }[] = [];
  const byCombo = new Map<string, string>();
  const collisions: string[][] = [];
  const changed: LiveVariant[] = [];
  for (const v of variants) {
    const next: Record<string, string> = {};
    for (const s of steps) {
      if (s.value !== undefined) {
        next[s.name] = s.value;
        continue;
      }
      const given = v.options[s.old] ?? '';
      const to = s.map.get(given);
      if (to !== undefined) next[s.name] = to;
      else {
        const entry = inUse.find((u) => u.option === s.old && u.value === given);
        if (entry) entry.variantIds.push(v.id);
        else inUse.push({ option: s.old, value: given, variantIds: [v.id] });
      }
    }
    const key = JSON.stringify(options.map((o) => next[o.name]));
    const other = byCombo.get(key);
    if (other !== undefined) collisions.push([other, v.id]);
    byCombo.set(key, v.id);
    if (!sameValues(next, v.options)) changed.push({ id: v.id, options: next });
  }
  if (inUse.length > 0)
    throw AppError.conflict(
      'option_value_in_use',
      `Live variants use ${inUse.map((u) => `${u.option}: ${u.value}`).join(', ')}: delete them first`,
      { values: inUse },
    );
  if (collisions.length > 0)
    throw duplicate('options', 'Two live variants would have the same option values: delete one first', {
      removedOptions: summary.removed,
      variantIds: collisions[0],
    });
  return { options, changed, summary };
}

function sameValues(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
