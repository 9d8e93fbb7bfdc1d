export * from './syncml.constants';
export * from './syncml.types';
export * from './syncml-decode-error';
export { parseSyncml } from './syncml-parse';
export { buildSyncml, writeCommand } from './syncml-write';
export {
  commandNode,
  messageNode,
  type SyncmlBuildOptions,
  type SyncmlHeaderInput,
  type SyncmlMessageInput,
} from './syncml-build';
export { envelopeBytes, maxMsgSizeOf, measureCommand } from './syncml-size';
