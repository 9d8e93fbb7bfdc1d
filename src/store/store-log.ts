/** Where the launcher reports progress (building, ready, unexpected exit): one line per call. */
export type StoreLog = (message: string) => void;

export const consoleStoreLog: StoreLog = (message) => console.log(`[store] ${message}`);
