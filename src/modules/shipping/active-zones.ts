/**
 * The table engine's active zones, read on every freight quote: held in process (one entry, for
 * at most a minute) and emptied in every instance when a zone is created, changed or deleted
 * through the service (Redis pub/sub, see platform/cache/broadcast-cache.ts). While pub/sub is
 * down, every quote reads the zones from the database again. A zone changed outside the API (SQL
 * by hand) is seen within the minute.
 */
import type { BroadcastCache } from '../../platform/cache/broadcast-cache.ts';
import type { Database } from '../../platform/db/pool.ts';
import { shippingSql, type ZoneRow } from './shipping.sql.ts';

export class ActiveZones {
  constructor(
    private readonly deps: {
      db: Database;
      /** Absent: every read goes to the database. */
      cache?: BroadcastCache<ZoneRow[]>;
    },
  ) {}

  list(): Promise<ZoneRow[]> {
    const load = () => shippingSql.zones(this.deps.db.primary, true);
    return this.deps.cache ? this.deps.cache.get('active', load) : load();
  }

  /** After a change to the zones: every instance reads them again. */
  async changed(): Promise<void> {
    await this.deps.cache?.clearEverywhere();
  }
}
