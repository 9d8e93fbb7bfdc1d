/** A realistic mix of OMA-DM commands for benchmarks: policies, Gets, an Add, a Delete, an Exec. */
export const COMMAND_MIX = [
  {
    path: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
    action: 'Replace',
    value: '0',
    format: 'int',
  },
  { path: './DevDetail/SwV', action: 'Get', format: 'chr' },
  {
    path: './Vendor/MSFT/Policy/Config/Update/ActiveHoursStart',
    action: 'Replace',
    value: '8',
    format: 'int',
  },
  {
    path: './Device/Vendor/MSFT/Policy/Config/Browser/AllowAutofill',
    action: 'Add',
    value: 'false',
    format: 'bool',
  },
  { path: './Vendor/MSFT/DeviceLock/DevicePasswordEnabled', action: 'Delete', format: 'int' },
  { path: './Vendor/MSFT/Reboot/RebootNow', action: 'Exec', format: 'null' },
  { path: './DevInfo/DevId', action: 'Get', format: 'chr' },
  {
    path: './Vendor/MSFT/Policy/Config/Start/HideShutDown',
    action: 'Replace',
    value: '1',
    format: 'int',
  },
  {
    path: './Vendor/MSFT/Reboot/Schedule/Single',
    action: 'Replace',
    value: '2030-01-01T03:00:00Z',
    format: 'chr',
  },
] as const;

/** A POST body of `size` commands cycling through `mix`. */
export function commandBatchBody(size: number, mix: readonly object[], name: string): string {
  const commands = Array.from({ length: size }, (_, i) => ({ config: mix[i % mix.length] }));
  return JSON.stringify({ commands, name });
}
