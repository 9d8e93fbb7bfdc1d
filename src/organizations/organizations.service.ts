import { Injectable } from '@nestjs/common';
import { AuthUser, canActOn } from '../auth/auth-user';
import { DomainError, ErrorCode, assertFound, notFound } from '../common/errors';
import { CreateOrganizationDto } from './dto/create-organization.dto';
import { OBJECT_ID, Organization } from './organization';
import { DuplicateSlugError, OrganizationsRepository } from './organizations.repository';

function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  // A slug that looks like a 24-hex id would always be read as an id in paths.
  if (OBJECT_ID.test(s)) return `org-${s}`;
  return s.length >= 3 ? s : `org-${s || 'x'}`.padEnd(3, 'x');
}

@Injectable()
export class OrganizationsService {
  constructor(private readonly repo: OrganizationsRepository) {}

  async create(dto: CreateOrganizationDto): Promise<Organization> {
    if (dto.slug) {
      try {
        return await this.repo.create({ name: dto.name.trim(), slug: dto.slug });
      } catch (e) {
        if (e instanceof DuplicateSlugError) {
          throw new DomainError(ErrorCode.Conflict, 'Slug already in use', [
            { field: 'slug', message: `slug "${dto.slug}" is already taken` },
          ]);
        }
        throw e;
      }
    }
    const base = slugify(dto.name);
    for (let i = 0; i < 20; i++) {
      const slug = i === 0 ? base : `${base}-${Math.random().toString(36).slice(2, 7)}`;
      try {
        return await this.repo.create({ name: dto.name.trim(), slug });
      } catch (e) {
        if (!(e instanceof DuplicateSlugError)) throw e;
      }
    }
    throw new DomainError(ErrorCode.Conflict, 'Could not derive a free slug; pass one explicitly');
  }

  /**
   * The one tenant gate: an organization that does not exist and one the token may not act on
   * look the same (404 3001), so a tenant cannot probe another's ids.
   */
  async resolveForUser(user: AuthUser, idOrSlug: string): Promise<Organization> {
    const org = assertFound(await this.repo.findByIdOrSlug(idOrSlug), 'Organization');
    if (!canActOn(user, org)) throw notFound('Organization');
    return org;
  }

  /** For device-facing code that has no bearer token (the device proves itself otherwise). */
  findById(id: string): Promise<Organization | null> {
    return this.repo.findByIdOrSlug(id);
  }
}
