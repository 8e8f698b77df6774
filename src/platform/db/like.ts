/** `text` as a LIKE pattern that matches it literally: its `%`, `_` and `\` escaped. */
export const likeLiteral = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
