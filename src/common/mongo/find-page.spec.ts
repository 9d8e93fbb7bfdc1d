import { Model } from 'mongoose';
import { PageRequest } from '../pagination/pagination';
import { findPage, pageSort } from './find-page';

interface Row {
  _id: string;
  n: number;
}

/**
 * Just enough of a mongoose Model to run findPage over an array: it applies filter-free
 * sort/skip/limit itself, so the test checks the page that comes out, not the calls made.
 */
function fakeModel(rows: Row[]) {
  const seen: { filter?: unknown; projection?: unknown; countFilter?: unknown } = {};
  const model = {
    find(filter: unknown, projection: unknown) {
      seen.filter = filter;
      seen.projection = projection;
      let out = [...rows];
      const query = {
        sort(spec: Record<string, 1 | -1>) {
          const keys = Object.entries(spec);
          out.sort((a, b) => {
            for (const [k, dir] of keys) {
              const x = a[k as keyof Row];
              const y = b[k as keyof Row];
              if (x !== y) return (x < y ? -1 : 1) * dir;
            }
            return 0;
          });
          return query;
        },
        skip(n: number) {
          out = out.slice(n);
          return query;
        },
        limit(n: number) {
          out = out.slice(0, n);
          return query;
        },
        lean: () => query,
        exec: async () => out,
      };
      return query;
    },
    countDocuments(filter: unknown) {
      seen.countFilter = filter;
      return { exec: async () => rows.length };
    },
  };
  return { model: model as unknown as Model<Row>, seen };
}

const request = (page: number, limit: number, direction: 1 | -1 = 1): PageRequest => ({
  page,
  limit,
  sort: { field: 'n', direction },
});

describe('findPage', () => {
  // Seven rows, three sharing n = 2: only the _id tie-break keeps their order across pages.
  const rows: Row[] = [
    { _id: 'g', n: 5 },
    { _id: 'c', n: 2 },
    { _id: 'a', n: 2 },
    { _id: 'f', n: 4 },
    { _id: 'b', n: 2 },
    { _id: 'e', n: 3 },
    { _id: 'd', n: 1 },
  ];

  it('walks the pages in sort order, ties by _id, with no row twice or missing', async () => {
    const { model } = fakeModel(rows);
    const ids: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const p = await findPage(model, {}, request(page, 3), (r) => r._id);
      ids.push(...p.docs);
    }
    expect(ids).toEqual(['d', 'a', 'b', 'c', 'e', 'f', 'g']);
  });

  it('reverses both the field and the tie-break for descending pages', async () => {
    const { model } = fakeModel(rows);
    const p = await findPage(model, {}, request(1, 4, -1), (r) => r._id);
    expect(p.docs).toEqual(['g', 'f', 'e', 'c']);
  });

  it('describes the page from the total count', async () => {
    const { model } = fakeModel(rows);
    const p = await findPage(model, {}, request(3, 3), (r) => r.n);
    expect(p).toEqual({
      docs: [5],
      totalDocs: 7,
      limit: 3,
      page: 3,
      totalPages: 3,
      hasNextPage: false,
      hasPrevPage: true,
    });
  });

  it('counts with the filter it lists with, and passes the projection through', async () => {
    const { model, seen } = fakeModel(rows);
    const filter = { organizationId: 'o1' };
    await findPage(model, filter, request(1, 2), (r) => r, { n: 0 });
    expect(seen.filter).toBe(filter);
    expect(seen.countFilter).toBe(filter);
    expect(seen.projection).toEqual({ n: 0 });
  });
});

describe('pageSort', () => {
  it('adds _id after the requested field, in the same direction', () => {
    expect(pageSort(request(1, 1, -1))).toEqual({ n: -1, _id: -1 });
    expect(Object.keys(pageSort(request(1, 1)))).toEqual(['n', '_id']);
  });

  it('does not repeat _id when it is the requested field', () => {
    expect(pageSort({ page: 1, limit: 1, sort: { field: '_id', direction: 1 } })).toEqual({
      _id: 1,
    });
  });
});
