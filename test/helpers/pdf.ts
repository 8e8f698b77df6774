/**
 * The text a PDF shows, well enough to search it: every content stream inflated, and the strings
 * of its text operators decoded (pdfkit writes standard-font text as hex strings in TJ arrays).
 */
import { inflateSync } from 'node:zlib';

export function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const parts: string[] = [];
  const streams = /stream\r?\n([\s\S]*?)\r?\nendstream/g;
  for (let m = streams.exec(raw); m; m = streams.exec(raw)) {
    const body = Buffer.from(m[1]!, 'latin1');
    let content: string;
    try {
      content = inflateSync(body).toString('latin1');
    } catch {
      content = m[1]!;
    }
    for (const tj of content.matchAll(/\[([^\]]*)\]\s*TJ|(<[0-9a-fA-F]*>)\s*Tj/g)) {
      const hex = [...(tj[1] ?? tj[2] ?? '').matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1]).join('');
      parts.push(Buffer.from(hex, 'hex').toString('latin1'));
    }
  }
  return parts.join('\n');
}
