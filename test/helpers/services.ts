/**
 * The one switch for suites that need something this machine may lack (a service, a binary, the
 * built console): `SHOPFLOW_REQUIRE_SERVICES=1` (CI) turns a missing one into a failure instead
 * of a skip.
 */
export const SERVICES_REQUIRED = process.env.SHOPFLOW_REQUIRE_SERVICES === '1';

/**
 * `reason` (why a suite cannot run here, or undefined when it can) as a skip reason: throws when
 * services are required, warns otherwise. Use with `describe.skipIf(skipUnless(reason) !== undefined)`.
 */
export function skipUnless(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (SERVICES_REQUIRED) throw new Error(`SHOPFLOW_REQUIRE_SERVICES=1 but ${reason}`);
  console.warn(`skipping: ${reason}`);
  return reason;
}
