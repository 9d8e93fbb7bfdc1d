import type { ErrorDetail } from '../../common/errors';
import { attrs, el, hasIllegalXmlChar, writeXml } from '../../common/xml';
import type { BatchAction, CommandConfig } from '../commands.types';

/*
 * Device actions (issue 12), pure: each is parsed from the request body into a typed action,
 * then compiled into the OMA-DM commands that do it. One entry per action in ACTIONS: adding an
 * action is a union member, a parser and a compiler.
 */

export const WIPE_MODES = ['wipe', 'wipeProtected', 'wipePersistProvisionedData'] as const;
export type WipeMode = (typeof WIPE_MODES)[number];

export type DeviceAction =
  | { action: 'reboot' }
  | { action: 'wake' }
  | { action: 'sync' }
  | { action: 'wipe'; mode: WipeMode; confirm: string }
  | {
      action: 'installMsi';
      productId: string;
      url: string;
      hash: string;
      commandLine?: string;
      version?: string;
    };
export type DeviceActionName = DeviceAction['action'];

/** The request body as the DTO admits it: `action` plus every action's fields, all optional. */
export type DeviceActionInput = { action: string } & Partial<
  Record<'mode' | 'confirm' | 'productId' | 'url' | 'hash' | 'commandLine' | 'version', string>
>;

type Of<K extends DeviceActionName> = Extract<DeviceAction, { action: K }>;
type Parsed<K extends DeviceActionName> = { ok: Of<K> } | { problems: ErrorDetail[] };

interface ActionSpec<K extends DeviceActionName> {
  /** Body fields this action takes besides `action`; any other is refused. */
  fields: readonly (keyof DeviceActionInput)[];
  parse(input: DeviceActionInput): Parsed<K>;
  compile(action: Of<K>): CommandConfig[];
  /** What the batch records of it (never the confirmation). */
  params(action: Of<K>): Record<string, string> | undefined;
}

// Reboot CSP: RebootNow, Exec without Data.
const REBOOT_NOW = './Device/Vendor/MSFT/Reboot/RebootNow';
// RemoteWipe CSP: one Exec node per mode, without Data.
const REMOTE_WIPE: Record<WipeMode, string> = {
  wipe: './Device/Vendor/MSFT/RemoteWipe/doWipe',
  wipeProtected: './Device/Vendor/MSFT/RemoteWipe/doWipeProtected',
  wipePersistProvisionedData: './Device/Vendor/MSFT/RemoteWipe/doWipePersistProvisionedData',
};
/** The inventory a sync refreshes: their Results update the device's inventory (device-message.ts). */
export const SYNC_NODES = [
  './DevInfo/Man',
  './DevInfo/Mod',
  './DevInfo/Lang',
  './DevDetail/SwV',
  './DevDetail/Ext/Microsoft/OSPlatform',
  './DevDetail/Ext/Microsoft/DeviceName',
] as const;

/** EnterpriseDesktopAppManagement CSP: the node an MSI is installed through. */
export function msiDownloadInstallNode(productId: string): string {
  return `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${productId}/DownloadInstall`;
}

const GUID_IN_BRACES =
  /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/;
const SHA256_HEX = /^[0-9A-Fa-f]{64}$/;
const MSI_VERSION = /^\d{1,5}(\.\d{1,5}){0,3}$/;

function httpsUrlProblem(url: string): string | null {
  if (url.length > 2048) return 'url must be at most 2048 characters';
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.hostname ? null : 'url must be an https URL';
  } catch {
    return 'url must be an https URL';
  }
}

/**
 * EnterpriseDesktopAppManagement CSP, DownloadInstall: the MsiInstallJob document (its XSD:
 * Product@Version, Download/ContentURLList/ContentURL, Validation/FileHash as SHA-256 hex,
 * Enforcement with CommandLine, TimeOut and retries in minutes).
 */
export function msiInstallJob(a: Of<'installMsi'>): string {
  return writeXml(
    el(
      'MsiInstallJob',
      attrs({ id: a.productId }),
      el(
        'Product',
        attrs({ Version: a.version ?? '1.0.0.0' }),
        el('Download', el('ContentURLList', el('ContentURL', a.url))),
        el('Validation', el('FileHash', a.hash.toUpperCase())),
        el(
          'Enforcement',
          el('CommandLine', a.commandLine ?? '/quiet'),
          el('TimeOut', '10'),
          el('RetryCount', '3'),
          el('RetryInterval', '5'),
        ),
      ),
    ),
    { headless: true },
  );
}

const none = () => undefined;

