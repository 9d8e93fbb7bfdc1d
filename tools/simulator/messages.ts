import {
  AlertCode,
  AlertType,
  SYNCHDR_CMD,
  SYNCHDR_CMD_REF,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlHeaderInput,
  type SyncmlItem,
  type SyncmlStatusCommand,
} from '../../src/syncml/codec';
import type { DevInfo, ExtraAlert } from './types';

/** MS-MDM 2.2.3.2: CmdIDs unique within a message, never "0"; Windows counts from 1. */
export function idCounter(): () => string {
  let n = 0;
  return () => String(++n);
}

export interface DeviceHeaderFields {
  sessionId: string;
  msgId: number;
  /** The management URL (SyncHdr Target, §2.2). */
  serverUrl: string;
  /** SyncHdr Source: the DeviceID (§2.2). */
  source: string;
  maxMsgSize?: number;
  maxObjSize?: number;
}

export function deviceHeader(h: DeviceHeaderFields): SyncmlHeaderInput {
  return {
    sessionId: h.sessionId,
    msgId: String(h.msgId),
    target: h.serverUrl,
    source: h.source,
    ...((h.maxMsgSize !== undefined || h.maxObjSize !== undefined) && {
      meta: {
        ...(h.maxMsgSize !== undefined && { maxMsgSize: String(h.maxMsgSize) }),
        ...(h.maxObjSize !== undefined && { maxObjSize: String(h.maxObjSize) }),
      },
    }),
  };
}

export interface Package1Input {
  deviceId: string;
  devInfo: DevInfo;
  sessionAlert: string;
  loginStatus: string;
  extraAlerts: readonly ExtraAlert[];
}

const alert = (cmdId: string, code: string, items: SyncmlItem[] = []): SyncmlCommand => ({
  kind: 'Alert',
  cmdId,
  data: code,
  items,
});

/**
 * Package 1 exactly as Windows opens a session (management-session.md §3.2): the session-type
 * Alert, the 1224 LoginStatus client event, any extra alerts, the DevInfo Replace, Final.
 */
export function package1Commands(input: Package1Input): SyncmlCommand[] {
  const next = idCounter();
  const loginStatus: SyncmlItem = {
    meta: { type: AlertType.LoginStatus },
    data: input.loginStatus,
  };
  const devInfo: [string, string][] = [
    ['DevId', input.deviceId],
    ['Man', input.devInfo.man],
    ['Mod', input.devInfo.mod],
    ['DmV', input.devInfo.dmV],
    ['Lang', input.devInfo.lang],
  ];
  return [
    alert(next(), input.sessionAlert),
    alert(next(), AlertCode.ClientEvent, [loginStatus]),
    ...input.extraAlerts.map((a) => alert(next(), a.code, a.items)),
    {
      kind: 'Replace',
      cmdId: next(),
      // MS-MDM §4: one Item per DevInfo node, Source/LocURI + Data, no Meta.
      items: devInfo.map(([name, data]) => ({ source: `./DevInfo/${name}`, data })),
    },
  ];
}

/** MS-MDM 2.2.6.1: the Status for the server's SyncHdr, first in every device reply. */
export function syncHdrStatus(cmdId: string, serverMsgId: string): SyncmlStatusCommand {
  return {
    kind: 'Status',
    cmdId,
    msgRef: serverMsgId,
    cmdRef: SYNCHDR_CMD_REF,
    cmd: SYNCHDR_CMD,
    targetRef: [],
    sourceRef: [],
    data: SyncmlStatus.Ok,
    items: [],
  };
}

export function nextMessageAlert(cmdId: string): SyncmlCommand {
  return alert(cmdId, AlertCode.NextMessage);
}

export function abortAlert(cmdId: string): SyncmlCommand {
  return alert(cmdId, AlertCode.SessionAbort);
}

/** The user-unenrollment generic alert (management-session.md §3.6, UNENR). */
export function unenrollmentAlert(): ExtraAlert {
  return {
    code: AlertCode.GenericAlert,
    items: [{ meta: { type: AlertType.UserUnenrollment, format: 'int' }, data: '1' }],
  };
}

/** EnterpriseDesktopAppManagement CSP: the Type of the alert that reports an MSI install. */
export const MSI_INSTALL_ALERT_TYPE = 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install';

/**
 * The outcome of an asynchronous MSI DownloadInstall Exec (management-session.md §3.6): a generic
 * alert naming the node in Source, Data an HRESULT (0 = installed), Format int, Mark informational.
 */
export function msiInstallResultAlert(source: string, data = '0'): ExtraAlert {
  return {
    code: AlertCode.GenericAlert,
    items: [
      {
        source,
        meta: { type: MSI_INSTALL_ALERT_TYPE, format: 'int', mark: 'informational' },
        data,
      },
    ],
  };
}
