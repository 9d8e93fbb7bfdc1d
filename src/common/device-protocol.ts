/**
 * The device-facing protocols' paths and content types, spelled once. The server routes, the
 * provisioning document, the listener and the simulator all read them from here.
 */

/** OMA-DM management sessions (management-session.md §1.1). */
export const MANAGEMENT_PATH = '/ManagementServer/MDM.svc';

/** MS-MDE2 services (enrollment.md §3–5), all under one root. */
export const ENROLLMENT_PATH = '/EnrollmentServer';
export const DISCOVERY_PATH = `${ENROLLMENT_PATH}/Discovery.svc`;
export const POLICY_PATH = `${ENROLLMENT_PATH}/Policy.svc`;
export const ENROLLMENT_SERVICE_PATH = `${ENROLLMENT_PATH}/Enrollment.svc`;

/** The path roots the device listener serves besides /health (decisions.md §11). */
export const DEVICE_PATH_ROOTS = ['/ManagementServer', ENROLLMENT_PATH] as const;

export const SYNCML_CONTENT_TYPE = 'application/vnd.syncml.dm+xml';
export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

/**
 * DMClient CSP nodes of our provider (management-session.md §7, enrollment.md §10). `./Vendor/MSFT`
 * is the device scope; Windows answers Gets with the path as asked.
 */
export const dmClientProvider = (providerId: string) =>
  `./Vendor/MSFT/DMClient/Provider/${providerId}`;
export const dmClientPath = {
  pushPfn: (p: string) => `${dmClientProvider(p)}/Push/PFN`,
  pushChannelUri: (p: string) => `${dmClientProvider(p)}/Push/ChannelURI`,
  pushStatus: (p: string) => `${dmClientProvider(p)}/Push/Status`,
  poll: (p: string, parm: string) => `${dmClientProvider(p)}/Poll/${parm}`,
  /** Exec with the provider id as `chr` Data: the PC unenrolls from us (enrollment.md §10). */
  unenroll: (p: string) => `${dmClientProvider(p)}/Unenroll`,
};
/** A DMClient Push node a device reports, with or without the `./Device` prefix. */
export const DMCLIENT_PUSH_NODE =
  /^\.\/(?:Device\/)?Vendor\/MSFT\/DMClient\/Provider\/([^/]+)\/Push\/(ChannelURI|Status)$/;