const ACTIONS: { [K in DeviceActionName]: ActionSpec<K> } = {
  // Queues nothing: a WNS push asks the device to check in now (issue 13).
  wake: {
    fields: [],
    parse: () => ({ ok: { action: 'wake' } }),
    compile: () => [],
    params: none,
  },
  reboot: {
    fields: [],
    parse: () => ({ ok: { action: 'reboot' } }),
    compile: () => [{ path: REBOOT_NOW, action: 'Exec', format: 'null' }],
    params: none,
  },
  sync: {
    fields: [],
    parse: () => ({ ok: { action: 'sync' } }),
    compile: () => SYNC_NODES.map((path) => ({ path, action: 'Get', format: 'chr' })),
    params: none,
  },
  wipe: {
    fields: ['mode', 'confirm'],
    parse(input) {
      const problems: ErrorDetail[] = [];
      const mode = input.mode as WipeMode | undefined;
      if (mode === undefined || !WIPE_MODES.includes(mode)) {
        problems.push({ field: 'mode', message: `mode must be one of ${WIPE_MODES.join(', ')}` });
      }
      if (!input.confirm) {
        problems.push({
          field: 'confirm',
          message: "confirm is required for wipe: the device's Windows device id",
        });
      }
      return problems.length
        ? { problems }
        : { ok: { action: 'wipe', mode: mode!, confirm: input.confirm! } };
    },
    compile: (a) => [{ path: REMOTE_WIPE[a.mode], action: 'Exec', format: 'null' }],
    params: (a) => ({ mode: a.mode }),
  },
  installMsi: {
    fields: ['productId', 'url', 'hash', 'commandLine', 'version'],
    parse(input) {
      const problems: ErrorDetail[] = [];
      const add = (field: string, message: string) => problems.push({ field, message });
      const { productId, url, hash, commandLine, version } = input;
      if (!productId || !GUID_IN_BRACES.test(productId)) {
        add('productId', 'productId must be the MSI product code, a GUID in braces');
      }
      const urlProblem = url ? httpsUrlProblem(url) : 'url is required for installMsi';
      if (urlProblem) add('url', urlProblem);
      if (!hash || !SHA256_HEX.test(hash)) add('hash', 'hash must be a SHA-256 in hex (64 digits)');
      if (
        commandLine !== undefined &&
        (commandLine.length > 1024 || hasIllegalXmlChar(commandLine))
      )
        add('commandLine', 'commandLine must be at most 1024 characters XML can carry');
      if (version !== undefined && !MSI_VERSION.test(version))
        add('version', 'version must be an MSI ProductVersion (e.g. 1.2.3.4)');
      if (problems.length) return { problems };
      return {
        ok: {
          action: 'installMsi',
          productId: productId!.toUpperCase(),
          url: url!,
          hash: hash!,
          ...(commandLine !== undefined && { commandLine }),
          ...(version !== undefined && { version }),
        },
      };
    },
    compile(a) {
      // EnterpriseDesktopAppManagement CSP: the Add creates the product's DownloadInstall node,
      // the Exec runs the job (answered 202, the outcome later by an alert naming this node).
      const node = msiDownloadInstallNode(a.productId);
      return [
        { path: node, action: 'Add', format: 'node' },
        { path: node, action: 'Exec', format: 'xml', value: msiInstallJob(a) },
      ];
    },
    params: (a) => ({ productId: a.productId, url: a.url, hash: a.hash.toLowerCase() }),
  },
};

export const DEVICE_ACTION_NAMES = Object.keys(ACTIONS) as DeviceActionName[];

/** The parsed action, or the problems of the body (each naming its field). */
export function parseDeviceAction(
  input: DeviceActionInput,
): { ok: DeviceAction } | { problems: ErrorDetail[] } {
  if (!Object.prototype.hasOwnProperty.call(ACTIONS, input.action)) {
    return {
      problems: [
        { field: 'action', message: `action must be one of ${DEVICE_ACTION_NAMES.join(', ')}` },
      ],
    };
  }
  const spec = ACTIONS[input.action as DeviceActionName] as ActionSpec<DeviceActionName>;
  const extra = Object.keys(input).filter(
    (k) =>
      k !== 'action' &&
      input[k as keyof DeviceActionInput] !== undefined &&
      !spec.fields.includes(k as keyof DeviceActionInput),
  );
  if (extra.length) {
    return {
      problems: extra.map((field) => ({
        field,
        message: `${field} is not a field of action ${input.action}`,
      })),
    };
  }
  return spec.parse(input);
}

export interface CompiledAction {
  name: string;
  configs: CommandConfig[];
  action: BatchAction;
}

export function compileDeviceAction(a: DeviceAction): CompiledAction {
  const spec = ACTIONS[a.action] as ActionSpec<DeviceActionName>;
  const params = spec.params(a);
  return {
    name: `Device action: ${a.action}`,
    configs: spec.compile(a),
    action: params ? { name: a.action, params } : { name: a.action },
  };
}
