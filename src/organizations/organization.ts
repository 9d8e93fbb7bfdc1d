export interface Organization {
  id: string;
  name: string;
  slug: string;
  status: 'active' | 'suspended';
  createdAt: Date;
  updatedAt: Date;
}

export { OBJECT_ID } from '../common/mongo/object-id';
/** The seed's pattern for `:organizationId`: a 24-hex id or a slug. */
export const ORGANIZATION_ID_PATTERN = /^(([a-fA-F0-9]{24})|([a-zA-Z0-9-]{3,}))$/;
