// The product-read baseline: a bare Fastify route answering a JSON constant, run in its own
// process with the same settings as ShopFlow's server. ShopFlow's reads are measured as a ratio of
// this. The constant is PRODUCT_JSON when given (the harness passes one of ShopFlow's own product
// pages, so both send the same bytes), else a product-sized example.
import Fastify from 'fastify';

const example = {
  id: '7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11',
  name: 'Camiseta Básica Algodão Azul Tropicália',
  description:
    'Camiseta básica da marca Tropicália, azul. Ideal para o dia a dia. Produto com garantia de 12 meses.',
  basePrice: 4990,
  currency: 'BRL',
  categoryId: 'e3cd0db0-2a03-4c79-8785-1d264a5eecc3',
  category: { id: 'e3cd0db0-2a03-4c79-8785-1d264a5eecc3', name: 'Camisetas', slug: 'camisetas' },
  tags: ['camisetas', 'tropicalia', 'azul'],
  availableQuantity: 120,
  createdAt: '2026-10-31T13:44:12.641Z',
  updatedAt: '2026-10-31T13:44:12.641Z',
  rating: { average: 4.5, count: 12 },
  images: [],
};
const app = Fastify({ logger: false });
const product: unknown = process.env.PRODUCT_JSON ? JSON.parse(process.env.PRODUCT_JSON) : example;
app.get('/store/products/:id', () => product);
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`listening ${address}\n`);
