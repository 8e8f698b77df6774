/**
 * A local stand-in for a versioned S3 bucket, for what s3rver lacks (it keeps no versions): it
 * answers ListObjectVersions (`GET /<bucket>?versions&prefix=`) with the versions and delete
 * markers it holds, in S3's XML, paged `maxKeys` at a time with key and version-id markers, and
 * records every request the official SDK sends, DeleteObject with its `versionId` among them.
 * A deleted version leaves the listing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker?: boolean;
}

export interface RecordedS3Request {
  method: string;
  bucket: string;
  key: string;
  query: Record<string, string>;
}

export interface S3VersionsEndpoint {
  url: string;
  requests: RecordedS3Request[];
  versions: StoredVersion[];
  close(): Promise<void>;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startS3VersionsEndpoint(
  versions: StoredVersion[],
  options: { maxKeys?: number } = {},
): Promise<S3VersionsEndpoint> {
  const requests: RecordedS3Request[] = [];
  const held = [...versions];
  const maxKeys = options.maxKeys ?? 2;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const query = Object.fromEntries(url.searchParams.entries());
    requests.push({ method: req.method ?? 'GET', bucket, key, query });
    req.resume();
    if (req.method === 'GET' && !key && 'versions' in query) {
      const prefix = query.prefix ?? '';
      const all = held
        .filter((v) => v.key.startsWith(prefix))
        .sort((a, b) => a.key.localeCompare(b.key) || a.versionId.localeCompare(b.versionId));
      const start = query['key-marker']
        ? all.findIndex(
            (v) =>
              v.key > query['key-marker']! ||
              (v.key === query['key-marker'] && v.versionId > (query['version-id-marker'] ?? '')),
          )
        : 0;
      const page = start < 0 ? [] : all.slice(start, start + maxKeys);
      const truncated = start >= 0 && start + maxKeys < all.length;
      const last = page[page.length - 1];
      const entry = (v: StoredVersion) => {
        const tag = v.deleteMarker ? 'DeleteMarker' : 'Version';
        return `<${tag}><Key>${xml(v.key)}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${v.isLatest}</IsLatest><LastModified>2026-12-01T00:00:00.000Z</LastModified>${v.deleteMarker ? '' : '<Size>10</Size><StorageClass>STANDARD</StorageClass>'}</${tag}>`;
      };
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
          `<Name>${bucket}</Name><Prefix>${xml(prefix)}</Prefix><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
          (truncated && last
            ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextVersionIdMarker>${last.versionId}</NextVersionIdMarker>`
            : '') +
          page.map(entry).join('') +
          `</ListVersionsResult>`,
      );
      return;
    }
    if (req.method === 'DELETE' && key) {
      const i = held.findIndex((v) => v.key === key && v.versionId === query.versionId);
      if (i >= 0) held.splice(i, 1);
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(501, { 'content-type': 'application/xml' });
    res.end('<Error><Code>NotImplemented</Code><Message>not played here</Message></Error>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    versions: held,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
