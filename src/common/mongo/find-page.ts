import { FilterQuery, Model, ProjectionType } from 'mongoose';
import { Page, PageRequest, toPage } from '../pagination/pagination';

/** `_id` breaks ties: documents with equal sort keys (a batch's commands share createdAt) keep one order across pages. */
export function pageSort(page: PageRequest): Record<string, 1 | -1> {
  const { field, direction } = page.sort;
  return field === '_id' ? { _id: direction } : { [field]: direction, _id: direction };
}

/**
 * One page of the documents matching `filter` and, from the same filter, their total count, or
 * `total` when the caller counts them anyway (on FerretDB each count decodes every match).
 */
export async function findPage<Doc, Item>(
  model: Model<Doc>,
  filter: FilterQuery<Doc>,
  page: PageRequest,
  toItem: (doc: Doc) => Item,
  projection?: ProjectionType<Doc>,
  total?: Promise<number>,
): Promise<Page<Item>> {
  const [docs, count] = await Promise.all([
    model
      .find(filter, projection)
      .sort(pageSort(page))
      .skip((page.page - 1) * page.limit)
      .limit(page.limit)
      .lean<Doc[]>()
      .exec(),
    total ?? model.countDocuments(filter).exec(),
  ]);
  return toPage(docs.map(toItem), count, page);
}
