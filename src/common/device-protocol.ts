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
