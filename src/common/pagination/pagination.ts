import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { invalidData } from '../errors';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export const MAX_PAGE_LIMIT = 100;

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1, example: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: 20, example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: '`field:asc` or `field:desc`', example: 'createdAt:desc' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-zA-Z]{1,40}:(asc|desc)$/, {
    message: 'sort must look like field:asc or field:desc',
  })
  sort?: string;
}

export interface PageRequest {
  page: number;
  limit: number;
  sort: { field: string; direction: 1 | -1 };
}

export interface Page<T> {
  docs: T[];
  totalDocs: number;
  limit: number;
  page: number;
  totalPages: number;
  hasNextPage: boolean;
  hasPrevPage: boolean;
}

/** Resolves page/limit/sort against the fields an endpoint allows; unknown sort fields are 5091. */
export function toPageRequest(
  q: PageQueryDto,
  allowedSort: readonly string[],
  defaultSort: string,
): PageRequest {
  const [field, dir] = (q.sort ?? defaultSort).split(':');
  if (!allowedSort.includes(field)) {
    throw invalidData([
      { field: 'sort', message: `sort field must be one of ${allowedSort.join(', ')}` },
    ]);
  }
  return {
    page: q.page ?? 1,
    limit: q.limit ?? 20,
    sort: { field, direction: dir === 'asc' ? 1 : -1 },
  };
}

export function toPage<T>(docs: T[], totalDocs: number, req: PageRequest): Page<T> {
  const totalPages = Math.max(1, Math.ceil(totalDocs / req.limit));
  return {
    docs,
    totalDocs,
    limit: req.limit,
    page: req.page,
    totalPages,
    hasNextPage: req.page < totalPages,
    hasPrevPage: req.page > 1,
  };
}

/**
 * The OpenAPI model of a page of `item` (Swagger needs a class per item type). The class is
 * named `<Item>Page`, e.g. DeviceResponseDtoPage.
 */
export function PageOf<T>(item: new (...args: never[]) => T) {
  class PageModel {
    @ApiProperty({ type: [item] }) docs!: T[];
    @ApiProperty({ example: 1 }) totalDocs!: number;
    @ApiProperty({ example: 20 }) limit!: number;
    @ApiProperty({ example: 1 }) page!: number;
    @ApiProperty({ example: 1 }) totalPages!: number;
    @ApiProperty({ example: false }) hasNextPage!: boolean;
    @ApiProperty({ example: false }) hasPrevPage!: boolean;
  }
  Object.defineProperty(PageModel, 'name', { value: `${item.name}Page` });
  return PageModel;
}
