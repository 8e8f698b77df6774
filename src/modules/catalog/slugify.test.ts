import { describe, expect, it } from 'vitest';
import { slugify } from './catalog.service.ts';

describe('slugify', () => {
  it.each([
    ['Cafés Especiais', 'cafes-especiais'],
    ['  Tênis de Corrida  ', 'tenis-de-corrida'],
    ['Açaí & Guaraná!', 'acai-guarana'],
    ['Camisetas / Regatas (Verão 2026)', 'camisetas-regatas-verao-2026'],
    ['ÁGUA', 'agua'],
  ])('%s -> %s', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it('gives nothing for a name without letters or digits (the API then asks for a slug)', () => {
    expect(slugify('!!! ---')).toBe('');
  });
});
