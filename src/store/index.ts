export {
  resolveMongoUri,
  startEmbeddedStore,
  type EmbeddedStore,
  type EmbeddedStoreOptions,
  type ResolvedMongo,
  type ResolveMongoUriOptions,
} from './embedded-store';
export { DataDirInUseError } from './data-dir-lock';
export { databaseOf, redact, withDatabase } from './mongo-uri';
export { StoreUnavailableError } from './errors';
export { locateServer, type StoreKind } from './server-binary';
export type { ExitInfo } from './server-process';
export { consoleStoreLog, type StoreLog } from './store-log';
export {
  backoffDelay,
  DEFAULT_SUPERVISOR_POLICY,
  StoreSupervisor,
  type SupervisorPolicy,
} from './supervisor';
