import type { AppConfig } from '../config.ts';
import { S3ObjectStore } from '../platform/storage/s3.object-store.ts';
import { setupLocalBuckets, setupS3Buckets } from '../platform/storage/setup.ts';

export async function runStorageSetup(config: AppConfig): Promise<void> {
  const st = config.storage;
  const reports =
    st.driver === 's3'
      ? await setupS3Buckets(
          new S3ObjectStore({
            ...(st.s3.endpoint ? { endpoint: st.s3.endpoint } : {}),
            region: st.s3.region,
            forcePathStyle: st.s3.forcePathStyle,
            buckets: st.buckets,
          }).client,
          st.buckets,
          st.s3.region,
        )
      : await setupLocalBuckets(st.dir, st.buckets);
  for (const r of reports) {
    process.stdout.write(
      `${r.bucket}: ${Object.entries(r.steps)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}\n`,
    );
  }
}
