/** Every permission an endpoint can require. Tokens list these in their `permissions` claim. */
export const Permission = {
  OrganizationCreate: 'organization.create',
  OrganizationGet: 'organization.get',
  EnterpriseCreate: 'mdm.windows.enterprise.create',
  EnterpriseGet: 'mdm.windows.enterprise.get',
  EnterpriseUpdate: 'mdm.windows.enterprise.update',
  EnrollmentCreate: 'mdm.windows.enrollment.create',
  DeviceCreate: 'mdm.windows.device.create',
  DeviceList: 'mdm.windows.device.list',
  DeviceGet: 'mdm.windows.device.get',
  DeviceUpdate: 'mdm.windows.device.update',
  DeviceAction: 'mdm.windows.device.action',
  CommandCreate: 'mdm.windows.command.create',
  CommandList: 'mdm.windows.command.list',
  CommandGet: 'mdm.windows.command.get',
  CommandCancel: 'mdm.windows.command.cancel',
  AuditList: 'audit.list',
  WebhookCreate: 'webhook.create',
  WebhookList: 'webhook.list',
  WebhookGet: 'webhook.get',
  WebhookUpdate: 'webhook.update',
  WebhookDelete: 'webhook.delete',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];
export const ALL_PERMISSIONS: Permission[] = Object.values(Permission);
