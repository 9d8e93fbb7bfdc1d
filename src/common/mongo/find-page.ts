import { FilterQuery, Model, ProjectionType } from 'mongoose';
import { Page, PageRequest, toPage } from '../pagination/pagination';

/** `_id` breaks ties: documents with equal sort keys (a batch's commands share createdAt) keep one order across pages. */
export function pageSort(page: PageRequest): Record<string, 1 | -1> {
  const { field, direction } = page.sort;
  return field === '_id' ? { _id: direction } : { [field]: direction, _id: direction };
}

/** One page of the documents matching `filter` and, from the same filter, their total count. */
export async function findPage<Doc, Item>(
  model: Model<Doc>,
  filter: FilterQuery<Doc>,
  page: PageRequest,
  toItem: (doc: Doc) => Item,
  projection?: ProjectionType<Doc>,
): Promise<Page<Item>> {
  const [docs, total] = await Promise.all([
    model
      .find(filter, projection)
      .sort(pageSort(page))
      .skip((page.page - 1) * page.limit)
      .limit(page.limit)
      .lean<Doc[]>()
      .exec(),
    model.countDocuments(filter).exec(),
  ]);
  return toPage(docs.map(toItem), total, page);
}
