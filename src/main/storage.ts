import type { AppConfig } from '../config.ts';
import { createObjectStore } from '../app.ts';
import { S3ObjectStore } from '../platform/storage/s3.object-store.ts';
import { setupLocalBuckets, setupS3Buckets } from '../platform/storage/setup.ts';

/** Needs no database: it builds only the object store, from the same root as everything else. */
export async function runStorageSetup(config: AppConfig): Promise<void> {
  const st = config.storage;
  const store = await createObjectStore(config);
  const reports =
    store instanceof S3ObjectStore
      ? await setupS3Buckets(store.client, st.buckets, st.s3.region, st.s3.replication)
      : await setupLocalBuckets(st.dir, st.buckets);
  for (const r of reports) {
    process.stdout.write(
      `${r.bucket}: ${Object.entries(r.steps)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}\n`,
    );
  }
}
