/**
 * The Brazilian checkout (issue 29): documents, the address book, CEP lookup, freight, totals,
 * fulfilments and the order's history, through the HTTP API against the real services. The CEP
 * lookup and Melhor Envio run against local fakes that check what they are sent.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';
import { maskDocument, parseDocument } from '../src/modules/customers/documents.ts';

const CPF = '123.456.789-09';
const CNPJ_ALPHA = '12.ABC.345/01DE-35';

describe('documents', () => {
  it('validates CPF and CNPJ (numeric and the 2026 alphanumeric) by their check digits, normalized', () => {
    expect(parseDocument(CPF)).toEqual({ type: 'cpf', number: '12345678909' });
    expect(parseDocument('123.456.789-08')).toBeUndefined();
    expect(parseDocument('111.111.111-11')).toBeUndefined();
    expect(parseDocument('11.222.333/0001-81')).toEqual({ type: 'cnpj', number: '11222333000181' });
    expect(parseDocument('12.abc.345/01de-35')).toEqual({ type: 'cnpj', number: '12ABC34501DE35' });
    expect(parseDocument('12.ABC.345/01DE-36')).toBeUndefined();
    expect(parseDocument(CPF, 'cnpj')).toBeUndefined();
    expect(maskDocument({ type: 'cpf', number: '12345678909' })).toBe('123.***.***-09');
    expect(maskDocument({ type: 'cnpj', number: '12ABC34501DE35' })).toBe('12.***.***/****-35');
  });
});

describe('customers: document, phone and the address book', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { request, customer } = api(() => t);

  const address = {
    label: 'Casa',
    recipient: 'Maria Silva',
    cep: '01310-100',
    street: 'Avenida Paulista',
    number: '1000',
    complement: 'apto 12',
    district: 'Bela Vista',
    city: 'São Paulo',
    state: 'sp',
    phone: '+55 11 99999-0000',
  };

  it('keeps a document on the profile: invalid is 400 naming the field, valid stored normalized, masked for the admin', async () => {
    const token = await customer('doc@example.com');
    const bad = await request<Err>('PATCH', '/store/me', {
      token,
      body: { document: { type: 'cpf', number: '123.456.789-00' } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain('document.number');
    const ok = await request<{ id: string; document: { type: string; number: string }; phone: string }>(
      'PATCH',
      '/store/me',
      { token, body: { document: { number: CNPJ_ALPHA.toLowerCase() }, phone: '11 98888-7777' } },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.document).toEqual({ type: 'cnpj', number: CNPJ_ALPHA });
    expect(ok.body.phone).toBe('11 98888-7777');
    const { rows } = await t.db.pool.query(
      'SELECT document_type, document_number FROM customers WHERE id = $1',
      [ok.body.id],
    );
    expect(rows[0]).toEqual({ document_type: 'cnpj', document_number: '12ABC34501DE35' });
    const listed = await request<{ items: { id: string; document: { number: string } | null }[] }>(
      'GET',
      '/admin/customers?limit=100',
      { token: t.adminKey },
    );
    const mine = listed.body.items.find((c) => c.id === ok.body.id)!;
    expect(mine.document!.number).toBe('12.***.***/****-35');
  });

  it('CRUDs addresses with one default, validating CEP, UF and lengths', async () => {
    const token = await customer('book@example.com');
    const other = await customer('other-book@example.com');
    const first = await request<{ id: string; cep: string; state: string; isDefault: boolean }>(
      'POST',
      '/store/customers/me/addresses',
      { token, body: address },
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ cep: '01310100', state: 'SP', isDefault: true });
    for (const [field, value] of [
      ['cep', '1310-100'],
      ['state', 'XX'],
      ['street', 'x'.repeat(201)],
    ] as const) {
      const bad = await request<Err>('POST', '/store/customers/me/addresses', {
        token,
        body: { ...address, [field]: value },
      });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body.error.details)).toContain(field);
    }
    const second = await request<{ id: string; isDefault: boolean }>(
      'POST',
      '/store/customers/me/addresses',
      {
        token,
        body: { ...address, label: 'Trabalho', number: '2000', isDefault: true },
      },
    );
    expect(second.body.isDefault).toBe(true);
    let list = await request<{ items: { id: string; isDefault: boolean }[] }>(
      'GET',
      '/store/customers/me/addresses',
      { token },
    );
    expect(list.body.items.map((a) => [a.id, a.isDefault])).toEqual([
      [second.body.id, true],
      [first.body.id, false],
    ]);
    const patched = await request<{ complement: string; isDefault: boolean }>(
      'PATCH',
      `/store/customers/me/addresses/${first.body.id}`,
      { token, body: { complement: 'fundos', isDefault: true } },
    );
    expect(patched.body).toMatchObject({ complement: 'fundos', isDefault: true });
    // Someone else's address is not found.
    expect(
      (
        await request('PATCH', `/store/customers/me/addresses/${first.body.id}`, {
          token: other,
          body: { number: '1' },
        })
      ).status,
    ).toBe(404);
    expect(
      (await request('DELETE', `/store/customers/me/addresses/${first.body.id}`, { token: other })).status,
    ).toBe(404);
    expect(
      (await request('DELETE', `/store/customers/me/addresses/${first.body.id}`, { token })).status,
    ).toBe(204);
    list = await request('GET', '/store/customers/me/addresses', { token });
    expect(list.body.items).toEqual([expect.objectContaining({ id: second.body.id, isDefault: true })]);
    // Without a session: 401.
    expect((await request('GET', '/store/customers/me/addresses')).status).toBe(401);
  });

  it('exports the document and the address book, and erasure removes them', async () => {
    const token = await customer('erase-book@example.com');
    const me = await request<{ id: string }>('PATCH', '/store/me', {
      token,
      body: { document: { number: CPF } },
    });
    await request('POST', '/store/customers/me/addresses', { token, body: address });
    const exported = await request<{ profile: { document: unknown }; addresses: { cep: string }[] }>(
      'GET',
      `/admin/customers/${me.body.id}/export`,
      { token: t.adminKey },
    );
    expect(exported.body.profile.document).toEqual({ type: 'cpf', number: '12345678909' });
    expect(exported.body.addresses.map((a) => a.cep)).toEqual(['01310100']);
    const erased = await request<{ counts: { addresses: number } }>(
      'POST',
      `/admin/customers/${me.body.id}/anonymize`,
      { token: t.adminKey },
    );
    expect(erased.body.counts.addresses).toBe(1);
    const { rows } = await t.db.pool.query(
      `SELECT document_number, (SELECT COUNT(*)::int FROM customer_addresses WHERE customer_id = $1) AS n
       FROM customers WHERE id = $1`,
      [me.body.id],
    );
    expect(rows[0]).toEqual({ document_number: null, n: 0 });
  });
});

