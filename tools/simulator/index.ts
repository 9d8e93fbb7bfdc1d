export * from './types';
export { SimulatorError, type SimulatorErrorKind } from './simulator-error';
export {
  DEFAULT_DEV_INFO,
  DEFAULT_QUERY,
  MANAGEMENT_PATH,
  resolveServerUrl,
  SimulatedDevice,
} from './device';
export { MSI_INSTALL_ALERT_TYPE, msiInstallResultAlert, unenrollmentAlert } from './messages';
export { DeviceTree, DEFAULT_READ_ONLY_PATHS, windowsDefaultValues } from './tree';
export { DeviceTransport, WINDOWS_USER_AGENT } from './transport';
export { checkServerMessage, SYNCML_CONTENT_TYPE } from './checks';
export { percentile, runLoad, type LoadReport } from './load';
export { loadSummary, sessionSummary, transcriptTable } from './report';
export { createSelfSignedIdentity, randomDeviceId } from './identity';
export {
  identitiesFromDir,
  identitiesFromManifest,
  IdentityFileError,
  writeIdentities,
} from './identity-files';
