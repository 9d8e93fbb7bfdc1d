import { measureNode, measureXml } from '../../common/xml';
import {
  commandNode,
  messageNode,
  type SyncmlBuildOptions,
  type SyncmlHeaderInput,
} from './syncml-build';
import type { SyncmlCommand, SyncmlHeader } from './syncml.types';

/*
 * Message budgeting (management-session.md §3.8: every server message stays under the device's
 * MaxMsgSize; a command never spans messages). Sizes are computed from the element tree without
 * serializing, and add up exactly to Buffer.byteLength(buildSyncml(message)) (syncml-write.ts).
 */

/** UTF-8 bytes one command adds to a message. */
export function measureCommand(cmd: SyncmlCommand): number {
  return measureNode(commandNode(cmd));
}

const EMPTY_BODY_SAVING = '<SyncBody></SyncBody>'.length - '<SyncBody/>'.length;

/**
 * UTF-8 bytes of a message around its commands: for any non-empty `commands`,
 * byteLength(buildSyncml({ header, commands, final }, opts)) =
 * envelopeBytes(header, final, opts) + Σ measureCommand(c).
 */
export function envelopeBytes(
  header: SyncmlHeaderInput,
  final: boolean,
  opts: SyncmlBuildOptions = {},
): number {
  const bytes = measureXml(messageNode({ header, commands: [], final }), opts);
  // Without Final the empty SyncBody would self-close; with commands it cannot.
  return final ? bytes : bytes + EMPTY_BODY_SAVING;
}

/**
 * The device's SyncHdr Meta/MaxMsgSize in bytes (MS-MDM 2.2.5.3), or undefined when absent or not
 * a positive decimal integer (Windows 8.1 / 10 1507 do not send it).
 */
export function maxMsgSizeOf(header: Pick<SyncmlHeader, 'meta'>): number | undefined {
  const raw = header.meta?.maxMsgSize?.trim();
  if (!raw || !/^\d{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 ? n : undefined;
}
