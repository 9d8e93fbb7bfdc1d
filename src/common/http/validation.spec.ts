import { ArgumentMetadata } from '@nestjs/common';
import { CreateCommandsDto } from '../../commands/dto/create-commands.dto';
import { CreateDeviceDto } from '../../devices/dto/device.dto';
import { PageQueryDto } from '../pagination/pagination';
import { DomainError } from '../errors';
import { createValidationPipe } from './validation';

async function details(metatype: ArgumentMetadata['metatype'], value: unknown) {
  try {
    await createValidationPipe().transform(value, { type: 'body', metatype });
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, message: e.message, details: e.details };
    throw e;
  }
  return null;
}

describe('validation: one message per field, the first constraint declared', () => {
  it('a number for a length-limited string is a type error only', async () => {
    expect(
      await details(CreateCommandsDto, {
        commands: [{ config: { path: './A', action: 'Get', format: 'chr' } }],
        name: 7,
      }),
    ).toEqual({
      code: 5091,
      message: 'Invalid data',
      details: [{ field: 'name', message: 'name must be a string' }],
    });
  });

  it('a missing field is "should not be null or undefined" only', async () => {
    expect((await details(CreateCommandsDto, {}))?.details).toEqual([
      { field: 'commands', message: 'commands should not be null or undefined' },
    ]);
  });

  it('an array field given a string is "must be an array", not also about its items', async () => {
    expect((await details(CreateCommandsDto, { commands: 'x' }))?.details).toEqual([
      { field: 'commands', message: 'commands must be an array' },
    ]);
  });

  it('a pattern-checked string given a number is a type error only', async () => {
    expect((await details(CreateDeviceDto, { deviceId: 42 }))?.details).toEqual([
      { field: 'deviceId', message: 'deviceId must be a string' },
    ]);
  });

  it('a query number that is not one is "must be an integer" only', async () => {
    const pipe = createValidationPipe();
    await expect(
      pipe.transform({ limit: 'abc' }, { type: 'query', metatype: PageQueryDto }),
    ).rejects.toMatchObject({
      details: [{ field: 'limit', message: 'limit must be an integer number' }],
    });
  });

  it('still lists every field that fails, nested ones by path', async () => {
    expect(
      (
        await details(CreateCommandsDto, {
          commands: [{ config: { path: 5, action: 'Put', format: 'chr' } }],
          name: 'x'.repeat(501),
        })
      )?.details,
    ).toEqual([
      { field: 'commands.0.config.path', message: 'path must be a string' },
      {
        field: 'commands.0.config.action',
        message:
          'action must be one of the following values: Add, Copy, Delete, Exec, Get, Replace',
      },
      { field: 'name', message: 'name must be shorter than or equal to 500 characters' },
    ]);
  });
});
