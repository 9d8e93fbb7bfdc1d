import type { SessionResult, SimulatedDevice } from '../../tools/simulator';
import type { TestApp } from './app';
import { simulate, type Managed } from './syncml-device';

// Large objects (OMA-DM 1.2 §7, management-session.md §3.8): the value and the small-message
// device the large-object tests of commands and of profiles share.

/** An ADMX ingestion node: Windows' own large values (MS-MDM Policy CSP, ADMXInstall). */
export const ADMX_PATH =
  './Device/Vendor/MSFT/Policy/ConfigOperations/ADMXInstall/Contoso/Policy/ContosoAdmx';

/** A MaxMsgSize small enough that a 100 KiB value takes several messages. */
export const SMALL_MAX_MSG = 16 * 1024;

/**
 * An ADMX-like value of at least `bytes` bytes, with multi-byte characters (a chunk boundary may
 * fall inside one) and characters the XML writer escapes (the encoded value is longer).
 */
export function admxValue(bytes: number): string {
  const unit = '<policy name="Café €" class="Machine">&amp;😀</policy>\r\n';
  let v = '<policyDefinitions>';
  while (Buffer.byteLength(v) < bytes) v += unit;
  return `${v}</policyDefinitions>`;
}

/**
 * One whole session of a fresh simulated device that accepts messages of at most `maxMsgSize`
 * bytes, closed afterwards (its tree stays readable). Asserts that the server kept to it: no
 * warning from the simulator, which checks every server message against its MaxMsgSize, and no
 * answer over the size.
 */
export async function sessionWithMaxMsgSize(
  t: TestApp,
  d: Managed,
  maxMsgSize = SMALL_MAX_MSG,
): Promise<{ sim: SimulatedDevice; run: SessionResult }> {
  const sim = simulate(t, d, { maxMsgSize });
  const run = await sim.runSession();
  sim.close();
  expect(run.warnings).toEqual([]);
  expect(run.exchanges.every((x) => Buffer.byteLength(x.responseBody) <= maxMsgSize)).toBe(true);
  return { sim, run };
}

/**
 * Asserts the device's answers to the chunks of command `cmdId` (OMA-DM 1.2 §7): at least
 * `minChunks` of them, 213 (chunk accepted) to every chunk but the last, 200 to the last.
 */
export function expectChunkedDelivery(run: SessionResult, cmdId: string, minChunks: number): void {
  const answers = run.transcript.filter((e) => e.cmdId === cmdId).map((e) => e.answeredStatus);
  expect(answers.length).toBeGreaterThanOrEqual(minChunks);
  expect(answers.slice(0, -1).every((s) => s === '213')).toBe(true);
  expect(answers.at(-1)).toBe('200');
}
