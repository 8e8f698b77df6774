/**
 * The `option=Name:Value` query parameter of the store's search and product list: repeated, at
 * most {@link MAX_OPTION_FILTERS} times. Values of one option are OR-ed, different options AND-ed
 * (`option=Cor:Azul&option=Cor:Preto&option=Tamanho:M`: blue or black, and M).
 */
import { z } from 'zod';
import { AppError } from '../platform/errors.ts';
import type { OptionGroup } from '../platform/search/search-engine.ts';

export const MAX_OPTION_FILTERS = 10;
/** As long as an option name, and a value, may be in the catalog. */
const MAX_PART = 50;

/** The parameter as given: one or repeated (Fastify gives a string or an array). */
const pair = z.string().max(2 * MAX_PART + 1);
export const OptionFilterParam = z
  .union([pair, z.array(pair).max(MAX_OPTION_FILTERS)])
  .transform((v) => (typeof v === 'string' ? [v] : v))
  .describe(
    `Option value \`Name:Value\` (Cor:Azul), repeated up to ${MAX_OPTION_FILTERS} times: values of one option are OR-ed, different options AND-ed, on one and the same variant`,
  );

const malformed = (given: string, message: string) =>
  new AppError('invalid', 'invalid_option_filter', `option=${given}: ${message}`, {
    details: [{ field: 'option', message }],
  });

/**
 * The filters grouped by option name, in the order first given; 400 `invalid_option_filter` for one
 * without a colon, or with an empty or over-long name or value. Names and values are trimmed and
 * matched as the catalog spells them (the search facets give the spelling).
 */
export function parseOptionFilters(given: string[] | undefined): OptionGroup[] | undefined {
  if (!given?.length) return undefined;
  const groups = new Map<string, Set<string>>();
  for (const raw of given) {
    const at = raw.indexOf(':');
    if (at < 0) throw malformed(raw, 'expected Name:Value');
    const name = raw.slice(0, at).trim();
    const value = raw.slice(at + 1).trim();
    if (!name || !value) throw malformed(raw, 'the name and the value must not be empty');
    if (name.length > MAX_PART || value.length > MAX_PART)
      throw malformed(raw, `the name and the value are at most ${MAX_PART} characters each`);
    groups.set(name, (groups.get(name) ?? new Set()).add(value));
  }
  return [...groups].map(([name, values]) => ({ name, values: [...values] }));
}