/** A local HTTP endpoint that records each request and answers with `handler`. */
export async function fakeEndpoint(
  handler: (req: { method: string; url: string; headers: IncomingHttpHeaders; body: string }) => {
    status?: number;
    body?: unknown;
    delayMs?: number;
  },
): Promise<{
  url: string;
  requests: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}> {
  const requests: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const seen = { method: req.method!, url: req.url!, headers: req.headers, body };
      requests.push(seen);
      const answer = handler(seen);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('CEP lookup against a local ViaCEP', () => {
  let t: TestApp;
  let via: Awaited<ReturnType<typeof fakeEndpoint>>;
  let down = false;
  beforeAll(async () => {
    via = await fakeEndpoint(({ url }) => {
      if (down) return { status: 503, body: { message: 'down' } };
      if (url === '/ws/01310100/json/')
        return {
          body: {
            cep: '01310-100',
            logradouro: 'Avenida Paulista',
            complemento: 'de 612 a 1510 - lado par',
            bairro: 'Bela Vista',
            localidade: 'São Paulo',
            uf: 'SP',
            ibge: '3550308',
          },
        };
      if (url === '/ws/99999999/json/') return { body: { erro: 'true' } };
      if (url === '/ws/22222222/json/') return { body: {}, delayMs: 2000 };
      return { status: 400, body: {} };
    });
    t = await createTestApp({
      CEP_LOOKUP_URL: via.url,
      CEP_LOOKUP_TIMEOUT_MS: '300',
      CEP_LOOKUPS_PER_MINUTE: '1000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await via?.close();
  });
  const { request } = api(() => t);

  it('fills the address from the lookup, caches it, 404s an unknown CEP and 503s when the lookup is down', async () => {
    const found = await request('GET', '/store/cep/01310-100');
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      cep: '01310100',
      street: 'Avenida Paulista',
      district: 'Bela Vista',
      city: 'São Paulo',
      state: 'SP',
    });
    expect(via.requests.map((r) => r.url)).toEqual(['/ws/01310100/json/']);
    // A second lookup is served from the cache: the service is not asked again, even when down.
    down = true;
    expect((await request('GET', '/store/cep/01310100')).body).toEqual(found.body);
    expect(via.requests).toHaveLength(1);
    const unavailable = await request<Err>('GET', '/store/cep/04538133');
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error.code).toBe('dependency_unavailable');
    down = false;
    const unknown = await request<Err>('GET', '/store/cep/99999-999');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('cep_not_found');
    // A slow lookup is cut at the configured timeout.
    const started = Date.now();
    const slow = await request<Err>('GET', '/store/cep/22222222');
    expect(slow.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1500);
    // Malformed: 400, without asking the service.
    const before = via.requests.length;
    expect((await request('GET', '/store/cep/123')).status).toBe(400);
    expect(via.requests).toHaveLength(before);
  });
});
